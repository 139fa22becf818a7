/* EWMA control chart (Roberts 1959) with the exact time-varying limits; the
 * target is learnt from a warm-up because eddy rarely knows it up front. */
#include <math.h>
#include <stdlib.h>

#include "engine/core/error.h"
#include "lib/anomaly/anomaly_int.h"

typedef struct {
    double n, mean, m2; /* warm-up Welford */
    double sigma;       /* in-control deviation, set when warm-up ends */
    double z;           /* the chart */
    double decay2;      /* (1 - lambda)^(2t) */
    uint64_t t;
} ewma_state;
#define EWMA_STATE_SHAPE "8"

typedef struct {
    eddy_anom base;
    eddy_ewma_params p;
    ewma_state s;
} ewma;

static void ewma_reset(eddy_anom *a)
{
    ((ewma *)a)->s = (ewma_state){.decay2 = 1.0};
}

/* The chart's standard deviation after t updates. */
static double ewma_sd(const ewma *e, double decay2)
{
    double l = e->p.lambda;
    return e->s.sigma * sqrt(l / (2.0 - l) * (1.0 - decay2));
}

static double ewma_update(eddy_anom *a, double x, int64_t ts_ms)
{
    ewma *e = (ewma *)a;
    ewma_state *s = &e->s;
    if (s->n < e->p.warmup) {
        s->n += 1.0;
        double d = x - s->mean;
        s->mean += d / s->n;
        s->m2 += d * (x - s->mean);
        if (s->n == e->p.warmup) {
            s->sigma = sqrt(s->m2 / (s->n - 1.0));
            s->z = s->mean;
        }
        return 0.0;
    }
    double l = e->p.lambda, keep = 1.0 - l;
    s->t++;
    s->z = l * x + keep * s->z;
    s->decay2 *= keep * keep;
    double sd = ewma_sd(e, s->decay2), dev = s->z - s->mean, st;
    if (sd > 0.0)
        st = dev / sd;
    else
        st = dev == 0.0 ? 0.0 : copysign(INFINITY, dev);
    a->stat = st;
    /* In control, the chart statistic is standard normal: its two-sided
     * tail, as every detector's score (anomaly.h). */
    return eddy_anom_z_to_score(st);
}

/* The limits the next value's chart will be held to. */
static double ewma_limit(const eddy_anom *a, double sign)
{
    const ewma *e = (const ewma *)a;
    if (e->s.n < e->p.warmup)
        return NAN;
    double keep = 1.0 - e->p.lambda;
    return e->s.mean + sign * e->p.L * ewma_sd(e, e->s.decay2 * keep * keep);
}

static double ewma_upper(const eddy_anom *a)
{
    return ewma_limit(a, 1.0);
}

static double ewma_lower(const eddy_anom *a)
{
    return ewma_limit(a, -1.0);
}

static size_t ewma_regions(const eddy_anom *a, anom_region *r)
{
    ewma *e = (ewma *)a;
    r[0] = (anom_region){&e->s, sizeof e->s, EWMA_STATE_SHAPE};
    return 1;
}

static int ewma_check(const eddy_anom *a)
{
    const ewma *e = (const ewma *)a;
    return e->s.n >= 0.0 && e->s.n <= e->p.warmup ? 0 : -1;
}

static const anom_ops ewma_ops = {
    .name = "ewma",
    .update = ewma_update,
    .reset = ewma_reset,
    .threshold = ewma_upper,
    .threshold_lower = ewma_lower,
    .regions = ewma_regions,
    .check = ewma_check,
};

void eddy_ewma_defaults(eddy_ewma_params *p)
{
    *p = (eddy_ewma_params){.lambda = 0.2, .L = 3.0, .warmup = 30};
}

int eddy_ewma_new(const eddy_ewma_params *p, eddy_anom **out, char *err, size_t errlen)
{
    if (!(p->lambda > 0.0 && p->lambda <= 1.0))
        return eddy_anom_bad_param(err, errlen, "ewma", "lambda must be in (0, 1], got %g",
                                   p->lambda);
    if (!(p->L > 0.0 && isfinite(p->L)))
        return eddy_anom_bad_param(err, errlen, "ewma", "L must be finite and > 0, got %g", p->L);
    if (p->warmup < 2)
        return eddy_anom_bad_param(err, errlen, "ewma",
                                   "warmup must be >= 2 (a deviation needs two values), got %u",
                                   p->warmup);
    ewma *e = calloc(1, sizeof *e);
    if (!e)
        return EDDY_ENOMEM;
    e->base.ops = &ewma_ops;
    e->p = *p;
    ewma_reset(&e->base);
    *out = &e->base;
    return 0;
}
