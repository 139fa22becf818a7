/* EWMA forecast chart: the EWMA of the values forecasts the next one, and
 * the value is scored by its residual from that forecast in units of the
 * residuals' own recent deviation (an EWMA of the squared residuals). The
 * smoothed statistic of Roberts' chart lags a change by about 1 / lambda
 * values and its fixed warm-up target goes stale on drifting series; the
 * residual sees a jump at once and its deviation follows the series. */
#include <math.h>
#include <stdlib.h>

#include "engine/core/error.h"
#include "lib/anomaly/anomaly_int.h"

typedef struct {
    double n;  /* values seen during the warm-up (then warmup) */
    double f;  /* the forecast of the next value: EWMA of the values */
    double ss; /* warm-up: sum of the squared residuals */
    double v;  /* residual variance, set when the warm-up ends */
    double m;  /* residuals in v, counted up to 1 / lambda_var */
} ewma_state;
#define EWMA_STATE_SHAPE "8"

typedef struct {
    eddy_anom base;
    eddy_ewma_params p;
    ewma_state s;
} ewma;

static void ewma_reset(eddy_anom *a)
{
    ((ewma *)a)->s = (ewma_state){0};
}

static double ewma_update(eddy_anom *a, double x, int64_t ts_ms)
{
    ewma *e = (ewma *)a;
    ewma_state *s = &e->s;
    (void)ts_ms;
    double r = x - s->f;
    if (s->n < e->p.warmup) {
        if (s->n == 0.0) {
            s->f = x;
        } else {
            s->ss += r * r;
            s->f += e->p.lambda * r;
        }
        s->n += 1.0;
        if (s->n == e->p.warmup) {
            s->v = s->ss / (s->n - 1.0);
            s->m = s->n - 1.0;
        }
        return 0.0;
    }
    double st;
    if (s->v > 0.0)
        st = r / sqrt(s->v);
    else
        st = r == 0.0 ? 0.0 : copysign(INFINITY, r);
    a->stat = st;
    /* The mean of the squared residuals until there are 1 / lambda_var of
     * them, then their EWMA. */
    if (s->m * e->p.lambda_var < 1.0)
        s->m += 1.0;
    s->v += fmax(1.0 / s->m, e->p.lambda_var) * (r * r - s->v);
    s->f += e->p.lambda * r;
    /* The residual of a value of the in-control process is taken for
     * Gaussian: its two-sided tail, as every detector's score (anomaly.h). */
    return eddy_anom_z_to_score(st);
}

/* The limits the next value will be held to: forecast +- L deviations. */
static double ewma_limit(const eddy_anom *a, double sign)
{
    const ewma *e = (const ewma *)a;
    if (e->s.n < e->p.warmup)
        return NAN;
    return e->s.f + sign * e->p.L * sqrt(e->s.v);
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

/* A restored state must be one the updates can reach: a count within the
 * warm-up, a finite forecast and a finite, non-negative variance (a NaN
 * would otherwise stick and silence the detector for good). */
static int ewma_check(const eddy_anom *a)
{
    const ewma *e = (const ewma *)a;
    const ewma_state *s = &e->s;
    return s->n >= 0.0 && s->n <= e->p.warmup && s->n == floor(s->n) && isfinite(s->f) &&
                   s->ss >= 0.0 && isfinite(s->ss) && s->v >= 0.0 && isfinite(s->v) &&
                   s->m >= 0.0 && s->m <= 1e12
               ? 0
               : -1;
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
    *p = (eddy_ewma_params){.lambda = 0.2, .L = 3.0, .warmup = 30, .lambda_var = 0.001};
}

int eddy_ewma_new(const eddy_ewma_params *p, eddy_anom **out, char *err, size_t errlen)
{
    if (!(p->lambda > 0.0 && p->lambda <= 1.0))
        return eddy_anom_bad_param(err, errlen, "ewma", "lambda must be in (0, 1], got %g",
                                   p->lambda);
    if (!(p->lambda_var > 0.0 && p->lambda_var <= 1.0))
        return eddy_anom_bad_param(err, errlen, "ewma", "lambda_var must be in (0, 1], got %g",
                                   p->lambda_var);
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
