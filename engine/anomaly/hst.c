/* Half-Space Trees (Tan, Ting & Liu 2011), scored like river's
 * anomaly.HalfSpaceTrees. Trees are complete and implicit (children of node
 * i are 2i+1 and 2i+2) and their splits are a seeded hash of (tree, node),
 * so only masses are stored. Masses roll over lazily: each node remembers
 * the window it last counted in, so ending a window costs nothing instead
 * of a pass over every node. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../error.h"
#include "anomaly_impl.h"

typedef struct {
    uint16_t l, r;  /* mass in the reference window, in the current one */
    uint32_t epoch; /* window of r */
} hnode;

typedef struct {
    uint32_t cur;       /* current window; 0 is the first */
    uint32_t in_window; /* values counted in it */
    uint32_t limits_known, pad_;
} hst_state;

struct eddy_hst {
    eddy_hst_params p;
    uint32_t nnodes;
    double max_score, size_limit;
    double *lo, *scale; /* x' = (x - lo) * scale */
    double *buf;        /* first window, while the limits are learnt */
    hnode *nodes;
    double *xs, *box_lo, *box_hi; /* scratch for one walk */
    hst_state s;
};

static inline void node_roll(hnode *n, uint32_t cur)
{
    if (n->epoch != cur) {
        n->l = n->epoch + 1 == cur ? n->r : 0;
        n->r = 0;
        n->epoch = cur;
    }
}

static inline uint32_t node_ref_mass(const hnode *n, uint32_t cur)
{
    if (n->epoch == cur)
        return n->l;
    return n->epoch + 1 == cur ? n->r : 0;
}

/* Walks tree k for the scaled point xs; learns when asked; answers the
 * tree's mass score (river's score_one before normalisation). */
static double hst_walk(eddy_hst *h, uint32_t k, int learn, int scoring)
{
    uint32_t height = h->p.height, node = 0, undo_f[32];
    double undo_v[32];
    uint8_t undo_hi[32];
    hnode *tree = h->nodes + (size_t)k * h->nnodes;
    double score = 0.0, weight = 1.0;
    uint64_t tkey = anom_mix64(h->p.seed ^ ((uint64_t)k << 40));
    uint32_t depth = 0;
    for (;; depth++) {
        hnode *n = &tree[node];
        if (scoring) {
            double m = node_ref_mass(n, h->s.cur);
            score += m * weight;
            if (m < h->size_limit)
                scoring = 0;
        }
        if (learn) {
            node_roll(n, h->s.cur);
            n->r++;
        }
        if (depth == height || (!learn && !scoring))
            break;
        uint64_t r = anom_mix64(tkey ^ node);
        uint32_t f = (uint32_t)(((r >> 32) * h->p.dim) >> 32);
        double u = (double)(anom_mix64(r) >> 11) * 0x1p-53;
        double a = h->box_lo[f], b = h->box_hi[f];
        double at = a + (h->p.padding + u * (1.0 - 2.0 * h->p.padding)) * (b - a);
        undo_f[depth] = f;
        if (h->xs[f] < at) {
            undo_v[depth] = b;
            undo_hi[depth] = 1;
            h->box_hi[f] = at;
            node = 2 * node + 1;
        } else {
            undo_v[depth] = a;
            undo_hi[depth] = 0;
            h->box_lo[f] = at;
            node = 2 * node + 2;
        }
        weight *= 2.0;
    }
    /* Put the box back to [0,1]^dim for the next walk. */
    while (depth-- > 0) {
        if (undo_hi[depth])
            h->box_hi[undo_f[depth]] = undo_v[depth];
        else
            h->box_lo[undo_f[depth]] = undo_v[depth];
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
    for (uint32_t k = 0; k < h->p.n_trees; k++)
        hst_walk(h, k, 1, 0);
}

static void hst_end_of_value(eddy_hst *h)
{
    if (++h->s.in_window == h->p.window_size) {
        h->s.cur++;
        h->s.in_window = 0;
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
    double sum = 0.0;
    for (uint32_t k = 0; k < h->p.n_trees; k++)
        sum += hst_walk(h, k, 1, scoring);
    hst_end_of_value(h);
    return scoring ? 1.0 - sum / h->max_score : 0.0;
}

double eddy_hst_score(const eddy_hst *h, const double *x, uint32_t dim)
{
    if (!hst_input_ok(h, x, dim))
        return NAN;
    if (h->s.cur == 0)
        return 0.0;
    /* The walk only touches scratch, which it restores. */
    eddy_hst *m = (eddy_hst *)h;
    hst_scale(m, x);
    double sum = 0.0;
    for (uint32_t k = 0; k < h->p.n_trees; k++)
        sum += hst_walk(m, k, 0, 1);
    return 1.0 - sum / h->max_score;
}

void eddy_hst_reset(eddy_hst *h)
{
    memset(h->nodes, 0, sizeof(hnode) * h->nnodes * (size_t)h->p.n_trees);
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
    free(h->nodes);
    free(h->xs);
    free(h->box_lo);
    free(h->box_hi);
    free(h);
}

static size_t hst_regions(const eddy_hst *h, anom_region *r)
{
    size_t k = 0;
    r[k++] = (anom_region){(void *)&h->s, sizeof h->s};
    r[k++] = (anom_region){h->lo, sizeof(double) * h->p.dim};
    r[k++] = (anom_region){h->scale, sizeof(double) * h->p.dim};
    if (h->buf)
        r[k++] = (anom_region){h->buf, sizeof(double) * h->p.dim * h->p.window_size};
    r[k++] = (anom_region){h->nodes, sizeof(hnode) * h->nnodes * (size_t)h->p.n_trees};
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
    if (!data || len < head + sizeof st)
        return EDDY_EPARSE;
    memcpy(&st, (const uint8_t *)data + head, sizeof st);
    if (st.in_window >= h->p.window_size || st.limits_known > 1 ||
        (!h->buf && !st.limits_known) || (!st.limits_known && st.cur != 0))
        return EDDY_EPARSE;
    return eddy_anom_load_regions("hst", r, nr, data, len);
}

void eddy_hst_defaults(eddy_hst_params *p, uint32_t dim)
{
    *p = (eddy_hst_params){.dim = dim, .n_trees = 25, .height = 15, .window_size = 250,
                           .padding = 0.15, .seed = 42};
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
    uint32_t nnodes = (1u << (p->height + 1)) - 1;
    double bytes = (double)nnodes * p->n_trees * sizeof(hnode);
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
    h->max_score = (double)p->n_trees * p->window_size * (double)nnodes;
    h->size_limit = 0.1 * p->window_size;
    h->lo = calloc(p->dim, sizeof(double));
    h->scale = calloc(p->dim, sizeof(double));
    h->xs = calloc(p->dim, sizeof(double));
    h->box_lo = calloc(p->dim, sizeof(double));
    h->box_hi = calloc(p->dim, sizeof(double));
    h->nodes = calloc((size_t)nnodes * p->n_trees, sizeof(hnode));
    int bad = !h->lo || !h->scale || !h->xs || !h->box_lo || !h->box_hi || !h->nodes;
    if (!p->limits_lo)
        bad |= !(h->buf = calloc((size_t)p->dim * p->window_size, sizeof(double)));
    if (bad) {
        eddy_hst_free(h);
        return EDDY_ENOMEM;
    }
    for (uint32_t i = 0; i < p->dim; i++)
        h->box_hi[i] = 1.0;
    eddy_hst_reset(h);
    if (p->limits_lo)
        hst_set_limits(h, p->limits_lo, p->limits_hi);
    *out = h;
    return 0;
}
