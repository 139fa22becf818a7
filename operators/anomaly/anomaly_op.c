/* The anomaly operator: reads one number (or, for Half-Space Trees, one
 * number per field) per record, updates the detector of the record's key,
 * appends the score and the flag to the record, and reports alerts through
 * host->alert.
 *
 * Per record: one lookup per field, one key render + hash probe when keyed,
 * one detector update and two appended fields holding a double and a bool,
 * so nothing is allocated once a key exists. A detector is built the first
 * time its key appears. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "operators/anomaly/anomaly_op.h"

void akey_release(void *v)
{
    akey *k = v;
    eddy_anom_free(k->d.a);
    eddy_hst_free(k->d.hst);
    k->d.a = NULL;
    k->d.hst = NULL;
}

static void anom_destroy(void *state)
{
    aop *op = state;
    if (!op)
        return;
    eddy_keymap_free(op->map);
    akey_release(&op->global);
    op->h->free(op);
}

eddy_sym anom_opt_sym(const eddy_host *h, const eddy_opts *o, const char *name)
{
    const char *s = h->opt_str(o, name);
    return s && *s ? h->intern(s, strlen(s)) : 0;
}

int anom_keys(const eddy_host *h, const eddy_opts *o, eddy_sym *keys, uint32_t *n, char *err,
              size_t errlen)
{
    *n = h->opt_count(o, "key");
    if (*n > ANOM_MAX_KEY_FIELDS) {
        snprintf(err, errlen, "key: at most %d fields, found %u", ANOM_MAX_KEY_FIELDS, *n);
        return -1;
    }
    for (uint32_t i = 0; i < *n; i++) {
        const char *f = h->opt_item(o, "key", i);
        if (!f || !*f) {
            snprintf(err, errlen, "key: item %u is empty; give field names", i);
            return -1;
        }
        keys[i] = h->intern(f, strlen(f));
    }
    return 0;
}

void anom_default_score_name(const eddy_host *h, eddy_ctx *ctx, const char *op, char *out,
                             size_t n)
{
    const char *step = h->ctx_step ? h->ctx_step(ctx) : NULL;
    /* Unnamed steps are called "<operator>#<index>": not a field name
     * anyone would guess, so the operator's name stands in. */
    if (step && *step && !strchr(step, '#'))
        snprintf(out, n, "%s_score", step);
    else
        snprintf(out, n, "%s_score", op);
}

static int severity_of(const char *s)
{
    if (s && strcmp(s, "info") == 0)
        return EDDY_SEV_INFO;
    if (s && strcmp(s, "critical") == 0)
        return EDDY_SEV_CRITICAL;
    return EDDY_SEV_WARNING;
}

/* "lo,hi" -> two finite numbers with lo < hi. */
static int parse_limits(const char *s, double *lo, double *hi)
{
    char *end;
    *lo = strtod(s, &end);
    if (end == s || *end != ',')
        return -1;
    const char *p = end + 1;
    *hi = strtod(p, &end);
    while (*end == ' ')
        end++;
    return end == p || *end || !isfinite(*lo) || !isfinite(*hi) || !(*lo < *hi) ? -1 : 0;
}

