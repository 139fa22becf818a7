/* ADWIN (Bifet & Gavalda 2007) with exponential histograms, following
 * river's AdaptiveWindowing step for step (including which cut points it
 * tests) so that both report the same change points.
 *
 * Row r holds buckets that summarise 2^r values each, oldest first; row 0
 * is the newest. A row holds at most max_buckets + 1 entries before its two
 * oldest merge into the next row, so ROWS rows cover 2^ROWS values: the
 * storage is fixed at construction and updates never allocate. */
#include <math.h>
#include <stdlib.h>

#include "engine/core/error.h"
#include "lib/drift/drift_int.h"

#define ROWS 64

typedef struct {
    eddy_drift base;
    eddy_adwin_params p;
    uint32_t cap;      /* max_buckets + 1 */
    double *tot, *var; /* ROWS * cap, row r at r * cap */
    uint32_t used[ROWS];
    uint32_t nrows;
    double total, variance, width;
    uint64_t tick;
} adwin;

static void row_insert(adwin *s, uint32_t r, double total, double var)
{
    s->tot[r * s->cap + s->used[r]] = total;
    s->var[r * s->cap + s->used[r]] = var;
    s->used[r]++;
}

/* Drops the n oldest buckets of row r. */
static void row_shift(adwin *s, uint32_t r, uint32_t n)
{
    double *t = s->tot + r * s->cap, *v = s->var + r * s->cap;
    for (uint32_t i = n; i < s->used[r]; i++) {
        t[i - n] = t[i];
        v[i - n] = v[i];
    }
    s->used[r] -= n;
}

static void compress(adwin *s)
{
    for (uint32_t r = 0; r < s->nrows && s->used[r] == s->cap; r++) {
        /* The last row cannot overflow: it would need 2^ROWS values. */
        if (r + 1 == ROWS)
            break;
        if (r + 1 == s->nrows) {
            s->used[r + 1] = 0;
            s->nrows++;
        }
        double n = ldexp(1.0, (int)r);
        double *t = s->tot + r * s->cap, *v = s->var + r * s->cap;
        double mu1 = t[0] / n, mu2 = t[1] / n;
        double merged = v[0] + v[1] + n * 0.5 * (mu1 - mu2) * (mu1 - mu2);
        row_insert(s, r + 1, t[0] + t[1], merged);
        row_shift(s, r, 2);
        if (s->used[r + 1] < s->cap)
            break;
    }
}

static void insert(adwin *s, double x)
{
    row_insert(s, 0, x, 0.0);
    s->width += 1;
    if (s->width > 1.0) {
        double d = x - s->total / (s->width - 1.0);
        s->variance += (s->width - 1.0) * d * d / s->width;
    }
    s->total += x;
    compress(s);
}

/* Removes the oldest bucket; answers how many values it held. */
static double delete_oldest(adwin *s)
{
    uint32_t r = s->nrows - 1;
    double n = ldexp(1.0, (int)r);
    double u = s->tot[r * s->cap], v = s->var[r * s->cap];
    s->width -= n;
    s->total -= u;
    double mu = u / n, mu_w = s->total / s->width;
    s->variance -= v + n * s->width * (mu - mu_w) * (mu - mu_w) / (n + s->width);
    row_shift(s, r, 1);
    if (s->used[r] == 0 && s->nrows > 1)
        s->nrows--;
    return n;
}

/* The parts of river's cut bound that depend on the window only, computed
 * once per pass instead of once per cut point (same operations, same bits). */
typedef struct {
    double mwl, dp, var_w;
} cut_bound;

static int cut_holds(const cut_bound *b, double n0, double n1, double delta_mean)
{
    double m_recip = 1.0 / (n0 - b->mwl + 1) + 1.0 / (n1 - b->mwl + 1);
    double eps = sqrt(2 * m_recip * b->var_w * b->dp) + 2.0 / 3.0 * b->dp * m_recip;
    return fabs(delta_mean) > eps;
}

/* One pass over the cut points from oldest to newest; on the first cut
 * that holds, drops the oldest bucket and answers 1 so the caller rescans. */
static int scan(adwin *s)
{
    double n0 = 0, n1 = s->width, u0 = 0, u1 = s->total;
    double mwl = (double)s->p.min_window_length;
    cut_bound b = {mwl, log(2 * log(s->width) / s->p.delta), s->variance / s->width};
    for (uint32_t r = s->nrows; r-- > 0;) {
        double n2 = ldexp(1.0, (int)r);
        /* river never cuts after the newest bucket of row 0 (W1 empty). */
        uint32_t end = r == 0 ? s->used[0] - 1 : s->used[r];
        for (uint32_t k = 0; k < end; k++) {
            double u2 = s->tot[r * s->cap + k];
            n0 += n2;
            n1 -= n2;
            u0 += u2;
            u1 -= u2;
            if (n1 >= mwl && n0 >= mwl && cut_holds(&b, n0, n1, u0 / n0 - u1 / n1)) {
                if (s->width > 0)
                    delete_oldest(s);
                return 1;
            }
        }
    }
    return 0;
}

