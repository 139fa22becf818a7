#!/usr/bin/env python3
"""Random local search over the nab detector's parameters with nab_tune.py's
scorer (standard profile). usage: nab_search.py N_EVALS SEED [key=value ...]
Starts from the defaults plus the given overrides, perturbs one or two knobs
at a time, keeps improvements, prints each new best."""
import os, random, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nab_tune as t

SPACE = {
    "probation": [150, 200, 300, 400, 500, 600, 750],
    "alpha_fast": [0.01, 0.02, 0.05, 0.1, 0.2, 0.4],
    "long_win": [400, 600, 800, 1000, 1500, 2000],
    "short_win": [1, 2, 3, 5, 8],
    "sup_len": [50, 75, 100, 150, 200, 250],
    "sup_level": [0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
    "sd_floor": [0.005, 0.01, 0.02, 0.03, 0.05, 0.1],
    "level_w": [0, 0.5, 0.8, 0.9, 1.0, 1.2],
    "ctx_w": [0, 0.5, 0.7, 0.8, 0.9, 1.0, 1.2],
    "ctx_bins": [8, 12, 16, 24, 32, 48],
    "ctx_lags": [1, 2, 4, 8, 12, 16],
    "ctx_short": [1, 2, 3, 4, 6],
    "ctx_sd_floor": [0.01, 0.03, 0.05, 0.1, 0.2],
    "tod_w": [0, 1, 2, 4, 8, 12],
    "digits": [8, 10, 12, 15, 20, 25],
    "rec_w": [0, 0.6, 0.8, 0.9, 1.0, 1.1],
    "rec_tau": [500, 1000, 2000, 4000, 8000],
    "rec_pow": [0.5, 1, 2, 4, 8],
    "sup_mode": [0, 1],
    "sp_w": [0, 0.6, 0.8, 1.0],
    "sp_tol": [0.005, 0.01, 0.02, 0.03],
    "sp_grade": [0, 0.5, 1],
    "art_w": [0, 0.6, 0.8, 1.0, 1.2],
    "art_dim": [2, 4, 6, 8, 12],
    "art_ds": [1, 2, 3, 5],
    "art_rho": [0.85, 0.9, 0.93, 0.95, 0.97],
    "art_beta": [0.05, 0.1, 0.3, 1.0],
    "art_cats": [32, 64, 128, 256],
    "rec_start": [0, 150, 300, 600],
    "sp_pos": [0, 0.5, 1, 1.5],
}


def evaluate(tabs, build, nab, cfg):
    kv = ["%s=%s" % (k, v) for k, v in cfg.items()]
    res = t.run(build, nab, kv)
    scores = [t.read_scores(res, tb["rel"]) for tb in tabs]
    subprocess.run(["rm", "-rf", res])
    o = t.score(tabs, scores)
    return o["standard"][0], o


def main():
    n, seed = int(sys.argv[1]), int(sys.argv[2])
    cfg = dict(a.split("=") for a in sys.argv[3:])
    rnd = random.Random(seed)
    build = os.environ.get("NAB_BUILD", os.path.join(t.ROOT, "build-nabq"))
    nab = os.path.join(t.ROOT, "..", "shared", "datasets", "nab")
    tabs = t.load_tables(nab)
    best, _ = evaluate(tabs, build, nab, cfg)
    print("start %.2f %s" % (best, cfg), flush=True)
    for _ in range(n):
        c = dict(cfg)
        for k in rnd.sample(sorted(SPACE), rnd.choice([1, 1, 2])):
            c[k] = rnd.choice(SPACE[k])
        v, o = evaluate(tabs, build, nab, c)
        if v > best:
            best, cfg = v, c
            print("%.2f lowFP=%.2f lowFN=%.2f %s" % (v, o["reward_low_FP_rate"][0],
                                                     o["reward_low_FN_rate"][0],
                                                     " ".join("%s=%s" % kv for kv in sorted(cfg.items()))), flush=True)


if __name__ == "__main__":
    main()
