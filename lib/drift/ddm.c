/* DDM (Gama et al. 2004) as river computes it: the error rate p and its
 * binomial deviation s are compared with the lowest p + s seen so far. */
#include <math.h>
#include <stdlib.h>

#include "engine/core/error.h"
#include "lib/drift/drift_int.h"

typedef struct {
    eddy_drift base;
    eddy_ddm_params p;
    drift_mean err;
    double p_min, s_min, ps_min, last_ps;
    int warning;
} ddm;

static void ddm_reset(eddy_drift *d)
{
    ddm *s = (ddm *)d;
    s->err = (drift_mean){0, 0};
    s->p_min = s->s_min = 0.0;
    s->ps_min = INFINITY;
    s->last_ps = 0.0;
    s->warning = 0;
}

static unsigned ddm_update(eddy_drift *d, double x)
{
    ddm *s = (ddm *)d;
    drift_mean_add(&s->err, x);
    double p = s->err.mean, n = s->err.n;
    double si = sqrt(p * (1 - p) / n);
    s->last_ps = p + si;
    /* Before warm_start the flags keep their reset value, as in river. */
    if (n <= (double)s->p.warm_start)
        return s->warning ? EDDY_DRIFT_WARNING : EDDY_DRIFT_NONE;
    if (p + si <= s->ps_min) {
        s->p_min = p;
        s->s_min = si;
        s->ps_min = s->p_min + s->s_min;
    }
    s->warning = p + si > s->p_min + s->p.warning_threshold * s->s_min;
    if (p + si > s->p_min + s->p.drift_threshold * s->s_min) {
        s->warning = 0;
        return EDDY_DRIFT_CHANGE;
    }
    return s->warning ? EDDY_DRIFT_WARNING : EDDY_DRIFT_NONE;
}

static double ddm_statistic(const eddy_drift *d)
{
    return ((const ddm *)d)->last_ps;
}

/* ---- snapshots (drift_snap.c frames them) ---- */
static int ddm_put_params(const eddy_drift *d, eddy_buf *b)
{
    const eddy_ddm_params *p = &((const ddm *)d)->p;
    return eddy_put_u32(b, p->warm_start) || eddy_put_f64(b, p->warning_threshold) ||
           eddy_put_f64(b, p->drift_threshold);
}

static int ddm_put_state(const eddy_drift *d, eddy_buf *b)
{
    const ddm *s = (const ddm *)d;
    return drift_put_mean(b, &s->err) || eddy_put_f64(b, s->p_min) || eddy_put_f64(b, s->s_min) ||
           eddy_put_f64(b, s->ps_min) || eddy_put_f64(b, s->last_ps) ||
           eddy_put_u8(b, (uint8_t)(s->warning != 0));
}

static int ddm_get_state(eddy_drift *d, eddy_rd *r)
{
    ddm t = *(ddm *)d;
    t.err = drift_get_mean(r);
    t.p_min = eddy_get_f64(r);
    t.s_min = eddy_get_f64(r);
    t.ps_min = eddy_get_f64(r);
    t.last_ps = eddy_get_f64(r);
    uint8_t w = eddy_get_u8(r);
    if (!drift_rd_done(r) || w > 1)
        return -1;
    t.warning = w;
    *(ddm *)d = t;
    return 0;
}

static const drift_ops ddm_ops = {"ddm", ddm_update, ddm_reset, ddm_statistic, NULL,
    ddm_put_params, ddm_put_state, ddm_get_state};

void eddy_ddm_defaults(eddy_ddm_params *p)
{
    *p = (eddy_ddm_params){30, 2.0, 3.0};
}

int eddy_ddm_new(const eddy_ddm_params *p, eddy_drift **out, char *err, size_t errlen)
{
    if (!(p->warning_threshold > 0.0 && isfinite(p->warning_threshold)))
        return eddy_drift_bad_param(err, errlen, "ddm",
                                    "warning_threshold must be finite and > 0, got %g",
                                    p->warning_threshold);
    if (!(p->drift_threshold >= p->warning_threshold && isfinite(p->drift_threshold)))
        return eddy_drift_bad_param(err, errlen, "ddm",
                                    "drift_threshold must be finite and >= warning_threshold "
                                    "(%g), got %g",
                                    p->warning_threshold, p->drift_threshold);
    ddm *s = calloc(1, sizeof *s);
    if (!s)
        return EDDY_ENOMEM;
    s->base.ops = &ddm_ops;
    s->p = *p;
    ddm_reset(&s->base);
    *out = &s->base;
    return 0;
}
