/* `type: kafka` sink: an idempotent librdkafka producer (zstd by default).
 * Records are encoded with the engine codec and produced with the key the
 * record carries (or a configured field), so librdkafka's default
 * partitioner keeps a key on one partition. The same sink is the
 * dead-letter output: error records go out as their original payload with
 * the envelope headers of kafka_dlq.c.
 *
 * Acknowledgement: delivery reports are counted; one failed delivery (after
 * librdkafka's own retries) makes every later write and flush fail, so the
 * runtime stops without committing the input offsets. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/format/codec.h"
#include "engine/connector.h"
#include "engine/core/error.h"
#include "connectors/kafka/kafka_int.h"
#include "engine/config/options.h"
#include "engine/core/sym.h"

/* snprintf for messages that embed other messages: truncation is fine. */
static const eddy_option kafka_sink_options[] = {
    {"topic", EDDY_OPT_STRING, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_REQUIRED,
     "Topic to write. It must exist (declare it under `topics:` and run `eddy topics apply`); "
     "with `kafka.brokers: embedded` it is created."},
    {"format", EDDY_OPT_ENUM, "json", EDDY_NO_RANGE, "json|msgpack|avro", 0,
     "Encoding of the message value. Dead letters are written as their original payload "
     "whatever the format."},
    {"schema", EDDY_OPT_STRING, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_PATH,
     "Avro schema file (.avsc) of the records; required with format avro."},
    {"confluent", EDDY_OPT_BOOL, "false", EDDY_NO_RANGE, NULL, 0,
     "Avro with Confluent framing (magic byte 0 and the 4-byte schema_id before the body); the "
     "id is also sent in the header eddy.schema_id."},
    {"schema_id", EDDY_OPT_INT, NULL, 0, 2147483647.0, NULL, 0,
     "Schema registry id of `schema`, written in the Confluent framing; required with "
     "confluent: true."},
    {"key", EDDY_OPT_FIELD, NULL, EDDY_NO_RANGE, NULL, 0,
     "Field whose value is the message key (default: the record key). Strings and bytes are "
     "sent as they are, numbers and booleans as text, maps and arrays as JSON; no key when "
     "the field is missing or null."},
    {"properties", EDDY_OPT_MAP, NULL, EDDY_NO_RANGE, NULL, 0,
     "librdkafka producer properties for this sink, on top of kafka.properties (e.g. "
     "linger.ms, batch.size, compression.type, acks)."},
    {"max_pending", EDDY_OPT_INT, "100000", 1, 1000000000.0, NULL, 0,
     "Messages written but not yet acknowledged above which the worker pauses its sources "
     "(resuming below half)."},
    {"timeout", EDDY_OPT_DURATION, "30s", 1, 86400000.0, NULL, 0,
     "How long a write waits for room in a full producer queue, and a flush for every "
     "acknowledgement, before failing."},
    {"source_header", EDDY_OPT_BOOL, "false", EDDY_NO_RANGE, NULL, 0,
     "Add the header eddy.source (topic/partition/offset of the input record) to every message. "
     "Off by default: librdkafka builds a header list per message, measured at 10 % of a "
     "passthrough's CPU (benchmarks/RESULTS.md)."},
    {"timestamp", EDDY_OPT_ENUM, "auto", EDDY_NO_RANGE, "auto|event|now", 0,
     "Message timestamp: the record's event time (as Kafka Streams does), or the time of "
     "writing. auto: event time for data, the time of writing for dead letters and alerts "
     "(retention.ms counts from a message's timestamp: alerts about an old replay stamped "
     "with its event time were deleted at once). With `event`, old event times age out under "
     "the topic's retention.ms."},
    {NULL, 0, NULL, 0, 0, NULL, 0, NULL},
};

/* Checkpoints (engine/checkpoint.c): each message counts in the epoch it
 * was written in (its opaque), and its delivery report takes it off; a
 * token is an epoch, acknowledged once it and every epoch before it are
 * empty. A ring of KS_EPOCHS: mark() refuses (the runtime flushes
 * instead) rather than reuse the slot of an epoch still in flight. */
#define KS_EPOCHS 64

