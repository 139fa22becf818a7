#!/usr/bin/env python3
"""Reference computations for the anomaly detectors' unit tests.

Writes tests/fixtures/anomaly/references.txt (read by the anomaly unit test):
fixed seeded series and, for each
value, what the detectors must answer, computed independently here with numpy
(and scipy's brentq for the GPD roots):
  - rolling z-score (np.mean, np.std ddof 0 over the previous N values),
  - robust z-score (np.median and the median of |w - median|, exact),
  - the EWMA chart (Roberts 1959, exact time-varying limits),
  - SPOT, DSPOT and two-sided SPOT thresholds (Siffer et al. 2017) with a
    Grimshaw fit written from the paper's equations.
Run from the repository root: python3 tests/anomaly/make_fixtures.py"""
import math
import os
import numpy as np
from scipy.optimize import brentq

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "anomaly", "references.txt")


def series_small(seed=7, n=600):
    rng = np.random.default_rng(seed)
    x = 50 + 10 * rng.standard_normal(n)
    x[rng.random(n) < 0.02] += 60
    x[300:330] = 42.0  # a flat stretch: MAD 0 and ties
    return np.round(x, 1)


def zscore_ref(x, N):
    z = np.full(len(x), np.nan)
    for t in range(N, len(x)):
        w = x[t - N:t]
        sd = np.std(w)
        z[t] = (x[t] - np.mean(w)) / sd if sd > 0 else (0.0 if x[t] == np.mean(w) else math.copysign(math.inf, x[t] - np.mean(w)))
    return z


def robust_ref(x, N):
    med = np.full(len(x), np.nan)
    mad = np.full(len(x), np.nan)
    z = np.full(len(x), np.nan)
    for t in range(N, len(x)):
        w = x[t - N:t]
        m = np.median(w)
        d = np.median(np.abs(w - m))
        med[t], mad[t] = m, d
        z[t] = 0.6745 * (x[t] - m) / d if d > 0 else (0.0 if x[t] == m else math.copysign(math.inf, x[t] - m))
    return med, mad, z


def ewma_ref(x, lam, L, warm):
    w = x[:warm]
    mu, sigma = np.mean(w), np.std(w, ddof=1)
    z, decay2 = mu, 1.0
    stat = np.full(len(x), np.nan)
    ucl = np.full(len(x), np.nan)
    for t in range(warm, len(x)):
        z = lam * x[t] + (1 - lam) * z
        decay2 *= (1 - lam) ** 2
        sd = sigma * math.sqrt(lam / (2 - lam) * (1 - decay2))
        stat[t] = (z - mu) / sd
        # the limit the next chart value is held to
        ucl[t] = mu + L * sigma * math.sqrt(lam / (2 - lam) * (1 - decay2 * (1 - lam) ** 2))
    return stat, ucl


# ---- SPOT (Siffer et al., KDD 2017) ----

def gpd_ll(Y, g, s):
    n = len(Y)
    if not s > 0:
        return -math.inf
    if g == 0:
        return -n * (1 + math.log(Y.mean()))
    v = 1 + g / s * Y
    if np.any(v <= 0):
        return -math.inf
    return -n * math.log(s) - (1 + 1 / g) * np.log(v).sum()


def grimshaw(Y, n_points=10):
    Y = np.asarray(Y, dtype=float)
    Ym, YM, Ymean = Y.min(), Y.max(), Y.mean()

    def w(t):
        s = 1 + t * Y
        return (1 + np.log(s).mean()) * np.mean(1 / s) - 1

    eps = 1e-8
    a = -1 / YM
    if abs(a) < 2 * eps:
        eps = abs(a) / n_points
    a += eps
    # Positive roots lie in (0, 2 (mean - min) / min^2]; Siffer's code starts
    # that search at 2 (mean - min) / (mean min) and misses roots below it.
    intervals = [(a + eps, -eps, False)]
    if Ym > 0 and Ymean > Ym:
        intervals.append((1e-6 / YM, 2 * (Ymean - Ym) / Ym ** 2, True))
    roots = []
    for lo, hi, geo in intervals:
        if not hi > lo:
            continue
        if geo:
            step = math.log(hi / lo) / (n_points + 1)
            xs = [lo * math.exp(k * step) for k in range(n_points + 1)] + [hi]
        else:
            step = (hi - lo) / (n_points + 1)
            xs = [lo + k * step for k in range(n_points + 1)] + [hi]
        fs = [w(v) for v in xs]
        for i in range(len(xs) - 1):
            if fs[i] == 0:
                roots.append(xs[i])
            elif np.isfinite(fs[i]) and np.isfinite(fs[i + 1]) and fs[i + 1] != 0 and (fs[i] > 0) != (fs[i + 1] > 0):
                roots.append(brentq(w, xs[i], xs[i + 1], xtol=1e-300, rtol=8.9e-16, maxiter=500))
        if fs[-1] == 0:
            roots.append(xs[-1])
    best = (0.0, Ymean, gpd_ll(Y, 0.0, Ymean))
    for z in roots:
        if z == 0:
            continue
        g = np.log(1 + z * Y).mean()
        s = g / z
        ll = gpd_ll(Y, g, s)
        if ll > best[2]:
            best = (g, s, ll)
    return best[0], best[1]


