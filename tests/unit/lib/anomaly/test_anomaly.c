/* Anomaly detectors against reference computations (benchmarks/nab/tune/
 * make_fixtures.py: numpy for the rolling statistics, a Python SPOT written
 * from the paper), plus properties: HST ranks outliers above inliers,
 * bad parameters are refused with a reason, snapshots round-trip. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/anomaly/anomaly.h"
#include "engine/core/error.h"
#include "tests/unit/fixtures.h"
#include "tests/unit/test.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Reference values (tests/fixtures/anomaly/references.txt, written by
 * tests/fixtures/anomaly/make_fixtures.py), loaded by main before the tests run. */
static double fx_small[600];
static double fx_z50[600];
static double fx_med50[600];
static double fx_mad50[600];
static double fx_rz50[600];
static double fx_med51[600];
static double fx_mad51[600];
static double fx_rz51[600];
static double fx_ewma_stat[600];
static double fx_ewma_ucl[600];
static double fx_spot_x[2500];
static double fx_spot_up[2500];
static double fx_spot_score[2500];
static double fx_dspot_up[2500];
static double fx_dspot_score[2500];
static double fx_bispot_up[2500];
static double fx_bispot_down[2500];
static double fx_bispot_score[2500];
static double fx_gpd_pos[400];
static double fx_gpd_pos_fit[2];
static double fx_gpd_neg[400];
static double fx_gpd_neg_fit[2];
static fx_array fx_all[] = {
    FX_ARRAY(fx_small),
    FX_ARRAY(fx_z50),
    FX_ARRAY(fx_med50),
    FX_ARRAY(fx_mad50),
    FX_ARRAY(fx_rz50),
    FX_ARRAY(fx_med51),
    FX_ARRAY(fx_mad51),
    FX_ARRAY(fx_rz51),
    FX_ARRAY(fx_ewma_stat),
    FX_ARRAY(fx_ewma_ucl),
    FX_ARRAY(fx_spot_x),
    FX_ARRAY(fx_spot_up),
    FX_ARRAY(fx_spot_score),
    FX_ARRAY(fx_dspot_up),
    FX_ARRAY(fx_dspot_score),
    FX_ARRAY(fx_bispot_up),
    FX_ARRAY(fx_bispot_down),
    FX_ARRAY(fx_bispot_score),
    FX_ARRAY(fx_gpd_pos),
    FX_ARRAY(fx_gpd_pos_fit),
    FX_ARRAY(fx_gpd_neg),
    FX_ARRAY(fx_gpd_neg_fit),
};

static int close_rel(double a, double b, double rel)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    if (isinf(a) || isinf(b))
        return a == b;
    return fabs(a - b) <= rel * fmax(1.0, fmax(fabs(a), fabs(b)));
}

