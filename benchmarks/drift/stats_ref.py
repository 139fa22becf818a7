#!/usr/bin/env python3
"""scipy/numpy reference timings for the distribution-drift statistics, on
the inputs bench_stats.c uses: reference and current samples of the same
size (1000 and 10000), standard normal from fixed seeds, the current one
shifted by 0.05 sd; the reference sorted once beforehand, the current one
sorted inside each timed check (np.sort), as bench_stats does.

usage:  python3 benchmarks/drift/stats_ref.py [path/to/bench_stats [seconds]]
With a bench_stats path it runs that first, so both tables come from the
same run on the same machine. Times are process CPU time, one thread
(OPENBLAS/OMP threads pinned to 1 before numpy loads). bench_stats run from
here reports a peak RSS inflated by this Python process (Linux keeps
ru_maxrss across fork+exec): take its RSS from a standalone run.
"""
import os
import subprocess
import sys
import time

for v in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'):
    os.environ[v] = '1'

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402
from scipy.spatial.distance import jensenshannon  # noqa: E402


def hist(ref, cur, bins=10, eps=1e-4):
    edges = np.unique(np.quantile(ref, np.arange(1, bins) / bins))
    nb = len(edges) + 1
    p = np.bincount(np.searchsorted(edges, ref, side='right'), minlength=nb) / len(ref)
    q = np.bincount(np.searchsorted(edges, cur, side='right'), minlength=nb) / len(cur)
    return np.maximum(p, eps), np.maximum(q, eps)


def timeit(fn, secs):
    fn()
    n, t0 = 0, time.process_time()
    while True:
        fn()
        n += 1
        el = time.process_time() - t0
        if el >= secs:
            return n / el, el / n * 1e9


def main():
    secs = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5
    if len(sys.argv) > 1:
        print('== eddy (bench_stats) ==', flush=True)
        subprocess.run([sys.argv[1], str(secs)], check=True)
    print('== scipy %s / numpy %s ==' % (__import__('scipy').__version__, np.__version__))
    print('%-20s %7s %14s %14s' % ('statistic', 'n', 'checks/s/core', 'ns/check'))
    for n in (1000, 10000):
        rng = np.random.default_rng(1)
        ref = np.sort(rng.standard_normal(n))
        raw = np.random.default_rng(2).standard_normal(n) + 0.05
        method = 'exact' if n * n <= 1_000_000 else 'asymp'
        rc = np.clip(np.floor(ref * 4) + 10, 0, 19).astype(int)
        cc = np.clip(np.floor(raw * 4) + 10, 0, 19).astype(int)

        def psi():
            p, q = hist(ref, np.sort(raw))
            return np.sum((q - p) * np.log(q / p))

        def js():
            p, q = hist(ref, np.sort(raw))
            return jensenshannon(p, q, base=2)

        def chi2():
            table = np.vstack([np.bincount(rc, minlength=20), np.bincount(cc, minlength=20)])
            table = table[:, table.sum(axis=0) > 0]
            return stats.chi2_contingency(table, correction=False)

        checks = [
            ('sort only', lambda: np.sort(raw)),
            ('psi (numpy)', psi),
            ('jensenshannon', js),
            ('ks_2samp ' + method, lambda: stats.ks_2samp(ref, np.sort(raw), method=method)),
            ('wasserstein', lambda: stats.wasserstein_distance(ref, np.sort(raw))),
            ('chi2_contingency', chi2),
        ]
        for name, fn in checks:
            rate, ns = timeit(fn, secs)
            print('%-20s %7d %14.0f %14.0f' % (name, n, rate, ns), flush=True)
    try:
        import resource
        print('peak RSS: %d KiB' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    except ImportError:
        pass


if __name__ == '__main__':
    main()