typedef struct ksink {
    char *name, *topic;
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    eddy_codec *codec;
    eddy_buf val, key;
    rd_kafka_vu_t *vus;
    size_t nvus;
    eddy_sym key_field;
    int confluent, event_time, event_auto, source_header;
    char schema_id[16];
    int64_t max_pending, timeout_ms;
    uint64_t delivered, undelivered, dead_letters;
    int failed; /* sticky: an output was lost */
    int closing;
    char fail_msg[512];
    char last_error[512]; /* latest client error, for open's message */
    char user[128];
    eddy_metric *m_produced, *m_failed, *m_dead;
    eddy_kafka_ratelog rl;
    uint64_t epoch, done; /* current epoch; every epoch below done is acknowledged */
    _Atomic int64_t inflight[KS_EPOCHS];
} ksink;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void fail(ksink *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(ksink *s, const char *fmt, ...)
{
    if (s->failed)
        return;
    s->failed = 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->fail_msg, sizeof s->fail_msg, fmt, ap);
    va_end(ap);
    eddy_log(EDDY_LOG_ERROR, (const char *[]){"sink", s->name, NULL}, "%s", s->fail_msg);
}

/* A record produced inside a transaction (exactly-once): counted here;
 * a failure fails the transaction's commit, which aborts and redoes the
 * work, so it is not the sink's sticky failure. Called by the
 * transactional producer's thread, not under the sink's mutex. */
void eddy_kafka_sink_delivered(void *sink, const rd_kafka_message_t *m)
{
    ksink *s = sink;
    if (!m->err) {
        __atomic_fetch_add(&s->delivered, 1, __ATOMIC_RELAXED);
        eddy_metric_add(s->m_produced, 1);
        return;
    }
    __atomic_fetch_add(&s->undelivered, 1, __ATOMIC_RELAXED);
    eddy_metric_add(s->m_failed, 1);
    if (m->err != RD_KAFKA_RESP_ERR__PURGE_QUEUE && m->err != RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
        eddy_kafka_log_limited(&s->rl, EDDY_LOG_WARN, (const char *[]){"sink", s->name, NULL},
                               "delivery to %s [%d] failed inside a transaction (it is aborted "
                               "and done again): %s", rd_kafka_topic_name(m->rkt),
                               (int)m->partition, rd_kafka_err2str(m->err));
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    ksink *s = opaque;
    uintptr_t ep = (uintptr_t)m->_private;
    if (ep)
        atomic_fetch_sub(&s->inflight[(ep - 1) % KS_EPOCHS], 1);
    if (!m->err) {
        s->delivered++;
        eddy_metric_add(s->m_produced, 1);
        return;
    }
    s->undelivered++;
    eddy_metric_add(s->m_failed, 1);
    if (s->closing && (m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
                       m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT))
        return; /* dropped at close on purpose: their inputs were not committed */
    fail(s, "delivery to %s [%d] failed after librdkafka's retries: %s",
         rd_kafka_topic_name(m->rkt), (int)m->partition, rd_kafka_err2str(m->err));
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    ksink *s = opaque;
    snprintf(s->last_error, sizeof s->last_error, "%s", reason);
    char broker[128];
    eddy_kafka_reason_broker(reason, broker, sizeof broker);
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[512];
        rd_kafka_fatal_error(rk, why, sizeof why);
        fail(s, "producer fatal error: %s", why);
    } else if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION ||
               err == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED) {
        fail(s, "authentication failed for user %s%s%s: %s", s->user[0] ? s->user : "(none)",
             broker[0] ? " on " : "", broker, reason);
    } else if (err == RD_KAFKA_RESP_ERR__SSL) {
        fail(s, "SSL handshake failed%s%s: %s", broker[0] ? " with " : "", broker, reason);
    } else {
        eddy_kafka_log_limited(&s->rl, EDDY_LOG_WARN, (const char *[]){"sink", s->name, NULL},
                               "kafka producer error (retrying): %s", reason);
    }
}