static void test_zscore(void)
{
    eddy_zscore_params p = {.window = 50};
    eddy_anom *a;
    CHECK(eddy_zscore_new(&p, &a, NULL, 0) == 0);
    int bad = 0;
    for (size_t i = 0; i < N_OF(fx_small); i++) {
        double s = eddy_anom_update(a, fx_small[i], 0);
        if (i < 50) {
            bad += s != 0.0;
            continue;
        }
        double z = eddy_anom_statistic(a);
        if (!close_rel(z, fx_z50[i], 1e-9) || !close_rel(s, eddy_anom_z_to_score(fx_z50[i]), 1e-12)) {
            if (bad++ < 5)
                fprintf(stderr, "zscore[%zu]: %.17g vs %.17g\n", i, z, fx_z50[i]);
        }
    }
    CHECK(bad == 0);
    eddy_anom_free(a);
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_robust(uint32_t window, const double *want)
{
    eddy_robust_zscore_params p = {.window = window};
    eddy_anom *a;
    CHECK(eddy_robust_zscore_new(&p, &a, NULL, 0) == 0);
    int bad = 0, infs = 0;
    for (size_t i = 0; i < N_OF(fx_small); i++) {
        double s = eddy_anom_update(a, fx_small[i], 0);
        if (i < window)
            continue;
        double z = eddy_anom_statistic(a);
        if (isinf(want[i])) {
            /* numpy's MAD is 0 here: the detector falls back on the mean
             * absolute deviation from the median, z = (x - med) / (1.253314
             * MeanAD), worked out here from the window itself. */
            infs++;
            double *win = malloc(sizeof(double) * window), sum = 0.0;
            memcpy(win, fx_small + i - window, sizeof(double) * window);
            qsort(win, window, sizeof(double), cmp_dbl);
            double med = window % 2 ? win[window / 2]
                                    : (win[window / 2 - 1] + win[window / 2]) / 2;
            for (uint32_t k = 0; k < window; k++)
                sum += fabs(win[k] - med);
            free(win);
            double want_z = sum > 0 ? (fx_small[i] - med) / (1.253314 * (sum / window)) : want[i];
            if (!close_rel(z, want_z, 1e-12) || s != eddy_anom_z_to_score(z)) {
                if (bad++ < 5)
                    fprintf(stderr, "robust%u[%zu] (MAD 0): %.17g vs %.17g\n", window, i, z,
                            want_z);
            }
            continue;
        }
        /* Exact: the same median, MAD and arithmetic as numpy. */
        if (!(z == want[i] || (isnan(z) && isnan(want[i]))) ||
            s != eddy_anom_z_to_score(want[i])) {
            if (bad++ < 5)
                fprintf(stderr, "robust%u[%zu]: %.17g vs %.17g\n", window, i, z, want[i]);
        }
    }
    CHECK_MSG(bad == 0, "window %u: %d mismatches", window, bad);
    CHECK(infs > 0); /* the flat stretch reaches MAD 0 (the fallback is checked) */
    eddy_anom_free(a);
}

static void test_ewma(void)
{
    eddy_ewma_params p;
    eddy_ewma_defaults(&p);
    eddy_anom *a;
    CHECK(eddy_ewma_new(&p, &a, NULL, 0) == 0);
    CHECK(isnan(eddy_anom_threshold(a)));
    int bad = 0, alarms = 0;
    for (size_t i = 0; i < N_OF(fx_small); i++) {
        double s = eddy_anom_update(a, fx_small[i], 0);
        if (i < 30) {
            bad += s != 0.0;
            continue;
        }
        double st = eddy_anom_statistic(a);
        alarms += fabs(st) > 3.0;
        if (!close_rel(st, fx_ewma_stat[i], 1e-10) ||
            !close_rel(eddy_anom_threshold(a), fx_ewma_ucl[i], 1e-12) ||
            /* The score is the residual's two-sided Gaussian tail: at or
             * beyond the L = 3 limits exactly when it reaches |z| = 3's. */
            (s >= eddy_anom_z_to_score(3.0)) != (fabs(fx_ewma_stat[i]) >= 3.0)) {
            if (bad++ < 5)
                fprintf(stderr, "ewma[%zu]: %.17g vs %.17g\n", i, st, fx_ewma_stat[i]);
        }
    }
    CHECK(bad == 0);
    CHECK(alarms > 0);
    eddy_anom_free(a);
}

static void test_spot_case(const char *what, uint32_t depth, int two, const double *up,
                           const double *down, const double *score)
{
    eddy_spot_params p;
    eddy_spot_defaults(&p);
    p.q = 1e-3;
    p.depth = depth;
    p.two_sided = two;
    eddy_anom *a;
    char err[200];
    CHECK(eddy_spot_new(&p, &a, err, sizeof err) == 0);
    CHECK_STR(eddy_anom_name(a), depth ? "dspot" : "spot");
    int bad = 0, alarms = 0, checked = 0;
    for (size_t i = 0; i < N_OF(fx_spot_x); i++) {
        double s = eddy_anom_update(a, fx_spot_x[i], 0);
        double t = eddy_anom_threshold(a);
        if (isnan(up[i])) {
            bad += s != 0.0;
            (void)t;
            continue;
        }
        checked++;
        /* The score is the fitted tail probability on the log scale of
         * anomaly.h: SPOT's alarm (the fixture's old score >= 0.5, its
         * value beyond z_q) is exactly p <= q, i.e. score >= -log10(q) /
         * 10; values at or below t score 0 in both. */
        double lvl = -log10(p.q) / EDDY_ANOM_TAIL_DIGITS;
        alarms += s >= lvl;
        int ok = close_rel(t, up[i], 1e-6) && (s > 0) == (score[i] > 0) && s >= 0 && s <= 1 &&
                 (fabs(score[i] - 0.5) < 1e-6 || (s >= lvl - 1e-9) == (score[i] >= 0.5));
        if (down)
            ok = ok && close_rel(eddy_anom_threshold_lower(a), down[i], 1e-6);
        if (!ok && bad++ < 5)
            fprintf(stderr, "%s[%zu]: threshold %.17g vs %.17g, score %.17g (alarm at %.3g) vs "
                    "the reference's r/(1+r) %.17g\n", what, i, t, up[i], s, lvl, score[i]);
    }
    CHECK_MSG(bad == 0, "%s: %d mismatches", what, bad);
    CHECK(checked > 1000);
    CHECK_MSG(alarms > 0, "%s raised no alarm", what);
    eddy_anom_free(a);
}

static void test_grimshaw(void)
{
    double g, s;
    CHECK(eddy_spot_grimshaw(fx_gpd_pos, N_OF(fx_gpd_pos), 10, &g, &s) == 0);
    CHECK_MSG(close_rel(g, fx_gpd_pos_fit[0], 1e-6) && close_rel(s, fx_gpd_pos_fit[1], 1e-6),
              "gamma %.17g sigma %.17g", g, s);
    CHECK(g > 0.1); /* the positive root the reference code's interval misses */
    CHECK(eddy_spot_grimshaw(fx_gpd_neg, N_OF(fx_gpd_neg), 10, &g, &s) == 0);
    CHECK_MSG(close_rel(g, fx_gpd_neg_fit[0], 1e-6) && close_rel(s, fx_gpd_neg_fit[1], 1e-6),
              "gamma %.17g sigma %.17g", g, s);
    CHECK(eddy_spot_grimshaw(fx_gpd_neg, 0, 10, &g, &s) == EDDY_EINVAL);
}

static uint64_t rng_state;
static double urand(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) * 0x1p-53;
}