static unsigned adwin_update(eddy_drift *d, double x)
{
    adwin *s = (adwin *)d;
    insert(s, x);
    s->tick++;
    int change = 0;
    if (s->tick % s->p.clock == 0 && s->width > (double)s->p.grace_period)
        while (scan(s))
            change = 1;
    return change ? EDDY_DRIFT_CHANGE : EDDY_DRIFT_NONE;
}

static void adwin_reset(eddy_drift *d)
{
    adwin *s = (adwin *)d;
    s->nrows = 1;
    s->used[0] = 0;
    s->total = s->variance = s->width = 0.0;
    s->tick = 0;
}

static double adwin_statistic(const eddy_drift *d)
{
    const adwin *s = (const adwin *)d;
    return s->width > 0 ? s->total / s->width : 0.0;
}

static void adwin_destroy(eddy_drift *d)
{
    adwin *s = (adwin *)d;
    free(s->tot);
    free(s->var);
}

/* ---- snapshots (drift_snap.c frames them) ----
 * Only the used buckets of the used rows are written, so a snapshot is
 * O(log width) doubles. */
static int adwin_put_params(const eddy_drift *d, eddy_buf *b)
{
    const eddy_adwin_params *p = &((const adwin *)d)->p;
    return eddy_put_f64(b, p->delta) || eddy_put_u32(b, p->clock) ||
           eddy_put_u32(b, p->max_buckets) || eddy_put_u32(b, p->min_window_length) ||
           eddy_put_u32(b, p->grace_period);
}

static int adwin_put_state(const eddy_drift *d, eddy_buf *b)
{
    const adwin *s = (const adwin *)d;
    if (eddy_put_f64(b, s->total) || eddy_put_f64(b, s->variance) || eddy_put_f64(b, s->width) ||
        eddy_put_u64(b, s->tick) || eddy_put_u32(b, s->nrows))
        return -1;
    for (uint32_t r = 0; r < s->nrows; r++) {
        if (eddy_put_u32(b, s->used[r]))
            return -1;
        for (uint32_t k = 0; k < s->used[r]; k++)
            if (eddy_put_f64(b, s->tot[r * s->cap + k]) || eddy_put_f64(b, s->var[r * s->cap + k]))
                return -1;
    }
    return 0;
}

static int adwin_get_state(eddy_drift *d, eddy_rd *r)
{
    adwin *s = (adwin *)d;
    double total = eddy_get_f64(r), variance = eddy_get_f64(r), width = eddy_get_f64(r);
    uint64_t tick = eddy_get_u64(r);
    uint32_t nrows = eddy_get_u32(r);
    if (r->err || nrows < 1 || nrows > ROWS)
        return -1;
    /* Validate everything before touching the detector. */
    eddy_rd probe = *r;
    for (uint32_t i = 0; i < nrows; i++) {
        uint32_t u = eddy_get_u32(&probe);
        if (probe.err || u > s->cap || !eddy_take(&probe, (size_t)u * 16))
            return -1;
    }
    if (!drift_rd_done(&probe))
        return -1;
    for (uint32_t i = 0; i < nrows; i++) {
        s->used[i] = eddy_get_u32(r);
        for (uint32_t k = 0; k < s->used[i]; k++) {
            s->tot[i * s->cap + k] = eddy_get_f64(r);
            s->var[i * s->cap + k] = eddy_get_f64(r);
        }
    }
    s->nrows = nrows;
    s->total = total;
    s->variance = variance;
    s->width = width;
    s->tick = tick;
    return 0;
}

static const drift_ops adwin_ops = {"adwin", adwin_update, adwin_reset, adwin_statistic, adwin_destroy,
    adwin_put_params, adwin_put_state, adwin_get_state};

void eddy_adwin_defaults(eddy_adwin_params *p)
{
    *p = (eddy_adwin_params){0.002, 32, 5, 5, 10};
}

int eddy_adwin_new(const eddy_adwin_params *p, eddy_drift **out, char *err, size_t errlen)
{
    if (!(p->delta > 0.0 && p->delta < 1.0))
        return eddy_drift_bad_param(err, errlen, "adwin", "delta must be in (0, 1), got %g",
                                    p->delta);
    if (p->clock == 0)
        return eddy_drift_bad_param(err, errlen, "adwin", "clock must be >= 1");
    if (p->max_buckets < 2 || p->max_buckets > 1024)
        return eddy_drift_bad_param(err, errlen, "adwin", "max_buckets must be in 2..1024, got %u",
                                    p->max_buckets);
    if (p->min_window_length == 0)
        return eddy_drift_bad_param(err, errlen, "adwin", "min_window_length must be >= 1");
    adwin *s = calloc(1, sizeof *s);
    if (!s)
        return EDDY_ENOMEM;
    s->base.ops = &adwin_ops;
    s->p = *p;
    s->cap = p->max_buckets + 1;
    s->tot = calloc((size_t)ROWS * s->cap, sizeof *s->tot);
    s->var = calloc((size_t)ROWS * s->cap, sizeof *s->var);
    if (!s->tot || !s->var) {
        eddy_drift_free(&s->base);
        return EDDY_ENOMEM;
    }
    adwin_reset(&s->base);
    *out = &s->base;
    return 0;
}
