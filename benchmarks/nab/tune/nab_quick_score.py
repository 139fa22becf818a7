#!/usr/bin/env python3
"""Fast NAB scorer (numpy) used while tuning the nab detector; the reference
scorer is benchmarks/nab/score.py. Follows shared/datasets/nab/SCORING.md.
usage: nab_quick_score.py RESULTS_DIR DETECTOR [NAB_DIR]"""
import csv, json, math, os, sys
import numpy as np

PROFILES = {"standard": (1.0, 1.0, 0.11), "reward_low_FP_rate": (1.0, 1.0, 0.22),
            "reward_low_FN_rate": (1.0, 2.0, 0.11)}


def sig(x):
    return 2.0 / (1.0 + math.exp(5.0 * x)) - 1.0


def prepare(nab, rel, windows):
    """Per file: list of (row, tp_weight or None, window id) and fp weights."""
    ts = []
    with open(os.path.join(nab, "data", rel)) as f:
        r = csv.reader(f)
        next(r)
        for row in r:
            ts.append(row[0][:19])
    n = len(ts)
    idx = {t: i for i, t in enumerate(ts)}
    prob = int(min(math.floor(0.15 * n), 0.15 * 5000))
    wins = [(idx[a[:19]], idx[b[:19]]) for a, b in windows]
    win_of = np.full(n, -1)
    tpw = np.zeros(n)
    fpw = np.zeros(n)  # unit fp weight (negative)
    for k, (a, b) in enumerate(wins):
        w = b - a + 1
        for i in range(a, b + 1):
            win_of[i] = k
            p = -(b - i + 1) / w
            tpw[i] = sig(p) / sig(-1.0)
    prev = None
    for i in range(n):
        if win_of[i] >= 0:
            prev = wins[win_of[i]]
            continue
        if prev is None:
            fpw[i] = -1.0
        else:
            a, b = prev
            q = abs(i - b) / (b - a + 1 - 1) if b > a else 4.0
            fpw[i] = -1.0 if q > 3 else sig(q)
    live = np.arange(n) >= prob
    live_wins = [k for k, (a, b) in enumerate(wins) if b >= prob]
    return ts, live, win_of, tpw, fpw, live_wins


def main():
    res, det = sys.argv[1], sys.argv[2]
    nab = sys.argv[3] if len(sys.argv) > 3 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "shared", "datasets", "nab")
    windows = json.load(open(os.path.join(nab, "labels", "combined_windows.json")))
    files = []
    for rel in sorted(windows):
        cat, name = rel.split("/")
        out = os.path.join(res, det, cat, det + "_" + name)
        ts, live, win_of, tpw, fpw, live_wins = prepare(nab, rel, windows[rel])
        sc = []
        with open(out) as f:
            r = csv.DictReader(f)
            for row in r:
                sc.append(float(row["anomaly_score"]))
        sc = np.array(sc)
        assert len(sc) == len(ts), rel
        files.append((rel, sc, live, win_of, tpw, fpw, live_wins))
    for prof, (tpW, fnW, fpW) in PROFILES.items():
        ev_s, ev_d = [], []
        base = 0.0
        for rel, sc, live, win_of, tpw, fpw, live_wins in files:
            m = live & (win_of < 0)
            ev_s.append(sc[m]); ev_d.append(fpw[m] * fpW)
            for k in live_wins:
                rows = np.where(live & (win_of == k))[0]
                base -= fnW
                # descending score order; contribution = best tp weight so far
                o = rows[np.argsort(-sc[rows], kind="stable")]
                cur = -fnW
                for i in o:
                    v = tpw[i] * tpW
                    if v > cur:
                        ev_s.append(np.array([sc[i]])); ev_d.append(np.array([v - cur]))
                        cur = v
        s = np.concatenate(ev_s); d = np.concatenate(ev_d)
        o = np.argsort(-s, kind="stable")
        s, d = s[o], d[o]
        cum = np.cumsum(d)
        last = np.r_[s[1:] != s[:-1], True]
        best = max(0.0, cum[last].max()) if len(s) else 0.0
        thr = s[last][np.argmax(cum[last])] if len(s) else 1.1
        raw = base + best
        null = base
        perfect = tpW * 116
        print("%s %.2f (threshold %.6g)" % (prof, 100 * (raw - null) / (perfect - null), thr))


main()