static double gauss(void)
{
    return sqrt(-2.0 * log(urand() + 1e-300)) * cos(6.283185307179586 * urand());
}

/* numpy's median of v[0..n) (sorts v). */
static double np_median(double *v, size_t n)
{
    qsort(v, n, sizeof(double), cmp_dbl);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Windows on both sides of the switch from the sorted array to the treap
 * (131072), on values with many ties, against a sort-based reference
 * every `every` values: the robust z must be bit for bit numpy's. */
static void test_robust_ref(uint32_t window, size_t extra, size_t every)
{
    size_t n = window + extra;
    double *xs = malloc(sizeof(double) * n), *w = malloc(sizeof(double) * window);
    CHECK(xs && w);
    if (!xs || !w) {
        free(xs);
        free(w);
        return;
    }
    rng_state = 0x9e3779b97f4a7c15ULL ^ window;
    for (size_t i = 0; i < n; i++)
        xs[i] = round(gauss() * 20.0) / 4.0 + (i % 1000 == 7 ? 40.0 : 0.0);
    eddy_robust_zscore_params p = {.window = window};
    eddy_anom *a;
    CHECK(eddy_robust_zscore_new(&p, &a, NULL, 0) == 0);
    int bad = 0, checked = 0;
    for (size_t i = 0; i < n; i++) {
        eddy_anom_update(a, xs[i], 0);
        if (i < window || (i - window) % every)
            continue;
        memcpy(w, xs + i - window, sizeof(double) * window);
        double med = np_median(w, window);
        for (uint32_t j = 0; j < window; j++)
            w[j] = fabs(xs[i - window + j] - med);
        double mad = np_median(w, window), d = xs[i] - med;
        double z = mad > 0 ? 0.6745 * d / mad : d == 0 ? 0.0 : copysign(INFINITY, d);
        checked++;
        if (eddy_anom_statistic(a) != z && bad++ < 5)
            fprintf(stderr, "robust%u[%zu]: %.17g vs %.17g\n", window, i, eddy_anom_statistic(a), z);
    }
    CHECK_MSG(bad == 0, "window %u: %d of %d differ", window, bad, checked);
    CHECK(checked >= 5);
    eddy_anom_free(a);
    free(xs);
    free(w);
}

/* The fit does not depend on the order of the peaks (SPOT's ring rotates
 * them) beyond rounding, for every count around the 16-wide rows of the
 * product sums, including the padded last row. */
static void test_grimshaw_order(void)
{
    double rev[N_OF(fx_gpd_pos)];
    int bad = 0;
    for (size_t n = 1; n <= N_OF(fx_gpd_pos); n += n < 40 ? 1 : 37) {
        for (size_t i = 0; i < n; i++)
            rev[i] = fx_gpd_pos[n - 1 - i];
        double g1, s1, g2, s2;
        CHECK(eddy_spot_grimshaw(fx_gpd_pos, n, 10, &g1, &s1) == 0);
        CHECK(eddy_spot_grimshaw(rev, n, 10, &g2, &s2) == 0);
        int ok = isfinite(g1) && s1 > 0.0 && fabs(g1 - g2) <= 1e-6 && close_rel(s1, s2, 1e-6);
        if (!ok && bad++ < 5)
            fprintf(stderr, "grimshaw n=%zu: gamma %.17g vs %.17g, sigma %.17g vs %.17g\n", n,
                    g1, g2, s1, s2);
    }
    CHECK_MSG(bad == 0, "grimshaw depends on the peaks' order (%d counts)", bad);
}

/* A long stream wraps the peak ring (kept small here) many times, and the
 * detector refits from the previous fit's roots on every peak: its
 * thresholds must be those of a cold fit on the same peaks, mirrored here
 * from the rules in anomaly.h. */
static void test_spot_warm(void)
{
    enum { N_INIT = 1000, CAP = 200, N = 60000 };
    eddy_spot_params p;
    eddy_spot_defaults(&p);
    p.q = 1e-3;
    p.max_peaks = CAP;
    eddy_anom *a;
    CHECK(eddy_spot_new(&p, &a, NULL, 0) == 0);
    rng_state = 0x2545f4914f6cdd1dULL;
    double init[N_INIT], pk[CAP], t = 0.0;
    uint64_t n = 0, nt = 0;
    uint32_t count = 0, head = 0;
    int bad = 0, fits = 0;
    for (int i = 0; i < N; i++) {
        /* Exponential-tailed data, so the GPD is well away from the
         * rounding-level roots next to gamma = 0. */
        double x = -log(urand() + 1e-300) + 0.3 * gauss(), zq = eddy_anom_threshold(a);
        eddy_anom_update(a, x, 0);
        if (i < N_INIT) {
            init[i] = x;
            if (i == N_INIT - 1) {
                qsort(init, N_INIT, sizeof(double), cmp_dbl);
                t = init[(int)(p.level * N_INIT)];
                rng_state = 0x2545f4914f6cdd1dULL;
                for (int j = 0; j < N_INIT; j++) {
                    double v = -log(urand() + 1e-300) + 0.3 * gauss();
                    if (v > t) {
                        pk[count++] = v - t;
                        nt++;
                    }
                }
                n = N_INIT;
            }
            continue;
        }
        if (x > zq)
            continue;
        n++;
        if (!(x > t))
            continue;
        if (count < CAP) {
            pk[count++] = x - t;
        } else {
            pk[head] = x - t;
            head = head + 1 == CAP ? 0 : head + 1;
        }
        nt++;
        double g, sg;
        CHECK(eddy_spot_grimshaw(pk, count, p.n_points, &g, &sg) == 0);
        double r = p.q * (double)n / (double)nt;
        double want = g != 0.0 ? t + sg / g * (pow(r, -g) - 1.0) : t - sg * log(r);
        double got = eddy_anom_threshold(a);
        fits++;
        if (!close_rel(got, want, 1e-9) && bad++ < 5)
            fprintf(stderr, "spot warm[%d]: threshold %.17g, cold fit %.17g\n", i, got, want);
    }
    CHECK_MSG(bad == 0, "warm-started fits differ from cold ones (%d of %d)", bad, fits);
    CHECK(fits > 500);
    eddy_anom_free(a);
}

/* refit_every: 0 is the paper's every peak, like 1, bit for bit; 10 keeps
 * thresholds within 20% of the exact ones (they lag by up to 9 peaks while
 * only a few dozen exist) and still alarms; too large is refused. */
static void test_spot_refit_every(void)
{
    eddy_spot_params p;
    eddy_spot_defaults(&p);
    CHECK(p.refit_every == 1);
    p.q = 1e-3;
    eddy_anom *e, *z, *k;
    p.refit_every = 1;
    CHECK(eddy_spot_new(&p, &e, NULL, 0) == 0);
    p.refit_every = 0;
    CHECK(eddy_spot_new(&p, &z, NULL, 0) == 0);
    p.refit_every = 10;
    CHECK(eddy_spot_new(&p, &k, NULL, 0) == 0);
    int same = 1, alarms = 0;
    double worst = 0.0;
    for (size_t i = 0; i < N_OF(fx_spot_x); i++) {
        double se = eddy_anom_update(e, fx_spot_x[i], 0);
        same &= se == eddy_anom_update(z, fx_spot_x[i], 0);
        alarms += eddy_anom_update(k, fx_spot_x[i], 0) >= 0.5;
        double te = eddy_anom_threshold(e), tk = eddy_anom_threshold(k);
        if (!isnan(te))
            worst = fmax(worst, fabs(tk - te) / fabs(te));
    }
    CHECK(same);
    CHECK(alarms > 0);
    CHECK_MSG(worst > 0.0 && worst < 0.2, "refit_every 10: thresholds %g apart", worst);
    eddy_anom_free(e);
    eddy_anom_free(z);
    eddy_anom_free(k);
    char err[200];
    p.refit_every = (1u << 24) + 1;
    CHECK(eddy_spot_new(&p, &k, err, sizeof err) == EDDY_EINVAL);
    CHECK_CONTAINS(err, "spot: refit_every must be <= 16777216");
}

/* river's anomaly.HalfSpaceTrees defaults. */
static void test_hst_defaults(void)
{
    eddy_hst_params p;
    eddy_hst_defaults(&p, 3);
    CHECK(p.dim == 3 && p.n_trees == 10 && p.height == 8 && p.window_size == 250);
}

/* Over many seeds, points far from a tight cluster score higher than
 * points inside it, with learnt and with given limits. */
static void test_hst_property(void)
{
    int wins = 0, runs = 0, in_range = 1;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        for (int given = 0; given < 2; given++) {
            double lo[2] = {0, 0}, hi[2] = {1, 1};
            eddy_hst_params p;
            eddy_hst_defaults(&p, 2);
            p.seed = seed;
            p.height = 10;
            if (given) {
                p.limits_lo = lo;
                p.limits_hi = hi;
            }
            eddy_hst *h;
            char err[200];
            CHECK(eddy_hst_new(&p, &h, err, sizeof err) == 0);
            rng_state = seed * 2654435761u + 1;
            for (int i = 0; i < 1000; i++) {
                double x[2] = {0.3 + 0.05 * gauss(), 0.6 + 0.05 * gauss()};
                double s = eddy_hst_update(h, x, 2);
                in_range &= s >= 0.0 && s <= 1.0 && (i >= 250 || s == 0.0);
            }
            double inl = 0, outl = 0;
            for (int i = 0; i < 50; i++) {
                double x[2] = {0.3 + 0.05 * gauss(), 0.6 + 0.05 * gauss()};
                double o[2] = {0.3 + (i % 2 ? 0.4 : -0.25) + 0.02 * gauss(),
                               0.6 + (i % 3 ? -0.45 : 0.3) + 0.02 * gauss()};
                inl += eddy_hst_score(h, x, 2);
                outl += eddy_hst_score(h, o, 2);
            }
            wins += outl > inl;
            if (getenv("HST_DEBUG"))
                fprintf(stderr, "seed %d given %d: in %g out %g\n", (int)seed, given, inl / 50, outl / 50);
            runs++;
            CHECK(isnan(eddy_hst_update(h, lo, 3)));
            double nan2[2] = {NAN, 0};
            CHECK(isnan(eddy_hst_update(h, nan2, 2)));
            eddy_hst_free(h);
        }
    }
    CHECK_MSG(wins == runs, "outliers ranked higher in %d of %d runs", wins, runs);
    CHECK(in_range);
}

