/* SPOT / DSPOT streaming loop (Siffer et al. 2017); see anomaly.h for the
 * exact rules and grimshaw.c for the fit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/error.h"
#include "lib/anomaly/anomaly_int.h"
#include "lib/anomaly/grimshaw.h"

enum { PH_MA = 0, PH_CALIB = 1, PH_RUN = 2 };

typedef struct {
    double t, zq, gamma, sigma;
    uint64_t nt; /* peaks ever seen: the exceedance count */
    uint32_t head, count;
    uint32_t since_fit, pad_; /* peaks since the last GPD fit */
    grim_hints hint;          /* the last fit's roots, where the next one starts */
} spot_side;
#define SPOT_SIDE_SHAPE "8888" "8" "44" "44" GRIM_HINTS_SHAPE

typedef struct {
    uint64_t n; /* non-alarm values since calibration started */
    uint32_t phase, filled, ma_head, ma_count;
    double ma_sum;
    uint32_t since_resum, pad_;
    spot_side up, down;
} spot_state;
#define SPOT_STATE_SHAPE "8" "4444" "8" "44" SPOT_SIDE_SHAPE SPOT_SIDE_SHAPE

typedef struct {
    eddy_anom base;
    eddy_spot_params p;
    double *init;    /* calibration residuals, in arrival order */
    double *sorted;  /* scratch for the initial quantile */
    double *pk_up, *pk_down;
    double *ma;      /* DSPOT's window of normal values */
    spot_state s;
} spot;

static double spot_ma(const spot *sp)
{
    return sp->p.depth ? sp->s.ma_sum / sp->s.ma_count : 0.0;
}

static void spot_ma_push(spot *sp, double x)
{
    spot_state *s = &sp->s;
    uint32_t d = sp->p.depth;
    if (!d)
        return;
    if (s->ma_count < d) {
        sp->ma[s->ma_count++] = x;
        s->ma_sum += x;
        return;
    }
    s->ma_sum += x - sp->ma[s->ma_head];
    sp->ma[s->ma_head] = x;
    s->ma_head = s->ma_head + 1 == d ? 0 : s->ma_head + 1;
    /* Re-sum now and then so the running sum cannot drift. */
    if (++s->since_resum >= d) {
        double sum = 0.0;
        for (uint32_t i = 0; i < d; i++)
            sum += sp->ma[i];
        s->ma_sum = sum;
        s->since_resum = 0;
    }
}

/* z_q from the current fit and the current n / N_t. */
static void side_zq(spot *sp, spot_side *sd)
{
    if (sd->count == 0) {
        sd->zq = sd->t;
        return;
    }
    double r = sp->p.q * (double)sp->s.n / (double)sd->nt;
    if (sd->gamma != 0.0)
        sd->zq = sd->t + sd->sigma / sd->gamma * (pow(r, -sd->gamma) - 1.0);
    else
        sd->zq = sd->t - sd->sigma * log(r);
}

static void side_fit(spot *sp, spot_side *sd, const double *pk)
{
    sd->since_fit = 0;
    if (sd->count == 0)
        sd->gamma = sd->sigma = 0.0;
    else
        eddy_spot_grimshaw_warm(pk, sd->count, sp->p.n_points, &sd->gamma, &sd->sigma,
                                &sd->hint);
    side_zq(sp, sd);
}

/* After a streaming peak: the paper refits on every one; with refit_every
 * k > 1 only every k-th peak refits and the others move z_q with n / N_t
 * under the last fit. */
static void side_peak_fit(spot *sp, spot_side *sd, const double *pk)
{
    if (++sd->since_fit >= sp->p.refit_every)
        side_fit(sp, sd, pk);
    else
        side_zq(sp, sd);
}

