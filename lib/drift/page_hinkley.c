/* Page-Hinkley test as river computes it: two fading cumulative sums of the
 * deviation from the running mean, one biased down by delta (rises on an
 * increase) and one biased up (falls on a decrease). */
#include <math.h>
#include <stdlib.h>

#include "engine/core/error.h"
#include "lib/drift/drift_int.h"

typedef struct {
    eddy_drift base;
    eddy_page_hinkley_params p;
    drift_mean mean;
    double sum_inc, sum_dec, min_inc, max_dec;
    double test_inc, test_dec;
} ph;

static void ph_reset(eddy_drift *d)
{
    ph *s = (ph *)d;
    s->mean = (drift_mean){0, 0};
    s->sum_inc = s->sum_dec = 0.0;
    s->min_inc = INFINITY;
    /* river starts the maximum at -1, not -inf; kept for identical output. */
    s->max_dec = -1.0;
    s->test_inc = s->test_dec = 0.0;
}

static unsigned ph_update(eddy_drift *d, double x)
{
    ph *s = (ph *)d;
    drift_mean_add(&s->mean, x);
    double dev = x - s->mean.mean;
    s->sum_inc = s->p.alpha * s->sum_inc + dev - s->p.delta;
    s->sum_dec = s->p.alpha * s->sum_dec + dev + s->p.delta;
    if (s->sum_inc < s->min_inc)
        s->min_inc = s->sum_inc;
    if (s->sum_dec > s->max_dec)
        s->max_dec = s->sum_dec;
    if (s->mean.n < (double)s->p.min_instances)
        return EDDY_DRIFT_NONE;
    s->test_inc = s->sum_inc - s->min_inc;
    s->test_dec = s->max_dec - s->sum_dec;
    int up = s->test_inc > s->p.threshold, down = s->test_dec > s->p.threshold;
    int hit = s->p.mode == EDDY_PH_UP ? up : s->p.mode == EDDY_PH_DOWN ? down : (up || down);
    return hit ? EDDY_DRIFT_CHANGE : EDDY_DRIFT_NONE;
}

static double ph_statistic(const eddy_drift *d)
{
    const ph *s = (const ph *)d;
    return s->test_inc > s->test_dec ? s->test_inc : s->test_dec;
}

/* ---- snapshots (drift_snap.c frames them) ---- */
static int ph_put_params(const eddy_drift *d, eddy_buf *b)
{
    const eddy_page_hinkley_params *p = &((const ph *)d)->p;
    return eddy_put_u32(b, p->min_instances) || eddy_put_f64(b, p->delta) ||
           eddy_put_f64(b, p->threshold) || eddy_put_f64(b, p->alpha) ||
           eddy_put_u8(b, (uint8_t)p->mode);
}

static int ph_put_state(const eddy_drift *d, eddy_buf *b)
{
    const ph *s = (const ph *)d;
    return drift_put_mean(b, &s->mean) || eddy_put_f64(b, s->sum_inc) ||
           eddy_put_f64(b, s->sum_dec) || eddy_put_f64(b, s->min_inc) ||
           eddy_put_f64(b, s->max_dec) || eddy_put_f64(b, s->test_inc) ||
           eddy_put_f64(b, s->test_dec);
}

static int ph_get_state(eddy_drift *d, eddy_rd *r)
{
    ph t = *(ph *)d;
    t.mean = drift_get_mean(r);
    t.sum_inc = eddy_get_f64(r);
    t.sum_dec = eddy_get_f64(r);
    t.min_inc = eddy_get_f64(r);
    t.max_dec = eddy_get_f64(r);
    t.test_inc = eddy_get_f64(r);
    t.test_dec = eddy_get_f64(r);
    if (!drift_rd_done(r))
        return -1;
    *(ph *)d = t;
    return 0;
}

static const drift_ops ph_ops = {"page_hinkley", ph_update, ph_reset, ph_statistic, NULL,
    ph_put_params, ph_put_state, ph_get_state};

void eddy_page_hinkley_defaults(eddy_page_hinkley_params *p)
{
    *p = (eddy_page_hinkley_params){30, 0.005, 50.0, 1 - 0.0001, EDDY_PH_BOTH};
}

int eddy_page_hinkley_new(const eddy_page_hinkley_params *p, eddy_drift **out, char *err,
                          size_t errlen)
{
    const char *n = "page_hinkley";
    if (!(p->delta >= 0.0 && isfinite(p->delta)))
        return eddy_drift_bad_param(err, errlen, n, "delta must be finite and >= 0, got %g",
                                    p->delta);
    if (!(p->threshold > 0.0 && isfinite(p->threshold)))
        return eddy_drift_bad_param(err, errlen, n, "threshold must be finite and > 0, got %g",
                                    p->threshold);
    if (!(p->alpha > 0.0 && p->alpha <= 1.0))
        return eddy_drift_bad_param(err, errlen, n, "alpha must be in (0, 1], got %g", p->alpha);
    if (p->mode != EDDY_PH_UP && p->mode != EDDY_PH_DOWN && p->mode != EDDY_PH_BOTH)
        return eddy_drift_bad_param(err, errlen, n, "mode must be up, down or both, got %d",
                                    (int)p->mode);
    ph *s = calloc(1, sizeof *s);
    if (!s)
        return EDDY_ENOMEM;
    s->base.ops = &ph_ops;
    s->p = *p;
    ph_reset(&s->base);
    *out = &s->base;
    return 0;
}
