/* Rolling z-score over a ring of the previous `window` values. Welford's
 * add/remove keeps the update O(1); an exact two-pass re-sum every
 * `window` replacements stops rounding from drifting over long streams. */
#include <math.h>
#include <stdlib.h>

#include "engine/core/error.h"
#include "lib/anomaly/anomaly_int.h"

typedef struct {
    uint32_t head, count, since_resum, pad_;
    double mean, m2;
} zscore_state;
#define ZSCORE_STATE_SHAPE "4444" "88"

typedef struct {
    eddy_anom base;
    eddy_zscore_params p;
    double *ring;
    zscore_state s;
} zscore;

static void zscore_reset(eddy_anom *a)
{
    zscore *z = (zscore *)a;
    z->s = (zscore_state){0};
}

static void zscore_resum(zscore *z)
{
    uint32_t n = z->s.count;
    double sum = 0.0, m2 = 0.0;
    for (uint32_t i = 0; i < n; i++)
        sum += z->ring[i];
    double mean = sum / n;
    for (uint32_t i = 0; i < n; i++)
        m2 += (z->ring[i] - mean) * (z->ring[i] - mean);
    z->s.mean = mean;
    z->s.m2 = m2;
    z->s.since_resum = 0;
}

static double zscore_update(eddy_anom *a, double x, int64_t ts_ms)
{
    zscore *z = (zscore *)a;
    zscore_state *s = &z->s;
    uint32_t n = z->p.window;
    double score = 0.0;
    if (s->count == n) {
        double sd = sqrt(s->m2 / n), zz;
        if (sd > 0.0)
            zz = (x - s->mean) / sd;
        else
            zz = x == s->mean ? 0.0 : copysign(INFINITY, x - s->mean);
        a->stat = zz;
        score = eddy_anom_z_to_score(zz);
        double old = z->ring[s->head];
        double mean = s->mean + (x - old) / n;
        s->m2 += (x - old) * (x - mean + old - s->mean);
        if (s->m2 < 0.0)
            s->m2 = 0.0;
        s->mean = mean;
        z->ring[s->head] = x;
        s->head = s->head + 1 == n ? 0 : s->head + 1;
        if (++s->since_resum >= n)
            zscore_resum(z);
    } else {
        z->ring[s->count++] = x;
        double d = x - s->mean;
        s->mean += d / s->count;
        s->m2 += d * (x - s->mean);
    }
    return score;
}

static size_t zscore_regions(const eddy_anom *a, anom_region *r)
{
    zscore *z = (zscore *)a;
    r[0] = (anom_region){&z->s, sizeof z->s, ZSCORE_STATE_SHAPE};
    r[1] = (anom_region){z->ring, sizeof(double) * z->p.window, ANOM_F64};
    return 2;
}

static int zscore_check(const eddy_anom *a)
{
    const zscore *z = (const zscore *)a;
    return z->s.count <= z->p.window && z->s.head < z->p.window ? 0 : -1;
}

static void zscore_destroy(eddy_anom *a)
{
    free(((zscore *)a)->ring);
}

static const anom_ops zscore_ops = {
    .name = "zscore",
    .update = zscore_update,
    .reset = zscore_reset,
    .regions = zscore_regions,
    .check = zscore_check,
    .destroy = zscore_destroy,
};

void eddy_zscore_defaults(eddy_zscore_params *p)
{
    p->window = 100;
}

int eddy_zscore_new(const eddy_zscore_params *p, eddy_anom **out, char *err, size_t errlen)
{
    if (p->window < 2 || p->window > (1u << 28))
        return eddy_anom_bad_param(err, errlen, "zscore",
                                   "window must be in [2, 268435456], got %u", p->window);
    zscore *z = calloc(1, sizeof *z);
    if (!z)
        return EDDY_ENOMEM;
    z->ring = calloc(p->window, sizeof(double));
    if (!z->ring) {
        free(z);
        return EDDY_ENOMEM;
    }
    z->base.ops = &zscore_ops;
    z->p = *p;
    *out = &z->base;
    return 0;
}
