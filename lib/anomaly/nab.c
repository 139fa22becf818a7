/* The NAB detector (anomaly.h says what it does and why). Three surprise
 * channels share one alarm gate; all state lives in plain buffers listed
 * as snapshot regions. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/error.h"
#include "lib/anomaly/anomaly_int.h"
#include "lib/anomaly/nab_art.h"

#define TOD_SLOTS 48 /* hour of day x (weekday, weekend) */

/* Anomaly likelihood of one raw score: a ring of its last long_n values
 * with their running sum and sum of squares, and the sum of the newest
 * short_n of them. */
typedef struct {
    double long_sum, long_sq, short_sum;
    uint32_t head, count;
} lik_state;
#define LIK_STATE_SHAPE "88844"

typedef struct {
    uint64_t t;
    double lo, hi;  /* range seen so far */
    double fast;    /* EWMA prediction */
    double x_sum, x_sq;
    uint32_t x_head, x_count;
    lik_state err, ctx;
    uint64_t quiet_until;
    uint32_t bin_head, bin_count;
    uint64_t slots_seen; /* time-of-day slots visited */
    double rec;          /* decaying record of the combined score */
    double alarm;        /* the score of the last alarm */
    double seen_lo, seen_hi; /* the values seen (lo, hi may start wider) */
    nab_art_state art;
    lik_state art_lik;
} nab_state;
#define NAB_STATE_SHAPE                                                                     \
    "888888" "44" LIK_STATE_SHAPE LIK_STATE_SHAPE "8" "44" "8" "88" "88" NAB_ART_STATE_SHAPE \
        LIK_STATE_SHAPE

typedef struct {
    eddy_anom base;
    eddy_nab_params p;
    uint32_t long_n, short_n, ctx_short_n, bins, lags;
    double *err_r, *ctx_r, *x_r;
    uint8_t *bin_r;  /* the last `lags` bins */
    uint64_t *seen;  /* one bit per (lag, bin now, bin then) and (slot, bin) */
    size_t seen_words;
    nab_art art;
    double *art_r;   /* the shape novelties' likelihood ring */
    double rec_decay; /* exp(-1 / rec_tau), once */
    nab_state s;
} nab;

static void nab_reset(eddy_anom *a)
{
    nab *d = (nab *)a;
    d->s = (nab_state){0};
    memset(d->seen, 0, 2 * d->seen_words * sizeof *d->seen);
}

/* ln Q(z), the log of the standard normal's upper tail, without the
 * underflow of erfc far out (asymptotic series beyond z = 5). */
static double log_q(double z)
{
    if (z < 5.0)
        return log(0.5 * erfc(z / sqrt(2.0)));
    return -0.5 * z * z - log(z * sqrt(2.0 * M_PI)) + log1p(-1.0 / (z * z));
}

/* A tail probability ln q on the log scale of the scores: 0 at q = 1, 1 at
 * q = 10^-digits and beyond. */
static double tail_score(double ln_q, double digits, double cap)
{
    return fmin(cap, -ln_q / (digits * M_LN10));
}

/* The mean of the newest short_n raw scores (v included) against the
 * Gaussian of the last long_n: ln(Q(z)) / ln(1e-10), clipped to [0,1] by
 * construction; then v joins the ring. */
static double lik_push(lik_state *l, double *ring, uint32_t n, uint32_t short_n, double sd_floor,
                       double digits, double cap, double v, double *z_out)
{
    double score = 0.0;
    uint32_t back = l->head >= short_n ? l->head - short_n : l->head + n - short_n;
    if (l->count > short_n && l->count >= 2) {
        double cnt = l->count, mu = l->long_sum / cnt;
        double sd = fmax(sqrt(fmax(0.0, l->long_sq / cnt - mu * mu)), sd_floor);
        double z = ((l->short_sum + v - ring[back]) / short_n - mu) / sd;
        score = fmax(0.0, tail_score(log_q(z), digits, cap));
        *z_out = z;
    }
    if (l->count >= short_n)
        l->short_sum -= ring[back];
    l->short_sum += v;
    if (l->count == n) {
        l->long_sum -= ring[l->head];
        l->long_sq -= ring[l->head] * ring[l->head];
    } else {
        l->count++;
    }
    ring[l->head] = v;
    l->head = l->head + 1 == n ? 0 : l->head + 1;
    l->long_sum += v;
    l->long_sq += v * v;
    return score;
}

