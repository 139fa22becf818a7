/* The NAB detector: two surprise channels, a likelihood and a quiet period.
 *  1. Prediction error: e = |x - fast| / range, where fast is an EWMA of the
 *     series (alpha_fast) and range the span of values seen so far. As in
 *     Numenta's anomaly likelihood, the mean of the last short_win errors is
 *     compared with the mean and deviation of the last long_win errors (a
 *     fast model of the error against a slow one): z = (short - mean) / sd,
 *     scored as ln(tail) / ln(1e-10) with tail = Q(z), clipped to [0,1].
 *  2. Level novelty: the current value's two-sided Gaussian tail under the
 *     mean and deviation of the last long_win values, on the same log
 *     scale, weighted by level_w. The score is the larger channel.
 * Deviations have a floor (sd_floor, relative to the range) so flat series
 * do not turn rounding into alarms. Nothing is scored during the first
 * `probation` values, and after a score reaches sup_level the next sup_len
 * scores are 0: NAB credits one detection per anomaly window and charges
 * every extra one outside it. Every score uses only past and current values. */
#include <math.h>
#include <stdlib.h>

#include "../error.h"
#include "anomaly_impl.h"

typedef struct {
    uint64_t t;
    double lo, hi;     /* range seen so far */
    double fast;       /* fast prediction */
    double long_sum, long_sq, short_sum;
    double x_sum, x_sq;
    uint32_t long_head, long_count, short_head, short_count;
    uint64_t quiet_until;
} nab_state;

typedef struct {
    eddy_anom base;
    eddy_nab_params p;
    uint32_t long_n, short_n;
    double *long_r, *short_r, *x_r;
    nab_state s;
} nab;

static void nab_reset(eddy_anom *a)
{
    nab *d = (nab *)a;
    d->s = (nab_state){0};
}

static double push_ring(double *ring, uint32_t n, uint32_t *head, uint32_t *count, double x)
{
    double old = 0.0;
    if (*count < n) {
        ring[(*count)++] = x;
        return 0.0;
    }
    old = ring[*head];
    ring[*head] = x;
    *head = *head + 1 == n ? 0 : *head + 1;
    return old;
}

static double nab_update(eddy_anom *a, double x, int64_t ts_ms)
{
    nab *d = (nab *)a;
    nab_state *s = &d->s;
    if (s->t == 0) {
        s->lo = s->hi = s->fast = x;
    }
    s->t++;
    s->lo = fmin(s->lo, x);
    s->hi = fmax(s->hi, x);
    double range = s->hi - s->lo;
    double e = range > 0 ? fabs(x - s->fast) / range : 0.0;
    s->fast += d->p.alpha_fast * (x - s->fast);

    /* Likelihood of the recent errors under the long window's. */
    double score = 0.0;
    if (s->long_count >= 2 && s->short_count == d->short_n) {
        double n = s->long_count, mu = s->long_sum / n;
        double var = fmax(0.0, s->long_sq / n - mu * mu);
        double sd = fmax(sqrt(var), d->p.sd_floor);
        double sm = (s->short_sum + e - d->short_r[s->short_head]) / d->short_n;
        double z = (sm - mu) / sd;
        double tail = 0.5 * erfc(z / sqrt(2.0));
        score = log(tail + 1e-10) / log(1e-10);
        a->stat = z;
    }
    if (d->p.level_w > 0 && s->long_count >= 2) {
        double n = s->long_count, mu = s->x_sum / n;
        double sd = sqrt(fmax(0.0, s->x_sq / n - mu * mu));
        sd = fmax(sd, d->p.sd_floor * range);
        double z = range > 0 ? fabs(x - mu) / sd : 0.0;
        double tail = erfc(z / sqrt(2.0));
        double s2 = d->p.level_w * log(tail + 1e-10) / log(1e-10);
        score = fmax(score, s2);
    }
    {
        uint32_t cx = s->long_count, hx = s->long_head;
        if (cx == d->long_n) {
            double old = d->x_r[hx];
            s->x_sum -= old;
            s->x_sq -= old * old;
            d->x_r[hx] = x;
        } else {
            d->x_r[cx] = x;
        }
        s->x_sum += x;
        s->x_sq += x * x;
    }
    uint32_t c0 = s->short_count;
    double old = push_ring(d->short_r, d->short_n, &s->short_head, &s->short_count, e);
    s->short_sum += e - (c0 == d->short_n ? old : 0.0);
    c0 = s->long_count;
    old = push_ring(d->long_r, d->long_n, &s->long_head, &s->long_count, e);
    if (c0 == d->long_n) {
        s->long_sum -= old;
        s->long_sq -= old * old;
    }
    s->long_sum += e;
    s->long_sq += e * e;
    if (s->t <= (uint64_t)d->p.probation)
        return 0.0;
    if (s->t < s->quiet_until)
        return 0.0;
    if (score >= d->p.sup_level)
        s->quiet_until = s->t + (uint64_t)d->p.sup_len;
    return fmin(1.0, fmax(0.0, score));
}

