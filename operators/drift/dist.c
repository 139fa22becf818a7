/* distribution_drift: windows and references (see dist.h). Records are
 * added to reservoirs as they pass; a window closes after window_size
 * records, or when event time (a record's, or the watermark) passes its end
 * with window_period; each close runs one check (dist_check.c). The records
 * themselves pass through unchanged. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "operators/drift/dist.h"

static void win_free(dwin *w)
{
    eddy_sample_free(w->s);
    eddy_catcount_free(w->c);
    w->s = NULL;
    w->c = NULL;
}

static int win_new(dwin *w, int categorical, uint32_t size, uint32_t cats, uint64_t seed)
{
    if (categorical)
        w->c = eddy_catcount_new(cats);
    else
        w->s = eddy_sample_new(size, seed);
    return w->s || w->c ? 0 : -1;
}

static void win_clear(dwin *w)
{
    if (w->s)
        eddy_sample_clear(w->s);
    if (w->c)
        eddy_catcount_clear(w->c);
}

static void win_swap(dwin *a, dwin *b)
{
    dwin t = *a;
    *a = *b;
    *b = t;
}

static void dist_destroy(void *state)
{
    dist *d = state;
    if (!d)
        return;
    for (uint32_t i = 0; i < d->nf; i++) {
        dfeat *f = &d->f[i];
        win_free(&f->ref);
        win_free(&f->cur);
        win_free(&f->last);
        if (f->lag)
            for (uint32_t k = 0; k < d->lag; k++)
                win_free(&f->lag[k]);
        d->h->free(f->lag);
    }
    d->h->free(d->f);
    d->h->free(d->lagb);
    d->h->free(d->scratch_a);
    d->h->free(d->scratch_b);
    d->h->free(d);
}

static const char *const stat_names[ST_N] = {"psi", "ks", "js", "wasserstein"};

static int parse_stats(dist *d, const eddy_opts *o, char *err, size_t errlen)
{
    const eddy_host *h = d->h;
    uint32_t n = h->opt_count(o, "statistics");
    if (n == 0) {
        for (int s = 0; s < ST_N; s++)
            d->stats[s] = 1;
        return 0;
    }
    for (uint32_t i = 0; i < n; i++) {
        const char *s = h->opt_item(o, "statistics", i);
        int k = -1;
        for (int j = 0; j < ST_N; j++)
            if (strcmp(s, stat_names[j]) == 0)
                k = j;
        if (k < 0) {
            snprintf(err, errlen, "statistics[%u]: unknown statistic '%s' (psi, ks, js, wasserstein)",
                     i, s);
            return -1;
        }
        d->stats[k] = 1;
    }
    return 0;
}

static int ref_mode_of(const char *s)
{
    static const char *const m[] = {"first_n", "first_period", "lagged", "file", "snapshot"};
    for (int i = 0; i < 5; i++)
        if (s && strcmp(s, m[i]) == 0)
            return i;
    return REF_FIRST_N;
}

/* Sample memory a step may ask for (see dist_create). */
#define DIST_MAX_BYTES ((uint64_t)1 << 30)

static int add_features(dist *d, const eddy_opts *o, const char *opt, int categorical,
                        uint32_t *at, char *err, size_t errlen)
{
    const eddy_host *h = d->h;
    uint32_t n = h->opt_count(o, opt);
    uint32_t size = (uint32_t)h->opt_int(o, "sample_size");
    uint32_t cats = (uint32_t)h->opt_int(o, "categories");
    uint64_t seed = (uint64_t)h->opt_int(o, "seed");
    for (uint32_t i = 0; i < n; i++) {
        dfeat *f = &d->f[(*at)++];
        f->name = h->opt_item(o, opt, i);
        f->sym = h->intern(f->name, strlen(f->name));
        f->categorical = categorical;
        for (uint32_t j = 0; j + 1 < *at; j++)
            if (d->f[j].sym == f->sym) {
                snprintf(err, errlen, "%s: feature '%s' is listed twice", opt, f->name);
                return -1;
            }
        /* Distinct seeds per window so reservoirs do not pick alike. */
        uint64_t s0 = seed * 1000003u + (uint64_t)*at * 64u;
        int rc = win_new(&f->ref, categorical, size, cats, s0 + 1);
        rc |= win_new(&f->cur, categorical, size, cats, s0 + 2);
        rc |= win_new(&f->last, categorical, size, cats, s0 + 3);
        if (d->ref_mode == REF_LAGGED) {
            f->lag = h->alloc(sizeof *f->lag * d->lag);
            if (!f->lag)
                rc = -1;
            else
                for (uint32_t k = 0; k < d->lag; k++) {
                    f->lag[k] = (dwin){0};
                    rc |= win_new(&f->lag[k], categorical, size, cats, s0 + 4 + k);
                }
        }
        if (rc) {
            snprintf(err, errlen, "out of memory for feature '%s' (sample_size %u)", f->name,
                     size);
            return -1;
        }
        if (EDDY_HOST_HAS(h, metric_labels)) {
            static const char *const gnames[ST_N + 1] = {"psi", "ks_pvalue", "js", "wasserstein",
                                                         "chi2_pvalue"};
            for (int s = 0; s <= ST_N; s++) {
                if ((s == ST_N) != (categorical != 0) || (s < ST_N && !d->stats[s]))
                    continue;
                const char *kv[] = {"feature", f->name, "detector", "distribution",
                                    "statistic", gnames[s]};
                f->gauge[s] = h->metric_labels(d->ctx, "eddy_drift_statistic",
                                               "Latest drift statistic (keyed: of the latest "
                                               "key updated)",
                                               EDDY_METRIC_GAUGE, kv, 3);
            }
        }
    }
    return 0;
}

