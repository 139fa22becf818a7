/* KSWIN (Raab et al. 2020) as river runs it: once the window is full, a
 * two-sample Kolmogorov-Smirnov test compares the newest stat_size values
 * with stat_size values drawn without replacement from the older part.
 * The p-value is exact (scipy's "auto" picks the exact test at these
 * sizes). The draw is CPython's random.Random(seed).sample (pyrand.h), as
 * river's is, so with the same seed both test the same samples; like
 * river, a reset (after a change) draws again from a fresh seed. */
#include <math.h>
#include <stdlib.h>

#include "engine/core/error.h"
#include "lib/drift/drift_int.h"
#include "lib/drift/pyrand.h"

typedef struct {
    eddy_drift base;
    eddy_kswin_params p;
    double *ring; /* window_size values, oldest at head once full */
    uint32_t head, len;
    uint32_t *idx;  /* window_size words: the draw's scratch */
    uint32_t *pick; /* stat_size positions drawn from the older part */
    double *a, *b;  /* stat_size each: the reference and recent samples */
    double *row;    /* stat_size + 1: one row of the lattice-path count */
    eddy_pyrand rng;
    double p_value;
} kswin;

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/* Two-sample KS statistic for equal sizes, as a count of steps (D = c / n). */
static uint32_t ks_steps(double *a, double *b, uint32_t n)
{
    qsort(a, n, sizeof *a, cmp_double);
    qsort(b, n, sizeof *b, cmp_double);
    uint32_t i = 0, j = 0;
    long best = 0;
    while (i < n && j < n) {
        /* Step past every copy of the smallest value in both samples so
         * ties move the two empirical CDFs together. */
        double v = a[i] < b[j] ? a[i] : b[j];
        while (i < n && a[i] == v)
            i++;
        while (j < n && b[j] == v)
            j++;
        long diff = (long)i - (long)j;
        if (diff < 0)
            diff = -diff;
        if (diff > best)
            best = diff;
    }
    return (uint32_t)best;
}

/* Exact P(D >= c/n) for two samples of size n: one minus the share of
 * monotone lattice paths from (0,0) to (n,n) that stay strictly inside
 * |i - j| < c. Shares are kept as probabilities (each path weighted by
 * 1 / C(2n, n) through per-step factors) so they never overflow. */
static double ks_pvalue(kswin *s, uint32_t n, uint32_t c)
{
    if (c == 0)
        return 1.0;
    double *row = s->row;
    /* row[j] after processing i: count of inside paths to (i, j), scaled
     * by i! j! / (i + j)!, which turns counts into hypergeometric weights. */
    for (uint32_t j = 0; j <= n; j++)
        row[j] = j < c ? 1.0 : 0.0;
    for (uint32_t i = 1; i <= n; i++) {
        for (uint32_t j = 0; j <= n; j++) {
            long diff = (long)i - (long)j;
            if (diff >= (long)c || -diff >= (long)c) {
                row[j] = 0.0;
                continue;
            }
            double up = row[j] * ((double)i / (double)(i + j));
            double left = j > 0 ? row[j - 1] * ((double)j / (double)(i + j)) : 0.0;
            row[j] = up + left;
        }
    }
    double p = 1.0 - row[n];
    return p < 0.0 ? 0.0 : p > 1.0 ? 1.0 : p;
}

static void kswin_reset(eddy_drift *d)
{
    kswin *s = (kswin *)d;
    s->head = s->len = 0;
    eddy_pyrand_seed(&s->rng, s->p.seed);
    s->p_value = 0.0;
}

static unsigned kswin_update(eddy_drift *d, double x)
{
    kswin *s = (kswin *)d;
    uint32_t w = s->p.window_size, k = s->p.stat_size, old = w - k;
    if (s->len < w) {
        s->ring[(s->head + s->len) % w] = x;
        s->len++;
    } else {
        s->ring[s->head] = x;
        s->head = (s->head + 1) % w;
    }
    if (s->len < w)
        return EDDY_DRIFT_NONE;
    /* river: rng.sample(range(window_size - stat_size), stat_size). */
    eddy_pyrand_sample(&s->rng, old, k, s->pick, s->idx);
    for (uint32_t i = 0; i < k; i++) {
        s->a[i] = s->ring[(s->head + s->pick[i]) % w];
        s->b[i] = s->ring[(s->head + old + i) % w];
    }
    uint32_t c = ks_steps(s->a, s->b, k);
    s->p_value = ks_pvalue(s, k, c);
    double st = (double)c / (double)k;
    return s->p_value <= s->p.alpha && st > 0.1 ? EDDY_DRIFT_CHANGE : EDDY_DRIFT_NONE;
}

static double kswin_statistic(const eddy_drift *d)
{
    return ((const kswin *)d)->p_value;
}

static void kswin_destroy(eddy_drift *d)
{
    kswin *s = (kswin *)d;
    free(s->ring);
    free(s->idx);
    free(s->pick);
    free(s->a);
    free(s->b);
    free(s->row);
}

