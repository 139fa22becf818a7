#!/usr/bin/env python3
"""Why a configuration scores what it does: runs nab_lib_run like
nab_tune.py, takes the standard profile's threshold, and lists each missed
window (rows, the best score inside it and where) and the false positives
(row, score, cost), worst first. usage: nab_why.py [--build DIR] [key=value ...]"""
import os, subprocess, sys
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nab_tune as t


def main():
    args = sys.argv[1:]
    build = os.path.join(t.ROOT, "build")
    if args[:1] == ["--build"]:
        build = args[1]
        args = args[2:]
    nab = os.path.join(t.ROOT, "..", "shared", "datasets", "nab")
    tabs = t.load_tables(nab)
    res = t.run(build, nab, args)
    scores = [t.read_scores(res, tb["rel"]) for tb in tabs]
    subprocess.run(["rm", "-rf", res])
    o = t.score(tabs, scores)
    thr = o["standard"][1]
    print("standard %.2f lowFP %.2f lowFN %.2f threshold %.4f" % (
        o["standard"][0], o["reward_low_FP_rate"][0], o["reward_low_FN_rate"][0], thr))
    fps = []
    for tb, sc in zip(tabs, scores):
        for k in tb["live_wins"]:
            a, b = tb["wins"][k]
            a2 = max(a, tb["prob"])
            seg = sc[a2:b + 1]
            if not (seg >= thr).any():
                i = int(np.argmax(seg))
                print("MISS %-50s n=%5d prob=%4d win=[%d,%d] best=%.3f at %+.2f" % (
                    tb["rel"], tb["n"], tb["prob"], a, b, seg[i], (a2 + i - a) / (b - a + 1)))
        det = (sc >= thr) & tb["live"] & (tb["win_of"] < 0)
        for i in np.where(det)[0]:
            fps.append((-tb["fpw"][i] * 0.11, tb["rel"], i, sc[i]))
    fps.sort(reverse=True)
    print("false positives: %d, cost %.2f" % (len(fps), sum(f[0] for f in fps)))
    for c, rel, i, s in fps[:int(os.environ.get("NAB_WHY_FP", "0"))]:
        print("FP %-50s row=%5d score=%.3f cost=%.3f" % (rel, i, s, c))


if __name__ == "__main__":
    main()