static int read_fields(aop *op, char *err, size_t errlen)
{
    const eddy_host *h = op->h;
    const eddy_opts *o = op->opts;
    if (!op->kind->multivariate) {
        const char *f = h->opt_str(o, "field");
        if (!f || !*f) {
            snprintf(err, errlen, "field: the numeric field to score is required");
            return -1;
        }
        op->field[0] = h->intern(f, strlen(f));
        op->dim = 1;
        snprintf(op->feature, sizeof op->feature, "%s", f);
        return 0;
    }
    op->dim = h->opt_count(o, "fields");
    if (op->dim < 1 || op->dim > ANOM_MAX_FEATURES) {
        snprintf(err, errlen, "fields: give 1 to %d numeric fields, found %u", ANOM_MAX_FEATURES,
                 op->dim);
        return -1;
    }
    size_t used = 0;
    for (uint32_t i = 0; i < op->dim; i++) {
        const char *f = h->opt_item(o, "fields", i);
        if (!f || !*f) {
            snprintf(err, errlen, "fields: item %u is empty; give field names", i);
            return -1;
        }
        op->field[i] = h->intern(f, strlen(f));
        for (uint32_t j = 0; j < i; j++)
            if (op->field[j] == op->field[i]) {
                snprintf(err, errlen, "fields: '%s' is listed twice", f);
                return -1;
            }
        int w = snprintf(op->feature + used, sizeof op->feature - used, "%s%s", i ? "," : "", f);
        if (w > 0 && used + (size_t)w < sizeof op->feature)
            used += (size_t)w;
    }
    uint32_t nl = h->opt_count(o, "limits");
    if (nl == 0)
        return 0;
    uint32_t seen = 0;
    for (uint32_t i = 0; i < nl; i++) {
        const char *f = h->opt_key(o, "limits", i), *v = h->opt_item(o, "limits", i);
        eddy_sym s = f ? h->intern(f, strlen(f)) : 0;
        uint32_t j = 0;
        while (j < op->dim && op->field[j] != s)
            j++;
        if (j == op->dim) {
            snprintf(err, errlen, "limits: '%s' is not one of `fields`", f ? f : "");
            return -1;
        }
        if (!v || parse_limits(v, &op->lo[j], &op->hi[j]) != 0) {
            snprintf(err, errlen,
                     "limits.%s: expected \"lo,hi\" with finite numbers and lo < hi, got '%s'",
                     f, v ? v : "");
            return -1;
        }
        seen++;
    }
    if (seen != op->dim) {
        snprintf(err, errlen, "limits: give every field of `fields` (%u of %u given) or none",
                 seen, op->dim);
        return -1;
    }
    op->has_limits = 1;
    return 0;
}

static void *create_kind(const anom_kind *k, const eddy_host *h, eddy_ctx *ctx,
                         const eddy_opts *o, char *err, size_t errlen)
{
    aop *op = h->alloc(sizeof *op);
    if (!op) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    memset(op, 0, sizeof *op);
    op->h = h;
    op->ctx = ctx;
    op->kind = k;
    op->opts = o;
    if (read_fields(op, err, errlen) != 0 ||
        anom_keys(h, o, op->keys, &op->nkeys, err, errlen) != 0) {
        h->free(op);
        return NULL;
    }
    const char *sf = h->opt_str(o, "score_field");
    if (sf && *sf)
        snprintf(op->score_name, sizeof op->score_name, "%s", sf);
    else
        anom_default_score_name(h, ctx, k->name, op->score_name, sizeof op->score_name);
    op->score_field = h->intern(op->score_name, strlen(op->score_name));
    op->flag_field = anom_opt_sym(h, o, "flag_field");
    op->al = (anom_alerting){
        .detector = k->name,
        .feature = op->feature,
        .statistic = k->statistic,
        .threshold = h->opt_double(o, "threshold"),
        .quiet = (uint64_t)h->opt_int(o, "quiet_period"),
        .severity = severity_of(h->opt_str(o, "severity")),
    };
    if (op->al.quiet < 1)
        op->al.quiet = 1;
    op->max_keys = (uint32_t)h->opt_int(o, "max_keys");
    op->refractory = (uint64_t)h->opt_int(o, "refractory");
    /* Build one detector now: bad parameter combinations are refused at
     * start-up, with the reason, not when the first record arrives. */
    if (k->make(op, &op->global.d, err, errlen) != 0) {
        if (!*err)
            snprintf(err, errlen, "out of memory");
        akey_release(&op->global);
        h->free(op);
        return NULL;
    }
    if (op->nkeys) {
        akey_release(&op->global);
        op->map = eddy_keymap_new(op->max_keys ? op->max_keys : 1, sizeof(akey), akey_release);
        if (!op->map) {
            snprintf(err, errlen, "out of memory");
            h->free(op);
            return NULL;
        }
    }
    if (EDDY_HOST_HAS(h, metric_labels)) {
        const char *kv[] = {"feature", op->feature, "detector", k->name};
        op->m_score = h->metric_labels(ctx, "eddy_anomaly_score",
                                       "Latest anomaly score (keyed: of the latest key scored)",
                                       EDDY_METRIC_GAUGE, kv, 2);
        op->m_flags = h->metric_labels(ctx, "eddy_anomaly_flags_total",
                                       "Values whose score reached the step's threshold",
                                       EDDY_METRIC_COUNTER, kv, 2);
    }
    op->m_skipped = h->metric(ctx, "anomaly_skipped_records_total",
                              "Records without a finite number in a scored field",
                              EDDY_METRIC_COUNTER);
    op->m_untracked = h->metric(ctx, "anomaly_untracked_records_total",
                                "Records of keys beyond max_keys, passed through unscored",
                                EDDY_METRIC_COUNTER);
    return op;
}

