/* Two-sided tabular CUSUM; see drift.h for the parameters. The reference
 * mean and deviation are learnt, not configured, because eddy watches
 * streams whose in-control level is not known up front. */
#include <math.h>
#include <stdlib.h>

#include "engine/core/error.h"
#include "lib/drift/drift_int.h"

typedef struct {
    eddy_drift base;
    eddy_cusum_params p;
    drift_mean ref;
    double ref_s, sd;
    double g_up, g_down;
} cusum;

static void cusum_reset(eddy_drift *d)
{
    cusum *s = (cusum *)d;
    s->ref = (drift_mean){0, 0};
    s->ref_s = s->sd = 0.0;
    s->g_up = s->g_down = 0.0;
}

static unsigned cusum_update(eddy_drift *d, double x)
{
    cusum *s = (cusum *)d;
    if (s->ref.n < (double)s->p.warm_start) {
        double old = s->ref.mean;
        drift_mean_add(&s->ref, x);
        s->ref_s += (x - old) * (x - s->ref.mean);
        if (s->ref.n == (double)s->p.warm_start) {
            s->sd = sqrt(s->ref_s / (s->ref.n - 1.0));
            double floor = 1e-9 * fmax(1.0, fabs(s->ref.mean));
            if (!(s->sd > floor))
                s->sd = floor;
        }
        return EDDY_DRIFT_NONE;
    }
    double z = (x - s->ref.mean) / s->sd;
    s->g_up = fmax(0.0, s->g_up + z - s->p.k);
    s->g_down = fmax(0.0, s->g_down - z - s->p.k);
    return s->g_up > s->p.h || s->g_down > s->p.h ? EDDY_DRIFT_CHANGE : EDDY_DRIFT_NONE;
}

static double cusum_statistic(const eddy_drift *d)
{
    const cusum *s = (const cusum *)d;
    return fmax(s->g_up, s->g_down);
}

/* ---- snapshots (drift_snap.c frames them) ---- */
static int cusum_put_params(const eddy_drift *d, eddy_buf *b)
{
    const eddy_cusum_params *p = &((const cusum *)d)->p;
    return eddy_put_u32(b, p->warm_start) || eddy_put_f64(b, p->k) || eddy_put_f64(b, p->h);
}

static int cusum_put_state(const eddy_drift *d, eddy_buf *b)
{
    const cusum *s = (const cusum *)d;
    return drift_put_mean(b, &s->ref) || eddy_put_f64(b, s->ref_s) || eddy_put_f64(b, s->sd) ||
           eddy_put_f64(b, s->g_up) || eddy_put_f64(b, s->g_down);
}

static int cusum_get_state(eddy_drift *d, eddy_rd *r)
{
    cusum t = *(cusum *)d;
    t.ref = drift_get_mean(r);
    t.ref_s = eddy_get_f64(r);
    t.sd = eddy_get_f64(r);
    t.g_up = eddy_get_f64(r);
    t.g_down = eddy_get_f64(r);
    if (!drift_rd_done(r))
        return -1;
    *(cusum *)d = t;
    return 0;
}

static const drift_ops cusum_ops = {"cusum", cusum_update, cusum_reset, cusum_statistic, NULL,
    cusum_put_params, cusum_put_state, cusum_get_state};

void eddy_cusum_defaults(eddy_cusum_params *p)
{
    *p = (eddy_cusum_params){30, 0.5, 5.0};
}

int eddy_cusum_new(const eddy_cusum_params *p, eddy_drift **out, char *err, size_t errlen)
{
    if (p->warm_start < 2)
        return eddy_drift_bad_param(err, errlen, "cusum", "warm_start must be >= 2, got %u",
                                    p->warm_start);
    if (!(p->k >= 0.0 && isfinite(p->k)))
        return eddy_drift_bad_param(err, errlen, "cusum", "k must be finite and >= 0, got %g",
                                    p->k);
    if (!(p->h > 0.0 && isfinite(p->h)))
        return eddy_drift_bad_param(err, errlen, "cusum", "h must be finite and > 0, got %g",
                                    p->h);
    cusum *s = calloc(1, sizeof *s);
    if (!s)
        return EDDY_ENOMEM;
    s->base.ops = &cusum_ops;
    s->p = *p;
    cusum_reset(&s->base);
    *out = &s->base;
    return 0;
}
