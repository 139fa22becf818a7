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

static eddy_drift_signal cusum_update(eddy_drift *d, double x)
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

static const drift_ops cusum_ops = {"cusum", cusum_update, cusum_reset, cusum_statistic, NULL};

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