int anom_alert_check(const eddy_host *h, eddy_ctx *ctx, const anom_alerting *al, akey *k,
                     const char *key, int flagged, double score, int64_t ts)
{
    uint64_t idx = k->n - 1;
    if (flagged) {
        k->last_flag = idx;
        k->alerted = 1;
    } else if (!k->alerted || (idx - k->last_flag) % al->quiet != 0) {
        return 0;
    }
    if (!EDDY_HOST_HAS(h, alert))
        return 0;
    char where[1100], msg[1400];
    if (*key)
        snprintf(where, sizeof where, "%s (key %s)", al->feature, key);
    else
        snprintf(where, sizeof where, "%s", al->feature);
    if (flagged)
        snprintf(msg, sizeof msg, "%s: %s flagged value %llu of %s as anomalous: score %.4f >= %g",
                 al->severity == EDDY_SEV_CRITICAL ? "critical"
                 : al->severity == EDDY_SEV_INFO   ? "info"
                                                   : "warning",
                 al->detector, (unsigned long long)idx, where, score, al->threshold);
    else
        snprintf(msg, sizeof msg, "resolved: %s has flagged nothing in %s for %llu values",
                 al->detector, where, (unsigned long long)(idx - k->last_flag));
    eddy_alert a = {
        .struct_size = sizeof a,
        .breach = flagged,
        .detector = al->detector,
        .feature = al->feature,
        .key = key,
        .statistic = "anomaly_score",
        .value = score,
        .threshold = al->threshold,
        .p_value = NAN,
        .severity = al->severity,
        .time_ms = ts,
        .current_start_ms = ts,
        .current_end_ms = ts,
        .current_n = 1,
        /* The reference is what the detector learnt from: the key's
         * earlier values. */
        .reference_start_ms = idx ? k->first_ts : 0,
        .reference_end_ms = idx ? k->last_ts : 0,
        .reference_n = idx,
        .message = msg,
    };
    int rc = h->alert(ctx, &a);
    return rc < 0 ? rc : 0;
}

static int set_outputs(aop *op, eddy_batch *in, eddy_record *r, double score, int flagged)
{
    const eddy_host *h = op->h;
    eddy_value sv = {.type = EDDY_DOUBLE};
    sv.u.d = score;
    if (h->record_set(in, r, op->score_field, &sv) != 0)
        return -1;
    if (op->flag_field) {
        eddy_value fv = {.type = EDDY_BOOL};
        fv.u.b = flagged;
        if (h->record_set(in, r, op->flag_field, &fv) != 0)
            return -1;
    }
    return 0;
}

