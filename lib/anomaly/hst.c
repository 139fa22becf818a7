/* Half-Space Trees (Tan, Ting & Liu 2011), scored like river's
 * anomaly.HalfSpaceTrees. Trees are complete and implicit (children of node
 * i are 2i+1 and 2i+2). Splits are a seeded hash of (tree, node), worked
 * out once by the constructor into flat arrays (threshold, and feature when
 * dim > 1), so a walk is a compare and a shift per level with no hashing.
 * Masses are two halves that trade roles at the end of each window (see
 * struct eddy_hst), and a few trees descend together (hst_learn_block). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/error.h"
#include "lib/anomaly/anomaly_int.h"

typedef struct {
    uint32_t cur;       /* current window; 0 is the first */
    uint32_t in_window; /* values counted in it */
    uint32_t limits_known, pad_;
    /* The raw mass scores' running mean and variance (over about the
     * last HST_LIK_N values), which calibrate the score (hst_calibrate). */
    double lik_n, lik_mu, lik_var;
} hst_state;
#define HST_STATE_SHAPE "4444" "888"
#define HST_LIK_N 1000.0

struct eddy_hst {
    eddy_hst_params p;
    uint32_t nnodes, ninner; /* per tree: all nodes, internal nodes */
    size_t nall;             /* nnodes * n_trees */
    double max_score, size_limit;
    uint32_t size_limit_int; /* integer m < size_limit exactly when m < this */
    double *lo, *scale; /* x' = (x - lo) * scale */
    double *buf;        /* first window, while the limits are learnt */
    /* Masses of node i of tree k at [k * nnodes + i] in two halves: the
     * current window counts into half cur & 1, the other half is the
     * reference window. Ending a window clears the older half and the
     * halves trade roles, so no per-node stamp or branch is needed. */
    uint16_t *mass;
    double *thr;    /* split threshold of internal node i of tree k */
    uint16_t *feat; /* its feature; NULL when dim is 1 */
    double *xs, *box_lo, *box_hi; /* scratch */
    hst_state s;
};

static inline uint16_t *hst_counting(const eddy_hst *h)
{
    return h->mass + (h->s.cur & 1) * h->nall;
}

static inline const uint16_t *hst_reference(const eddy_hst *h)
{
    return h->mass + ((h->s.cur + 1) & 1) * h->nall;
}

/* The split of every internal node of tree k, drawn inside the node's box:
 * the walk of the original definition, done once per node. */
static void hst_build(eddy_hst *h, uint32_t k, uint64_t tkey, uint32_t node, uint32_t depth)
{
    if (depth == h->p.height)
        return;
    uint64_t r = anom_mix64(tkey ^ node);
    uint32_t f = (uint32_t)(((r >> 32) * h->p.dim) >> 32);
    double u = (double)(anom_mix64(r) >> 11) * 0x1p-53;
    double a = h->box_lo[f], b = h->box_hi[f];
    double at = a + (h->p.padding + u * (1.0 - 2.0 * h->p.padding)) * (b - a);
    size_t i = (size_t)k * h->ninner + node;
    h->thr[i] = at;
    if (h->feat)
        h->feat[i] = (uint16_t)f;
    h->box_hi[f] = at;
    hst_build(h, k, tkey, 2 * node + 1, depth + 1);
    h->box_hi[f] = b;
    h->box_lo[f] = at;
    hst_build(h, k, tkey, 2 * node + 2, depth + 1);
    h->box_lo[f] = a;
}

/* Counts the scaled point xs in trees k0..k0+nt-1 (nt <= HST_BLOCK) and
 * adds each tree's mass score (river's score_one before normalisation) to
 * *sum, in tree order, when scoring. The trees go down level by level
 * together: their paths are independent chains of loads, which the CPU
 * then overlaps instead of waiting on one tree's next node at a time. A
 * tree's score is a sum of mass * 2^depth below 2^53, so integers add it
 * exactly; a mask rather than a branch stops it below size_limit, keeping
 * the loop free of data-dependent jumps. scoring and one_dim are constants
 * at each call, so what they turn off compiles away. */