/* ---- snapshots (drift_snap.c frames them) ----
 * State: u32 len | PYRAND_STATE, f64 p_value, u32 generator position, the
 * generator's 624 words, then the window oldest first (restored with head
 * 0: positions are only ever used relative to head). idx, pick, a, b and
 * row are scratch. Snapshots from before the CPython generator hold u32 len
 * (top bit clear), u64 generator, f64 p_value, window; they still restore,
 * the generator then seeded from the old one's state (the draws cannot be
 * those it would have made). The top bit, not the size, tells the layouts
 * apart, so a truncated new snapshot is never taken for an old one. */
#define PYRAND_STATE 0x80000000u

static int kswin_put_params(const eddy_drift *d, eddy_buf *b)
{
    const eddy_kswin_params *p = &((const kswin *)d)->p;
    return eddy_put_f64(b, p->alpha) || eddy_put_u32(b, p->window_size) ||
           eddy_put_u32(b, p->stat_size) || eddy_put_u64(b, p->seed);
}

static int kswin_put_state(const eddy_drift *d, eddy_buf *b)
{
    const kswin *s = (const kswin *)d;
    if (eddy_put_u32(b, s->len | PYRAND_STATE) || eddy_put_f64(b, s->p_value) ||
        eddy_put_u32(b, s->rng.i))
        return -1;
    for (uint32_t i = 0; i < EDDY_PYRAND_N; i++)
        if (eddy_put_u32(b, s->rng.mt[i]))
            return -1;
    for (uint32_t i = 0; i < s->len; i++)
        if (eddy_put_f64(b, s->ring[(s->head + i) % s->p.window_size]))
            return -1;
    return 0;
}

static int kswin_get_state(eddy_drift *d, eddy_rd *r)
{
    kswin *s = (kswin *)d;
    uint32_t len = eddy_get_u32(r), fresh = len & PYRAND_STATE;
    len &= ~PYRAND_STATE;
    if (r->err || len > s->p.window_size)
        return -1;
    eddy_pyrand rng;
    double pv;
    if (!fresh) { /* the layout before pyrand */
        eddy_pyrand_seed(&rng, eddy_get_u64(r));
        pv = eddy_get_f64(r);
    } else {
        pv = eddy_get_f64(r);
        rng.i = eddy_get_u32(r);
        for (uint32_t i = 0; i < EDDY_PYRAND_N; i++)
            rng.mt[i] = eddy_get_u32(r);
        if (rng.i > EDDY_PYRAND_N)
            return -1;
    }
    if (r->err || r->left != (size_t)len * 8)
        return -1;
    for (uint32_t i = 0; i < len; i++)
        s->ring[i] = eddy_get_f64(r);
    s->head = 0;
    s->len = len;
    s->rng = rng;
    s->p_value = pv;
    return 0;
}

static const drift_ops kswin_ops = {"kswin", kswin_update, kswin_reset, kswin_statistic, kswin_destroy,
    kswin_put_params, kswin_put_state, kswin_get_state};

void eddy_kswin_defaults(eddy_kswin_params *p)
{
    *p = (eddy_kswin_params){0.005, 100, 30, 0};
}

int eddy_kswin_new(const eddy_kswin_params *p, eddy_drift **out, char *err, size_t errlen)
{
    if (!(p->alpha >= 0.0 && p->alpha <= 1.0))
        return eddy_drift_bad_param(err, errlen, "kswin", "alpha must be in [0, 1], got %g",
                                    p->alpha);
    if (p->stat_size == 0 || p->window_size > 1000000)
        return eddy_drift_bad_param(err, errlen, "kswin",
                                    "need stat_size >= 1 and window_size <= 1000000");
    /* The draw is without replacement from window_size - stat_size older
     * values, so there must be at least stat_size of them. */
    if ((uint64_t)p->stat_size * 2 > p->window_size)
        return eddy_drift_bad_param(err, errlen, "kswin",
                                    "stat_size (%u) must be at most half of window_size (%u)",
                                    p->stat_size, p->window_size);
    kswin *s = calloc(1, sizeof *s);
    if (!s)
        return EDDY_ENOMEM;
    s->base.ops = &kswin_ops;
    s->p = *p;
    s->ring = calloc(p->window_size, sizeof *s->ring);
    s->idx = calloc(p->window_size, sizeof *s->idx);
    s->pick = calloc(p->stat_size, sizeof *s->pick);
    s->a = calloc(p->stat_size, sizeof *s->a);
    s->b = calloc(p->stat_size, sizeof *s->b);
    s->row = calloc((size_t)p->stat_size + 1, sizeof *s->row);
    if (!s->ring || !s->idx || !s->pick || !s->a || !s->b || !s->row) {
        eddy_drift_free(&s->base);
        return EDDY_ENOMEM;
    }
    kswin_reset(&s->base);
    *out = &s->base;
    return 0;
}