/* Seen pairings live in two generations (the current one, then the one
 * before it): with ctx_forget > 0 the older is dropped every ctx_forget
 * values, so a pairing not seen for that long becomes news again. */
/* b^e; whole e up to 16 (the tuned ones) by multiplication, which is
 * several times cheaper than pow() on the per-value path. */
static double pow_fast(double b, double e)
{
    if (e == floor(e) && e >= 0 && e <= 16) {
        double r = 1.0;
        for (int i = 0; i < (int)e; i++)
            r *= b;
        return r;
    }
    return pow(b, e);
}

static int test_and_set(nab *d, size_t bit)
{
    uint64_t m = 1ULL << (bit & 63), *cur = d->seen, *old = d->seen + d->seen_words;
    int was = ((cur[bit >> 6] | old[bit >> 6]) & m) != 0;
    cur[bit >> 6] |= m;
    return was;
}

/* Share of the current bin's pairings never seen before; -1 until the
 * lag ring is full. */
static double ctx_fresh(nab *d, double x, double range, int64_t ts_ms)
{
    nab_state *s = &d->s;
    uint32_t B = d->bins, q = 0, n = s->bin_count;
    if (range > 0) {
        double f = (x - s->lo) / range * B;
        q = f >= B ? B - 1 : (uint32_t)f;
    }
    double fresh = 0;
    for (uint32_t j = 0; j < n; j++) {
        uint32_t k = s->bin_head > j ? s->bin_head - j - 1 : s->bin_head + d->lags - j - 1;
        fresh += !test_and_set(d, ((size_t)j * B + q) * B + d->bin_r[k]);
    }
    if (d->p.tod_w > 0) {
        int64_t sec = ts_ms / 1000, day = sec / 86400 - (sec % 86400 < 0);
        uint32_t slot = (uint32_t)((sec % 86400 + 86400) % 86400 / 3600);
        int64_t dow = (day % 7 + 7) % 7; /* 1970-01-01 was a Thursday */
        if (dow == 2 || dow == 3)
            slot += 24;
        size_t bit = (size_t)d->lags * B * B + (size_t)slot * B + q;
        /* A slot's first visit tells nothing: no bin is usual there yet. */
        int known = (s->slots_seen >> slot) & 1;
        s->slots_seen |= 1ULL << slot;
        fresh += test_and_set(d, bit) || !known ? 0 : d->p.tod_w;
    }
    d->bin_r[s->bin_head] = (uint8_t)q;
    s->bin_head = s->bin_head + 1 == d->lags ? 0 : s->bin_head + 1;
    if (s->bin_count < d->lags)
        s->bin_count++;
    return n == d->lags ? fresh / (n + d->p.tod_w) : -1.0;
}