#define HST_BLOCK 5

static inline __attribute__((always_inline)) void
hst_learn_block(eddy_hst *h, uint32_t k0, uint32_t nt, int scoring, int one_dim, double *sum)
{
    uint32_t height = h->p.height, nnodes = h->nnodes, ninner = h->ninner, node[HST_BLOCK];
    uint16_t *cnt = hst_counting(h) + (size_t)k0 * nnodes;
    const uint16_t *ref = hst_reference(h) + (size_t)k0 * nnodes;
    const double *thr = h->thr + (size_t)k0 * ninner, *xs = h->xs;
    const uint16_t *feat = one_dim ? NULL : h->feat + (size_t)k0 * ninner;
    uint64_t score[HST_BLOCK], live[HST_BLOCK];
    uint32_t lim = h->size_limit_int;
    for (uint32_t j = 0; j < nt; j++) {
        node[j] = 0;
        score[j] = 0;
        live[j] = ~(uint64_t)0;
    }
    for (uint32_t depth = 0;; depth++) {
#pragma GCC unroll 5
        for (uint32_t j = 0; j < nt; j++) {
            size_t i = (size_t)j * nnodes + node[j];
            if (scoring) {
                uint64_t m = ref[i];
                score[j] += (m & live[j]) << depth;
                live[j] &= -(uint64_t)(m >= lim);
            }
            cnt[i]++;
            if (depth < height) {
                size_t t = (size_t)j * ninner + node[j];
                double v = one_dim ? xs[0] : xs[feat[t]];
                node[j] = 2 * node[j] + 1 + (v >= thr[t]);
            }
        }
        if (depth == height)
            break;
    }
    if (scoring)
        for (uint32_t j = 0; j < nt; j++)
            *sum += (double)score[j];
}

/* Blocks of HST_BLOCK trees, with the block size a constant so that the
 * compiler keeps each tree's walk in registers; single trees for the rest. */
static inline __attribute__((always_inline)) void hst_learn_trees(eddy_hst *h, int scoring,
                                                                  int one_dim, double *sum)
{
    uint32_t k = 0, n = h->p.n_trees;
    for (; k + HST_BLOCK <= n; k += HST_BLOCK)
        hst_learn_block(h, k, HST_BLOCK, scoring, one_dim, sum);
    for (; k < n; k++)
        hst_learn_block(h, k, 1, scoring, one_dim, sum);
}

static double hst_learn_all(eddy_hst *h, int scoring)
{
    double sum = 0.0;
    if (scoring && h->feat)
        hst_learn_trees(h, 1, 0, &sum);
    else if (scoring)
        hst_learn_trees(h, 1, 1, &sum);
    else if (h->feat)
        hst_learn_trees(h, 0, 0, &sum);
    else
        hst_learn_trees(h, 0, 1, &sum);
    return sum;
}

/* Scoring only: read-only, and it can stop where the score does. */
static double hst_score_walk(const eddy_hst *h, uint32_t k)
{
    const uint16_t *ref = hst_reference(h) + (size_t)k * h->nnodes;
    const double *thr = h->thr + (size_t)k * h->ninner;
    const uint16_t *feat = h->feat ? h->feat + (size_t)k * h->ninner : NULL;
    uint32_t node = 0;
    double score = 0.0, weight = 1.0;
    for (uint32_t depth = 0;; depth++) {
        double m = ref[node];
        score += m * weight;
        if (m < h->size_limit || depth == h->p.height)
            break;
        double v = feat ? h->xs[feat[node]] : h->xs[0];
        node = 2 * node + 1 + (v >= thr[node]);
        weight *= 2.0;
    }
    return score;
}

static void hst_scale(eddy_hst *h, const double *x)
{
    for (uint32_t i = 0; i < h->p.dim; i++)
        h->xs[i] = (x[i] - h->lo[i]) * h->scale[i];
}

static void hst_learn_scaled(eddy_hst *h)
{
    hst_learn_all(h, 0);
}