static size_t nab_regions(const eddy_anom *a, anom_region *r)
{
    nab *d = (nab *)a;
    r[0] = (anom_region){&d->s, sizeof d->s};
    r[1] = (anom_region){d->long_r, sizeof(double) * d->long_n};
    r[2] = (anom_region){d->short_r, sizeof(double) * d->short_n};
    r[3] = (anom_region){d->x_r, sizeof(double) * d->long_n};
    return 4;
}

static int nab_check(const eddy_anom *a)
{
    const nab *d = (const nab *)a;
    const nab_state *s = &d->s;
    return s->long_count <= d->long_n && s->long_head < d->long_n &&
                   s->short_count <= d->short_n && s->short_head < d->short_n
               ? 0
               : -1;
}

static void nab_destroy(eddy_anom *a)
{
    nab *d = (nab *)a;
    free(d->long_r);
    free(d->short_r);
    free(d->x_r);
}

static const anom_ops nab_ops = {
    .name = "nab",
    .update = nab_update,
    .reset = nab_reset,
    .regions = nab_regions,
    .check = nab_check,
    .destroy = nab_destroy,
};

void eddy_nab_defaults(eddy_nab_params *p)
{
    /* Tuned on the NAB corpus (standard profile), one setting for all. */
    *p = (eddy_nab_params){.probation = 300, .alpha_fast = 0.05, .long_win = 1000,
                           .short_win = 2, .sup_len = 200, .sup_level = 0.6,
                           .sd_floor = 0.03, .level_w = 1.0};
}

static int win_ok(double v, double lo, double hi)
{
    return v >= lo && v <= hi && v == floor(v);
}

int eddy_nab_new(const eddy_nab_params *p, eddy_anom **out, char *err, size_t errlen)
{
    if (!win_ok(p->long_win, 2, 1 << 24))
        return eddy_anom_bad_param(err, errlen, "nab", "long_win must be a whole number in "
                                   "[2, 16777216], got %g", p->long_win);
    if (!win_ok(p->short_win, 1, 1 << 24))
        return eddy_anom_bad_param(err, errlen, "nab", "short_win must be a whole number in "
                                   "[1, 16777216], got %g", p->short_win);
    if (!(p->alpha_fast > 0 && p->alpha_fast <= 1))
        return eddy_anom_bad_param(err, errlen, "nab", "alpha_fast must be in (0, 1], got %g",
                                   p->alpha_fast);
    if (!(p->probation >= 0 && p->sup_len >= 0 && p->sd_floor > 0 && p->sup_level >= 0))
        return eddy_anom_bad_param(err, errlen, "nab",
                                   "probation, sup_len, sup_level must be >= 0 and sd_floor > 0");
    nab *d = calloc(1, sizeof *d);
    if (!d)
        return EDDY_ENOMEM;
    d->p = *p;
    d->long_n = (uint32_t)p->long_win;
    d->short_n = (uint32_t)p->short_win;
    d->long_r = calloc(d->long_n, sizeof(double));
    d->short_r = calloc(d->short_n, sizeof(double));
    d->x_r = calloc(d->long_n, sizeof(double));
    if (!d->long_r || !d->short_r || !d->x_r) {
        nab_destroy(&d->base);
        free(d);
        return EDDY_ENOMEM;
    }
    d->base.ops = &nab_ops;
    *out = &d->base;
    return 0;
}