static double nab_update(eddy_anom *a, double x, int64_t ts_ms)
{
    nab *d = (nab *)a;
    nab_state *s = &d->s;
    const eddy_nab_params *p = &d->p;
    if (s->t == 0) {
        s->lo = s->hi = s->fast = s->seen_lo = s->seen_hi = x;
        if (p->range_hi > p->range_lo) {
            s->lo = fmin(x, p->range_lo);
            s->hi = fmax(x, p->range_hi);
        }
    }
    s->t++;
    s->lo = fmin(s->lo, x);
    s->hi = fmax(s->hi, x);
    double range = s->hi - s->lo;
    /* 0. A value beyond every one seen so far, by a margin. */
    double sp = 0.0;
    if (p->sp_w > 0 && range > 0) {
        double ex = fmax(x - s->seen_hi, s->seen_lo - x) / range;
        if (p->sp_grade > 0)
            sp = ex > 0 ? p->sp_w * fmin(1.0, pow(ex / p->sp_tol, p->sp_grade)) : 0.0;
        else if (ex > p->sp_tol)
            sp = p->sp_w;
        /* With a known range, how far out the new extreme is: one at the
         * edge of the range is the rarest the series will see. */
        if (sp > 0 && p->sp_pos > 0) {
            double pos = x > s->seen_hi ? (x - s->lo) / range : (s->hi - x) / range;
            sp *= pow_fast(fmin(1.0, fmax(0.0, pos)), p->sp_pos);
        }
    }
    s->seen_lo = fmin(s->seen_lo, x);
    s->seen_hi = fmax(s->seen_hi, x);

    /* 1. Prediction error likelihood. */
    double e = range > 0 ? fabs(x - s->fast) / range : 0.0;
    s->fast += p->alpha_fast * (x - s->fast);
    double z = 0.0;
    double score = lik_push(&s->err, d->err_r, d->long_n, d->short_n, p->sd_floor, p->digits,
                            p->cap, e, &z);
    a->stat = z;

    /* 2. Level novelty against the last long_n values. */
    if (p->level_w > 0 && s->x_count >= 1) {
        double n = s->x_count, mu = s->x_sum / n;
        double sd = fmax(sqrt(fmax(0.0, s->x_sq / n - mu * mu)), p->sd_floor * range);
        double zl = range > 0 ? fabs(x - mu) / sd : 0.0;
        score = fmax(score, p->level_w * tail_score(M_LN2 + log_q(zl), p->digits, p->cap));
    }
    if (s->x_count == d->long_n) {
        s->x_sum -= d->x_r[s->x_head];
        s->x_sq -= d->x_r[s->x_head] * d->x_r[s->x_head];
    } else {
        s->x_count++;
    }
    d->x_r[s->x_head] = x;
    s->x_head = s->x_head + 1 == d->long_n ? 0 : s->x_head + 1;
    s->x_sum += x;
    s->x_sq += x * x;

    /* 3. Context novelty likelihood. */
    if (p->ctx_forget > 0 && s->t % (uint64_t)p->ctx_forget == 0) {
        memcpy(d->seen + d->seen_words, d->seen, d->seen_words * sizeof *d->seen);
        memset(d->seen, 0, d->seen_words * sizeof *d->seen);
    }
    if (p->ctx_w > 0) {
        double f = ctx_fresh(d, x, range, ts_ms), zc = 0.0;
        if (f >= 0)
            score = fmax(score, p->ctx_w * lik_push(&s->ctx, d->ctx_r, d->long_n,
                                                    d->ctx_short_n, p->ctx_sd_floor, p->digits,
                                                    p->cap, f, &zc));
    }

    /* 4. Shape novelty likelihood. */
    if (p->art_w > 0) {
        double v = range > 0 ? (x - s->lo) / range : 0.5, za = 0.0;
        double nv = nab_art_push(&d->art, &s->art, v);
        if (nv >= 0)
            score = fmax(score, p->art_w * lik_push(&s->art_lik, d->art_r, d->long_n,
                                                    d->ctx_short_n, p->ctx_sd_floor, p->digits,
                                                    p->cap, nv, &za));
    }

    score = fmin(p->cap, fmax(sp, fmax(0.0, score)));
    double out = score;
    if (p->rec_w > 0) {
        double bar = p->rec_w * s->rec;
        if (score < bar)
            out = score * pow_fast(score / bar, p->rec_pow);
        if (s->t > (uint64_t)p->rec_start)
            s->rec = fmax(s->rec * d->rec_decay, score);
    }
    if (s->t <= (uint64_t)p->probation)
        return 0.0;
    if (s->t < s->quiet_until && !(p->sup_mode > 0 && out > s->alarm))
        return 0.0;
    if (out >= p->sup_level) {
        s->quiet_until = s->t + (uint64_t)p->sup_len;
        s->alarm = out;
    }
    return fmin(1.0, out);
}