static int anom_process(void *state, eddy_ctx *ctx, eddy_batch *in)
{
    aop *op = state;
    const eddy_host *h = op->h;
    uint32_t n = h->batch_count(in);
    uint64_t skipped = 0, untracked = 0, flags = 0;
    char kbuf[512];
    double last_score = 0; /* the gauge shows the last score, set once per batch */
    int scored = 0;
    double x[ANOM_MAX_FEATURES];
    op->ctx = ctx;
    for (uint32_t i = 0; i < n; i++) {
        eddy_record *r = h->batch_get(in, i);
        uint32_t f = 0;
        for (; f < op->dim; f++) {
            const eddy_value *v = h->record_get(r, op->field[f]);
            if (!v || !eddy_value_finite(v, &x[f]))
                break;
        }
        if (f < op->dim) {
            skipped++;
            continue;
        }
        akey *k = &op->global;
        const char *key = "";
        if (op->nkeys) {
            int created;
            k = eddy_keymap_record(op->map, h, r, op->keys, op->nkeys, kbuf, sizeof kbuf,
                                   &created);
            if (!k) {
                untracked++;
                continue;
            }
            if (created) {
                char err[256] = "";
                if (op->kind->make(op, &k->d, err, sizeof err) != 0) {
                    h->log(ctx, EDDY_LOG_ERROR, "%s: cannot create a detector: %s",
                           op->kind->name, *err ? err : "out of memory");
                    return -1;
                }
            }
            key = kbuf;
        }
        int64_t ts = h->record_time(r);
        double score = k->d.hst ? eddy_hst_update(k->d.hst, x, op->dim)
                                : eddy_anom_update(k->d.a, x[0], ts);
        if (!(score >= 0.0))
            score = 0.0;
        /* The refractory period after a flag: last_flag and alerted are
         * the key's durable alert bookkeeping, so it survives restarts. */
        if (op->refractory && k->alerted && k->n - k->last_flag <= op->refractory)
            score = 0.0;
        if (k->n++ == 0)
            k->first_ts = ts;
        int flagged = score >= op->al.threshold;
        flags += (uint64_t)flagged;
        if (anom_alert_check(h, ctx, &op->al, k, key, flagged, score, ts) < 0)
            return -1;
        k->last_ts = ts;
        if (op->durable)
            anom_mark(op, k);
        last_score = score;
        scored = 1;
        if (set_outputs(op, in, r, score, flagged) != 0)
            return -1;
    }
    if (op->m_score && scored)
        h->metric_set(op->m_score, last_score);
    h->metric_add(op->m_skipped, (double)skipped);
    h->metric_add(op->m_untracked, (double)untracked);
    if (flags && op->m_flags)
        h->metric_add(op->m_flags, (double)flags);
    if (untracked && !op->warned_untracked) {
        op->warned_untracked = 1;
        h->log(ctx, EDDY_LOG_WARN,
               "%s: max_keys reached; records of new keys pass through unscored "
               "(anomaly_untracked_records_total)",
               op->kind->name);
    }
    return EDDY_FORWARD;
}

#define ANOM_OP(ident, idx, summary_text)                                                   \
    static void *create_##ident(const eddy_host *h, eddy_ctx *ctx, const eddy_opts *o,       \
                                char *err, size_t errlen)                                    \
    {                                                                                        \
        return create_kind(&anom_kinds[idx], h, ctx, o, err, errlen);                        \
    }                                                                                        \
    const eddy_op_descriptor eddy_op_##ident = {                                             \
        .struct_size = sizeof(eddy_op_descriptor),                                           \
        .name = #ident,                                                                      \
        .version = "1.0.0",                                                                  \
        .summary = summary_text,                                                             \
        .options = eddy_anom_opts_##ident,                                                   \
        .create = create_##ident,                                                            \
        .process = anom_process,                                                             \
        .snapshot = anom_snapshot,                                                           \
        .restore = anom_restore,                                                             \
        .destroy = anom_destroy,                                                             \
        .state_flags = EDDY_STATE_KEYED,                                                     \
        .state_flush = anom_state_flush,                                                     \
        .state_load = anom_state_load,                                                       \
        .state_loaded = anom_state_loaded,                                                   \
    }

ANOM_OP(zscore, 0, "Rolling z-score anomaly score and flag of a numeric field");
ANOM_OP(robust_zscore, 1, "Robust z-score (rolling median and MAD) anomaly score and flag");
ANOM_OP(ewma_chart, 2, "EWMA forecast chart (residual from the EWMA) anomaly score and flag");
ANOM_OP(spot, 3, "SPOT extreme-value (GPD tail) anomaly detector of a numeric field");
ANOM_OP(dspot, 4, "DSPOT: SPOT around a moving average, for drifting series");
ANOM_OP(nab_detector, 5, "Anomaly detector tuned on the Numenta Anomaly Benchmark");
ANOM_OP(half_space_trees, 6, "Half-Space Trees anomaly detector over several numeric fields");