static void ksink_close(void *self)
{
    ksink *s = self;
    if (!s)
        return;
    if (s->rkt)
        rd_kafka_topic_destroy(s->rkt);
    s->closing = 1;
    if (s->rk) {
        /* Anything still queued was never acknowledged, so its input was
         * not committed either: purge rather than wait for a dead broker. */
        rd_kafka_flush(s->rk, s->failed ? 0 : (int)s->timeout_ms);
        rd_kafka_purge(s->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(s->rk, 0);
        rd_kafka_destroy(s->rk);
        char n[3][24];
        snprintf(n[0], sizeof n[0], "%llu", (unsigned long long)s->delivered);
        snprintf(n[1], sizeof n[1], "%llu", (unsigned long long)s->undelivered);
        snprintf(n[2], sizeof n[2], "%llu", (unsigned long long)s->dead_letters);
        eddy_log(EDDY_LOG_INFO,
                 (const char *[]){"sink", s->name, "delivered", n[0], "undelivered", n[1],
                                  "dead_letters", n[2], NULL},
                 "kafka sink closed");
    }
    if (s->codec)
        eddy_codec_destroy(s->codec);
    eddy_buf_free(&s->val);
    eddy_buf_free(&s->key);
    free(s->vus);
    free(s->topic);
    free(s->name);
    free(s);
}

static int set_default(rd_kafka_conf_t *c, const eddy_connector_env *env, const eddy_opts *o,
                       const char *name, const char *value, char *err, size_t errlen)
{
    return eddy_kafka_conf_default(c, "kafka sink", env ? env->kafka : NULL, o, "properties",
                                   name, value, err, errlen);
}

/* The topic must exist: a producer would otherwise auto-create it with the
 * broker's defaults, or queue messages for it until they time out. All
 * topics are listed (no auto-creation); the wait is cut short by a client
 * error such as a failed authentication. */
static int check_topic(ksink *s, char *err, size_t errlen)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__TIMED_OUT;
    int64_t deadline = mono_ms() + (s->timeout_ms < 10000 ? s->timeout_ms : 10000);
    while (mono_ms() < deadline && !s->failed) {
        e = rd_kafka_metadata(s->rk, 1, NULL, &md, 1000);
        rd_kafka_poll(s->rk, 0); /* serves error_cb */
        if (e != RD_KAFKA_RESP_ERR__TIMED_OUT && e != RD_KAFKA_RESP_ERR__TRANSPORT)
            break;
    }
    if (s->failed) {
        eddy_errf(err, errlen, "kafka sink %s: %s", s->name, s->fail_msg);
        if (md)
            rd_kafka_metadata_destroy(md);
        return EDDY_EIO;
    }
    if (e) {
        eddy_errf(err, errlen, "kafka sink %s: cannot read the cluster's metadata: %s%s%s", s->name,
                 rd_kafka_err2str(e), s->last_error[0] ? "; last client error: " : "",
                 s->last_error);
        return EDDY_EIO;
    }
    int found = 0;
    for (int i = 0; i < md->topic_cnt && !found; i++)
        found = strcmp(md->topics[i].topic, s->topic) == 0 && !md->topics[i].err;
    rd_kafka_metadata_destroy(md);
    if (!found) {
        eddy_errf(err, errlen, "kafka sink %s: topic %s does not exist (declare it under topics: and "
                 "run eddy topics apply), or this client may not describe it", s->name, s->topic);
        return EDDY_ENOTFOUND;
    }
    return 0;
}

static int codec_open(ksink *s, const eddy_opts *o, char *err, size_t errlen)
{
    eddy_codec_conf cc = {0};
    cc.format = (eddy_format)eddy_format_parse(eddy_opts_str(o, "format"));
    cc.avro_schema = eddy_opts_str(o, "schema");
    cc.confluent = eddy_opts_bool(o, "confluent");
    if (cc.confluent) {
        if (cc.format != EDDY_FMT_AVRO || !eddy_opts_has(o, "schema_id") || !cc.avro_schema) {
            eddy_errf(err, errlen, "kafka sink %s: confluent: true needs format: avro, schema and "
                     "schema_id", s->name);
            return EDDY_ECONFIG;
        }
        cc.write_schema_id = (int32_t)eddy_opts_int(o, "schema_id");
        snprintf(s->schema_id, sizeof s->schema_id, "%d", (int)cc.write_schema_id);
        s->confluent = 1;
    }
    char why[512];
    if (eddy_codec_new(&cc, &s->codec, why, sizeof why) != 0) {
        eddy_errf(err, errlen, "kafka sink %s: %s", s->name, why);
        return EDDY_ECONFIG;
    }
    return 0;
}

