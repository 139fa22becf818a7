#!/usr/bin/env python3
"""Tuning harness for the nab detector: runs nab_lib_run with key=value
overrides, scores the result the way SCORING.md says (same maths as
nab_quick_score.py, with the label tables built once and cached) and can
sweep parameter grids. The reference scorer stays benchmarks/nab/score.py.

usage:
  nab_tune.py [--build DIR] [--nab DIR] [--detail] [key=value ...]
      score one configuration (defaults + overrides); --detail lists, per
      series, the windows hit and missed and the false positives
  nab_tune.py [--build DIR] [--nab DIR] --sweep key=v1,v2,... [key=value ...]
      score each value of one key in turn (coordinate search by hand)
"""
import math, os, pickle, subprocess, sys, tempfile
import json
import numpy as np

PROFILES = {"standard": (1.0, 1.0, 0.11), "reward_low_FP_rate": (1.0, 1.0, 0.22),
            "reward_low_FN_rate": (1.0, 2.0, 0.11)}
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..", "..")


def sig(x):
    return 2.0 / (1.0 + math.exp(5.0 * x)) - 1.0


def prepare_file(nab, rel, windows):
    ts = []
    with open(os.path.join(nab, "data", rel)) as f:
        next(f)
        for line in f:
            ts.append(line.split(",", 1)[0][:19])
    n = len(ts)
    idx = {t: i for i, t in enumerate(ts)}
    prob = int(min(math.floor(0.15 * n), 0.15 * 5000))
    wins = [(idx[a[:19]], idx[b[:19]]) for a, b in windows]
    win_of = np.full(n, -1)
    tpw = np.zeros(n)
    fpw = np.zeros(n)
    for k, (a, b) in enumerate(wins):
        w = b - a + 1
        for i in range(a, b + 1):
            win_of[i] = k
            tpw[i] = sig(-(b - i + 1) / w) / sig(-1.0)
    prev = None
    for i in range(n):
        if win_of[i] >= 0:
            prev = wins[win_of[i]]
            continue
        if prev is None:
            fpw[i] = -1.0
        else:
            a, b = prev
            q = abs(i - b) / (b - a) if b > a else 4.0
            fpw[i] = -1.0 if q > 3 else sig(q)
    live = np.arange(n) >= prob
    live_wins = [k for k, (a, b) in enumerate(wins) if b >= prob]
    return dict(rel=rel, n=n, prob=prob, wins=wins, live=live, win_of=win_of, tpw=tpw,
                fpw=fpw, live_wins=live_wins)


def load_tables(nab):
    cache = os.path.join(tempfile.gettempdir(), "nab_tune_tables.pkl")
    if os.path.exists(cache):
        with open(cache, "rb") as f:
            return pickle.load(f)
    windows = json.load(open(os.path.join(nab, "labels", "combined_windows.json")))
    tabs = [prepare_file(nab, rel, windows[rel]) for rel in sorted(windows)]
    with open(cache, "wb") as f:
        pickle.dump(tabs, f)
    return tabs


def read_scores(res, rel):
    cat, name = rel.split("/")
    path = os.path.join(res, "nab", cat, "nab_" + name)
    with open(path) as f:
        next(f)
        return np.array([float(line.rsplit(",", 1)[1]) for line in f])


def score(tabs, scores, detail=False):
    out = {}
    for prof, (tpW, fnW, fpW) in PROFILES.items():
        ev_s, ev_d = [], []
        base = 0.0
        for t, sc in zip(tabs, scores):
            m = t["live"] & (t["win_of"] < 0)
            ev_s.append(sc[m]); ev_d.append(t["fpw"][m] * fpW)
            for k in t["live_wins"]:
                rows = np.where(t["live"] & (t["win_of"] == k))[0]
                base -= fnW
                o = rows[np.argsort(-sc[rows], kind="stable")]
                cur = -fnW
                for i in o:
                    v = t["tpw"][i] * tpW
                    if v > cur:
                        ev_s.append(np.array([sc[i]])); ev_d.append(np.array([v - cur]))
                        cur = v
        s = np.concatenate(ev_s); d = np.concatenate(ev_d)
        o = np.argsort(-s, kind="stable")
        s, d = s[o], d[o]
        cum = np.cumsum(d)
        last = np.r_[s[1:] != s[:-1], True]
        best = max(0.0, cum[last].max())
        thr = s[last][np.argmax(cum[last])] if best > 0 else 1.1
        out[prof] = (100 * best / (tpW * 116 - base), thr)
    if detail:
        thr = out["standard"][1]
        tot_fp = 0.0
        for t, sc in zip(tabs, scores):
            det = (sc >= thr) & t["live"]
            hits, miss = [], 0
            for k in t["live_wins"]:
                a, b = t["wins"][k]
                r = np.where(det[a:b + 1])[0]
                if len(r):
                    hits.append("%.2f" % t["tpw"][a + r[0]])
                else:
                    miss += 1
            fp = det & (t["win_of"] < 0)
            fpc = -(t["fpw"][fp] * 0.11).sum()
            tot_fp += fpc
            print("%-55s n=%5d wins=%d hit=[%s] miss=%d fp=%d fpcost=%.2f" % (
                t["rel"], t["n"], len(t["live_wins"]), " ".join(hits), miss, fp.sum(), fpc))
        print("total fp cost %.2f" % tot_fp)
    return out


def run(build, nab, kv):
    res = tempfile.mkdtemp(prefix="nab_tune_")
    exe = os.path.join(build, "benchmarks", "anomaly", "nab_lib_run")
    subprocess.run([exe, "nab", os.path.join(nab, "data"), res] + kv, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return res


def main():
    args = sys.argv[1:]
    build = os.path.join(ROOT, "build-nabq")
    nab = os.path.join(ROOT, "..", "shared", "datasets", "nab")
    detail = False
    sweep = None
    kv = []
    while args:
        a = args.pop(0)
        if a == "--build":
            build = args.pop(0)
        elif a == "--nab":
            nab = args.pop(0)
        elif a == "--detail":
            detail = True
        elif a == "--sweep":
            sweep = args.pop(0)
        else:
            kv.append(a)
    tabs = load_tables(nab)
    runs = [kv]
    if sweep:
        key, vals = sweep.split("=")
        runs = [kv + ["%s=%s" % (key, v)] for v in vals.split(",")]
    for r in runs:
        res = run(build, nab, r)
        scores = [read_scores(res, t["rel"]) for t in tabs]
        subprocess.run(["rm", "-rf", res])
        o = score(tabs, scores, detail)
        print("%-40s std=%.2f lowFP=%.2f lowFN=%.2f thr=%.4f" % (
            " ".join(r), o["standard"][0], o["reward_low_FP_rate"][0],
            o["reward_low_FN_rate"][0], o["standard"][1]), flush=True)


if __name__ == "__main__":
    main()