class Side:
    def __init__(self, t, peaks, n, q, cap):
        self.t, self.q, self.cap = t, q, cap
        self.peaks = list(peaks)[-cap:]
        self.nt = len(peaks)
        self.fit(n)

    def fit(self, n):
        if not self.peaks:
            self.zq = self.t
            return
        g, s = grimshaw(self.peaks)
        r = self.q * n / self.nt
        self.zq = self.t + s / g * (r ** -g - 1) if g != 0 else self.t - s * math.log(r)

    def add(self, e, n):
        self.peaks.append(e)
        if len(self.peaks) > self.cap:
            self.peaks.pop(0)
        self.nt += 1
        self.fit(n)


def spot_ref(x, n_init, level, q, depth=0, two_sided=False, cap=1000):
    """Answers (threshold_up, threshold_down, score) after each value, NaN
    while calibrating; thresholds in x units for the next value."""
    up_thr = np.full(len(x), np.nan)
    dn_thr = np.full(len(x), np.nan)
    score = np.zeros(len(x))
    W = list(x[:depth])
    i = depth
    init = []
    while len(init) < n_init:
        ma = np.mean(W) if depth else 0.0
        init.append(x[i] - ma)
        if depth:
            W = W[1:] + [x[i]]
        i += 1
    init = np.array(init)
    S = np.sort(init)
    k = min(int(level * n_init), n_init - 1)
    n = n_init
    up = Side(S[k], init[init > S[k]] - S[k], n, q, cap)
    tdn = -S[n_init - 1 - k]
    dn = Side(tdn, -init[-init > tdn] - tdn, n, q, cap) if two_sided else None

    def sc(side, v):
        if not v > side.t:
            return 0.0
        if not side.zq > side.t:
            return 1.0
        r = (v - side.t) / (side.zq - side.t)
        return r / (1 + r)

    for j in range(i, len(x)):
        ma = np.mean(W) if depth else 0.0
        y = x[j] - ma
        score[j] = max(sc(up, y), sc(dn, -y) if dn else 0.0)
        if y > up.zq or (dn and -y > dn.zq):
            pass
        else:
            if y > up.t:
                n += 1
                up.add(y - up.t, n)
            elif dn and -y > dn.t:
                n += 1
                dn.add(-y - dn.t, n)
            else:
                n += 1
            if depth:
                W = W[1:] + [x[j]]
        ma = np.mean(W) if depth else 0.0
        up_thr[j] = up.zq + ma
        if dn:
            dn_thr[j] = -dn.zq + ma
    return up_thr, dn_thr, score


def series_spot(seed=11, n=2500):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    x = 5 * np.sin(2 * np.pi * t / 200) + rng.standard_normal(n) + 0.001 * t
    spikes = rng.random(n) < 0.004
    x[spikes] += rng.choice([-1, 1], spikes.sum()) * rng.uniform(5, 9, spikes.sum())
    return x


def carr(name, a):
    rows = [" ".join(fmt(v) for v in a[i:i + 4]) for i in range(0, len(a), 4)]
    return "\n".join(["%s %d" % (name, len(a))] + rows)


def fmt(v):
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return repr(float(v))


def main():
    out = ["# Generated by tests/anomaly/make_fixtures.py: do not edit.",
           "# Each array: a line 'NAME COUNT', then COUNT numbers (nan, inf, -inf allowed)."]
    x = series_small()
    out.append(carr("fx_small", x))
    out.append(carr("fx_z50", zscore_ref(x, 50)))
    for N in (50, 51):
        med, mad, z = robust_ref(x, N)
        out.append(carr("fx_med%d" % N, med))
        out.append(carr("fx_mad%d" % N, mad))
        out.append(carr("fx_rz%d" % N, z))
    st, ucl = ewma_ref(x, 0.2, 3.0, 30)
    out.append(carr("fx_ewma_stat", st))
    out.append(carr("fx_ewma_ucl", ucl))
    xs = series_spot()
    out.append(carr("fx_spot_x", xs))
    u, _, s = spot_ref(xs, 1000, 0.98, 1e-3)
    out.append(carr("fx_spot_up", u))
    out.append(carr("fx_spot_score", s))
    u, _, s = spot_ref(xs, 1000, 0.98, 1e-3, depth=10)
    out.append(carr("fx_dspot_up", u))
    out.append(carr("fx_dspot_score", s))
    u, d, s = spot_ref(xs, 1000, 0.98, 1e-3, two_sided=True)
    out.append(carr("fx_bispot_up", u))
    out.append(carr("fx_bispot_down", d))
    out.append(carr("fx_bispot_score", s))
    # a bare Grimshaw fit on GPD samples with known shape
    rng = np.random.default_rng(3)
    for name, g in (("pos", 0.3), ("neg", -0.2)):
        u01 = rng.random(400)
        y = 2.0 * ((1 - u01) ** -g - 1) / g
        gg, ss = grimshaw(y)
        out.append(carr("fx_gpd_%s" % name, y))
        out.append(carr("fx_gpd_%s_fit" % name, [gg, ss]))
    with open(OUT, "w") as f:
        f.write("\n".join(out) + "\n")


main()
