/* Robust z-score over the previous `window` values: rolling median and MAD,
 * both exact. Windows up to RZ_SORTED_MAX keep their values in a sorted
 * array (a replacement is two binary searches and one memmove of the
 * values in between, which beats pointer chasing by far at these sizes);
 * larger windows use the order-statistic treap of robust_treap.c. Either
 * way the ring val[] remembers arrival order, and the MAD is the k-th
 * smallest of two sorted sequences found by binary search. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/error.h"
#include "lib/anomaly/anomaly_int.h"
#include "lib/anomaly/robust_treap.h"

/* Measured with bench_anomaly-like input: the memmove's O(N) stays below
 * the treap's O(log N) pointer walks up to a few thousand values. */
#define RZ_SORTED_MAX 131072u

typedef struct {
    uint32_t head, count;
    rz_treap treap; /* large windows only */
    double med, mad;
    double meanad; /* mean absolute deviation from med, computed when mad is 0 */
} robust_state;
#define ROBUST_STATE_SHAPE "44" RZ_TREAP_SHAPE "888"

typedef struct {
    eddy_anom base;
    eddy_robust_zscore_params p;
    double *val;    /* val[slot], in arrival order */
    double *sorted; /* small windows: the live values, ascending */
    rz_node *node;  /* large windows: node[slot] */
    robust_state s;
} robust;

static inline rz_tree rtree(robust *w)
{
    return (rz_tree){&w->s.treap, w->node, w->val};
}

/* The i-th smallest value in the window (0-based). */
static inline double rsel(robust *w, uint32_t i)
{
    return w->sorted ? w->sorted[i] : rz_treap_select(rtree(w), i);
}

/* First index in a[0..n) whose value is >= x. */
static inline uint32_t lower_bound(const double *a, uint32_t n, double x)
{
    uint32_t lo = 0;
    while (n > 0) {
        uint32_t half = n / 2;
        if (a[lo + half] < x) {
            lo += half + 1;
            n -= half + 1;
        } else {
            n = half;
        }
    }
    return lo;
}

/* Replaces one copy of old (present) by x in sorted[0..n). */
static void sorted_replace(double *a, uint32_t n, double old, double x)
{
    uint32_t i = lower_bound(a, n, old);
    if (x < old) {
        uint32_t j = lower_bound(a, i, x);
        memmove(a + j + 1, a + j, sizeof(double) * (i - j));
        a[j] = x;
    } else {
        uint32_t j = i + 1 + lower_bound(a + i + 1, n - i - 1, x);
        memmove(a + i, a + i + 1, sizeof(double) * (j - 1 - i));
        a[j - 1] = x;
    }
}

static void sorted_insert(double *a, uint32_t n, double x)
{
    uint32_t j = lower_bound(a, n, x);
    memmove(a + j + 1, a + j, sizeof(double) * (n - j));
    a[j] = x;
}

/* The deviations from med, sorted, are the merge of A_j = med - a[p-1-j]
 * (j < p) and B_j = a[p+j] - med (j < n-p), both ascending. The k-th
 * smallest (0-based) of the union is found by binary search on how many
 * come from A: O(log n) selects. */
static double dev_kth(robust *w, double med, uint32_t n, uint32_t p, uint32_t k)
{
    uint32_t q = n - p;
    uint32_t lo = k + 1 > q ? k + 1 - q : 0, hi = k + 1 < p ? k + 1 : p;
    while (lo < hi) {
        uint32_t i = lo + (hi - lo) / 2;
        if (med - rsel(w, p - 1 - i) < rsel(w, p + k - i) - med)
            lo = i + 1;
        else
            hi = i;
    }
    uint32_t i = lo, j = k + 1 - i;
    double best = -INFINITY;
    if (i > 0)
        best = med - rsel(w, p - i);
    if (j > 0) {
        double b = rsel(w, p + j - 1) - med;
        if (b > best)
            best = b;
    }
    return best;
}

static void robust_stats(robust *w)
{
    uint32_t n = w->s.count;
    double med = n % 2 ? rsel(w, n / 2) : (rsel(w, n / 2 - 1) + rsel(w, n / 2)) / 2;
    uint32_t p = w->sorted ? lower_bound(w->sorted, n, med) : rz_treap_rank_below(rtree(w), med);
    double mad = n % 2 ? dev_kth(w, med, n, p, n / 2)
                       : (dev_kth(w, med, n, p, n / 2 - 1) + dev_kth(w, med, n, p, n / 2)) / 2;
    w->s.med = med;
    w->s.mad = mad;
    /* More than half the window equals the median: the MAD is 0 and says
     * nothing about the spread, so the mean absolute deviation stands in
     * (Iglewicz and Hoaglin's fallback); only the values off the median
     * are visited, fewer than half of them. */
    double sum = 0.0;
    if (mad == 0.0) {
        for (uint32_t i = 0; i < n && rsel(w, i) < med; i++)
            sum += med - rsel(w, i);
        for (uint32_t i = n; i > 0 && rsel(w, i - 1) > med; i--)
            sum += rsel(w, i - 1) - med;
    }
    w->s.meanad = sum / n;
}