static size_t nab_regions(const eddy_anom *a, anom_region *r)
{
    nab *d = (nab *)a;
    r[0] = (anom_region){&d->s, sizeof d->s, NAB_STATE_SHAPE};
    r[1] = (anom_region){d->err_r, sizeof(double) * d->long_n, ANOM_F64};
    r[2] = (anom_region){d->ctx_r, sizeof(double) * d->long_n, ANOM_F64};
    r[3] = (anom_region){d->x_r, sizeof(double) * d->long_n, ANOM_F64};
    r[4] = (anom_region){d->bin_r, d->lags, "1"};
    r[5] = (anom_region){d->seen, 2 * d->seen_words * sizeof *d->seen, "8"};
    r[6] = (anom_region){d->art.w, sizeof(double) * d->art.cats * 2 * d->art.dim, ANOM_F64};
    r[7] = (anom_region){d->art.feat, sizeof(double) * d->art.dim, ANOM_F64};
    r[8] = (anom_region){d->art_r, sizeof(double) * d->long_n, ANOM_F64};
    return 9;
}

static int nab_check(const eddy_anom *a)
{
    const nab *d = (const nab *)a;
    const nab_state *s = &d->s;
    int ok = s->err.count <= d->long_n && s->err.head < d->long_n &&
             s->ctx.count <= d->long_n && s->ctx.head < d->long_n &&
             s->x_count <= d->long_n && s->x_head < d->long_n && s->bin_count <= d->lags &&
             s->bin_head < d->lags && s->art_lik.count <= d->long_n &&
             s->art_lik.head < d->long_n && nab_art_check(&d->art, &s->art) == 0;
    for (uint32_t i = 0; ok && i < d->lags; i++)
        ok = d->bin_r[i] < d->bins;
    return ok ? 0 : -1;
}

static void nab_destroy(eddy_anom *a)
{
    nab *d = (nab *)a;
    free(d->err_r);
    free(d->ctx_r);
    free(d->x_r);
    free(d->bin_r);
    free(d->seen);
    free(d->art_r);
    nab_art_free(&d->art);
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
    /* Tuned on the NAB corpus (standard profile), one setting for all:
     * benchmarks/nab/tune/nab_tune.py and nab_search.py. */
    *p = (eddy_nab_params){.probation = 300, .alpha_fast = 0.05, .long_win = 1000,
                           .short_win = 3, .sup_len = 100, .sup_level = 0.4, .sd_floor = 0.01,
                           .level_w = 0, .ctx_w = 1.2, .ctx_bins = 32, .ctx_lags = 16,
                           .ctx_short = 3, .ctx_sd_floor = 0.03, .tod_w = 8, .rec_w = 1.0,
                           .rec_tau = 2000, .rec_pow = 4, .sup_mode = 0, .digits = 20,
                           .sp_w = 1.0, .sp_tol = 0.01, .sp_grade = 0, .cap = 1,
                           .art_w = 1.2, .art_dim = 4, .art_ds = 1, .art_cats = 64,
                           .art_rho = 0.95, .art_beta = 0.1, .rec_start = 300,
                           .ctx_forget = 0, .sp_pos = 0.5};
}

static int whole_in(double v, double lo, double hi)
{
    return v >= lo && v <= hi && v == floor(v);
}