static void expect_bad(int rc, const char *err, const char *needle)
{
    CHECK(rc == EDDY_EINVAL);
    CHECK_CONTAINS(err, needle);
}

static void test_bad_params(void)
{
    char err[256];
    eddy_anom *a = NULL;
    eddy_zscore_params z = {.window = 1};
    expect_bad(eddy_zscore_new(&z, &a, err, sizeof err), err, "zscore: window must be");
    eddy_robust_zscore_params r = {.window = 0};
    expect_bad(eddy_robust_zscore_new(&r, &a, err, sizeof err), err, "robust_zscore: window");
    eddy_ewma_params e;
    eddy_ewma_defaults(&e);
    e.lambda = 1.5;
    expect_bad(eddy_ewma_new(&e, &a, err, sizeof err), err, "ewma: lambda must be in (0, 1]");
    eddy_ewma_defaults(&e);
    e.L = -1;
    expect_bad(eddy_ewma_new(&e, &a, err, sizeof err), err, "ewma: L must be");
    eddy_ewma_defaults(&e);
    e.warmup = 1;
    expect_bad(eddy_ewma_new(&e, &a, err, sizeof err), err, "warmup must be >= 2");
    eddy_spot_params s;
    eddy_spot_defaults(&s);
    s.level = 1.0;
    expect_bad(eddy_spot_new(&s, &a, err, sizeof err), err, "spot: level must be in (0, 1)");
    eddy_dspot_defaults(&s);
    s.q = 0;
    expect_bad(eddy_spot_new(&s, &a, err, sizeof err), err, "dspot: q must be");
    eddy_spot_defaults(&s);
    s.n_init = 5;
    expect_bad(eddy_spot_new(&s, &a, err, sizeof err), err, "n_init must be");
    eddy_spot_defaults(&s);
    s.max_peaks = 3;
    expect_bad(eddy_spot_new(&s, &a, err, sizeof err), err, "max_peaks");
    eddy_nab_params n;
    eddy_nab_defaults(&n);
    n.long_win = 2.5;
    expect_bad(eddy_nab_new(&n, &a, err, sizeof err), err, "nab: long_win must be a whole");
    expect_bad(eddy_anom_new_default("nope", &a, err, sizeof err), err, "unknown detector 'nope'");
    CHECK(a == NULL);
    eddy_hst_params h;
    eddy_hst *hh = NULL;
    eddy_hst_defaults(&h, 0);
    expect_bad(eddy_hst_new(&h, &hh, err, sizeof err), err, "hst: dim must be");
    eddy_hst_defaults(&h, 2);
    h.window_size = 70000;
    expect_bad(eddy_hst_new(&h, &hh, err, sizeof err), err, "window_size must be in [2, 65535]");
    eddy_hst_defaults(&h, 2);
    double lo[2] = {0, 1}, hi[2] = {1, 1};
    h.limits_lo = lo;
    h.limits_hi = hi;
    expect_bad(eddy_hst_new(&h, &hh, err, sizeof err), err, "limits of feature 1");
    eddy_hst_defaults(&h, 2);
    h.limits_lo = lo;
    expect_bad(eddy_hst_new(&h, &hh, err, sizeof err), err, "given together");
    eddy_hst_defaults(&h, 2);
    h.height = 24;
    h.n_trees = 100;
    expect_bad(eddy_hst_new(&h, &hh, err, sizeof err), err, "MiB of nodes");
    CHECK(hh == NULL);
}

