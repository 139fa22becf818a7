/* The ensemble operator: combines anomaly scores that earlier steps wrote
 * on the record into one score and flag (max, mean, or the share of
 * scores that reached their own threshold), with the same alerts as the
 * detectors. Scores missing from a record are left out of its combination;
 * a record with none of them passes through (counted). Its only state is
 * the alert bookkeeping per key (values scored, the last flag, first and
 * last event time, whether an alert is out): durable (ABI 1.2) so that a
 * restart neither re-fires nor forgets an alert and the alert's counts go
 * on; a key's record is those counters, written when the key scored since
 * the last commit. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf/bytes.h"
#include "operators/anomaly/anomaly_op.h"

#define ENS_MAX 64

enum { ENS_MAX_M, ENS_MEAN, ENS_VOTE };

const eddy_option eddy_anom_opts_ensemble[] = {
    {"scores", EDDY_OPT_LIST, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_REQUIRED,
     "Score fields written by earlier anomaly steps (2 to 64), each in [0,1]."},
    {"method", EDDY_OPT_ENUM, "max", EDDY_NO_RANGE, "max|mean|vote", 0,
     "max: the largest score; mean: their mean; vote: the share of scores at or above "
     "their vote threshold."},
    {"vote_threshold", EDDY_OPT_DOUBLE, "0.5", 0, 1, NULL, 0,
     "With method vote: a score votes \"anomalous\" when it is >= this."},
    {"score_thresholds", EDDY_OPT_MAP, NULL, EDDY_NO_RANGE, NULL, 0,
     "With method vote: score field -> its own vote threshold (e.g. the threshold of the "
     "step that wrote it), instead of vote_threshold."},
    {"key", EDDY_OPT_LIST, NULL, EDDY_NO_RANGE, NULL, 0,
     "Fields that key the alerts (per user, per host...), as in the detector steps."},
    {"score_field", EDDY_OPT_STRING, NULL, EDDY_NO_RANGE, NULL, 0,
     "Field appended with the combined score. Unset: <step name>_score, or ensemble_score "
     "for an unnamed step."},
    {"flag_field", EDDY_OPT_STRING, "anomaly", EDDY_NO_RANGE, NULL, 0,
     "Field appended with true when the combined score >= threshold (\"\" = do not add)."},
    {"threshold", EDDY_OPT_DOUBLE, "0.5", 0, 1, NULL, 0,
     "Flag when the combined score >= threshold (with vote: the share of votes needed; "
     "0.5 = half of the scores present)."},
    {"severity", EDDY_OPT_ENUM, "warning", EDDY_NO_RANGE, "info|warning|critical", 0,
     "Severity of the alerts raised by flagged records."},
    {"quiet_period", EDDY_OPT_INT, "100", 1, 1e9, NULL, 0,
     "Unflagged records of a key after a flag that count as one clear check; a firing "
     "alert resolves after the step's alerts.resolve_after clear checks."},
    {"max_keys", EDDY_OPT_INT, "100000", 1, 1e8, NULL, 0,
     "Alert keys tracked per partition; further keys are scored but raise no alerts."},
    {NULL, 0, NULL, EDDY_NO_RANGE, NULL, 0, NULL},
};

typedef struct ens {
    const eddy_host *h;
    int method;
    eddy_sym score[ENS_MAX];
    double vote_at[ENS_MAX];
    uint32_t n;
    eddy_sym keys[ANOM_MAX_KEY_FIELDS];
    uint32_t nkeys;
    eddy_sym score_field, flag_field;
    char score_name[128];
    char feature[512];
    anom_alerting al;
    eddy_keymap *map;
    akey global;
    int gdirty, err; /* durability: the unkeyed state changed; a mark failed */
    eddy_metric *m_score, *m_flags, *m_skipped;
} ens;

static void ens_destroy(void *state)
{
    ens *e = state;
    if (!e)
        return;
    eddy_keymap_free(e->map);
    e->h->free(e);
}