static void hst_end_of_value(eddy_hst *h)
{
    if (++h->s.in_window == h->p.window_size) {
        h->s.cur++;
        h->s.in_window = 0;
        memset(hst_counting(h), 0, sizeof(uint16_t) * h->nall);
    }
}

static void hst_set_limits(eddy_hst *h, const double *lo, const double *hi)
{
    for (uint32_t i = 0; i < h->p.dim; i++) {
        h->lo[i] = lo[i];
        h->scale[i] = hi[i] > lo[i] ? 1.0 / (hi[i] - lo[i]) : 1.0;
    }
}

/* The first window ends: limits from its range, then replay it. */
static void hst_learn_limits(eddy_hst *h)
{
    uint32_t d = h->p.dim, w = h->p.window_size;
    double *lo = h->box_lo, *hi = h->box_hi; /* borrowed, restored below */
    for (uint32_t i = 0; i < d; i++)
        lo[i] = hi[i] = h->buf[i];
    for (uint32_t j = 1; j < w; j++)
        for (uint32_t i = 0; i < d; i++) {
            double v = h->buf[(size_t)j * d + i];
            lo[i] = fmin(lo[i], v);
            hi[i] = fmax(hi[i], v);
        }
    /* The first window rarely spans what the stream will: the box is widened
     * by margin times the range on each side, so that a later value beyond
     * the first window's extremes falls in a region of little mass rather
     * than in the edge cell of the usual values. */
    for (uint32_t i = 0; i < d; i++) {
        double r = hi[i] - lo[i];
        lo[i] -= h->p.margin * r;
        hi[i] += h->p.margin * r;
    }
    hst_set_limits(h, lo, hi);
    for (uint32_t i = 0; i < d; i++) {
        h->box_lo[i] = 0.0;
        h->box_hi[i] = 1.0;
    }
    for (uint32_t j = 0; j < w; j++) {
        hst_scale(h, h->buf + (size_t)j * d);
        hst_learn_scaled(h);
    }
    h->s.limits_known = 1;
}

