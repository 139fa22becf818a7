#!/usr/bin/env python3
"""Times river's drift detectors on the streams bench_detectors runs eddy on.

usage: river_speed.py DIR [kswin_updates]

DIR holds stationary.txt, shift.txt, stationary01.txt and shift01.txt, as
written by `bench_detectors --dump` (run.sh does this); every value of a
file is fed, except for KSWIN, which gets the first kswin_updates values
(default 5000: river runs a scipy KS test per update). The binary detectors
get the 01 streams, the others the raw ones, as in bench_detectors. river
has no CUSUM. Each detector runs with its default parameters in a forked
child so its peak RSS is its own (it includes Python, river and the input).
Time is the process's CPU time around the update loop, which also reads the
drift and warning flags as eddy's signal output would. One line per run, in
bench_detectors' format:
  detector stream updates seconds ns_per_update mupdates_per_s changes warnings rss_kib
"""
import os
import resource
import sys
import time

from river import drift
from river.drift import binary

DETECTORS = [
    ("page_hinkley", False, drift.PageHinkley),
    ("ddm", True, binary.DDM),
    ("adwin", False, drift.ADWIN),
    ("eddm", True, binary.EDDM),
    ("hddm_a", True, binary.HDDMA),
    ("hddm_w", True, binary.HDDMW),
    ("kswin", False, lambda: drift.KSWIN(seed=42)),
]


def load(path):
    with open(path) as f:
        return [float(line) for line in f]


def run(name, stream, make, values):
    d = make()
    changes = warnings = 0
    t0 = time.process_time()
    for x in values:
        d.update(x)
        if d.drift_detected:
            changes += 1
        elif getattr(d, "warning_detected", False):
            warnings += 1
    secs = time.process_time() - t0
    n = len(values)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{name} {stream} {n} {secs:.4f} {secs * 1e9 / n:.2f} {n / secs / 1e6:.4f} "
          f"{changes} {warnings} {rss}", flush=True)


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: river_speed.py DIR [kswin_updates]")
    folder = sys.argv[1]
    n_kswin = int(sys.argv[2]) if len(sys.argv) == 3 else 5000
    streams = {}
    for s in ("stationary", "shift", "stationary01", "shift01"):
        path = os.path.join(folder, s + ".txt")
        if not os.path.exists(path):
            sys.exit(f"river_speed.py: {path} is missing (bench_detectors --dump {s} N > {path})")
        streams[s] = load(path)
    failed = False
    for name, is_binary, make in DETECTORS:
        for stream in ("stationary", "shift"):
            values = streams[stream + ("01" if is_binary else "")]
            if name == "kswin":
                values = values[:n_kswin]
            pid = os.fork()
            if pid == 0:
                try:
                    run(name, stream, make, values)
                    code = 0
                except Exception as e:  # reported, and the parent fails
                    print(f"river_speed.py: {name} {stream}: {e}", file=sys.stderr)
                    code = 1
                os._exit(code)
            _, status = os.waitpid(pid, 0)
            if status != 0:
                failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