static void metrics_open(ksink *s, const eddy_connector_env *env)
{
    if (!env || !env->metrics)
        return;
    eddy_buf l = {0};
    eddy_metrics_label(&l, "sink", s->name);
    eddy_metrics_label(&l, "topic", s->topic);
    if (eddy_buf_putc(&l, '\0') == 0) {
        const char *lb = (const char *)l.data;
        s->m_produced = eddy_metrics_get(env->metrics, "eddy_kafka_produced_total",
                                         "Messages acknowledged by the brokers",
                                         EDDY_METRIC_COUNTER, lb);
        s->m_failed = eddy_metrics_get(env->metrics, "eddy_kafka_delivery_failures_total",
                                       "Messages the brokers did not take after every retry",
                                       EDDY_METRIC_COUNTER, lb);
        s->m_dead = eddy_metrics_get(env->metrics, "eddy_kafka_dead_letters_written_total",
                                     "Error records written as dead letters",
                                     EDDY_METRIC_COUNTER, lb);
    }
    eddy_buf_free(&l);
}

static int ksink_open(const eddy_opts *o, const char *name, const eddy_connector_env *env,
                      void **self, char *err, size_t errlen)
{
    const eddy_opts *kafka = env ? env->kafka : NULL;
    const char *topic = eddy_opts_str(o, "topic");
    ksink *s = calloc(1, sizeof *s);
    if (!s || !(s->name = strdup(name ? name : "kafka")) || !(s->topic = strdup(topic ? topic : ""))) {
        eddy_errf(err, errlen, "kafka sink: out of memory");
        ksink_close(s);
        return EDDY_ENOMEM;
    }
    if (!s->topic[0]) {
        eddy_errf(err, errlen, "kafka sink %s: topic is required", s->name);
        ksink_close(s);
        return EDDY_ECONFIG;
    }
    s->max_pending = eddy_opts_int(o, "max_pending");
    s->timeout_ms = eddy_opts_int(o, "timeout");
    const char *ts = eddy_opts_str(o, "timestamp");
    s->event_time = !ts || strcmp(ts, "now") != 0;
    s->event_auto = !ts || strcmp(ts, "auto") == 0;
    s->source_header = eddy_opts_bool(o, "source_header");
    const char *kf = eddy_opts_str(o, "key");
    if (kf && *kf)
        s->key_field = eddy_sym_intern(kf, strlen(kf));
    int rc = codec_open(s, o, err, errlen);
    if (rc != 0) {
        ksink_close(s);
        return rc;
    }
    char why[512];
    rd_kafka_conf_t *c = eddy_kafka_conf(kafka, o, "properties", env ? env->worker : NULL, why,
                                         sizeof why);
    if (!c) {
        eddy_errf(err, errlen, "kafka sink %s: %s", s->name, why);
        ksink_close(s);
        return EDDY_ECONFIG;
    }
    size_t ul = sizeof s->user;
    if (rd_kafka_conf_get(c, "sasl.username", s->user, &ul) != RD_KAFKA_CONF_OK)
        s->user[0] = '\0';
    if (set_default(c, env, o, "enable.idempotence", "true", why, sizeof why) != 0 ||
        set_default(c, env, o, "compression.type", "zstd", why, sizeof why) != 0 ||
        /* zstd's default level 3 cost 1.0 CPU-second per million 200-byte
         * records here, level 1 0.15: the ratio on small JSON/msgpack
         * batches barely differs. */
        set_default(c, env, o, "compression.level", "1", why, sizeof why) != 0) {
        eddy_errf(err, errlen, "kafka sink %s: %s", s->name, why);
        rd_kafka_conf_destroy(c);
        ksink_close(s);
        return EDDY_ECONFIG;
    }
    rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
    rd_kafka_conf_set_error_cb(c, error_cb);
    rd_kafka_conf_set_opaque(c, s);
    if (eddy_kafka_is_embedded(kafka) &&
        eddy_kafka_embedded_topic(s->topic, EDDY_KAFKA_EMBEDDED_PARTITIONS, why, sizeof why) != 0) {
        eddy_errf(err, errlen, "kafka sink %s: %s", s->name, why);
        rd_kafka_conf_destroy(c);
        ksink_close(s);
        return EDDY_EIO;
    }
    if (!(s->rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, why, sizeof why))) {
        eddy_errf(err, errlen, "kafka sink %s: cannot create the producer: %s", s->name, why);
        rd_kafka_conf_destroy(c);
        ksink_close(s);
        return EDDY_ECONFIG;
    }
    if ((rc = check_topic(s, err, errlen)) != 0) {
        ksink_close(s);
        return rc;
    }
    if (!(s->rkt = rd_kafka_topic_new(s->rk, s->topic, NULL))) {
        eddy_errf(err, errlen, "kafka sink %s: topic %s: %s", s->name, s->topic,
                 rd_kafka_err2str(rd_kafka_last_error()));
        ksink_close(s);
        return EDDY_EIO;
    }
    metrics_open(s, env);
    *self = s;
    return 0;
}

