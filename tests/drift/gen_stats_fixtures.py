#!/usr/bin/env python3
"""Writes tests/unit/drift/data/stats_cases.txt: inputs and scipy/numpy
expected values for the distribution-drift statistics of lib/drift/stats.h.

Run from anywhere:  python3 tests/drift/gen_stats_fixtures.py
(needs numpy and scipy; the output is committed, the C test only reads it).

Format: whitespace-separated tokens, '#' starts a comment line.
  case NAME                      starts a two-sample case; then
    ref vals N v1 .. vN          explicit values (%.17g), or
    ref gen SEED N SCALE SHIFT Q generated: see gen() below (exact in binary
                                 floating point, so C rebuilds the same bits)
    cur ...                      the same for the current sample
    bins B EPS                   the binning of PSI and JS
    psi V / js V / ks STAT P / wass W WNORM
  end
  chi2 NAME K r1..rK c1..cK STAT P DOF
  chi2sf X DOF Q
  kstwo N D SF
Every expected value is computed here exactly as stats.h defines it.
"""
import os
import warnings

import numpy as np
from scipy import stats
from scipy.spatial.distance import jensenshannon

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'unit', 'drift', 'data',
                   'stats_cases.txt')
MASK = (1 << 64) - 1


def splitmix64(state):
    state = (state + 0x9e3779b97f4a7c15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & MASK
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & MASK
    return state, z ^ (z >> 31)


def gen(seed, n, scale, shift, quantum):
    """Irwin-Hall(4) - 2, times SCALE (a power of two, so exact), plus SHIFT,
    floored to a multiple of QUANTUM (a power of two, or 0 for none)."""
    st = seed
    out = []
    for _ in range(n):
        s = 0.0
        for k in range(4):
            st, z = splitmix64(st)
            u = (z >> 11) * 2.0 ** -53
            s = u if k == 0 else s + u
        x = (s - 2.0) * scale + shift
        if quantum > 0:
            x = np.floor(x / quantum) * quantum
        out.append(float(x))
    return np.array(out)


def bins_pq(ref, cur, bins, eps):
    edges = np.unique(np.quantile(ref, np.arange(1, bins) / bins))
    nb = len(edges) + 1
    p = np.bincount(np.searchsorted(edges, ref, side='right'), minlength=nb) / len(ref)
    q = np.bincount(np.searchsorted(edges, cur, side='right'), minlength=nb) / len(cur)
    p = np.where(p < eps, eps, p)
    q = np.where(q < eps, eps, q)
    return p, q


def psi(p, q):
    with np.errstate(divide='ignore', invalid='ignore'):
        t = np.where(p == q, 0.0, (q - p) * np.log(q / p))
    return float(np.sum(t))


def wnorm_scale(ref):
    if ref.min() != ref.max():
        return float(np.std(ref))
    return abs(float(ref[0])) if ref[0] != 0 else 1.0


def ks(ref, cur):
    method = 'exact' if len(ref) * len(cur) <= 1_000_000 else 'asymp'
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # scipy falling back from exact is a failure
        r = stats.ks_2samp(ref, cur, method=method)
    return float(r.statistic), float(r.pvalue)


def fmt(x):
    return repr(float(x))


def sample_spec(tag, spec):
    if spec[0] == 'vals':
        vals = np.array(spec[1], dtype=float)
        return vals, f"{tag} vals {len(vals)} " + ' '.join(fmt(v) for v in vals)
    _, seed, n, scale, shift, q = spec
    return gen(seed, n, scale, shift, q), f"{tag} gen {seed} {n} {fmt(scale)} {fmt(shift)} {fmt(q)}"


def G(seed, n, scale=1.0, shift=0.0, q=0.0):
    return ('gen', seed, n, scale, shift, q)


def V(*vals):
    return ('vals', list(vals))


CASES = [
    # name, ref, cur, bins, eps
    ('tiny_ties', V(1, 2, 2, 3, 5), V(0, 2, 2, 2, 4, 5, 9), 4, 1e-4),
    ('one_vs_one', V(1.5), V(2.5), 10, 1e-4),
    ('one_vs_ten', V(0.0), G(1, 10), 10, 1e-4),
    ('identical_500', G(7, 500), G(7, 500), 10, 1e-4),
    ('same_dist_500', G(7, 500), G(8, 500), 10, 1e-4),
    ('shift_small_300_200', G(11, 300), G(12, 200, 1.0, 0.15), 10, 1e-4),
    ('disjoint_above', G(21, 400), G(22, 300, 1.0, 100.0), 10, 1e-4),
    ('disjoint_below', G(23, 250), G(24, 350, 0.5, -50.0), 10, 1e-4),
    ('constant_ref', V(*([3.0] * 50)), G(31, 80, 1.0, 3.0), 10, 1e-4),
    ('constant_ref_zero', V(*([0.0] * 40)), G(32, 60, 0.25), 10, 1e-4),
    ('constant_both', V(*([2.0] * 30)), V(*([2.0] * 20)), 10, 1e-4),
    ('ties_quantised', G(41, 300, 1.0, 0.0, 0.25), G(42, 400, 1.0, 0.1, 0.25), 10, 1e-4),
    ('ties_coarse', G(43, 500, 2.0, 0.0, 1.0), G(44, 450, 2.0, 0.0, 1.0), 10, 1e-4),
    ('scale_drift', G(51, 800), G(52, 600, 2.0), 10, 1e-4),
    ('bins5_eps01', G(53, 700), G(54, 500, 1.0, 0.3), 5, 1e-2),
    ('bins20_eps0', G(55, 2000), G(56, 1500, 1.0, 0.05), 20, 0.0),
    ('bins1', G(57, 100), G(58, 100, 1.0, 1.0), 1, 1e-4),
    ('bins50', G(59, 900), G(60, 950, 1.0, 0.2), 50, 1e-4),
    ('exact_square_1000', G(61, 1000), G(62, 1000, 1.0, 0.1), 10, 1e-4),
    ('exact_square_far', G(63, 1000), G(64, 1000, 1.0, 0.5), 10, 1e-4),
    ('exact_700_1300', G(65, 700), G(66, 1300, 1.0, 0.08), 10, 1e-4),
    ('exact_40_25000', G(67, 40), G(68, 25000, 1.0, 0.3), 10, 1e-4),
    ('exact_ties_800_1200', G(69, 800, 1.0, 0.0, 0.125), G(70, 1200, 1.0, 0.0, 0.125), 10, 1e-4),
    ('asymp_2000_1000', G(71, 2000), G(72, 1000, 1.0, 0.05), 10, 1e-4),
    ('asymp_same_10000', G(73, 10000), G(74, 10000), 10, 1e-4),
    ('asymp_shift_10000', G(75, 10000), G(76, 10000, 1.0, 0.02), 10, 1e-4),
    ('asymp_far_10000', G(77, 10000), G(78, 10000, 1.0, 0.3), 10, 1e-4),
    ('asymp_50_30000', G(79, 50), G(80, 30000, 1.0, 0.15), 10, 1e-4),
    ('asymp_120_20000_far', G(81, 120), G(82, 20000, 1.0, 0.6), 10, 1e-4),
    ('asymp_ties_3000', G(83, 3000, 1.0, 0.0, 0.0625), G(84, 3000, 1.0, 0.01, 0.0625), 10, 1e-4),
]

CHI2 = [
    ('basic', [10, 20, 30], [12, 18, 35]),
    ('new_category', [50, 30, 20, 0], [45, 35, 10, 10]),
    ('vanished_category', [40, 40, 20], [60, 40, 0]),
    ('zero_column_dropped', [10, 0, 5, 7], [9, 0, 6, 2]),
    ('one_column_left', [0, 12, 0], [0, 30, 0]),
    ('fractional', [1.5, 2.25, 7.0], [0.5, 3.75, 6.5]),
    ('large_tail', [100000, 50000, 25000], [90000, 60000, 30000]),
    ('identical_rows', [5, 5, 5, 5], [5, 5, 5, 5]),
    ('many_categories', [int(10 + (i * 37) % 23) for i in range(50)],
     [int(8 + (i * 53) % 29) for i in range(50)]),
]

CHI2SF = [(x, k) for k in (1, 2, 3, 4, 5, 9, 10, 49, 100)
          for x in (0.001, 0.5, 1.0, 3.84, 0.5 * k, k, 2.0 * k, 5.0 * k + 20, 150.0, 700.0)]

KSTWO = [(n, d) for n in (1, 2, 5, 30, 100, 140, 141, 500, 5000, 50000)
         for d in (0.4 / n, 0.75 / n, 0.9 / n, 0.3 / np.sqrt(n), 0.8 / np.sqrt(n),
                   1.3 / np.sqrt(n), 1.9 / np.sqrt(n), 3.0 / np.sqrt(n), 0.5, 0.75,
                   1.0 - 0.5 / n)
         if 0 < d < 1]


def main():
    lines = ['# generated by tests/drift/gen_stats_fixtures.py with numpy %s, scipy %s; '
             'do not edit' % (np.__version__, __import__('scipy').__version__)]
    for name, rs, cs, bins, eps in CASES:
        ref, rline = sample_spec('ref', rs)
        cur, cline = sample_spec('cur', cs)
        ref.sort()
        cur.sort()
        p, q = bins_pq(ref, cur, bins, eps)
        with np.errstate(divide='ignore', invalid='ignore'):
            js = float(jensenshannon(p, q, base=2))
        if np.isnan(js):
            js = 0.0  # a negative rounding residue; stats.h takes it as 0
        st, pv = ks(ref, cur)
        w = float(stats.wasserstein_distance(ref, cur))
        lines += [f'case {name}', rline, cline, f'bins {bins} {fmt(eps)}',
                  f'psi {fmt(psi(p, q))}', f'js {fmt(js)}', f'ks {fmt(st)} {fmt(pv)}',
                  f'wass {fmt(w)} {fmt(w / wnorm_scale(ref))}', 'end']
    for name, r, c in CHI2:
        r = np.array(r, dtype=float)
        c = np.array(c, dtype=float)
        keep = (r + c) > 0
        table = np.vstack([r[keep], c[keep]])
        if table.shape[1] < 2:
            st, pv, dof = 0.0, 1.0, 0
        else:
            res = stats.chi2_contingency(table, correction=False)
            st, pv, dof = float(res.statistic), float(res.pvalue), int(res.dof)
        lines.append(f'chi2 {name} {len(r)} ' + ' '.join(fmt(v) for v in r) + ' ' +
                     ' '.join(fmt(v) for v in c) + f' {fmt(st)} {fmt(pv)} {dof}')
    for x, k in CHI2SF:
        lines.append(f'chi2sf {fmt(x)} {k} {fmt(stats.chi2.sf(x, k))}')
    for n, d in KSTWO:
        lines.append(f'kstwo {n} {fmt(d)} {fmt(stats.kstwo.sf(d, n))}')
    with open(OUT, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    print(f'wrote {OUT}: {len(CASES)} cases, {len(CHI2)} tables, '
          f'{len(CHI2SF)} chi2 sf, {len(KSTWO)} kstwo sf')


if __name__ == '__main__':
    main()