/* Snapshot mid-stream, restore into a fresh detector: both then answer
 * identically. Broken snapshots are refused and change nothing. */
static void test_snapshot(const char *name)
{
    char err[256];
    eddy_anom *a, *b, *c;
    CHECK(eddy_anom_new_default(name, &a, err, sizeof err) == 0);
    CHECK(eddy_anom_new_default(name, &b, err, sizeof err) == 0);
    size_t n = N_OF(fx_spot_x), half = 1700;
    for (size_t i = 0; i < half; i++)
        eddy_anom_update(a, fx_spot_x[i], (int64_t)i * 300000);
    eddy_buf snap = {0};
    CHECK(eddy_anom_snapshot(a, &snap) == 0);
    CHECK(eddy_anom_restore(b, snap.data, snap.len) == 0);
    CHECK(eddy_anom_statistic(a) == eddy_anom_statistic(b));
    /* Corruptions: a flipped payload byte, a truncation, another kind. */
    snap.data[snap.len - 3] ^= 0x40;
    CHECK(eddy_anom_restore(b, snap.data, snap.len) == EDDY_EPARSE);
    snap.data[snap.len - 3] ^= 0x40;
    CHECK(eddy_anom_restore(b, snap.data, snap.len - 1) == EDDY_EPARSE);
    CHECK(eddy_anom_restore(b, NULL, 0) == EDDY_EPARSE);
    CHECK(eddy_anom_new_default(strcmp(name, "zscore") ? "zscore" : "ewma", &c, err,
                                sizeof err) == 0);
    CHECK(eddy_anom_restore(c, snap.data, snap.len) == EDDY_EPARSE);
    eddy_anom_free(c);
    int same = 1;
    for (size_t i = half; i < n; i++) {
        double x = fx_spot_x[i];
        double sa = eddy_anom_update(a, x, (int64_t)i * 300000);
        double sb = eddy_anom_update(b, x, (int64_t)i * 300000);
        same &= sa == sb && eddy_anom_statistic(a) == eddy_anom_statistic(b);
    }
    CHECK_MSG(same, "%s diverged after restore", name);
    /* Non-finite values are ignored. */
    CHECK(eddy_anom_update(a, NAN, 0) == 0.0);
    CHECK(eddy_anom_update(a, INFINITY, 0) == 0.0);
    CHECK(eddy_anom_update(a, 1.0, 0) == eddy_anom_update(b, 1.0, 0));
    /* Reset starts over: warm-up scores are 0 again. */
    eddy_anom_reset(a);
    CHECK(eddy_anom_update(a, 5.0, 0) == 0.0);
    eddy_buf_free(&snap);
    eddy_anom_free(a);
    eddy_anom_free(b);
}