/* The message key: the configured field, else the record key. */
static int key_bytes(ksink *s, const eddy_record *r, const void **p, size_t *n)
{
    const eddy_value *k = s->key_field ? eddy_record_get(r, s->key_field) : &r->key;
    *p = NULL;
    *n = 0;
    if (!k)
        return 0;
    eddy_buf_reset(&s->key);
    switch (k->type) {
    case EDDY_NULL:
        return 0;
    case EDDY_STRING:
    case EDDY_BYTES:
        *p = k->len ? (const void *)k->u.s : "";
        *n = k->len;
        return 0;
    case EDDY_INT:
        if (eddy_buf_printf(&s->key, "%lld", (long long)k->u.i) != 0)
            return -1;
        break;
    case EDDY_DOUBLE:
        if (eddy_buf_printf(&s->key, "%.17g", k->u.d) != 0)
            return -1;
        break;
    case EDDY_BOOL:
        if (eddy_buf_puts(&s->key, k->u.b ? "true" : "false") != 0)
            return -1;
        break;
    default:
        if (eddy_value_to_json(k, &s->key) != 0)
            return -1;
    }
    *p = s->key.data;
    *n = s->key.len;
    return 0;
}

static rd_kafka_vu_t *vu_room(ksink *s, size_t n)
{
    if (n > s->nvus) {
        rd_kafka_vu_t *v = realloc(s->vus, sizeof *v * n);
        if (!v)
            return NULL;
        s->vus = v;
        s->nvus = n;
    }
    return s->vus;
}

static void vu_header(rd_kafka_vu_t *v, const char *name, const void *val, ssize_t len)
{
    v->vtype = RD_KAFKA_VTYPE_HEADER;
    v->u.header.name = name;
    v->u.header.val = val;
    v->u.header.size = len;
}

/* "topic/partition/offset" of the input record. Per record on the hot
 * path: snprintf's format parsing cost more than the rest of the header. */
static void source_coords(char *out, size_t outlen, const eddy_record *r)
{
    size_t n = strlen(r->topic);
    if (n > outlen - 48)
        n = outlen - 48;
    memcpy(out, r->topic, n);
    char *p = out + n;
    *p++ = '/';
    char tmp[24];
    int k = 0;
    int64_t parts[2] = {r->partition, r->offset};
    for (int j = 0; j < 2; j++) {
        uint64_t x = parts[j] < 0 ? (uint64_t)(-(parts[j] + 1)) + 1 : (uint64_t)parts[j];
        if (parts[j] < 0)
            *p++ = '-';
        k = 0;
        do
            tmp[k++] = (char)('0' + x % 10);
        while ((x /= 10) != 0);
        while (k)
            *p++ = tmp[--k];
        if (j == 0)
            *p++ = '/';
    }
    *p = '\0';
}

