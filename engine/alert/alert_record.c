/* The alert as a record (what sinks encode: JSON, msgpack, or Avro with
 * configs/schemas/alert.avsc) and as JSON (built from that record, so the
 * admin API, the log and the topic can never disagree). Field order and
 * names are the schema's; docs/DRIFT.md "Alert schema" documents each. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/alert/alert.h"
#include "engine/format/codec.h"
#include "engine/core/error.h"
#include "engine/core/sym.h"

const char *eddy_severity_name(int sev)
{
    switch (sev) {
    case EDDY_SEV_INFO:
        return "info";
    case EDDY_SEV_WARNING:
        return "warning";
    default:
        return "critical";
    }
}

static const char *nz(const char *s) { return s ? s : ""; }

void eddy_alert_message(const eddy_alert_event *e, char *out, size_t n)
{
    const eddy_alert *a = e->a;
    char where[256];
    if (*nz(a->key))
        snprintf(where, sizeof where, "%s for key %s", nz(a->feature), a->key);
    else
        snprintf(where, sizeof where, "%s", *nz(a->feature) ? a->feature : "the dataset");
    char pv[48] = "";
    if (!isnan(a->p_value))
        snprintf(pv, sizeof pv, " (p=%.3g)", a->p_value);
    if (e->firing)
        snprintf(out, n, "%s: %s drift on %s in %s/%s (partition %d): %s=%.6g beyond threshold "
                         "%.6g%s",
                 eddy_severity_name(e->severity), nz(a->detector), where, nz(e->pipeline),
                 nz(e->step), (int)e->partition, nz(a->statistic), a->value, a->threshold, pv);
    else
        snprintf(out, n, "resolved: %s on %s in %s/%s (partition %d) is back within threshold: "
                         "%s=%.6g (threshold %.6g)%s",
                 nz(a->detector), where, nz(e->pipeline), nz(e->step), (int)e->partition,
                 nz(a->statistic), a->value, a->threshold, pv);
}

void eddy_alert_kafka_key(const eddy_alert_event *e, eddy_buf *out)
{
    eddy_buf_printf(out, "%s/%s/%s", nz(e->pipeline), nz(e->a->feature), nz(e->a->key));
}

/* Interned once: symbols are process-wide and never freed. */
enum {
    F_ID, F_STATE, F_SEVERITY, F_TIME, F_EMITTED, F_WORKER, F_PIPELINE, F_STEP, F_PARTITION,
    F_DETECTOR, F_FEATURE, F_KEY, F_STATISTIC, F_VALUE, F_THRESHOLD, F_PVALUE, F_CUR_START,
    F_CUR_END, F_CUR_N, F_REF_START, F_REF_END, F_REF_N, F_MESSAGE, F_COUNT
};
static const char *const names[F_COUNT] = {
    "alert_id", "state", "severity", "time", "emitted_at", "worker", "pipeline", "step",
    "partition", "detector", "feature", "key", "statistic", "value", "threshold", "p_value",
    "current_start", "current_end", "current_n", "reference_start", "reference_end",
    "reference_n", "message"};

static int str_field(eddy_batch *b, eddy_record *r, eddy_sym s, const char *v)
{
    v = nz(v);
    eddy_value x = eddy_batch_string(b, v, strlen(v));
    if (!x.u.s && x.len)
        return EDDY_ENOMEM;
    return eddy_record_push(b, r, s, x);
}

/* Window bounds: null when the detector has none (n == 0). */
static eddy_value bound(int64_t t, uint64_t n) { return n ? eddy_v_int(t) : eddy_v_null(); }

int eddy_alert_record(const eddy_alert_event *e, eddy_batch *b, eddy_record *r)
{
    static _Atomic eddy_sym syms[F_COUNT];
    if (!syms[F_COUNT - 1])
        for (int i = 0; i < F_COUNT; i++)
            syms[i] = eddy_sym_intern(names[i], strlen(names[i]));
    const eddy_alert *a = e->a;
    char id[17], msg[512];
    snprintf(id, sizeof id, "%016" PRIx64, e->id);
    /* The operator's own sentence when the caller passed none. */
    const char *m = e->message ? e->message : a->message;
    if (!m) {
        eddy_alert_message(e, msg, sizeof msg);
        m = msg;
    }
    int rc = eddy_record_reserve(b, r, F_COUNT);
    rc |= str_field(b, r, syms[F_ID], id);
    rc |= str_field(b, r, syms[F_STATE], e->firing ? "firing" : "resolved");
    rc |= str_field(b, r, syms[F_SEVERITY], eddy_severity_name(e->severity));
    rc |= eddy_record_push(b, r, syms[F_TIME], eddy_v_int(a->time_ms));
    rc |= eddy_record_push(b, r, syms[F_EMITTED], eddy_v_int(e->emitted_at_ms));
    rc |= str_field(b, r, syms[F_WORKER], e->worker);
    rc |= str_field(b, r, syms[F_PIPELINE], e->pipeline);
    rc |= str_field(b, r, syms[F_STEP], e->step);
    rc |= eddy_record_push(b, r, syms[F_PARTITION], eddy_v_int(e->partition));
    rc |= str_field(b, r, syms[F_DETECTOR], a->detector);
    rc |= str_field(b, r, syms[F_FEATURE], a->feature);
    rc |= str_field(b, r, syms[F_KEY], a->key);
    rc |= str_field(b, r, syms[F_STATISTIC], a->statistic);
    rc |= eddy_record_push(b, r, syms[F_VALUE], eddy_v_double(a->value));
    rc |= eddy_record_push(b, r, syms[F_THRESHOLD], eddy_v_double(a->threshold));
    rc |= eddy_record_push(b, r, syms[F_PVALUE],
                           isnan(a->p_value) ? eddy_v_null() : eddy_v_double(a->p_value));
    rc |= eddy_record_push(b, r, syms[F_CUR_START], bound(a->current_start_ms, a->current_n));
    rc |= eddy_record_push(b, r, syms[F_CUR_END], bound(a->current_end_ms, a->current_n));
    rc |= eddy_record_push(b, r, syms[F_CUR_N], eddy_v_int((int64_t)a->current_n));
    rc |= eddy_record_push(b, r, syms[F_REF_START], bound(a->reference_start_ms, a->reference_n));
    rc |= eddy_record_push(b, r, syms[F_REF_END], bound(a->reference_end_ms, a->reference_n));
    rc |= eddy_record_push(b, r, syms[F_REF_N], eddy_v_int((int64_t)a->reference_n));
    rc |= str_field(b, r, syms[F_MESSAGE], m);
    if (rc)
        return EDDY_ENOMEM;
    r->ts = a->time_ms;
    r->flags |= EDDY_REC_ALERT;
    eddy_buf kb = {0};
    eddy_alert_kafka_key(e, &kb);
    eddy_value k = eddy_batch_string(b, (const char *)kb.data, kb.len);
    eddy_buf_free(&kb);
    r->key = k;
    return 0;
}

int eddy_alert_json(const eddy_alert_event *e, eddy_buf *out)
{
    eddy_batch *b = eddy_batch_new(1, 0);
    if (!b)
        return EDDY_ENOMEM;
    eddy_record *r = eddy_batch_append(b);
    int rc = r ? eddy_alert_record(e, b, r) : EDDY_ENOMEM;
    if (rc == 0)
        rc = eddy_record_to_json(r, out);
    eddy_batch_destroy(b);
    return rc;
}