int eddy_nab_new(const eddy_nab_params *p, eddy_anom **out, char *err, size_t errlen)
{
    if (!whole_in(p->long_win, 2, 1 << 24))
        return eddy_anom_bad_param(err, errlen, "nab", "long_win must be a whole number in "
                                   "[2, 16777216], got %g", p->long_win);
    if (!whole_in(p->short_win, 1, p->long_win - 1) ||
        !whole_in(p->ctx_short, 1, p->long_win - 1))
        return eddy_anom_bad_param(err, errlen, "nab", "short_win and ctx_short must be whole "
                                   "numbers in [1, long_win - 1], got %g and %g",
                                   p->short_win, p->ctx_short);
    if (!whole_in(p->ctx_bins, 2, 256) || !whole_in(p->ctx_lags, 1, 64))
        return eddy_anom_bad_param(err, errlen, "nab", "ctx_bins must be a whole number in "
                                   "[2, 256] and ctx_lags in [1, 64], got %g and %g",
                                   p->ctx_bins, p->ctx_lags);
    if (!whole_in(p->art_dim, 1, NAB_ART_MAX_DIM) || !whole_in(p->art_ds, 1, 1 << 20) ||
        !whole_in(p->art_cats, 1, NAB_ART_MAX_CATS) || !(p->art_rho > 0 && p->art_rho <= 1) ||
        !(p->art_beta > 0 && p->art_beta <= 1) || !(p->art_w >= 0))
        return eddy_anom_bad_param(err, errlen, "nab", "art_dim must be a whole number in "
                                   "[1, 32], art_ds in [1, 1048576], art_cats in [1, 1024]; "
                                   "art_rho and art_beta in (0, 1], art_w >= 0");
    if (!(p->alpha_fast > 0 && p->alpha_fast <= 1))
        return eddy_anom_bad_param(err, errlen, "nab", "alpha_fast must be in (0, 1], got %g",
                                   p->alpha_fast);
    if (!(isfinite(p->range_lo) && isfinite(p->range_hi) && p->range_lo <= p->range_hi))
        return eddy_anom_bad_param(err, errlen, "nab", "the expected range must be two finite "
                                   "numbers, lo <= hi, got %g and %g", p->range_lo, p->range_hi);
    if (!(p->probation >= 0 && p->sup_len >= 0 && p->sup_level >= 0 && p->level_w >= 0 &&
          p->ctx_w >= 0 && p->tod_w >= 0 && p->sd_floor > 0 && p->ctx_sd_floor > 0 &&
          p->digits > 0 && p->cap >= 1 && p->sp_w >= 0 && p->sp_tol >= 0 && p->rec_w >= 0 && p->rec_start >= 0 && p->ctx_forget >= 0 && p->sp_pos >= 0 && p->rec_tau > 0 && p->rec_pow >= 0 && p->sup_mode >= 0))
        return eddy_anom_bad_param(err, errlen, "nab", "probation, sup_len, sup_level, level_w, "
                                   "ctx_w and tod_w must be >= 0, sd_floor and ctx_sd_floor > 0");
    nab *d = calloc(1, sizeof *d);
    if (!d)
        return EDDY_ENOMEM;
    d->p = *p;
    d->rec_decay = exp(-1.0 / p->rec_tau);
    d->long_n = (uint32_t)p->long_win;
    d->short_n = (uint32_t)p->short_win;
    d->ctx_short_n = (uint32_t)p->ctx_short;
    d->bins = (uint32_t)p->ctx_bins;
    d->lags = (uint32_t)p->ctx_lags;
    d->seen_words = ((size_t)d->lags * d->bins * d->bins + (size_t)TOD_SLOTS * d->bins + 63) / 64;
    d->err_r = calloc(d->long_n, sizeof(double));
    d->ctx_r = calloc(d->long_n, sizeof(double));
    d->x_r = calloc(d->long_n, sizeof(double));
    d->bin_r = calloc(d->lags, 1);
    d->seen = calloc(2 * d->seen_words, sizeof *d->seen);
    d->art_r = calloc(d->long_n, sizeof(double));
    int art_ok = nab_art_init(&d->art, (uint32_t)p->art_dim, (uint32_t)p->art_ds,
                              (uint32_t)p->art_cats, p->art_rho, p->art_beta) == 0;
    if (!d->err_r || !d->ctx_r || !d->x_r || !d->bin_r || !d->seen || !d->art_r || !art_ok) {
        nab_destroy(&d->base);
        free(d);
        return EDDY_ENOMEM;
    }
    d->base.ops = &nab_ops;
    *out = &d->base;
    return 0;
}
