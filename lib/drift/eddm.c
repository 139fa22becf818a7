/* EDDM (Baena-Garcia et al. 2006) as river computes it: watches the distance
 * between consecutive errors; a shrinking mean + 2 std of that distance,
 * relative to its maximum, means errors come more often. */
#include <math.h>
#include <stdlib.h>

#include "engine/core/error.h"
#include "lib/drift/drift_int.h"

typedef struct {
    eddy_drift base;
    eddy_eddm_params p;
    drift_mean dist; /* with dist_s: river's stats.Var (ddof 1) */
    double dist_s;
    uint64_t n, last_error, n_errors;
    double p2s_max, level;
    int warning;
} eddm;

static void eddm_reset(eddy_drift *d)
{
    eddm *s = (eddm *)d;
    s->dist = (drift_mean){0, 0};
    s->dist_s = 0.0;
    s->n = s->last_error = s->n_errors = 0;
    s->p2s_max = -1.0;
    s->level = 1.0;
    s->warning = 0;
}

static unsigned eddm_update(eddy_drift *d, double x)
{
    eddm *s = (eddm *)d;
    s->n++;
    /* Correct predictions change nothing, not even the warning flag. */
    if (x != 1.0)
        return s->warning ? EDDY_DRIFT_WARNING : EDDY_DRIFT_NONE;
    unsigned change = 0;
    s->n_errors++;
    double v = (double)(s->n - s->last_error), old = s->dist.mean;
    drift_mean_add(&s->dist, v);
    s->dist_s += (v - old) * (v - s->dist.mean);
    if (s->n > s->p.warm_start) {
        double var = s->dist.n > 1.0 ? s->dist_s / (s->dist.n - 1.0) : 0.0;
        /* pow rather than sqrt: river writes ** 0.5 and we want its bits. */
        double p2s = s->dist.mean + 2 * pow(var, 0.5);
        if (p2s > s->p2s_max) {
            s->p2s_max = p2s;
        } else if (s->n_errors > s->p.warm_start) {
            s->level = p2s / s->p2s_max;
            /* A change leaves the warning flag as it was: river reports
             * both on the update that leaves the warning zone by a change. */
            if (s->level < s->p.beta)
                change = EDDY_DRIFT_FLAG_CHANGE;
            else
                s->warning = s->level < s->p.alpha;
        }
    }
    s->last_error = s->n;
    return (s->warning ? EDDY_DRIFT_FLAG_WARNING : 0u) | change;
}

static double eddm_statistic(const eddy_drift *d)
{
    return ((const eddm *)d)->level;
}

/* ---- snapshots (drift_snap.c frames them) ---- */
static int eddm_put_params(const eddy_drift *d, eddy_buf *b)
{
    const eddy_eddm_params *p = &((const eddm *)d)->p;
    return eddy_put_u32(b, p->warm_start) || eddy_put_f64(b, p->alpha) || eddy_put_f64(b, p->beta);
}

static int eddm_put_state(const eddy_drift *d, eddy_buf *b)
{
    const eddm *s = (const eddm *)d;
    return drift_put_mean(b, &s->dist) || eddy_put_f64(b, s->dist_s) || eddy_put_u64(b, s->n) ||
           eddy_put_u64(b, s->last_error) || eddy_put_u64(b, s->n_errors) ||
           eddy_put_f64(b, s->p2s_max) || eddy_put_f64(b, s->level) ||
           eddy_put_u8(b, (uint8_t)(s->warning != 0));
}

static int eddm_get_state(eddy_drift *d, eddy_rd *r)
{
    eddm t = *(eddm *)d;
    t.dist = drift_get_mean(r);
    t.dist_s = eddy_get_f64(r);
    t.n = eddy_get_u64(r);
    t.last_error = eddy_get_u64(r);
    t.n_errors = eddy_get_u64(r);
    t.p2s_max = eddy_get_f64(r);
    t.level = eddy_get_f64(r);
    uint8_t w = eddy_get_u8(r);
    if (!drift_rd_done(r) || w > 1)
        return -1;
    t.warning = w;
    *(eddm *)d = t;
    return 0;
}

static const drift_ops eddm_ops = {"eddm", eddm_update, eddm_reset, eddm_statistic, NULL,
    eddm_put_params, eddm_put_state, eddm_get_state};

void eddy_eddm_defaults(eddy_eddm_params *p)
{
    *p = (eddy_eddm_params){30, 0.95, 0.9};
}

int eddy_eddm_new(const eddy_eddm_params *p, eddy_drift **out, char *err, size_t errlen)
{
    if (!(p->beta > 0.0 && p->alpha <= 1.0 && p->alpha >= p->beta))
        return eddy_drift_bad_param(err, errlen, "eddm",
                                    "need 0 < beta <= alpha <= 1, got alpha %g beta %g", p->alpha,
                                    p->beta);
    eddm *s = calloc(1, sizeof *s);
    if (!s)
        return EDDY_ENOMEM;
    s->base.ops = &eddm_ops;
    s->p = *p;
    eddm_reset(&s->base);
    *out = &s->base;
    return 0;
}
