/* The concept-drift operator: reads one number per record, updates the
 * detector of the record's key, appends the signal (and optionally the
 * update index) to the record, and reports alerts through host->alert.
 *
 * Per record: one field lookup, one key render + hash probe when keyed,
 * one detector update, and one or two appended fields whose values are
 * static strings or integers, so nothing is allocated once a key exists.
 * A detector is built the first time its key appears. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "operators/drift/concept.h"
#include "operators/common/keymap.h"

static void ckey_free(void *v)
{
    eddy_drift_free(((ckey *)v)->d);
}

static void concept_destroy(void *state)
{
    concept *c = state;
    if (!c)
        return;
    eddy_keymap_free(c->map);
    eddy_drift_free(c->global.d);
    c->h->free(c);
}

static const concept_kind *kind_of(const char *name)
{
    for (const concept_kind *k = concept_kinds; k->name; k++)
        if (strcmp(k->name, name) == 0)
            return k;
    return NULL;
}

static eddy_sym opt_sym(const eddy_host *h, const eddy_opts *o, const char *name)
{
    const char *s = h->opt_str(o, name);
    return s && *s ? h->intern(s, strlen(s)) : 0;
}

static void *create_kind(const concept_kind *k, const eddy_host *h, eddy_ctx *ctx,
                         const eddy_opts *o, char *err, size_t errlen)
{
    concept *c = h->alloc(sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    memset(c, 0, sizeof *c);
    c->h = h;
    c->ctx = ctx;
    c->kind = k;
    c->opts = o;
    c->feature = h->opt_str(o, "field");
    if (!c->feature || !*c->feature) {
        snprintf(err, errlen, "field: the numeric field to watch is required");
        h->free(c);
        return NULL;
    }
    c->field = h->intern(c->feature, strlen(c->feature));
    c->sig_field = opt_sym(h, o, "signal_field");
    c->warn_field = opt_sym(h, o, "warning_field");
    c->idx_field = opt_sym(h, o, "index_field");
    c->nkeys = h->opt_count(o, "key");
    if (c->nkeys > MAX_KEY_FIELDS) {
        snprintf(err, errlen, "key: at most %d fields, found %u", MAX_KEY_FIELDS, c->nkeys);
        h->free(c);
        return NULL;
    }
    for (uint32_t i = 0; i < c->nkeys; i++) {
        const char *f = h->opt_item(o, "key", i);
        c->keys[i] = h->intern(f, strlen(f));
    }
    const char *on = h->opt_str(o, "alert_on");
    c->alert_warning = on && strcmp(on, "warning") == 0;
    c->quiet = (uint64_t)h->opt_int(o, "quiet_period");
    if (c->quiet < 1)
        c->quiet = 1;
    /* Build one detector now: this is where bad parameter combinations
     * (e.g. eddm alpha < beta) are refused, at start-up, with the reason. */
    if (k->make(h, o, &c->global.d, &c->threshold, err, errlen) != 0) {
        h->free(c);
        return NULL;
    }
    if (c->nkeys) {
        eddy_drift_free(c->global.d);
        c->global.d = NULL;
        c->map = eddy_keymap_new((uint32_t)h->opt_int(o, "max_keys"), sizeof(ckey), ckey_free);
        if (!c->map) {
            snprintf(err, errlen, "out of memory");
            h->free(c);
            return NULL;
        }
    }
    if (EDDY_HOST_HAS(h, metric_labels)) {
        const char *kv[] = {"feature", c->feature, "detector", k->name, "statistic",
                            k->statistic};
        c->m_stat = h->metric_labels(ctx, "eddy_drift_statistic",
                                     "Latest drift statistic (keyed: of the latest key updated)",
                                     EDDY_METRIC_GAUGE, kv, 3);
        const char *kw[] = {"feature", c->feature, "detector", k->name, "signal", "warning"};
        c->m_warn = h->metric_labels(ctx, "eddy_drift_signals_total",
                                     "Drift detector signals (warning updates, changes)",
                                     EDDY_METRIC_COUNTER, kw, 3);
        kw[5] = "change";
        c->m_change = h->metric_labels(ctx, "eddy_drift_signals_total",
                                       "Drift detector signals (warning updates, changes)",
                                       EDDY_METRIC_COUNTER, kw, 3);
    }
    c->m_skipped = h->metric(ctx, "drift_skipped_records_total",
                             "Records without a numeric value in the watched field",
                             EDDY_METRIC_COUNTER);
    c->m_untracked = h->metric(ctx, "drift_untracked_records_total",
                               "Records of keys beyond max_keys, passed through unmonitored",
                               EDDY_METRIC_COUNTER);
    return c;
}