/* txn: the thread's transactional producer (exactly-once), else NULL. */
static int produce(ksink *s, rd_kafka_t *txn, const eddy_record *r, char *err, size_t errlen)
{
    int dead = (r->flags & EDDY_REC_ERROR) != 0;
    const void *val, *key;
    size_t vlen, klen;
    if (dead) {
        val = r->raw ? (const void *)r->raw : "";
        vlen = r->raw ? r->raw_len : 0;
    } else {
        eddy_buf_reset(&s->val);
        int rc = eddy_codec_encode(s->codec, r, &s->val, err, errlen);
        if (rc != 0)
            return rc;
        val = s->val.data ? (const void *)s->val.data : "";
        vlen = s->val.len;
    }
    if (key_bytes(s, r, &key, &klen) != 0) {
        eddy_errf(err, errlen, "out of memory");
        return EDDY_ENOMEM;
    }
    rd_kafka_vu_t *v = vu_room(s, 8 + r->nheaders);
    if (!v) {
        eddy_errf(err, errlen, "out of memory");
        return EDDY_ENOMEM;
    }
    size_t n = 0;
    /* Exactly-once: the thread's transactional producer takes the record
     * (the topic by name: s->rkt belongs to the sink's own producer). */
    rd_kafka_t *rk = txn;
    if (rk) {
        v[n].vtype = RD_KAFKA_VTYPE_TOPIC;
        v[n++].u.cstr = s->topic;
        v[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
        v[n++].u.ptr = s;
    } else {
        rk = s->rk;
        v[n].vtype = RD_KAFKA_VTYPE_RKT;
        v[n++].u.rkt = s->rkt;
        v[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
        v[n++].u.ptr = (void *)(uintptr_t)(s->epoch + 1);
    }
    v[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    v[n++].u.i = RD_KAFKA_MSG_F_COPY;
    v[n].vtype = RD_KAFKA_VTYPE_VALUE;
    v[n].u.mem.ptr = (void *)(uintptr_t)val;
    v[n++].u.mem.size = vlen;
    if (key) {
        v[n].vtype = RD_KAFKA_VTYPE_KEY;
        v[n].u.mem.ptr = (void *)(uintptr_t)key;
        v[n++].u.mem.size = klen;
    }
    if (s->event_time && r->ts != EDDY_TS_NONE && r->ts > 0 &&
        !(s->event_auto && (dead || (r->flags & EDDY_REC_ALERT)))) {
        v[n].vtype = RD_KAFKA_VTYPE_TIMESTAMP;
        v[n++].u.i64 = r->ts;
    }
    rd_kafka_headers_t *hdrs = NULL;
    char src[320];
    if (dead) {
        if (!(hdrs = eddy_kafka_dlq_headers(r))) {
            eddy_errf(err, errlen, "out of memory");
            return EDDY_ENOMEM;
        }
        v[n].vtype = RD_KAFKA_VTYPE_HEADERS;
        v[n++].u.headers = hdrs;
    } else {
        /* The input's own eddy.* provenance is replaced by this hop's. */
        for (uint32_t i = 0; i < r->nheaders; i++)
            if (strcmp(r->headers[i].name, "eddy.source") != 0 &&
                strcmp(r->headers[i].name, "eddy.schema_id") != 0)
                vu_header(&v[n++], r->headers[i].name, r->headers[i].val, r->headers[i].len);
        if (s->confluent)
            vu_header(&v[n++], "eddy.schema_id", s->schema_id, -1);
        if (s->source_header && r->topic) {
            source_coords(src, sizeof src, r);
            vu_header(&v[n++], "eddy.source", src, -1);
        }
    }
    int64_t deadline = 0;
    _Atomic int64_t *slot = rk == s->rk ? &s->inflight[s->epoch % KS_EPOCHS] : NULL;
    for (;;) {
        if (slot)
            atomic_fetch_add(slot, 1);
        rd_kafka_error_t *e = rd_kafka_produceva(rk, v, n);
        if (!e) {
            if (rk != s->rk)
                eddy_kafka_txn_produced();
            break;
        }
        if (slot)
            atomic_fetch_sub(slot, 1);
        rd_kafka_resp_err_t code = rd_kafka_error_code(e);
        if (code == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_error_destroy(e);
            int64_t now = mono_ms();
            if (!deadline)
                deadline = now + s->timeout_ms;
            if (now < deadline && !s->failed) {
                rd_kafka_poll(rk, 10);
                continue;
            }
            eddy_errf(err, errlen, "producer queue still full after %lld ms (the brokers do not "
                     "keep up, or are unreachable)%s%s", (long long)s->timeout_ms,
                     s->failed ? ": " : "", s->failed ? s->fail_msg : "");
        } else {
            eddy_errf(err, errlen, "cannot produce: %s", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
        }
        if (hdrs)
            rd_kafka_headers_destroy(hdrs);
        return EDDY_EIO;
    }
    if (dead) {
        s->dead_letters++;
        eddy_metric_add(s->m_dead, 1);
    }
    return 0;
}

static int ksink_write(void *self, const eddy_batch *b, char *err, size_t errlen)
{
    ksink *s = self;
    /* Looked up once per batch, not per record. */
    rd_kafka_t *txn = eddy_kafka_txn_producer();
    char why[512];
    for (uint32_t i = 0; i < b->n; i++) {
        const eddy_record *r = &b->recs[i];
        if (r->flags & EDDY_REC_DROPPED)
            continue;
        if (s->failed) {
            eddy_errf(err, errlen, "kafka sink %s: %s", s->name, s->fail_msg);
            return EDDY_EIO;
        }
        why[0] = '\0';
        int rc = produce(s, txn, r, why, sizeof why);
        if (rc != 0) {
            eddy_errf(err, errlen, "kafka sink %s: record %s[%d]@%lld: %s", s->name,
                     r->topic ? r->topic : "?", (int)r->partition, (long long)r->offset,
                     why[0] ? why : eddy_strerror(rc));
            return rc;
        }
    }
    rd_kafka_poll(s->rk, 0); /* delivery reports, without waiting */
    if (txn)
        rd_kafka_poll(txn, 0);
    return 0;
}

static int ksink_flush(void *self)
{
    ksink *s = self;
    rd_kafka_resp_err_t e = rd_kafka_flush(s->rk, (int)s->timeout_ms);
    if (s->failed) {
        eddy_log(EDDY_LOG_ERROR, (const char *[]){"sink", s->name, NULL},
                 "kafka sink flush: output lost: %s", s->fail_msg);
        return EDDY_EIO;
    }
    if (e) {
        eddy_log(EDDY_LOG_ERROR, (const char *[]){"sink", s->name, NULL},
                 "kafka sink flush: %d messages still unacknowledged after %lld ms: %s",
                 rd_kafka_outq_len(s->rk), (long long)s->timeout_ms, rd_kafka_err2str(e));
        return EDDY_EIO;
    }
    return 0;
}

static int ksink_mark(void *self, uint64_t *token)
{
    ksink *s = self;
    rd_kafka_poll(s->rk, 0);
    while (s->done < s->epoch && atomic_load(&s->inflight[s->done % KS_EPOCHS]) == 0)
        s->done++;
    if (s->epoch - s->done >= KS_EPOCHS - 1)
        return EDDY_EAGAIN;
    *token = s->epoch++;
    return 0;
}

static int ksink_acked(void *self, uint64_t token)
{
    ksink *s = self;
    rd_kafka_poll(s->rk, 0); /* delivery reports */
    if (s->failed)
        return EDDY_EIO;
    while (s->done <= token && s->done < s->epoch &&
           atomic_load(&s->inflight[s->done % KS_EPOCHS]) == 0)
        s->done++;
    return s->done > token;
}

static int64_t ksink_pending(void *self, int64_t *high_water)
{
    ksink *s = self;
    rd_kafka_poll(s->rk, 0);
    if (high_water)
        *high_water = s->max_pending;
    return rd_kafka_outq_len(s->rk);
}

const eddy_sink_ops eddy_kafka_sink = {
    .type = "kafka",
    .summary = "Writes records (or dead letters) to a Kafka topic with an idempotent producer",
    .options = kafka_sink_options,
    .open = ksink_open,
    .write = ksink_write,
    .flush = ksink_flush,
    .close = ksink_close,
    .pending = ksink_pending,
    .mark = ksink_mark,
    .acked = ksink_acked,
    .sections = &eddy_kafka_sections,
};