static int ens_fail(ens *e, char *err, size_t errlen, const char *fmt, const char *what)
{
    snprintf(err, errlen, fmt, what);
    eddy_keymap_free(e->map);
    e->h->free(e);
    return -1;
}

static int read_scores(ens *e, const eddy_opts *o, char *err, size_t errlen)
{
    const eddy_host *h = e->h;
    e->n = h->opt_count(o, "scores");
    if (e->n < 2 || e->n > ENS_MAX) {
        snprintf(err, errlen, "scores: give 2 to %d score fields to combine, found %u", ENS_MAX,
                 e->n);
        return -1;
    }
    double vt = h->opt_double(o, "vote_threshold");
    size_t used = 0;
    for (uint32_t i = 0; i < e->n; i++) {
        const char *f = h->opt_item(o, "scores", i);
        if (!f || !*f) {
            snprintf(err, errlen, "scores: item %u is empty; give field names", i);
            return -1;
        }
        e->score[i] = h->intern(f, strlen(f));
        e->vote_at[i] = vt;
        for (uint32_t j = 0; j < i; j++)
            if (e->score[j] == e->score[i]) {
                snprintf(err, errlen, "scores: '%s' is listed twice", f);
                return -1;
            }
        int w = snprintf(e->feature + used, sizeof e->feature - used, "%s%s", i ? "," : "", f);
        if (w > 0 && used + (size_t)w < sizeof e->feature)
            used += (size_t)w;
    }
    uint32_t nt = h->opt_count(o, "score_thresholds");
    for (uint32_t i = 0; i < nt; i++) {
        const char *f = h->opt_key(o, "score_thresholds", i);
        const char *v = h->opt_item(o, "score_thresholds", i);
        eddy_sym s = f ? h->intern(f, strlen(f)) : 0;
        uint32_t j = 0;
        while (j < e->n && e->score[j] != s)
            j++;
        if (j == e->n) {
            snprintf(err, errlen, "score_thresholds: '%s' is not one of `scores`", f ? f : "");
            return -1;
        }
        char *end;
        double t = v ? strtod(v, &end) : NAN;
        if (!v || end == v || *end || !(t >= 0.0 && t <= 1.0)) {
            snprintf(err, errlen, "score_thresholds.%s: expected a number in [0, 1], got '%s'", f,
                     v ? v : "");
            return -1;
        }
        e->vote_at[j] = t;
    }
    return 0;
}

