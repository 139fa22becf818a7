/* HDDM_A (Frias-Blanco et al. 2014) as river computes it: Hoeffding bounds
 * compare the running mean with the prefix whose mean was lowest (for an
 * increase) or highest (for a decrease). */
#include <math.h>
#include <stdlib.h>

#include "engine/core/error.h"
#include "lib/drift/drift_int.h"

typedef struct {
    eddy_drift base;
    eddy_hddm_a_params p;
    drift_mean z, x_min, x_max;
    int warning;
} hddm_a;

static void hddm_a_reset(eddy_drift *d)
{
    hddm_a *s = (hddm_a *)d;
    s->z = s->x_min = s->x_max = (drift_mean){0, 0};
    s->warning = 0;
}

static double hoeffding(const hddm_a *s, double n)
{
    return sqrt(1.0 / (2 * n) * log(1.0 / s->p.drift_confidence));
}

/* "lo" is the prefix with the smaller expected mean: x_min for increases
 * (hi = z), z for decreases (hi = x_max). */
static int mean_changed(const drift_mean *prefix, const drift_mean *lo, const drift_mean *hi,
                        double n_all, double confidence)
{
    if (prefix->n == n_all)
        return 0;
    double m = (n_all - prefix->n) / prefix->n * (1.0 / n_all);
    double eps = sqrt(m / 2 * log(2.0 / confidence));
    return hi->mean - lo->mean >= eps;
}

static unsigned hddm_a_update(eddy_drift *d, double x)
{
    hddm_a *s = (hddm_a *)d;
    drift_mean_add(&s->z, x);
    if (s->x_min.n == 0)
        s->x_min = s->z;
    if (s->x_max.n == 0)
        s->x_max = s->z;
    double eps_z = hoeffding(s, s->z.n);
    if (s->x_min.mean + hoeffding(s, s->x_min.n) >= s->z.mean + eps_z)
        s->x_min = s->z;
    if (s->x_max.mean - hoeffding(s, s->x_max.n) <= s->z.mean - eps_z)
        s->x_max = s->z;
    int drift = 0;
    if (mean_changed(&s->x_min, &s->x_min, &s->z, s->z.n, s->p.drift_confidence)) {
        s->warning = 0;
        drift = 1;
    } else {
        s->warning = mean_changed(&s->x_min, &s->x_min, &s->z, s->z.n, s->p.warning_confidence);
    }
    if (s->p.two_sided) {
        if (mean_changed(&s->x_max, &s->z, &s->x_max, s->z.n, s->p.drift_confidence))
            drift = 1;
        else if (mean_changed(&s->x_max, &s->z, &s->x_max, s->z.n, s->p.warning_confidence))
            s->warning = 1;
    }
    /* Both flags as river leaves them: a two-sided test may warn on one
     * side while the other detects the change. */
    return (s->warning ? EDDY_DRIFT_FLAG_WARNING : 0u) | (drift ? EDDY_DRIFT_FLAG_CHANGE : 0u);
}

static double hddm_a_statistic(const eddy_drift *d)
{
    return ((const hddm_a *)d)->z.mean;
}

/* ---- snapshots (drift_snap.c frames them) ---- */
static int hddm_a_put_params(const eddy_drift *d, eddy_buf *b)
{
    const eddy_hddm_a_params *p = &((const hddm_a *)d)->p;
    return eddy_put_f64(b, p->drift_confidence) || eddy_put_f64(b, p->warning_confidence) ||
           eddy_put_u8(b, (uint8_t)(p->two_sided != 0));
}

static int hddm_a_put_state(const eddy_drift *d, eddy_buf *b)
{
    const hddm_a *s = (const hddm_a *)d;
    return drift_put_mean(b, &s->z) || drift_put_mean(b, &s->x_min) ||
           drift_put_mean(b, &s->x_max) || eddy_put_u8(b, (uint8_t)(s->warning != 0));
}

static int hddm_a_get_state(eddy_drift *d, eddy_rd *r)
{
    hddm_a t = *(hddm_a *)d;
    t.z = drift_get_mean(r);
    t.x_min = drift_get_mean(r);
    t.x_max = drift_get_mean(r);
    uint8_t w = eddy_get_u8(r);
    if (!drift_rd_done(r) || w > 1)
        return -1;
    t.warning = w;
    *(hddm_a *)d = t;
    return 0;
}

static const drift_ops hddm_a_ops = {"hddm_a", hddm_a_update, hddm_a_reset, hddm_a_statistic, NULL,
    hddm_a_put_params, hddm_a_put_state, hddm_a_get_state};

void eddy_hddm_a_defaults(eddy_hddm_a_params *p)
{
    *p = (eddy_hddm_a_params){0.001, 0.005, 0};
}

int eddy_hddm_a_new(const eddy_hddm_a_params *p, eddy_drift **out, char *err, size_t errlen)
{
    if (!(p->drift_confidence > 0.0 && p->drift_confidence < 1.0))
        return eddy_drift_bad_param(err, errlen, "hddm_a",
                                    "drift_confidence must be in (0, 1), got %g",
                                    p->drift_confidence);
    if (!(p->warning_confidence > 0.0 && p->warning_confidence < 1.0))
        return eddy_drift_bad_param(err, errlen, "hddm_a",
                                    "warning_confidence must be in (0, 1), got %g",
                                    p->warning_confidence);
    hddm_a *s = calloc(1, sizeof *s);
    if (!s)
        return EDDY_ENOMEM;
    s->base.ops = &hddm_a_ops;
    s->p = *p;
    hddm_a_reset(&s->base);
    *out = &s->base;
    return 0;
}