static void *dist_create(const eddy_host *h, eddy_ctx *ctx, const eddy_opts *o, char *err,
                         size_t errlen)
{
    dist *d = h->alloc(sizeof *d);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    memset(d, 0, sizeof *d);
    d->h = h;
    d->ctx = ctx;
    if (parse_stats(d, o, err, errlen) != 0)
        goto fail;
    d->thr[ST_PSI] = h->opt_double(o, "psi_threshold");
    d->thr[ST_KS] = h->opt_double(o, "ks_pvalue");
    d->thr[ST_JS] = h->opt_double(o, "js_threshold");
    d->thr[ST_WASSERSTEIN] = h->opt_double(o, "wasserstein_threshold");
    d->chi2_pvalue = h->opt_double(o, "chi2_pvalue");
    d->dataset_share = h->opt_double(o, "dataset_share");
    const char *when = h->opt_str(o, "drift_when");
    d->all = when && strcmp(when, "all") == 0;
    d->ref_mode = ref_mode_of(h->opt_str(o, "reference"));
    d->ref_size = (uint64_t)h->opt_int(o, "reference_size");
    d->ref_period = h->opt_int(o, "reference_period");
    d->lag = (uint32_t)h->opt_int(o, "lag");
    d->window_size = (uint64_t)h->opt_int(o, "window_size");
    d->window_period = h->opt_int(o, "window_period");
    d->min_samples = (uint64_t)h->opt_int(o, "min_samples");
    d->report = h->opt_bool(o, "report");
    d->bp.bins = (uint32_t)h->opt_int(o, "bins");
    d->bp.eps = h->opt_double(o, "smoothing");
    d->first_ts = INT64_MIN;
    uint32_t nnum = h->opt_count(o, "fields"), ncat = h->opt_count(o, "categorical");
    if (nnum + ncat == 0) {
        snprintf(err, errlen, "give the features to compare in `fields` (numeric) and/or "
                              "`categorical`");
        goto fail;
    }
    const char *rf = h->opt_str(o, "reference_file");
    if (d->ref_mode == REF_FILE && (!rf || !*rf)) {
        snprintf(err, errlen, "reference: file needs reference_file, the baseline to compare with");
        goto fail;
    }
    if (d->ref_mode != REF_FILE && rf && *rf) {
        snprintf(err, errlen, "reference_file is only read with `reference: file`");
        goto fail;
    }
    /* The samples are allocated here and touched as they fill: with Linux's
     * overcommit an oversized step passed `validate` and ran out of memory
     * later. Refused by size instead, the same in validate and run. */
    uint64_t size = (uint64_t)h->opt_int(o, "sample_size");
    uint64_t need = 16u * size * (3u + (d->ref_mode == REF_LAGGED ? d->lag : 0u)) * nnum;
    if (need > DIST_MAX_BYTES) {
        snprintf(err, errlen,
                 "sample_size %llu%s%.0u for %u numeric feature(s) needs %.1f GiB of samples "
                 "(16 bytes x sample_size x (3 + lag) per feature); the limit is %llu MiB per "
                 "step: lower sample_size%s",
                 (unsigned long long)size, d->ref_mode == REF_LAGGED ? " with lag " : "",
                 d->ref_mode == REF_LAGGED ? d->lag : 0u, nnum,
                 (double)need / (1u << 30), (unsigned long long)(DIST_MAX_BYTES >> 20),
                 d->ref_mode == REF_LAGGED ? " or lag" : "");
        goto fail;
    }
    d->f = h->alloc(sizeof *d->f * (nnum + ncat));
    d->lagb = h->alloc(sizeof *d->lagb * (d->lag ? d->lag : 1));
    uint32_t cats = (uint32_t)h->opt_int(o, "categories");
    d->scratch_n = (size_t)cats * 2 + 2;
    d->scratch_a = h->alloc(sizeof(double) * d->scratch_n);
    d->scratch_b = h->alloc(sizeof(double) * d->scratch_n);
    if (!d->f || !d->lagb || !d->scratch_a || !d->scratch_b) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    memset(d->f, 0, sizeof *d->f * (nnum + ncat));
    memset(d->lagb, 0, sizeof *d->lagb * (d->lag ? d->lag : 1));
    uint32_t at = 0;
    d->nf = nnum + ncat;
    if (add_features(d, o, "fields", 0, &at, err, errlen) != 0 ||
        add_features(d, o, "categorical", 1, &at, err, errlen) != 0)
        goto fail;
    d->m_checks = h->metric(ctx, "distribution_checks_total", "Windows compared with the reference",
                            EDDY_METRIC_COUNTER);
    d->m_drifted = h->metric(ctx, "distribution_drifted_features_total",
                             "Feature checks that found drift", EDDY_METRIC_COUNTER);
    if (d->ref_mode == REF_FILE && eddy_dist_load_file(d, o, err, errlen) != 0)
        goto fail;
    return d;
fail:
    dist_destroy(d);
    return NULL;
}