static void *ens_create(const eddy_host *h, eddy_ctx *ctx, const eddy_opts *o, char *err,
                        size_t errlen)
{
    ens *e = h->alloc(sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    memset(e, 0, sizeof *e);
    e->h = h;
    if (read_scores(e, o, err, errlen) != 0 ||
        anom_keys(h, o, e->keys, &e->nkeys, err, errlen) != 0) {
        h->free(e);
        return NULL;
    }
    const char *m = h->opt_str(o, "method");
    e->method = m && strcmp(m, "mean") == 0 ? ENS_MEAN : m && strcmp(m, "vote") == 0 ? ENS_VOTE
                                                                                   : ENS_MAX_M;
    const char *sf = h->opt_str(o, "score_field");
    if (sf && *sf)
        snprintf(e->score_name, sizeof e->score_name, "%s", sf);
    else
        anom_default_score_name(h, ctx, "ensemble", e->score_name, sizeof e->score_name);
    e->score_field = h->intern(e->score_name, strlen(e->score_name));
    for (uint32_t i = 0; i < e->n; i++)
        if (e->score[i] == e->score_field) {
            ens_fail(e, err, errlen,
                     "score_field: '%s' is also one of `scores`; give the combination a field "
                     "of its own",
                     sf && *sf ? sf : "(default)");
            return NULL;
        }
    e->flag_field = anom_opt_sym(h, o, "flag_field");
    const char *sev = h->opt_str(o, "severity");
    e->al = (anom_alerting){
        .detector = "ensemble",
        .feature = e->feature,
        .statistic = "anomaly_score",
        .threshold = h->opt_double(o, "threshold"),
        .quiet = (uint64_t)h->opt_int(o, "quiet_period"),
        .severity = sev && strcmp(sev, "critical") == 0 ? EDDY_SEV_CRITICAL
                    : sev && strcmp(sev, "info") == 0   ? EDDY_SEV_INFO
                                                        : EDDY_SEV_WARNING,
    };
    if (e->al.quiet < 1)
        e->al.quiet = 1;
    if (e->nkeys) {
        uint32_t mk = (uint32_t)h->opt_int(o, "max_keys");
        e->map = eddy_keymap_new(mk ? mk : 1, sizeof(akey), NULL);
        if (!e->map) {
            ens_fail(e, err, errlen, "%s", "out of memory");
            return NULL;
        }
    }
    if (EDDY_HOST_HAS(h, metric_labels)) {
        const char *kv[] = {"feature", e->feature, "detector", "ensemble"};
        e->m_score = h->metric_labels(ctx, "eddy_anomaly_score",
                                      "Latest anomaly score (keyed: of the latest key scored)",
                                      EDDY_METRIC_GAUGE, kv, 2);
        e->m_flags = h->metric_labels(ctx, "eddy_anomaly_flags_total",
                                      "Values whose score reached the step's threshold",
                                      EDDY_METRIC_COUNTER, kv, 2);
    }
    e->m_skipped = h->metric(ctx, "anomaly_skipped_records_total",
                             "Records without a finite number in a scored field",
                             EDDY_METRIC_COUNTER);
    return e;
}

/* The combined score of the scores present; 0 when none is. */
static int combine(const ens *e, const eddy_record *r, double *out)
{
    const eddy_host *h = e->h;
    uint32_t present = 0, votes = 0;
    double best = 0.0, sum = 0.0;
    for (uint32_t i = 0; i < e->n; i++) {
        const eddy_value *v = h->record_get(r, e->score[i]);
        double x;
        if (!v || v->type == EDDY_BOOL || !eddy_value_finite(v, &x))
            continue;
        present++;
        best = x > best || present == 1 ? x : best;
        sum += x;
        votes += x >= e->vote_at[i];
    }
    if (!present)
        return 0;
    *out = e->method == ENS_MAX_M ? best
           : e->method == ENS_MEAN ? sum / present
                                   : (double)votes / present;
    return 1;
}

static int ens_process(void *state, eddy_ctx *ctx, eddy_batch *in)
{
    ens *e = state;
    const eddy_host *h = e->h;
    uint32_t n = h->batch_count(in);
    uint64_t skipped = 0, flags = 0;
    char kbuf[512];
    double last_score = 0; /* the gauge shows the last score, set once per batch */
    int scored = 0;
    for (uint32_t i = 0; i < n; i++) {
        eddy_record *r = h->batch_get(in, i);
        double score;
        if (!combine(e, r, &score)) {
            skipped++;
            continue;
        }
        int flagged = score >= e->al.threshold;
        flags += (uint64_t)flagged;
        akey *k = &e->global;
        const char *key = "";
        if (e->nkeys) {
            int created;
            k = eddy_keymap_record(e->map, h, r, e->keys, e->nkeys, kbuf, sizeof kbuf, &created);
            key = kbuf;
        }
        int64_t ts = h->record_time(r);
        if (k) {
            if (k->n++ == 0)
                k->first_ts = ts;
            if (anom_alert_check(h, ctx, &e->al, k, key, flagged, score, ts) < 0)
                return -1;
            k->last_ts = ts;
            if (!e->map)
                e->gdirty = 1;
            else if (eddy_keymap_mark(e->map, k) != 0)
                e->err = -1; /* reported by the next flush: nothing is committed */
        }
        last_score = score;
        scored = 1;
        eddy_value sv = {.type = EDDY_DOUBLE};
        sv.u.d = score;
        if (h->record_set(in, r, e->score_field, &sv) != 0)
            return -1;
        if (e->flag_field) {
            eddy_value fv = {.type = EDDY_BOOL};
            fv.u.b = flagged;
            if (h->record_set(in, r, e->flag_field, &fv) != 0)
                return -1;
        }
    }
    if (e->m_score && scored)
        h->metric_set(e->m_score, last_score);
    h->metric_add(e->m_skipped, (double)skipped);
    if (flags && e->m_flags)
        h->metric_add(e->m_flags, (double)flags);
    return EDDY_FORWARD;
}

/* ---- durable state (ABI 1.2): a key's alert counters, version 1 ---- */
#define ENS_STATE_VERSION 1

static int ens_put(eddy_buf *b, const void *v)
{
    const akey *k = v;
    return eddy_put_u64(b, k->n) || eddy_put_u64(b, k->last_flag) ||
                   eddy_put_u64(b, (uint64_t)k->first_ts) ||
                   eddy_put_u64(b, (uint64_t)k->last_ts) || eddy_put_u8(b, k->alerted != 0)
               ? -1
               : 0;
}

static int ens_state_flush(void *state, eddy_ctx *ctx)
{
    ens *e = state;
    if (e->err) {
        e->h->log(ctx, EDDY_LOG_ERROR, "ensemble: out of memory tracking changed keys");
        e->err = 0;
        return -1;
    }
    return eddy_keymap_state_flush(e->map, e->h, ctx, &e->global, &e->gdirty, ENS_STATE_VERSION,
                                   ens_put);
}

static int ens_state_load(void *state, eddy_ctx *ctx, const void *key, size_t klen, int version,
                          const void *data, size_t len)
{
    ens *e = state;
    const eddy_host *h = e->h;
    if (!data)
        return 0; /* keys are never removed */
    if (version != ENS_STATE_VERSION || len != 33) {
        h->log(ctx, EDDY_LOG_ERROR, "ensemble: state record version %d of %zu bytes does not "
               "fit this build (version %d, 33 bytes)", version, len, ENS_STATE_VERSION);
        return -1;
    }
    akey *k = &e->global;
    if (e->map) {
        int created;
        if (!(k = eddy_keymap_get(e->map, key, klen, &created))) {
            h->log(ctx, EDDY_LOG_ERROR, "ensemble: cannot restore a key: max_keys reached or "
                   "out of memory");
            return -1;
        }
    } else if (klen) {
        h->log(ctx, EDDY_LOG_ERROR, "ensemble: a keyed state record for an unkeyed step");
        return -1;
    }
    const uint8_t *p = data;
    memset(k, 0, sizeof *k);
    k->n = eddy_le64(p);
    k->last_flag = eddy_le64(p + 8);
    k->first_ts = (int64_t)eddy_le64(p + 16);
    k->last_ts = (int64_t)eddy_le64(p + 24);
    k->alerted = p[32] != 0;
    return 0;
}

static int ens_state_loaded(void *state, eddy_ctx *ctx, int64_t watermark)
{
    (void)ctx;
    (void)watermark;
    ens *e = state;
    if (e->map)
        eddy_keymap_track(e->map);
    return 0;
}

const eddy_op_descriptor eddy_op_ensemble = {
    .struct_size = sizeof(eddy_op_descriptor),
    .name = "ensemble",
    .version = "1.0.0",
    .summary = "Combines anomaly scores of earlier steps (max, mean or vote) into a score and flag",
    .options = eddy_anom_opts_ensemble,
    .create = ens_create,
    .process = ens_process,
    .destroy = ens_destroy,
    .state_flags = EDDY_STATE_KEYED,
    .state_flush = ens_state_flush,
    .state_load = ens_state_load,
    .state_loaded = ens_state_loaded,
};
