#!/usr/bin/env python3
"""Generates the river reference fixtures in tests/drift/river/.

A case is one stream, written once as <case>.txt (one value per line, Python's
repr of the float, so eddy parses back the exact double river saw). Each
row of the manifest runs one river detector with one parameter set over one
case and in <case>.<detector>.<n>.expected what
benchmarks/drift/signals.sh must print for it: one line
"<index> warning" or "<index> change" per update whose river flags are set
after that update (change wins when both are). cases.tsv lists the cases as

    case <TAB> detector <TAB> options <TAB> expected_signals_file

with options as signals.sh takes them (space separated NAME=VALUE, named
as river's constructor parameters, "-" for all defaults).

KSWIN draws its reference sample at random and eddy's generator is not
CPython's Mersenne Twister, so for kswin rows the expected file holds
river's change indices (seed 42) and the test accepts eddy's output when it
has as many changes and each lies within stat_size updates of river's. The
kswin cases therefore use abrupt shifts that are large against the noise and
a small alpha, where the detection point hardly depends on the draw.

CUSUM is not in river and has no case here.

Needs river 0.26.1 (and scipy for KSWIN); the test itself only reads the
committed outputs. Deterministic: rerunning rewrites identical files.
    python3 tests/drift/gen_river_checks.py [OUTDIR]
"""
import os
import random
import sys

from river import drift
from river.drift import binary

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "river")


# ---- streams -----------------------------------------------------------------

def normal_segments(seed, segments):
    """segments: (length, mean, sd) each."""
    rng = random.Random(seed)
    out = []
    for n, mu, sd in segments:
        out += [rng.gauss(mu, sd) for _ in range(n)]
    return out


def ramp(seed, n, start, end, mu0, mu1, sd):
    """Mean mu0 until start, linear to mu1 at end, mu1 after."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        if i < start:
            mu = mu0
        elif i >= end:
            mu = mu1
        else:
            mu = mu0 + (mu1 - mu0) * (i - start) / (end - start)
        out.append(rng.gauss(mu, sd))
    return out


def mixture_gradual(seed, n, start, end, mu0, mu1, sd):
    """The new concept's share grows linearly from start to end (gradual drift
    by mixing, as in MOA's ConceptDriftStream)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        share = 0.0 if i < start else 1.0 if i >= end else (i - start) / (end - start)
        mu = mu1 if rng.random() < share else mu0
        out.append(rng.gauss(mu, sd))
    return out


def uniform_segments(seed, segments):
    """segments: (length, lo, hi) each; values stay in [0, 1] for HDDM."""
    rng = random.Random(seed)
    out = []
    for n, lo, hi in segments:
        out += [rng.uniform(lo, hi) for _ in range(n)]
    return out


def binary_segments(seed, segments):
    """segments: (length, error rate) each."""
    rng = random.Random(seed)
    out = []
    for n, p in segments:
        out += [1.0 if rng.random() < p else 0.0 for _ in range(n)]
    return out


def binary_ramp(seed, n, p0, p1):
    rng = random.Random(seed)
    return [1.0 if rng.random() < p0 + (p1 - p0) * i / (n - 1) else 0.0 for i in range(n)]


def laplace_shift(seed, n, at, mu0, mu1, b):
    """Heavy-tailed noise (Laplace), mean shift at index at."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        mu = mu0 if i < at else mu1
        e = rng.expovariate(1.0 / b) * (1 if rng.random() < 0.5 else -1)
        out.append(mu + e)
    return out


def small_ints(seed):
    """river's docstring shape: {0,1} then {4..7}, many ties."""
    rng = random.Random(seed)
    return [float(v) for v in rng.choices([0, 1], k=1500) + rng.choices(range(4, 8), k=1500)
            + rng.choices([2, 3], k=1500)]


STREAMS = {
    "abrupt3_s101": normal_segments(101, [(3000, 0.0, 1.0), (3000, 2.0, 1.0), (3000, -1.0, 1.0)]),
    "abrupt_small_s102": normal_segments(102, [(5000, 0.0, 1.0), (5000, 0.5, 1.0), (5000, 0.0, 1.0),
                                                (5000, 0.5, 1.0)]),
    "ramp_s103": ramp(103, 10000, 4000, 8000, 0.0, 3.0, 1.0),
    "mixture_s104": mixture_gradual(104, 8000, 3000, 5000, 10.0, 13.0, 1.5),
    "variance_s105": normal_segments(105, [(4000, 0.0, 1.0), (4000, 0.0, 3.0)]),
    "unit_interval_s106": uniform_segments(106, [(3000, 0.0, 0.6), (3000, 0.3, 1.0),
                                                 (3000, 0.1, 0.5)]),
    "err_up_s107": binary_segments(107, [(2000, 0.1), (3000, 0.3)]),
    "err_down_s108": binary_segments(108, [(3000, 0.4), (3000, 0.1)]),
    "err_multi_s109": binary_segments(109, [(3000, 0.2), (3000, 0.5), (3000, 0.2), (3000, 0.05)]),
    "err_ramp_s110": binary_ramp(110, 10000, 0.05, 0.4),
    "err_flat_s111": binary_segments(111, [(20000, 0.15)]),
    "flat_normal_s112": normal_segments(112, [(20000, 5.0, 2.0)]),
    "laplace_s113": laplace_shift(113, 6000, 3000, 0.0, 1.5, 1.0),
    "ints_s114": small_ints(114),
    "err_burst_s115": binary_segments(115, [(3000, 0.1), (300, 0.6), (3000, 0.1)]),
    "kswin_jumps_s116": normal_segments(116, [(1000, 0.0, 1.0), (1000, 5.0, 1.0), (1000, -3.0, 0.5),
                                              (1000, 2.0, 1.0)]),
}