static void side_add_peak(spot *sp, spot_side *sd, double *pk, double excess)
{
    uint32_t cap = sp->p.max_peaks;
    if (sd->count < cap) {
        pk[sd->count++] = excess;
    } else {
        pk[sd->head] = excess;
        sd->head = sd->head + 1 == cap ? 0 : sd->head + 1;
    }
    sd->nt++;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void spot_calibrate(spot *sp)
{
    spot_state *s = &sp->s;
    uint32_t n = sp->p.n_init;
    memcpy(sp->sorted, sp->init, sizeof(double) * n);
    qsort(sp->sorted, n, sizeof(double), cmp_double);
    uint32_t k = (uint32_t)(sp->p.level * n);
    if (k >= n)
        k = n - 1;
    s->n = n;
    s->up = (spot_side){.t = sp->sorted[k]};
    s->down = (spot_side){.t = -sp->sorted[n - 1 - k]};
    for (uint32_t i = 0; i < n; i++) {
        double y = sp->init[i];
        if (y > s->up.t)
            side_add_peak(sp, &s->up, sp->pk_up, y - s->up.t);
        if (sp->p.two_sided && -y > s->down.t)
            side_add_peak(sp, &s->down, sp->pk_down, -y - s->down.t);
    }
    side_fit(sp, &s->up, sp->pk_up);
    if (sp->p.two_sided)
        side_fit(sp, &s->down, sp->pk_down);
    s->phase = PH_RUN;
}

/* The tail probability of v under the fitted model, P(X > v) = (N_t / n)
 * (1 + gamma (v - t) / sigma)^(-1 / gamma) (exp(-(v - t) / sigma) at gamma
 * 0), as a score (anomaly.h): z_q is where it equals q, so the alarm is
 * score >= -log10(q) / 10 (0.4 at the default q = 1e-4). Values at or
 * below t score 0: the model says nothing finer there. */
static double side_score(const spot *sp, const spot_side *sd, double v)
{
    if (!(v > sd->t))
        return 0.0;
    if (sd->count == 0 || !(sd->sigma > 0.0) || sd->nt == 0)
        return 1.0;
    double u = (v - sd->t) / sd->sigma, ln_p = log((double)sd->nt / (double)sp->s.n);
    if (sd->gamma != 0.0) {
        double b = 1.0 + sd->gamma * u;
        if (!(b > 0.0))
            return 1.0; /* beyond the fitted distribution's end */
        ln_p -= log(b) / sd->gamma;
    } else {
        ln_p -= u;
    }
    return eddy_anom_tail_score(ln_p);
}

static double spot_update(eddy_anom *a, double x, int64_t ts_ms)
{
    spot *sp = (spot *)a;
    spot_state *s = &sp->s;
    if (s->phase == PH_MA) {
        spot_ma_push(sp, x);
        if (s->ma_count == sp->p.depth)
            s->phase = PH_CALIB;
        return 0.0;
    }
    double y = x - spot_ma(sp);
    if (s->phase == PH_CALIB) {
        sp->init[s->filled++] = y;
        spot_ma_push(sp, x);
        if (s->filled == sp->p.n_init)
            spot_calibrate(sp);
        return 0.0;
    }
    int two = sp->p.two_sided;
    double su = side_score(sp, &s->up, y), sdn = two ? side_score(sp, &s->down, -y) : 0.0;
    a->stat = two ? fmax(y - s->up.zq, -y - s->down.zq) : y - s->up.zq;
    if (y > s->up.zq || (two && -y > s->down.zq))
        return fmax(su, sdn);
    if (y > s->up.t) {
        side_add_peak(sp, &s->up, sp->pk_up, y - s->up.t);
        s->n++;
        side_peak_fit(sp, &s->up, sp->pk_up);
    } else if (two && -y > s->down.t) {
        side_add_peak(sp, &s->down, sp->pk_down, -y - s->down.t);
        s->n++;
        side_peak_fit(sp, &s->down, sp->pk_down);
    } else {
        s->n++;
    }
    spot_ma_push(sp, x);
    return fmax(su, sdn);
}

static double spot_upper(const eddy_anom *a)
{
    const spot *sp = (const spot *)a;
    return sp->s.phase == PH_RUN ? sp->s.up.zq + spot_ma(sp) : NAN;
}

static double spot_lower(const eddy_anom *a)
{
    const spot *sp = (const spot *)a;
    return sp->s.phase == PH_RUN && sp->p.two_sided ? -sp->s.down.zq + spot_ma(sp) : NAN;
}

static void spot_reset(eddy_anom *a)
{
    spot *sp = (spot *)a;
    sp->s = (spot_state){.phase = sp->p.depth ? PH_MA : PH_CALIB};
}

static size_t spot_regions(const eddy_anom *a, anom_region *r)
{
    spot *sp = (spot *)a;
    size_t k = 0;
    r[k++] = (anom_region){&sp->s, sizeof sp->s, SPOT_STATE_SHAPE};
    r[k++] = (anom_region){sp->init, sizeof(double) * sp->p.n_init, ANOM_F64};
    r[k++] = (anom_region){sp->pk_up, sizeof(double) * sp->p.max_peaks, ANOM_F64};
    if (sp->pk_down)
        r[k++] = (anom_region){sp->pk_down, sizeof(double) * sp->p.max_peaks, ANOM_F64};
    if (sp->ma)
        r[k++] = (anom_region){sp->ma, sizeof(double) * sp->p.depth, ANOM_F64};
    return k;
}

static int side_ok(const spot *sp, const spot_side *sd)
{
    return sd->count <= sp->p.max_peaks && sd->head < sp->p.max_peaks &&
           sd->since_fit < sp->p.refit_every &&
           (sd->count == sp->p.max_peaks || sd->head == 0) && sd->nt >= sd->count &&
           sd->hint.n <= GRIM_HINTS;
}

static int spot_check(const eddy_anom *a)
{
    const spot *sp = (const spot *)a;
    const spot_state *s = &sp->s;
    int ok = s->phase <= PH_RUN && s->filled <= sp->p.n_init && s->ma_count <= sp->p.depth &&
             (sp->p.depth == 0 || s->ma_head < sp->p.depth) && side_ok(sp, &s->up) &&
             side_ok(sp, &s->down) && (s->phase != PH_CALIB || s->ma_count == sp->p.depth);
    return ok ? 0 : -1;
}

static void spot_destroy(eddy_anom *a)
{
    spot *sp = (spot *)a;
    free(sp->init);
    free(sp->sorted);
    free(sp->pk_up);
    free(sp->pk_down);
    free(sp->ma);
}

/* SPOT and DSPOT share every function; only the name (in snapshots and
 * messages) tells them apart. */
#define SPOT_OPS(kind)                                                                    \
    {                                                                                     \
        .name = kind, .update = spot_update, .reset = spot_reset, .threshold = spot_upper, \
        .threshold_lower = spot_lower, .regions = spot_regions, .check = spot_check,       \
        .destroy = spot_destroy,                                                          \
    }
static const anom_ops spot_ops = SPOT_OPS("spot");
static const anom_ops dspot_ops = SPOT_OPS("dspot");

void eddy_spot_defaults(eddy_spot_params *p)
{
    *p = (eddy_spot_params){.n_init = 1000, .level = 0.98, .q = 1e-4, .depth = 0,
                            .max_peaks = 1000, .n_points = 10, .two_sided = 0,
                            .refit_every = 1};
}

void eddy_dspot_defaults(eddy_spot_params *p)
{
    eddy_spot_defaults(p);
    p->depth = 10;
}

int eddy_spot_new(const eddy_spot_params *p, eddy_anom **out, char *err, size_t errlen)
{
    const char *nm = p->depth ? "dspot" : "spot";
    if (p->n_init < 10 || p->n_init > (1u << 26))
        return eddy_anom_bad_param(err, errlen, nm, "n_init must be in [10, 67108864], got %u",
                                   p->n_init);
    if (!(p->level > 0.0 && p->level < 1.0))
        return eddy_anom_bad_param(err, errlen, nm, "level must be in (0, 1), got %g", p->level);
    if (!(p->q > 0.0 && p->q < 1.0))
        return eddy_anom_bad_param(err, errlen, nm, "q must be in (0, 1), got %g", p->q);
    if (p->depth > (1u << 24))
        return eddy_anom_bad_param(err, errlen, nm, "depth must be <= 16777216, got %u",
                                   p->depth);
    if (p->max_peaks < 10 || p->max_peaks > (1u << 24))
        return eddy_anom_bad_param(err, errlen, nm,
                                   "max_peaks must be in [10, 16777216], got %u", p->max_peaks);
    if (p->n_points < 2 || p->n_points > 1000)
        return eddy_anom_bad_param(err, errlen, nm, "n_points must be in [2, 1000], got %u",
                                   p->n_points);
    if (p->refit_every > (1u << 24))
        return eddy_anom_bad_param(err, errlen, nm, "refit_every must be <= 16777216, got %u",
                                   p->refit_every);
    spot *sp = calloc(1, sizeof *sp);
    if (!sp)
        return EDDY_ENOMEM;
    sp->p = *p;
    sp->p.two_sided = p->two_sided != 0;
    if (sp->p.refit_every == 0)
        sp->p.refit_every = 1;
    sp->base.ops = p->depth ? &dspot_ops : &spot_ops;
    sp->init = calloc(p->n_init, sizeof(double));
    sp->sorted = calloc(p->n_init, sizeof(double));
    sp->pk_up = calloc(p->max_peaks, sizeof(double));
    int bad = !sp->init || !sp->sorted || !sp->pk_up;
    if (p->two_sided)
        bad |= !(sp->pk_down = calloc(p->max_peaks, sizeof(double)));
    if (p->depth)
        bad |= !(sp->ma = calloc(p->depth, sizeof(double)));
    if (bad) {
        spot_destroy(&sp->base);
        free(sp);
        return EDDY_ENOMEM;
    }
    spot_reset(&sp->base);
    *out = &sp->base;
    return 0;
}
