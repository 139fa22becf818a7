/* Robust z-score over the previous `window` values: rolling median and MAD,
 * both exact. The window is an order-statistic treap whose nodes are the
 * ring's slots (so it never allocates); keys are (value, slot) so equal
 * values stay distinct and a slot can be deleted by key. */
#include <math.h>
#include <stdlib.h>

#include "../error.h"
#include "anomaly_impl.h"

typedef struct {
    int32_t l, r;
    uint32_t size, prio;
} tnode;

typedef struct {
    uint32_t head, count;
    int32_t root, pad_;
    uint64_t rng;
    double med, mad;
} robust_state;

typedef struct {
    eddy_anom base;
    eddy_robust_zscore_params p;
    double *val; /* val[slot] */
    tnode *node; /* node[slot] */
    robust_state s;
} robust;

static inline uint32_t tsize(const robust *w, int32_t t)
{
    return t < 0 ? 0 : w->node[t].size;
}

static inline void tfix(robust *w, int32_t t)
{
    w->node[t].size = 1 + tsize(w, w->node[t].l) + tsize(w, w->node[t].r);
}

static inline int tless(const robust *w, int32_t a, int32_t b)
{
    return w->val[a] < w->val[b] || (w->val[a] == w->val[b] && a < b);
}

/* Splits t into keys < key(k) and keys >= key(k). */
static void tsplit(robust *w, int32_t t, int32_t k, int32_t *lo, int32_t *hi)
{
    if (t < 0) {
        *lo = *hi = -1;
        return;
    }
    if (tless(w, t, k)) {
        tsplit(w, w->node[t].r, k, &w->node[t].r, hi);
        *lo = t;
    } else {
        tsplit(w, w->node[t].l, k, lo, &w->node[t].l);
        *hi = t;
    }
    tfix(w, t);
}

static int32_t tmerge(robust *w, int32_t a, int32_t b)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    if (w->node[a].prio > w->node[b].prio) {
        w->node[a].r = tmerge(w, w->node[a].r, b);
        tfix(w, a);
        return a;
    }
    w->node[b].l = tmerge(w, a, w->node[b].l);
    tfix(w, b);
    return b;
}

static void tinsert(robust *w, int32_t k)
{
    w->s.rng = anom_mix64(w->s.rng);
    w->node[k] = (tnode){-1, -1, 1, (uint32_t)(w->s.rng >> 32)};
    int32_t lo, hi;
    tsplit(w, w->s.root, k, &lo, &hi);
    w->s.root = tmerge(w, tmerge(w, lo, k), hi);
}

static int32_t terase(robust *w, int32_t t, int32_t k)
{
    if (t == k)
        return tmerge(w, w->node[t].l, w->node[t].r);
    if (tless(w, k, t))
        w->node[t].l = terase(w, w->node[t].l, k);
    else
        w->node[t].r = terase(w, w->node[t].r, k);
    w->node[t].size--;
    return t;
}

/* The i-th smallest value (0-based). */
static double tselect(const robust *w, uint32_t i)
{
    int32_t t = w->s.root;
    for (;;) {
        uint32_t ls = tsize(w, w->node[t].l);
        if (i < ls) {
            t = w->node[t].l;
        } else if (i == ls) {
            return w->val[t];
        } else {
            i -= ls + 1;
            t = w->node[t].r;
        }
    }
}

/* How many values are < m. */
static uint32_t trank_below(const robust *w, double m)
{
    uint32_t c = 0;
    for (int32_t t = w->s.root; t >= 0;) {
        if (w->val[t] < m) {
            c += tsize(w, w->node[t].l) + 1;
            t = w->node[t].r;
        } else {
            t = w->node[t].l;
        }
    }
    return c;
}

/* The deviations from med, sorted, are the merge of A_j = med - a[p-1-j]
 * (j < p) and B_j = a[p+j] - med (j < n-p), both ascending. */
static double dev_a(const robust *w, double med, uint32_t p, uint32_t j)
{
    return med - tselect(w, p - 1 - j);
}

static double dev_b(const robust *w, double med, uint32_t p, uint32_t j)
{
    return tselect(w, p + j) - med;
}

/* k-th smallest (0-based) of the union, by binary search on how many come
 * from A: O(log n) probes of O(log n) selects each. */