static const char *const sig_names[] = {"none", "warning", "change"};

static int report(concept *c, ckey *k, const char *key, eddy_drift_signal sig, int breach,
                  int64_t ts)
{
    const eddy_host *h = c->h;
    if (!EDDY_HOST_HAS(h, alert))
        return 0;
    char stat[64];
    snprintf(stat, sizeof stat, "%s%s", c->kind->statistic,
             sig == EDDY_DRIFT_WARNING ? "_warning" : "");
    double value = eddy_drift_statistic(k->d);
    char msg[400], where[300];
    if (*key)
        snprintf(where, sizeof where, "%s (key %s)", c->feature, key);
    else
        snprintf(where, sizeof where, "%s", c->feature);
    if (breach)
        snprintf(msg, sizeof msg, "%s: %s detected %s in %s at update %llu: %s=%.6g (%s=%g)",
                 sig == EDDY_DRIFT_WARNING ? "warning" : "critical", c->kind->name,
                 sig == EDDY_DRIFT_WARNING ? "a possible change (warning zone)" : "a change",
                 where, (unsigned long long)(k->n - 1), c->kind->statistic, value,
                 c->kind->threshold_name, c->threshold);
    else
        snprintf(msg, sizeof msg, "resolved: %s has seen no change in %s for %llu updates",
                 c->kind->name, where, (unsigned long long)(k->n - 1 - k->last_sig));
    eddy_alert a = {
        .struct_size = sizeof a,
        .breach = breach,
        .detector = c->kind->name,
        .feature = c->feature,
        .key = key,
        .statistic = stat,
        .value = value,
        .threshold = c->threshold,
        .p_value = strcmp(c->kind->name, "kswin") == 0 ? value : NAN,
        .severity = sig == EDDY_DRIFT_WARNING ? EDDY_SEV_WARNING : EDDY_SEV_CRITICAL,
        .time_ms = ts,
        .current_start_ms = k->seg_start,
        .current_end_ms = ts,
        .current_n = k->seg_n,
        .message = msg,
    };
    return h->alert(c->ctx, &a);
}