static void test_hst_snapshot(void)
{
    eddy_hst_params p;
    eddy_hst_defaults(&p, 1);
    p.height = 8;
    eddy_hst *a, *b;
    CHECK(eddy_hst_new(&p, &a, NULL, 0) == 0);
    CHECK(eddy_hst_new(&p, &b, NULL, 0) == 0);
    for (size_t i = 0; i < 900; i++)
        eddy_hst_update(a, &fx_spot_x[i], 1);
    eddy_buf snap = {0};
    CHECK(eddy_hst_snapshot(a, &snap) == 0);
    CHECK(eddy_hst_restore(b, snap.data, snap.len - 8) == EDDY_EPARSE);
    CHECK(eddy_hst_restore(b, snap.data, snap.len) == 0);
    int same = 1, nonzero = 0;
    for (size_t i = 900; i < 2000; i++) {
        double sa = eddy_hst_update(a, &fx_spot_x[i], 1);
        same &= sa == eddy_hst_update(b, &fx_spot_x[i], 1);
        nonzero += sa > 0;
    }
    CHECK(same);
    /* Calibrated: a value whose raw mass score is below the recent mean
     * scores 0, so about half do. */
    CHECK_MSG(nonzero > 300, "nonzero %d, expected > 300", nonzero);
    eddy_hst_reset(a);
    CHECK(eddy_hst_update(a, &fx_spot_x[0], 1) == 0.0);
    eddy_buf_free(&snap);
    eddy_hst_free(a);
    eddy_hst_free(b);
}