CONTINUOUS = ["abrupt3_s101", "abrupt_small_s102", "ramp_s103", "mixture_s104", "variance_s105",
              "laplace_s113", "flat_normal_s112", "ints_s114"]
UNIT = ["unit_interval_s106"]
BINARY = ["err_up_s107", "err_down_s108", "err_multi_s109", "err_ramp_s110", "err_flat_s111",
          "err_burst_s115"]


# ---- detectors ---------------------------------------------------------------

def make(detector, opts):
    """opts use signals.sh's names; map the few that river spells otherwise."""
    kw = dict(opts)
    if detector == "adwin":
        return drift.ADWIN(**kw)
    if detector == "page_hinkley":
        return drift.PageHinkley(**kw)
    if detector == "kswin":
        return drift.KSWIN(**kw)
    if detector == "ddm":
        return binary.DDM(**kw)
    if detector == "eddm":
        return binary.EDDM(**kw)
    if "two_sided" in kw:
        kw["two_sided_test"] = kw.pop("two_sided")
    if detector == "hddm_a":
        return binary.HDDMA(**kw)
    if detector == "hddm_w":
        if "lambda" in kw:
            kw["lambda_val"] = kw.pop("lambda")
        return binary.HDDMW(**kw)
    raise ValueError(detector)


def signals(detector, opts, values):
    d = make(detector, opts)
    out = []
    for i, x in enumerate(values):
        d.update(x)
        if d.drift_detected:
            out.append(f"{i} change")
        elif getattr(d, "warning_detected", False):
            out.append(f"{i} warning")
    return out


def fmt_opt(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return v if isinstance(v, str) else repr(v)


PH_SETS = [
    {},
    {"mode": "up"},
    {"mode": "down"},
    {"min_instances": 50, "delta": 0.01, "threshold": 20.0, "alpha": 0.999},
]
ADWIN_SETS = [
    {},
    {"delta": 0.01, "clock": 1},
    {"delta": 0.0005, "clock": 8, "max_buckets": 3, "min_window_length": 10, "grace_period": 50},
]
HDDM_A_SETS = [
    {},
    {"two_sided": True},
    {"drift_confidence": 0.0001, "warning_confidence": 0.01, "two_sided": True},
]
HDDM_W_SETS = [
    {},
    {"two_sided": True},
    {"drift_confidence": 0.0005, "warning_confidence": 0.01, "lambda": 0.1, "two_sided": True},
]
DDM_SETS = [
    {},
    {"warm_start": 50, "warning_threshold": 1.5, "drift_threshold": 2.5},
]
EDDM_SETS = [
    {},
    {"warm_start": 50, "alpha": 0.9, "beta": 0.8},
]
KSWIN_CASES = [
    ("kswin_jumps_s116", {"alpha": 0.0001, "seed": 42}),
    ("kswin_jumps_s116", {"alpha": 1e-05, "window_size": 200, "stat_size": 50, "seed": 42}),
    ("abrupt3_s101", {"alpha": 1e-06, "window_size": 300, "stat_size": 100, "seed": 42}),
]


def plan():
    cases = []
    for s in CONTINUOUS + UNIT:
        for o in PH_SETS:
            cases.append((s, "page_hinkley", o))
        for o in ADWIN_SETS:
            cases.append((s, "adwin", o))
    for s in UNIT:
        for o in HDDM_A_SETS:
            cases.append((s, "hddm_a", o))
        for o in HDDM_W_SETS:
            cases.append((s, "hddm_w", o))
    for s in BINARY:
        for o in DDM_SETS:
            cases.append((s, "ddm", o))
        for o in EDDM_SETS:
            cases.append((s, "eddm", o))
        for o in HDDM_A_SETS:
            cases.append((s, "hddm_a", o))
        for o in HDDM_W_SETS:
            cases.append((s, "hddm_w", o))
        cases.append((s, "adwin", {}))
        cases.append((s, "page_hinkley", {"threshold": 10.0, "delta": 0.001}))
    for s, o in KSWIN_CASES:
        cases.append((s, "kswin", o))
    return cases


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, values in STREAMS.items():
        with open(os.path.join(OUT, name + ".txt"), "w") as f:
            f.write("".join(repr(float(v)) + "\n" for v in values))
    rows = ["# case\tdetector\toptions\texpected_signals_file (see gen_river_checks.py)"]
    seen = {}
    for stream, det, opts in plan():
        base = f"{stream}.{det}"
        seen[base] = seen.get(base, 0) + 1
        sig = signals(det, opts, STREAMS[stream])
        exp = f"{base}.{seen[base]}.expected"
        with open(os.path.join(OUT, exp), "w") as f:
            f.write("".join(line + "\n" for line in sig))
        optstr = " ".join(f"{k}={fmt_opt(v)}" for k, v in opts.items()) or "-"
        rows.append(f"{stream}\t{det}\t{optstr}\t{exp}")
    with open(os.path.join(OUT, "cases.tsv"), "w") as f:
        f.write("\n".join(rows) + "\n")
    print(f"{len(STREAMS)} streams, {len(rows) - 1} cases in {OUT}")


if __name__ == "__main__":
    main()