static void bounds_add(dbounds *b, int64_t ts)
{
    if (b->n == 0) {
        b->start = b->end = ts;
    } else {
        if (ts < b->start)
            b->start = ts;
        if (ts > b->end)
            b->end = ts;
    }
    b->n++;
}

void eddy_dist_add(dist *d, const eddy_record *r, int which)
{
    const eddy_host *h = d->h;
    d->dirty |= which == W_REF ? D_REF : D_CUR;
    for (uint32_t i = 0; i < d->nf; i++) {
        dfeat *f = &d->f[i];
        dwin *w = which == W_REF ? &f->ref : &f->cur;
        const eddy_value *v = h->record_get(r, f->sym);
        if (!v)
            continue;
        if (!f->categorical) {
            if (v->type == EDDY_DOUBLE)
                eddy_sample_add(w->s, v->u.d);
            else if (v->type == EDDY_INT)
                eddy_sample_add(w->s, (double)v->u.i);
            else if (v->type == EDDY_BOOL)
                eddy_sample_add(w->s, v->u.b ? 1.0 : 0.0);
            continue;
        }
        char num[40];
        int nl;
        switch (v->type) {
        case EDDY_STRING:
        case EDDY_BYTES:
            eddy_catcount_add(w->c, v->u.s, v->len, 1.0);
            break;
        case EDDY_INT:
            nl = snprintf(num, sizeof num, "%" PRId64, v->u.i);
            eddy_catcount_add(w->c, num, (size_t)nl, 1.0);
            break;
        case EDDY_DOUBLE:
            nl = snprintf(num, sizeof num, "%.17g", v->u.d);
            eddy_catcount_add(w->c, num, (size_t)nl, 1.0);
            break;
        case EDDY_BOOL:
            eddy_catcount_add(w->c, v->u.b ? "true" : "false", v->u.b ? 4 : 5, 1.0);
            break;
        default:
            break;
        }
    }
}

/* The reference from a closed window (the window's data moves, by swap). */
static void adopt_ref(dist *d, int from_last)
{
    d->dirty |= D_ALL;
    for (uint32_t i = 0; i < d->nf; i++) {
        dfeat *f = &d->f[i];
        win_swap(&f->ref, from_last ? &f->last : &f->cur);
        win_clear(from_last ? &f->last : &f->cur);
    }
    d->rb = from_last ? d->lb : d->cb;
    if (from_last) {
        d->have_last = 0;
        d->lb = (dbounds){0};
    }
    d->have_ref = 1;
}

static int close_window(dist *d)
{
    if (d->cb.n == 0)
        return 0;
    d->dirty |= D_ALL;
    if (d->take_next) {
        d->take_next = 0;
        adopt_ref(d, 0);
        d->cb = (dbounds){0};
        d->h->log(d->ctx, EDDY_LOG_INFO, "distribution_drift: reference taken from the window "
                                         "just closed (%" PRIu64 " records)", d->rb.n);
        return 0;
    }
    int rc = 0;
    if (d->ref_mode == REF_LAGGED) {
        if (d->nlag == d->lag) {
            uint32_t h0 = d->lag_head;
            for (uint32_t i = 0; i < d->nf; i++)
                win_swap(&d->f[i].ref, &d->f[i].lag[h0]);
            d->rb = d->lagb[h0];
            rc = eddy_dist_check(d, d->cb.end);
            for (uint32_t i = 0; i < d->nf; i++)
                win_swap(&d->f[i].ref, &d->f[i].lag[h0]);
        }
        uint32_t slot = d->nlag < d->lag ? (d->lag_head + d->nlag) % d->lag : d->lag_head;
        for (uint32_t i = 0; i < d->nf; i++) {
            win_swap(&d->f[i].cur, &d->f[i].lag[slot]);
            win_clear(&d->f[i].cur);
        }
        d->lagb[slot] = d->cb;
        if (d->nlag < d->lag)
            d->nlag++;
        else
            d->lag_head = (d->lag_head + 1) % d->lag;
    } else {
        if (d->have_ref)
            rc = eddy_dist_check(d, d->cb.end);
        for (uint32_t i = 0; i < d->nf; i++) {
            win_swap(&d->f[i].cur, &d->f[i].last);
            win_clear(&d->f[i].cur);
        }
        d->lb = d->cb;
        d->have_last = 1;
    }
    d->cb = (dbounds){0};
    return rc;
}

