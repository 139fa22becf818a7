/* KSWIN (Raab et al. 2020) as river runs it: once the window is full, a
 * two-sample Kolmogorov-Smirnov test compares the newest stat_size values
 * with stat_size values drawn without replacement from the older part.
 * The p-value is exact (scipy's "auto" picks the exact test at these
 * sizes); the draw uses a seeded splitmix64 instead of CPython's Mersenne
 * Twister, so change indices come close to river's but need not be equal. */
#include <math.h>
#include <stdlib.h>

#include "engine/core/error.h"
#include "lib/drift/drift_int.h"

typedef struct {
    eddy_drift base;
    eddy_kswin_params p;
    double *ring; /* window_size values, oldest at head once full */
    uint32_t head, len;
    uint32_t *idx; /* window_size - stat_size indices, for the draw */
    double *a, *b; /* stat_size each: the reference and recent samples */
    double *row;   /* stat_size + 1: one row of the lattice-path count */
    uint64_t rng;
    double p_value;
} kswin;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n) without modulo bias. */
static uint32_t below(uint64_t *x, uint32_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t v;
    do
        v = splitmix64(x);
    while (v >= limit);
    return (uint32_t)(v % n);
}

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
    s->rng = s->p.seed;
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
    /* Partial Fisher-Yates over the older part: k distinct positions. */
    for (uint32_t i = 0; i < old; i++)
        s->idx[i] = i;
    for (uint32_t i = 0; i < k; i++) {
        uint32_t r = i + below(&s->rng, old - i);
        uint32_t t = s->idx[i];
        s->idx[i] = s->idx[r];
        s->idx[r] = t;
        s->a[i] = s->ring[(s->head + s->idx[i]) % w];
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
    free(s->a);
    free(s->b);
    free(s->row);
}

/* ---- snapshots (drift_snap.c frames them) ----
 * The window is written oldest first and restored with head 0: positions
 * are only ever used relative to head. idx, a, b and row are scratch. */
static int kswin_put_params(const eddy_drift *d, eddy_buf *b)
{
    const eddy_kswin_params *p = &((const kswin *)d)->p;
    return eddy_put_f64(b, p->alpha) || eddy_put_u32(b, p->window_size) ||
           eddy_put_u32(b, p->stat_size) || eddy_put_u64(b, p->seed);
}

static int kswin_put_state(const eddy_drift *d, eddy_buf *b)
{
    const kswin *s = (const kswin *)d;
    if (eddy_put_u32(b, s->len) || eddy_put_u64(b, s->rng) || eddy_put_f64(b, s->p_value))
        return -1;
    for (uint32_t i = 0; i < s->len; i++)
        if (eddy_put_f64(b, s->ring[(s->head + i) % s->p.window_size]))
            return -1;
    return 0;
}

static int kswin_get_state(eddy_drift *d, eddy_rd *r)
{
    kswin *s = (kswin *)d;
    uint32_t len = eddy_get_u32(r);
    uint64_t rng = eddy_get_u64(r);
    double pv = eddy_get_f64(r);
    if (r->err || len > s->p.window_size || r->left != (size_t)len * 8)
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
    s->a = calloc(p->stat_size, sizeof *s->a);
    s->b = calloc(p->stat_size, sizeof *s->b);
    s->row = calloc((size_t)p->stat_size + 1, sizeof *s->row);
    if (!s->ring || !s->idx || !s->a || !s->b || !s->row) {
        eddy_drift_free(&s->base);
        return EDDY_ENOMEM;
    }
    kswin_reset(&s->base);
    *out = &s->base;
    return 0;
}