static double robust_update(eddy_anom *a, double x, int64_t ts_ms)
{
    robust *w = (robust *)a;
    robust_state *s = &w->s;
    uint32_t n = w->p.window;
    double score = 0.0;
    (void)ts_ms;
    /* -0.0 and 0.0 compare equal but differ in bits: one spelling keeps
     * the sorted copy bit-identical to the ring. */
    if (x == 0.0)
        x = 0.0;
    if (s->count == n) {
        double d = x - s->med, z;
        if (s->mad > 0.0)
            z = 0.6745 * d / s->mad;
        else if (s->meanad > 0.0)
            z = d / (1.253314 * s->meanad); /* 1.253314 = sqrt(pi / 2) */
        else
            z = d == 0.0 ? 0.0 : copysign(INFINITY, d);
        a->stat = z;
        score = eddy_anom_z_to_score(z);
        uint32_t slot = s->head;
        s->head = s->head + 1 == n ? 0 : s->head + 1;
        if (w->sorted) {
            sorted_replace(w->sorted, n, w->val[slot], x);
            w->val[slot] = x;
        } else {
            rz_treap_erase(rtree(w), (int32_t)slot);
            w->val[slot] = x;
            rz_treap_insert(rtree(w), (int32_t)slot);
        }
    } else {
        uint32_t slot = s->count;
        w->val[slot] = x;
        if (w->sorted)
            sorted_insert(w->sorted, slot, x);
        else
            rz_treap_insert(rtree(w), (int32_t)slot);
        s->count++;
    }
    if (s->count == n)
        robust_stats(w);
    return score;
}

static void robust_reset(eddy_anom *a)
{
    robust *w = (robust *)a;
    w->s = (robust_state){0};
    rz_treap_reset(&w->s.treap);
}

static size_t robust_regions(const eddy_anom *a, anom_region *r)
{
    robust *w = (robust *)a;
    r[0] = (anom_region){&w->s, sizeof w->s, ROBUST_STATE_SHAPE};
    r[1] = (anom_region){w->val, sizeof(double) * w->p.window, ANOM_F64};
    if (w->sorted)
        r[2] = (anom_region){w->sorted, sizeof(double) * w->p.window, ANOM_F64};
    else
        r[2] = (anom_region){w->node, sizeof(rz_node) * w->p.window, RZ_NODE_SHAPE};
    return 3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A restored sorted copy must hold exactly the ring's live values, in
 * order: otherwise a replacement could search for a value that is not
 * there and move past the array. */
static int sorted_check(const robust *w, uint32_t live)
{
    double *copy = malloc(sizeof(double) * (live ? live : 1));
    if (!copy)
        return -1;
    memcpy(copy, w->val, sizeof(double) * live);
    int rc = 0;
    for (uint32_t i = 0; i < live && rc == 0; i++)
        if (!isfinite(copy[i]))
            rc = -1;
    if (rc == 0) {
        qsort(copy, live, sizeof(double), cmp_double);
        if (live && memcmp(copy, w->sorted, sizeof(double) * live) != 0)
            rc = -1;
    }
    free(copy);
    return rc;
}

static int robust_check(const eddy_anom *a)
{
    robust *w = (robust *)a;
    uint32_t n = w->p.window, live = w->s.count;
    if (live > n || w->s.head >= n || (live < n && w->s.head != 0))
        return -1;
    if (w->sorted)
        return sorted_check(w, live);
    return rz_treap_check(rtree(w), live);
}

static void robust_destroy(eddy_anom *a)
{
    robust *w = (robust *)a;
    free(w->val);
    free(w->sorted);
    free(w->node);
}

static const anom_ops robust_ops = {
    .name = "robust_zscore",
    .update = robust_update,
    .reset = robust_reset,
    .regions = robust_regions,
    .check = robust_check,
    .destroy = robust_destroy,
};

void eddy_robust_zscore_defaults(eddy_robust_zscore_params *p)
{
    p->window = 300;
}

int eddy_robust_zscore_new(const eddy_robust_zscore_params *p, eddy_anom **out, char *err,
                           size_t errlen)
{
    if (p->window < 2 || p->window > (1u << 28))
        return eddy_anom_bad_param(err, errlen, "robust_zscore",
                                   "window must be in [2, 268435456], got %u", p->window);
    robust *w = calloc(1, sizeof *w);
    if (!w)
        return EDDY_ENOMEM;
    w->val = calloc(p->window, sizeof(double));
    if (p->window <= RZ_SORTED_MAX)
        w->sorted = calloc(p->window, sizeof(double));
    else
        w->node = calloc(p->window, sizeof(rz_node));
    if (!w->val || (!w->sorted && !w->node)) {
        robust_destroy(&w->base);
        free(w);
        return EDDY_ENOMEM;
    }
    w->base.ops = &robust_ops;
    w->p = *p;
    robust_reset(&w->base);
    *out = &w->base;
    return 0;
}