static void take_snapshot(dist *d)
{
    if (d->ref_mode == REF_LAGGED) {
        d->h->log(d->ctx, EDDY_LOG_WARN, "distribution_drift: reference request ignored: with "
                                         "`reference: lagged` the reference moves with the "
                                         "stream");
        return;
    }
    if (d->have_last) {
        adopt_ref(d, 1);
        d->h->log(d->ctx, EDDY_LOG_INFO, "distribution_drift: reference taken from the last "
                                         "closed window (%" PRIu64 " records)", d->rb.n);
    } else {
        d->take_next = 1;
        d->dirty |= D_HEAD;
    }
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int dist_process(void *state, eddy_ctx *ctx, eddy_batch *in)
{
    dist *d = state;
    const eddy_host *h = d->h;
    if (EDDY_HOST_HAS(h, ctx_requests)) {
        uint64_t req = h->ctx_requests(ctx, "reference");
        if (req != d->requests) {
            d->requests = req;
            take_snapshot(d);
        }
    }
    uint32_t n = h->batch_count(in);
    for (uint32_t i = 0; i < n; i++) {
        eddy_record *r = h->batch_get(in, i);
        int64_t ts = h->record_time(r);
        if (!d->have_ref && d->ref_mode == REF_FIRST_N) {
            eddy_dist_add(d, r, W_REF);
            bounds_add(&d->rb, ts);
            if (d->rb.n >= d->ref_size) {
                d->have_ref = 1;
                d->dirty |= D_HEAD;
            }
            continue;
        }
        if (!d->have_ref && d->ref_mode == REF_FIRST_PERIOD) {
            if (d->first_ts == INT64_MIN)
                d->first_ts = ts;
            if (ts < d->first_ts + d->ref_period) {
                eddy_dist_add(d, r, W_REF);
                bounds_add(&d->rb, ts);
                continue;
            }
            d->have_ref = 1;
            d->dirty |= D_HEAD;
        }
        if (d->window_period > 0) {
            if (d->cb.n && ts >= d->win_end && close_window(d) < 0)
                return -1;
            if (d->cb.n == 0)
                d->win_end = (floor_div(ts, d->window_period) + 1) * d->window_period;
        }
        eddy_dist_add(d, r, W_CUR);
        bounds_add(&d->cb, ts);
        if (d->window_period == 0 && d->cb.n >= d->window_size && close_window(d) < 0)
            return -1;
    }
    return EDDY_FORWARD;
}

static int dist_watermark(void *state, eddy_ctx *ctx, int64_t wm)
{
    dist *d = state;
    if (wm == EDDY_WATERMARK_END) {
        if (d->cb.n >= d->min_samples && close_window(d) < 0)
            return -1;
        return EDDY_FORWARD;
    }
    if (d->window_period > 0 && d->cb.n && wm >= d->win_end && close_window(d) < 0)
        return -1;
    return EDDY_FORWARD;
}

/* POST /v1/pipelines/{p}/steps/{s}/reference: take the reference now. */
static const char *const dist_requests[] = {"reference", NULL};

const eddy_op_descriptor eddy_op_distribution_drift = {
    .struct_size = sizeof(eddy_op_descriptor),
    .name = "distribution_drift",
    .version = "1.0.0",
    .summary = "Compares feature distributions with a reference (PSI, KS, JS, Wasserstein, "
               "chi-square) and alerts on drift",
    .options = eddy_dist_options,
    .create = dist_create,
    .process = dist_process,
    .on_watermark = dist_watermark,
    .destroy = dist_destroy,
    .state_flags = EDDY_STATE_KEYED,
    .state_flush = eddy_dist_state_flush,
    .state_load = eddy_dist_state_load,
    .state_loaded = eddy_dist_state_loaded,
    .requests = dist_requests,
};
