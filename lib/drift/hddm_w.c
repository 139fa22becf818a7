/* HDDM_W (Frias-Blanco et al. 2014) as river computes it: McDiarmid bounds
 * on exponentially weighted means, comparing the sample since the best cut
 * point with the prefix before it. */
#include <math.h>
#include <stdlib.h>

#include "engine/core/error.h"
#include "lib/drift/drift_int.h"

/* river's SampleInfo: an EWMA (first value taken as is) plus the
 * "independent bounded conditions" sum that scales the bound. */
typedef struct {
    double ewma, ibc;
    int init;
} sample;

typedef struct {
    eddy_drift base;
    eddy_hddm_w_params p;
    double l_sq, c_l_sq;
    sample total, s1_incr, s2_incr, s1_decr, s2_decr;
    double incr_cut, decr_cut;
    int warning;
} hddm_w;

static const sample fresh = {0.0, 1.0, 0};

static void sample_add(const hddm_w *s, sample *a, double x)
{
    a->ewma = a->init ? s->p.lambda * x + (1.0 - s->p.lambda) * a->ewma : x;
    a->init = 1;
    a->ibc = s->l_sq + s->c_l_sq * a->ibc;
}

static double mcdiarmid(double ibc, double confidence)
{
    return sqrt(ibc * log(1 / confidence) / 2);
}

static int changed(const sample *lo, const sample *hi, double confidence)
{
    if (!(lo->init && hi->init))
        return 0;
    return hi->ewma - lo->ewma > mcdiarmid(lo->ibc + hi->ibc, confidence);
}

static void hddm_w_reset(eddy_drift *d)
{
    hddm_w *s = (hddm_w *)d;
    s->total = s->s1_incr = s->s2_incr = s->s1_decr = s->s2_decr = fresh;
    s->incr_cut = INFINITY;
    s->decr_cut = -INFINITY;
    s->warning = 0;
}

static unsigned hddm_w_update(eddy_drift *d, double x)
{
    hddm_w *s = (hddm_w *)d;
    sample_add(s, &s->total, x);

    double eps = mcdiarmid(s->total.ibc, s->p.drift_confidence);
    if (s->total.ewma + eps < s->incr_cut) {
        s->incr_cut = s->total.ewma + eps;
        s->s1_incr = s->total;
        s->s2_incr = fresh;
    } else {
        sample_add(s, &s->s2_incr, x);
    }
    int drift = 0;
    if (changed(&s->s1_incr, &s->s2_incr, s->p.drift_confidence)) {
        s->warning = 0;
        drift = 1;
    } else {
        s->warning = changed(&s->s1_incr, &s->s2_incr, s->p.warning_confidence);
    }

    /* The bound is recomputed because river does, though total is unchanged. */
    eps = mcdiarmid(s->total.ibc, s->p.drift_confidence);
    if (s->total.ewma - eps > s->decr_cut) {
        s->decr_cut = s->total.ewma - eps;
        s->s1_decr = s->total;
        s->s2_decr = fresh;
    } else {
        sample_add(s, &s->s2_decr, x);
    }
    if (s->p.two_sided) {
        if (changed(&s->s2_decr, &s->s1_decr, s->p.drift_confidence))
            drift = 1;
        else if (changed(&s->s2_decr, &s->s1_decr, s->p.warning_confidence))
            s->warning = 1;
    }
    /* Both flags as river leaves them: a two-sided test may warn on one
     * side while the other detects the change. */
    return (s->warning ? EDDY_DRIFT_FLAG_WARNING : 0u) | (drift ? EDDY_DRIFT_FLAG_CHANGE : 0u);
}

static double hddm_w_statistic(const eddy_drift *d)
{
    return ((const hddm_w *)d)->total.ewma;
}

/* ---- snapshots (drift_snap.c frames them) ---- */
static int hddm_w_put_params(const eddy_drift *d, eddy_buf *b)
{
    const eddy_hddm_w_params *p = &((const hddm_w *)d)->p;
    return eddy_put_f64(b, p->drift_confidence) || eddy_put_f64(b, p->warning_confidence) ||
           eddy_put_f64(b, p->lambda) || eddy_put_u8(b, (uint8_t)(p->two_sided != 0));
}

static int put_sample(eddy_buf *b, const sample *a)
{
    return eddy_put_f64(b, a->ewma) || eddy_put_f64(b, a->ibc) ||
           eddy_put_u8(b, (uint8_t)(a->init != 0));
}

static sample get_sample(eddy_rd *r)
{
    sample a;
    a.ewma = eddy_get_f64(r);
    a.ibc = eddy_get_f64(r);
    uint8_t i = eddy_get_u8(r);
    if (i > 1)
        r->err = 1;
    a.init = i;
    return a;
}

static int hddm_w_put_state(const eddy_drift *d, eddy_buf *b)
{
    const hddm_w *s = (const hddm_w *)d;
    return put_sample(b, &s->total) || put_sample(b, &s->s1_incr) || put_sample(b, &s->s2_incr) ||
           put_sample(b, &s->s1_decr) || put_sample(b, &s->s2_decr) ||
           eddy_put_f64(b, s->incr_cut) || eddy_put_f64(b, s->decr_cut) ||
           eddy_put_u8(b, (uint8_t)(s->warning != 0));
}

static int hddm_w_get_state(eddy_drift *d, eddy_rd *r)
{
    hddm_w t = *(hddm_w *)d;
    t.total = get_sample(r);
    t.s1_incr = get_sample(r);
    t.s2_incr = get_sample(r);
    t.s1_decr = get_sample(r);
    t.s2_decr = get_sample(r);
    t.incr_cut = eddy_get_f64(r);
    t.decr_cut = eddy_get_f64(r);
    uint8_t w = eddy_get_u8(r);
    if (!drift_rd_done(r) || w > 1)
        return -1;
    t.warning = w;
    *(hddm_w *)d = t;
    return 0;
}

static const drift_ops hddm_w_ops = {"hddm_w", hddm_w_update, hddm_w_reset, hddm_w_statistic, NULL,
    hddm_w_put_params, hddm_w_put_state, hddm_w_get_state};

void eddy_hddm_w_defaults(eddy_hddm_w_params *p)
{
    *p = (eddy_hddm_w_params){0.001, 0.005, 0.05, 0};
}

int eddy_hddm_w_new(const eddy_hddm_w_params *p, eddy_drift **out, char *err, size_t errlen)
{
    if (!(p->drift_confidence > 0.0 && p->drift_confidence < 1.0))
        return eddy_drift_bad_param(err, errlen, "hddm_w",
                                    "drift_confidence must be in (0, 1), got %g",
                                    p->drift_confidence);
    if (!(p->warning_confidence > 0.0 && p->warning_confidence < 1.0))
        return eddy_drift_bad_param(err, errlen, "hddm_w",
                                    "warning_confidence must be in (0, 1), got %g",
                                    p->warning_confidence);
    if (!(p->lambda > 0.0 && p->lambda <= 1.0))
        return eddy_drift_bad_param(err, errlen, "hddm_w", "lambda must be in (0, 1], got %g",
                                    p->lambda);
    hddm_w *s = calloc(1, sizeof *s);
    if (!s)
        return EDDY_ENOMEM;
    s->base.ops = &hddm_w_ops;
    s->p = *p;
    s->l_sq = p->lambda * p->lambda;
    s->c_l_sq = (1 - p->lambda) * (1 - p->lambda);
    hddm_w_reset(&s->base);
    *out = &s->base;
    return 0;
}