static double dev_kth(const robust *w, double med, uint32_t n, uint32_t p, uint32_t k)
{
    uint32_t q = n - p;
    uint32_t lo = k + 1 > q ? k + 1 - q : 0, hi = k + 1 < p ? k + 1 : p;
    while (lo < hi) {
        uint32_t i = lo + (hi - lo) / 2;
        if (dev_a(w, med, p, i) < dev_b(w, med, p, k - i))
            lo = i + 1;
        else
            hi = i;
    }
    uint32_t i = lo, j = k + 1 - i;
    double best = -INFINITY;
    if (i > 0)
        best = dev_a(w, med, p, i - 1);
    if (j > 0) {
        double b = dev_b(w, med, p, j - 1);
        if (b > best)
            best = b;
    }
    return best;
}

static void robust_stats(robust *w)
{
    uint32_t n = w->s.count;
    double med = n % 2 ? tselect(w, n / 2) : (tselect(w, n / 2 - 1) + tselect(w, n / 2)) / 2;
    uint32_t p = trank_below(w, med);
    double mad = n % 2 ? dev_kth(w, med, n, p, n / 2)
                       : (dev_kth(w, med, n, p, n / 2 - 1) + dev_kth(w, med, n, p, n / 2)) / 2;
    w->s.med = med;
    w->s.mad = mad;
}

static double robust_update(eddy_anom *a, double x, int64_t ts_ms)
{
    robust *w = (robust *)a;
    robust_state *s = &w->s;
    uint32_t n = w->p.window;
    double score = 0.0;
    int32_t slot;
    if (s->count == n) {
        double d = x - s->med, z;
        if (s->mad > 0.0)
            z = 0.6745 * d / s->mad;
        else
            z = d == 0.0 ? 0.0 : copysign(INFINITY, d);
        a->stat = z;
        score = eddy_anom_z_to_score(z);
        slot = (int32_t)s->head;
        s->root = terase(w, s->root, slot);
        s->head = s->head + 1 == n ? 0 : s->head + 1;
    } else {
        slot = (int32_t)s->count++;
    }
    w->val[slot] = x;
    tinsert(w, slot);
    if (s->count == n)
        robust_stats(w);
    return score;
}

static void robust_reset(eddy_anom *a)
{
    robust *w = (robust *)a;
    w->s = (robust_state){.root = -1, .rng = 0x2545f4914f6cdd1dULL};
}

static size_t robust_regions(const eddy_anom *a, anom_region *r)
{
    robust *w = (robust *)a;
    r[0] = (anom_region){&w->s, sizeof w->s};
    r[1] = (anom_region){w->val, sizeof(double) * w->p.window};
    r[2] = (anom_region){w->node, sizeof(tnode) * w->p.window};
    return 3;
}

/* A restored treap must be a tree over exactly the live slots, ordered and
 * with true sizes: otherwise a walk could loop or leave the arrays. */
static int robust_check(const eddy_anom *a)
{
    const robust *w = (const robust *)a;
    uint32_t n = w->p.window, live = w->s.count;
    if (live > n || w->s.head >= n || w->s.root < -1 || w->s.root >= (int32_t)n)
        return -1;
    if (live == 0)
        return w->s.root == -1 ? 0 : -1;
    if (w->s.root < 0 || (live < n && w->s.head != 0))
        return -1;
    int32_t *stack = malloc(sizeof(int32_t) * (live + 1));
    if (!stack)
        return -1;
    uint32_t sp = 0, seen = 0;
    int rc = 0;
    stack[sp++] = w->s.root;
    while (sp && rc == 0) {
        int32_t t = stack[--sp];
        if (t < 0 || (uint32_t)t >= live || ++seen > live) {
            rc = -1;
            break;
        }
        const tnode *nd = &w->node[t];
        if (nd->l < -1 || nd->r < -1 || nd->l >= (int32_t)live || nd->r >= (int32_t)live ||
            nd->size != 1 + (nd->l < 0 ? 0 : w->node[nd->l].size) +
                            (nd->r < 0 ? 0 : w->node[nd->r].size) ||
            (nd->l >= 0 && !tless(w, nd->l, t)) || (nd->r >= 0 && !tless(w, t, nd->r)) ||
            !isfinite(w->val[t])) {
            rc = -1;
            break;
        }
        if (nd->l >= 0)
            stack[sp++] = nd->l;
        if (nd->r >= 0)
            stack[sp++] = nd->r;
    }
    free(stack);
    return rc == 0 && seen == live && w->node[w->s.root].size == live ? 0 : -1;
}

static void robust_destroy(eddy_anom *a)
{
    robust *w = (robust *)a;
    free(w->val);
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
    p->window = 100;
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
    w->node = calloc(p->window, sizeof(tnode));
    if (!w->val || !w->node) {
        free(w->val);
        free(w->node);
        free(w);
        return EDDY_ENOMEM;
    }
    w->base.ops = &robust_ops;
    w->p = *p;
    robust_reset(&w->base);
    *out = &w->base;
    return 0;
}