static int concept_process(void *state, eddy_ctx *ctx, eddy_batch *in)
{
    concept *c = state;
    const eddy_host *h = c->h;
    uint32_t n = h->batch_count(in);
    uint64_t skipped = 0, untracked = 0, warns = 0, changes = 0;
    const ckey *last = NULL; /* the gauge shows the last key updated, set once per batch */
    char kbuf[512];
    for (uint32_t i = 0; i < n; i++) {
        eddy_record *r = h->batch_get(in, i);
        const eddy_value *v = h->record_get(r, c->field);
        double x;
        if (!v || !eddy_value_finite(v, &x)) {
            skipped++;
            continue;
        }
        ckey *k = &c->global;
        const char *key = "";
        if (c->nkeys) {
            int created;
            k = eddy_keymap_record(c->map, h, r, c->keys, c->nkeys, kbuf, sizeof kbuf, &created);
            if (!k) {
                untracked++;
                continue;
            }
            if (created) {
                char err[256];
                double thr;
                if (c->kind->make(h, c->opts, &k->d, &thr, err, sizeof err) != 0) {
                    h->log(ctx, EDDY_LOG_ERROR, "%s: cannot create a detector: %s",
                           c->kind->name, err);
                    return -1;
                }
            }
            key = kbuf;
        }
        int64_t ts = h->record_time(r);
        uint64_t idx = k->n++;
        if (k->seg_n++ == 0)
            k->seg_start = ts;
        eddy_drift_signal sig = eddy_drift_update(k->d, x);
        /* river's warning flag, which a change does not always clear. */
        int warning = (eddy_drift_flags(k->d) & EDDY_DRIFT_FLAG_WARNING) != 0;
        if (sig != EDDY_DRIFT_NONE) {
            k->last_sig = idx;
            changes += sig == EDDY_DRIFT_CHANGE;
            /* Counted per update with river's warning flag, so a change from
             * the warning zone counts as a warning update too. */
            warns += warning;
            if (sig == EDDY_DRIFT_CHANGE || c->alert_warning) {
                k->alerted = 1;
                if (report(c, k, key, sig, 1, ts) < 0)
                    return -1;
            }
            if (sig == EDDY_DRIFT_CHANGE)
                k->seg_n = 0;
        } else if (k->alerted && (idx - k->last_sig) % c->quiet == 0) {
            if (report(c, k, key, EDDY_DRIFT_CHANGE, 0, ts) < 0)
                return -1;
        }
        last = k;
        if (c->durable)
            concept_mark(c, k);
        if (c->sig_field) {
            eddy_value sv = {.type = EDDY_STRING, .len = (uint32_t)strlen(sig_names[sig])};
            sv.u.s = sig_names[sig];
            if (h->record_set(in, r, c->sig_field, &sv) != 0)
                return -1;
        }
        if (c->warn_field) {
            eddy_value wv = {.type = EDDY_BOOL};
            wv.u.b = warning;
            if (h->record_set(in, r, c->warn_field, &wv) != 0)
                return -1;
        }
        if (c->idx_field) {
            eddy_value iv = {.type = EDDY_INT};
            iv.u.i = (int64_t)idx;
            if (h->record_set(in, r, c->idx_field, &iv) != 0)
                return -1;
        }
    }
    if (c->m_stat && last)
        h->metric_set(c->m_stat, eddy_drift_statistic(last->d));
    h->metric_add(c->m_skipped, (double)skipped);
    h->metric_add(c->m_untracked, (double)untracked);
    if (warns)
        h->metric_add(c->m_warn, (double)warns);
    if (changes)
        h->metric_add(c->m_change, (double)changes);
    if (untracked && !c->warned_untracked) {
        c->warned_untracked = 1;
        h->log(ctx, EDDY_LOG_WARN,
               "%s: max_keys reached; records of new keys pass through unmonitored "
               "(drift_untracked_records_total)", c->kind->name);
    }
    return EDDY_FORWARD;
}

#define CONCEPT_OP(ident, kname, summary_text)                                              \
    static void *create_##ident(const eddy_host *h, eddy_ctx *ctx, const eddy_opts *o,       \
                                char *err, size_t errlen)                                    \
    {                                                                                        \
        return create_kind(kind_of(kname), h, ctx, o, err, errlen);                          \
    }                                                                                        \
    const eddy_op_descriptor eddy_op_##ident = {                                             \
        .struct_size = sizeof(eddy_op_descriptor),                                           \
        .name = kname,                                                                       \
        .version = "1.0.0",                                                                  \
        .summary = summary_text,                                                             \
        .options = eddy_concept_opts_##ident,                                                \
        .create = create_##ident,                                                            \
        .process = concept_process,                                                          \
        .destroy = concept_destroy,                                                          \
        .state_flags = EDDY_STATE_KEYED,                                                     \
        .state_flush = concept_state_flush,                                                  \
        .state_load = concept_state_load,                                                    \
        .state_loaded = concept_state_loaded,                                                \
    }

CONCEPT_OP(page_hinkley, "page_hinkley",
           "Page-Hinkley test for a change in the mean of a numeric field (river defaults)");
CONCEPT_OP(ddm, "ddm", "DDM drift detector on a 0/1 error stream (river defaults)");
CONCEPT_OP(eddm, "eddm", "EDDM drift detector on a 0/1 error stream (river defaults)");
CONCEPT_OP(hddm_a, "hddm_a", "HDDM_A (Hoeffding bound on averages) drift detector");
CONCEPT_OP(hddm_w, "hddm_w", "HDDM_W (McDiarmid bound on EWMAs) drift detector");
CONCEPT_OP(adwin, "adwin", "ADWIN adaptive-window change detector (river defaults)");
CONCEPT_OP(kswin, "kswin", "KSWIN sliding-window Kolmogorov-Smirnov change detector");
CONCEPT_OP(cusum, "cusum", "Two-sided tabular CUSUM on standardised values");