/* The NAB detector on a noisy daily cycle (5-minute steps) with a level
 * shift after three weeks: silent during probation, no alarm-level score
 * on the regular cycle once a couple of weekends have been seen (the
 * context channel learns each hour's usual values), an alarm within a few
 * values of the shift, then sup_len quiet values. Each channel mix (all,
 * time of day off, context alone) sees the shift. */
#define NAB_SHIFT 6048
static double nab_series(size_t i, uint64_t *rng)
{
    *rng = *rng * 6364136223846793005ULL + 1442695040888963407ULL;
    double noise = (double)(*rng >> 11) / 9007199254740992.0 - 0.5;
    double v = 50 + 10 * sin(2 * M_PI * (double)i / 288) + 2 * noise;
    return i >= NAB_SHIFT ? v + 40 : v;
}

static void test_nab_behaviour(void)
{
    char err[256];
    eddy_nab_params p;
    for (int mode = 0; mode < 3; mode++) {
        eddy_nab_defaults(&p);
        if (mode == 1)
            p.tod_w = 0;
        if (mode == 2)
            p.level_w = 0, p.sd_floor = 1e9; /* context channel alone */
        eddy_anom *a;
        CHECK(eddy_nab_new(&p, &a, err, sizeof err) == 0);
        uint64_t rng = 7;
        size_t first = 0, after = 0, early = 0, before = 0;
        for (size_t i = 0; i < NAB_SHIFT + 2 * (size_t)p.sup_len; i++) {
            double s = eddy_anom_update(a, nab_series(i, &rng), (int64_t)i * 300000);
            CHECK(s >= 0 && s <= 1);
            if (i < (size_t)p.probation && s != 0)
                early++;
            if (s >= p.sup_level && i >= NAB_SHIFT - 2016 && i < NAB_SHIFT)
                before++;
            if (s >= p.sup_level && i >= NAB_SHIFT) {
                if (!first)
                    first = i;
                else if (i < first + (size_t)p.sup_len)
                    after++;
            }
        }
        CHECK_MSG(early == 0, "mode %d: %zu scores during probation", mode, early);
        CHECK_MSG(before == 0, "mode %d: %zu alarms on the regular cycle", mode, before);
        CHECK_MSG(first >= NAB_SHIFT && first < NAB_SHIFT + 10, "mode %d: first alarm at %zu",
                  mode, first);
        CHECK_MSG(after == 0, "mode %d: %zu alarms in the quiet period", mode, after);
        eddy_anom_free(a);
    }
    /* A constant series never reaches the alarm level. */
    eddy_nab_defaults(&p);
    eddy_anom *a;
    CHECK(eddy_nab_new(&p, &a, err, sizeof err) == 0);
    double worst = 0;
    for (size_t i = 0; i < 3000; i++)
        worst = fmax(worst, eddy_anom_update(a, 7.0, (int64_t)i * 60000));
    CHECK(worst < p.sup_level);
    eddy_anom_free(a);
    /* Bad knobs are named. */
    eddy_nab_defaults(&p);
    p.ctx_bins = 300;
    CHECK(eddy_nab_new(&p, &a, err, sizeof err) == EDDY_EINVAL);
    CHECK_CONTAINS(err, "nab: ctx_bins must be a whole number in [2, 256]");
    eddy_nab_defaults(&p);
    p.short_win = p.long_win;
    CHECK(eddy_nab_new(&p, &a, err, sizeof err) == EDDY_EINVAL);
    CHECK_CONTAINS(err, "short_win and ctx_short must be whole");
    eddy_nab_defaults(&p);
    p.tod_w = -1;
    CHECK(eddy_nab_new(&p, &a, err, sizeof err) == EDDY_EINVAL);
    CHECK_CONTAINS(err, "tod_w must be >= 0");
}

int main(void)
{
    fx_load("anomaly/references.txt", fx_all, N_OF(fx_all));
    test_zscore();
    test_robust(50, fx_rz50);
    test_robust(51, fx_rz51);
    test_ewma();
    test_grimshaw();
    test_spot_case("spot", 0, 0, fx_spot_up, NULL, fx_spot_score);
    test_spot_case("dspot", 10, 0, fx_dspot_up, NULL, fx_dspot_score);
    test_spot_case("bispot", 0, 1, fx_bispot_up, fx_bispot_down, fx_bispot_score);
    test_spot_refit_every();
    test_grimshaw_order();
    test_spot_warm();
    test_robust_ref(1000, 3000, 97);
    test_robust_ref(131072, 400, 97);
    test_robust_ref(131073, 400, 97);
    test_hst_defaults();
    test_hst_property();
    test_bad_params();
    test_nab_behaviour();
    const char *names[] = {"zscore", "robust_zscore", "ewma", "spot", "dspot", "nab"};
    for (size_t i = 0; i < N_OF(names); i++)
        test_snapshot(names[i]);
    test_hst_snapshot();
    return test_report();
}