static int hst_input_ok(const eddy_hst *h, const double *x, uint32_t dim)
{
    if (dim != h->p.dim || !x)
        return 0;
    for (uint32_t i = 0; i < dim; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

/* The raw score (1 - normalised mass) is no probability, and its usual
 * level depends on the data and the trees: its upper tail under a Gaussian
 * of the recent raw scores is (HTM's anomaly likelihood, on the log scale
 * of anomaly.h). A floor of 0.01 on the deviation keeps a constant stream
 * from turning rounding into certainty. */
static double hst_calibrate(const hst_state *s, double raw)
{
    if (s->lik_n < 2)
        return 0.0;
    double z = (raw - s->lik_mu) / fmax(sqrt(s->lik_var), 0.01);
    return z > 0 ? eddy_anom_tail_score(eddy_anom_log_q(z)) : 0.0;
}

static void hst_learn_raw(hst_state *s, double raw)
{
    s->lik_n = fmin(s->lik_n + 1.0, HST_LIK_N);
    double d = raw - s->lik_mu;
    s->lik_mu += d / s->lik_n;
    s->lik_var += (d * (raw - s->lik_mu) - s->lik_var) / s->lik_n;
}

double eddy_hst_update(eddy_hst *h, const double *x, uint32_t dim)
{
    if (!hst_input_ok(h, x, dim))
        return NAN;
    if (!h->s.limits_known) {
        memcpy(h->buf + (size_t)h->s.in_window * dim, x, sizeof(double) * dim);
        if (h->s.in_window + 1 == h->p.window_size)
            hst_learn_limits(h);
        hst_end_of_value(h);
        return 0.0;
    }
    hst_scale(h, x);
    int scoring = h->s.cur > 0;
    double sum = hst_learn_all(h, scoring);
    hst_end_of_value(h);
    if (!scoring)
        return 0.0;
    double raw = 1.0 - sum / h->max_score, score = hst_calibrate(&h->s, raw);
    hst_learn_raw(&h->s, raw);
    return score;
}

double eddy_hst_score(const eddy_hst *h, const double *x, uint32_t dim)
{
    if (!hst_input_ok(h, x, dim))
        return NAN;
    if (h->s.cur == 0)
        return 0.0;
    /* The walk only reads; xs is scratch. */
    eddy_hst *m = (eddy_hst *)h;
    hst_scale(m, x);
    double sum = 0.0;
    for (uint32_t k = 0; k < h->p.n_trees; k++)
        sum += hst_score_walk(h, k);
    return hst_calibrate(&h->s, 1.0 - sum / h->max_score);
}

void eddy_hst_reset(eddy_hst *h)
{
    memset(h->mass, 0, sizeof(uint16_t) * 2 * h->nall);
    h->s = (hst_state){.limits_known = h->buf == NULL};
    if (h->buf) {
        for (uint32_t i = 0; i < h->p.dim; i++) {
            h->lo[i] = 0.0;
            h->scale[i] = 1.0;
        }
    }
}

void eddy_hst_free(eddy_hst *h)
{
    if (!h)
        return;
    free(h->lo);
    free(h->scale);
    free(h->buf);
    free(h->mass);
    free(h->thr);
    free(h->feat);
    free(h->xs);
    free(h->box_lo);
    free(h->box_hi);
    free(h);
}

static size_t hst_regions(const eddy_hst *h, anom_region *r)
{
    size_t k = 0;
    r[k++] = (anom_region){(void *)&h->s, sizeof h->s, HST_STATE_SHAPE};
    r[k++] = (anom_region){h->lo, sizeof(double) * h->p.dim, ANOM_F64};
    r[k++] = (anom_region){h->scale, sizeof(double) * h->p.dim, ANOM_F64};
    if (h->buf)
        r[k++] = (anom_region){h->buf, sizeof(double) * h->p.dim * h->p.window_size, ANOM_F64};
    r[k++] = (anom_region){h->mass, sizeof(uint16_t) * 2 * h->nall, "2"};
    return k;
}

int eddy_hst_snapshot(const eddy_hst *h, eddy_buf *out)
{
    anom_region r[ANOM_MAX_REGIONS];
    size_t nr = hst_regions(h, r);
    return eddy_anom_snap_regions("hst", r, nr, out);
}

/* The small state is validated from the bytes before anything is copied,
 * so a refused snapshot leaves the detector as it was; node contents are
 * valid whatever they hold. */
int eddy_hst_restore(eddy_hst *h, const void *data, size_t len)
{
    anom_region r[ANOM_MAX_REGIONS];
    size_t nr = hst_regions(h, r);
    const size_t head = 4 + 2 + 1 + 3 + 8 + 8; /* frame of the name "hst" */
    hst_state st;
    if (!data || len < head + sizeof st ||
        eddy_load_fields(&st, (const uint8_t *)data + head, sizeof st, HST_STATE_SHAPE) != 0)
        return EDDY_EPARSE;
    if (st.in_window >= h->p.window_size || st.limits_known > 1 || !(st.lik_n >= 0) ||
        !(st.lik_n <= HST_LIK_N) || !isfinite(st.lik_mu) || !(st.lik_var >= 0) ||
        !isfinite(st.lik_var) ||
        (!h->buf && !st.limits_known) || (!st.limits_known && st.cur != 0))
        return EDDY_EPARSE;
    return eddy_anom_load_regions("hst", r, nr, data, len);
}

void eddy_hst_defaults(eddy_hst_params *p, uint32_t dim)
{
    *p = (eddy_hst_params){.dim = dim, .n_trees = 10, .height = dim == 1 ? 3 : 8,
                           .window_size = 250, .padding = 0.15, .margin = 2.0, .seed = 42};
}

int eddy_hst_new(const eddy_hst_params *p, eddy_hst **out, char *err, size_t errlen)
{
    if (p->dim < 1 || p->dim > 4096)
        return eddy_anom_bad_param(err, errlen, "hst", "dim must be in [1, 4096], got %u",
                                   p->dim);
    if (p->n_trees < 1 || p->n_trees > 1000)
        return eddy_anom_bad_param(err, errlen, "hst", "n_trees must be in [1, 1000], got %u",
                                   p->n_trees);
    if (p->height < 1 || p->height > 24)
        return eddy_anom_bad_param(err, errlen, "hst", "height must be in [1, 24], got %u",
                                   p->height);
    if (p->window_size < 2 || p->window_size > 65535)
        return eddy_anom_bad_param(err, errlen, "hst",
                                   "window_size must be in [2, 65535] (masses are 16-bit), "
                                   "got %u",
                                   p->window_size);
    if (!(p->padding >= 0.0 && p->padding < 0.5))
        return eddy_anom_bad_param(err, errlen, "hst", "padding must be in [0, 0.5), got %g",
                                   p->padding);
    if (!(p->margin >= 0.0 && p->margin <= 1e6))
        return eddy_anom_bad_param(err, errlen, "hst", "margin must be in [0, 1e6], got %g",
                                   p->margin);
    if ((p->limits_lo == NULL) != (p->limits_hi == NULL))
        return eddy_anom_bad_param(err, errlen, "hst",
                                   "limits_lo and limits_hi must be given together");
    if (p->limits_lo)
        for (uint32_t i = 0; i < p->dim; i++)
            if (!(isfinite(p->limits_lo[i]) && isfinite(p->limits_hi[i]) &&
                  p->limits_hi[i] > p->limits_lo[i]))
                return eddy_anom_bad_param(err, errlen, "hst",
                                           "limits of feature %u must be finite with lo < hi, "
                                           "got [%g, %g]",
                                           i, p->limits_lo[i], p->limits_hi[i]);
    uint32_t nnodes = (1u << (p->height + 1)) - 1, ninner = (1u << p->height) - 1;
    double split_bytes = sizeof(double) + (p->dim > 1 ? sizeof(uint16_t) : 0);
    double bytes = ((double)nnodes * 2 * sizeof(uint16_t) + (double)ninner * split_bytes) *
                   p->n_trees;
    if (bytes > (double)(1u << 30))
        return eddy_anom_bad_param(err, errlen, "hst",
                                   "n_trees %u x height %u needs %.0f MiB of nodes (limit 1024)",
                                   p->n_trees, p->height, bytes / 1048576.0);
    eddy_hst *h = calloc(1, sizeof *h);
    if (!h)
        return EDDY_ENOMEM;
    h->p = *p;
    h->p.limits_lo = h->p.limits_hi = NULL;
    h->nnodes = nnodes;
    h->ninner = ninner;
    h->nall = (size_t)nnodes * p->n_trees;
    h->max_score = (double)p->n_trees * p->window_size * (double)nnodes;
    h->size_limit = 0.1 * p->window_size;
    h->size_limit_int = (uint32_t)ceil(h->size_limit);
    h->lo = calloc(p->dim, sizeof(double));
    h->scale = calloc(p->dim, sizeof(double));
    h->xs = calloc(p->dim, sizeof(double));
    h->box_lo = calloc(p->dim, sizeof(double));
    h->box_hi = calloc(p->dim, sizeof(double));
    h->mass = calloc(2 * h->nall, sizeof(uint16_t));
    h->thr = malloc(sizeof(double) * ninner * (size_t)p->n_trees);
    int bad = !h->lo || !h->scale || !h->xs || !h->box_lo || !h->box_hi || !h->mass || !h->thr;
    if (p->dim > 1)
        bad |= !(h->feat = malloc(sizeof(uint16_t) * ninner * (size_t)p->n_trees));
    if (!p->limits_lo)
        bad |= !(h->buf = calloc((size_t)p->dim * p->window_size, sizeof(double)));
    if (bad) {
        eddy_hst_free(h);
        return EDDY_ENOMEM;
    }
    for (uint32_t i = 0; i < p->dim; i++)
        h->box_hi[i] = 1.0;
    for (uint32_t k = 0; k < p->n_trees; k++)
        hst_build(h, k, anom_mix64(p->seed ^ ((uint64_t)k << 40)), 0, 0);
    eddy_hst_reset(h);
    if (p->limits_lo)
        hst_set_limits(h, p->limits_lo, p->limits_hi);
    *out = h;
    return 0;
}
