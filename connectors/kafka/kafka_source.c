/* `type: kafka` source: a librdkafka high-level consumer in a consumer
 * group (cooperative-sticky), decoding messages with the engine codec.
 *
 * Batches: the runtime wants every batch from one partition. Messages are
 * consumed into a pending list (at most batch_size), and each poll hands out
 * the run of the oldest pending message's partition, in offset order;
 * messages of other partitions wait for the next poll. Decoding happens
 * after consuming, with no librdkafka call in between, so a rebalance never
 * lands in the middle of a batch.
 *
 * Offsets: auto-commit and auto-store are off; the runtime calls commit()
 * once every sink has acknowledged everything derived from the offset. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/connector.h"
#include "connectors/deadletter.h"
#include "engine/core/error.h"
#include "connectors/kafka/kafka_src.h"
#include "engine/obs/log.h"
#include "engine/config/options.h"

/* snprintf for messages that embed other messages: truncation is fine. */
static const eddy_option kafka_source_options[] = {
    {"topics", EDDY_OPT_LIST, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_REQUIRED,
     "Topics to read; a name starting with ^ is a regular expression matching topics. With "
     "`kafka.brokers: embedded` the named topics are created."},
    {"format", EDDY_OPT_ENUM, "json", EDDY_NO_RANGE, "json|msgpack|avro", 0,
     "Encoding of the message values. A value that does not decode becomes a dead letter "
     "with the reason."},
    {"schema", EDDY_OPT_STRING, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_PATH,
     "Avro schema file (.avsc) of plain Avro values; required with format avro unless "
     "confluent framing resolves every id through `schemas`."},
    {"confluent", EDDY_OPT_BOOL, "false", EDDY_NO_RANGE, NULL, 0,
     "Avro values use the Confluent wire format (magic byte 0, 4-byte schema id)."},
    {"schemas", EDDY_OPT_MAP, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_PATH,
     "Confluent schema ids and their .avsc files, e.g. {1: v1.avsc, 2: v2.avsc}."},
    {"group", EDDY_OPT_STRING, NULL, EDDY_NO_RANGE, NULL, 0,
     "Consumer group id (default: kafka.group, else worker.name). Workers of one group share "
     "the partitions."},
    {"start", EDDY_OPT_ENUM, "earliest", EDDY_NO_RANGE, "earliest|latest", 0,
     "Where a group with no committed offset starts: earliest (the retained history) or "
     "latest (new messages only). Committed offsets always win."},
    {"batch_size", EDDY_OPT_INT, "1024", 1, 1000000, NULL, 0,
     "Most messages per batch (bounded by the worker's batch size), and most messages held "
     "consumed but not yet handed out."},
    {"join_timeout", EDDY_OPT_DURATION, "5m", 0, 86400000.0, NULL, 0,
     "How long the consumer may take to join its group and get its first assignment at "
     "start-up before the worker stops with the reason (brokers unreachable, wrong address, "
     "listener or credentials); until then /readyz answers 503 with the last broker error. "
     "0: wait forever."},
    {"stop_at_end", EDDY_OPT_BOOL, "false", EDDY_NO_RANGE, NULL, 0,
     "Bounded replay: the source ends, like a file, once every partition assigned to it has "
     "been read to its end (then windows close and the worker exits with worker.exit_on_eof)."},
    {"properties", EDDY_OPT_MAP, NULL, EDDY_NO_RANGE, NULL, 0,
     "librdkafka consumer properties for this source, on top of kafka.properties (e.g. "
     "fetch.max.bytes, session.timeout.ms, partition.assignment.strategy)."},
    {NULL, 0, NULL, 0, 0, NULL, 0, NULL},
};

static int32_t ksrc_partitions(void *self) { return (int32_t)((ksrc *)self)->nparts; }

/* librdkafka before 2.3.0 aborts when a cooperative-sticky consumer is
 * destroyed after its JoinGroup but before its first assignment
 * (librdkafka issue 4312): a worker stopped during its first join lets the
 * join finish first, for a few seconds at most. */
static void wait_first_assignment(ksrc *s)
{
    if (s->ever_assigned || rd_kafka_version() >= 0x020300ff)
        return;
    int64_t end = eddy_ksrc_now_ms() + 5000;
    while (!s->ever_assigned && !s->fatal && eddy_ksrc_now_ms() < end) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(s->rk, 100);
        if (m)
            rd_kafka_message_destroy(m); /* never delivered, never committed */
    }
}

static void ksrc_close(void *self)
{
    ksrc *s = self;
    if (!s)
        return;
    s->closing = 1;
    eddy_ksrc_waker_stop(s);
    for (uint32_t i = 0; i < s->npend; i++)
        rd_kafka_message_destroy(s->pend[i]);
    s->npend = 0;
    if (s->rk) {
        if (!s->fatal)
            wait_first_assignment(s);
        /* Under exactly-once the offsets went with the transactions. */
        if (!s->fatal && !s->txn_managed)
            eddy_ksrc_commit_final(s);
        rd_kafka_consumer_close(s->rk);
        rd_kafka_destroy(s->rk);
    }
    if (s->codec)
        eddy_codec_destroy(s->codec);
    for (uint32_t i = 0; i < s->ntopics; i++)
        free(s->topics[i]);
    free(s->topics);
    free(s->parts);
    free(s->pend);
    free(s->schemas);
    free(s->name);
    pthread_mutex_destroy(&s->err_mu);
    free(s);
}

/* Fatal client errors stop the worker with the cause; anything else is
 * retried by librdkafka and only logged. */
static void classify(ksrc *s, rd_kafka_resp_err_t err, const char *topic, const char *reason)
{
    char broker[128];
    eddy_kafka_reason_broker(reason, broker, sizeof broker);
    const char *on = broker[0] ? " on " : "";
    switch (err) {
    case RD_KAFKA_RESP_ERR__PARTITION_EOF:
        return;
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
        if (topic)
            eddy_ksrc_fatal(s, "topic %s does not exist (declare it under topics: and run eddy "
                            "topics apply)", topic);
        else
            eddy_ksrc_fatal(s, "a subscribed topic does not exist (declare it under topics: and "
                            "run eddy topics apply): %s", reason);
        return;
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
        eddy_ksrc_fatal(s, "not authorized to read topic %s: %s", topic ? topic : "?", reason);
        return;
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
        eddy_ksrc_fatal(s, "not authorized to use the consumer group: %s", reason);
        return;
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
        eddy_ksrc_fatal(s, "authentication failed for user %s%s%s: %s",
                        s->user[0] ? s->user : "(none)", on, broker, reason);
        return;
    case RD_KAFKA_RESP_ERR__SSL:
        eddy_ksrc_fatal(s, "SSL handshake failed%s%s: %s", broker[0] ? " with " : "", broker,
                        reason);
        return;
    default:
        break;
    }
    char why[512];
    if (err == RD_KAFKA_RESP_ERR__FATAL || rd_kafka_fatal_error(s->rk, why, sizeof why)) {
        if (err == RD_KAFKA_RESP_ERR__FATAL)
            rd_kafka_fatal_error(s->rk, why, sizeof why);
        eddy_ksrc_fatal(s, "fatal consumer error: %s", why);
        return;
    }
    eddy_metric_add(s->m_errors, 1);
    pthread_mutex_lock(&s->err_mu);
    snprintf(s->last_err, sizeof s->last_err, "%s", reason ? reason : rd_kafka_err2str(err));
    pthread_mutex_unlock(&s->err_mu);
    eddy_kafka_log_limited(&s->rl_err, EDDY_LOG_WARN, (const char *[]){"source", s->name, NULL},
                           "kafka consumer error (retrying): %s", reason);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    classify(opaque, (rd_kafka_resp_err_t)err, NULL, reason);
}

static int parse_schemas(ksrc *s, const eddy_opts *o, char *err, size_t errlen)
{
    uint32_t n = eddy_opts_count(o, "schemas");
    if (!n)
        return 0;
    if (!(s->schemas = calloc(n, sizeof *s->schemas))) {
        eddy_errf(err, errlen, "kafka source %s: out of memory", s->name);
        return EDDY_ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        const char *k = eddy_opts_key(o, "schemas", i);
        char *end;
        long id = k ? strtol(k, &end, 10) : -1;
        if (!k || !*k || *end || id < 0 || id > 2147483647L) {
            eddy_errf(err, errlen, "kafka source %s: schemas: '%s' is not a schema id (a "
                     "non-negative integer)", s->name, k ? k : "");
            return EDDY_ECONFIG;
        }
        s->schemas[i].id = (int32_t)id;
        s->schemas[i].path = eddy_opts_item(o, "schemas", i);
    }
    s->nschemas = n;
    return 0;
}

static int codec_open(ksrc *s, const eddy_opts *o, char *err, size_t errlen)
{
    int rc = parse_schemas(s, o, err, errlen);
    if (rc != 0)
        return rc;
    eddy_codec_conf cc = {0};
    cc.format = (eddy_format)eddy_format_parse(eddy_opts_str(o, "format"));
    cc.avro_schema = eddy_opts_str(o, "schema");
    cc.confluent = eddy_opts_bool(o, "confluent");
    cc.schemas = s->schemas;
    cc.nschemas = s->nschemas;
    char why[512];
    if (eddy_codec_new(&cc, &s->codec, why, sizeof why) != 0) {
        eddy_errf(err, errlen, "kafka source %s: %s", s->name, why);
        return EDDY_ECONFIG;
    }
    return 0;
}

/* Properties the source's guarantees rest on. */
static int set_forced(ksrc *s, rd_kafka_conf_t *c, const eddy_opts *kafka, const eddy_opts *o,
                      const char *name, const char *value, char *err, size_t errlen)
{
    const char *user = eddy_kafka_user_prop(kafka, o, "properties", name);
    if (user && strcmp(user, value) != 0)
        eddy_log(EDDY_LOG_WARN, (const char *[]){"source", s->name, "property", name, NULL},
                 "ignoring the configured value: offsets are committed by eddy once outputs are "
                 "acknowledged, so this must be %s", value);
    return eddy_kafka_conf_set(c, "kafka source", name, value, err, errlen);
}

static int set_default(rd_kafka_conf_t *c, const eddy_opts *kafka, const eddy_opts *o,
                       const char *name, const char *value, char *err, size_t errlen)
{
    return eddy_kafka_conf_default(c, "kafka source", kafka, o, "properties", name, value, err,
                                   errlen);
}

static rd_kafka_conf_t *make_conf(ksrc *s, const eddy_opts *o, const eddy_connector_env *env,
                                  char *err, size_t errlen)
{
    const eddy_opts *kafka = env ? env->kafka : NULL;
    char why[512];
    rd_kafka_conf_t *c = eddy_kafka_conf(kafka, o, "properties", env ? env->worker : NULL, why,
                                         sizeof why);
    if (!c) {
        eddy_errf(err, errlen, "kafka source %s: %s", s->name, why);
        return NULL;
    }
    const char *group = eddy_opts_str(o, "group");
    if (!group || !*group)
        group = kafka ? eddy_opts_str(kafka, "group") : NULL;
    if (!group || !*group)
        group = env && env->worker && *env->worker ? env->worker : "eddy";
    snprintf(s->group, sizeof s->group, "%s", group);
    const char *start = eddy_opts_str(o, "start");
    size_t ul = sizeof s->user;
    if (rd_kafka_conf_get(c, "sasl.username", s->user, &ul) != RD_KAFKA_CONF_OK)
        s->user[0] = '\0';
    if (eddy_kafka_conf_set(c, "kafka source group", "group.id", group, why, sizeof why) != 0 ||
        set_forced(s, c, kafka, o, "enable.auto.commit", "false", why, sizeof why) != 0 ||
        set_forced(s, c, kafka, o, "enable.auto.offset.store", "false", why, sizeof why) != 0 ||
        set_default(c, kafka, o, "partition.assignment.strategy", "cooperative-sticky", why,
                    sizeof why) != 0 ||
        set_default(c, kafka, o, "auto.offset.reset", start ? start : "earliest", why,
                    sizeof why) != 0 ||
        /* librdkafka 2.0.2 stops fetching for a whole second once its
         * prefetch queue passes queued.min.messages (100000 by default):
         * a pipeline that drains 100k messages in 0.1 s then starves for
         * 0.9 s (measured: 1 M records took 4.6 s instead of 2.0 s). Let
         * the byte bound decide instead: 32 MiB of prefetched input. */
        set_default(c, kafka, o, "queued.min.messages", "1000000", why, sizeof why) != 0 ||
        set_default(c, kafka, o, "queued.max.messages.kbytes", "32768", why, sizeof why) != 0 ||
        (s->stop_at_end &&
         set_forced(s, c, kafka, o, "enable.partition.eof", "true", why, sizeof why) != 0)) {
        eddy_errf(err, errlen, "kafka source %s: %s", s->name, why);
        rd_kafka_conf_destroy(c);
        return NULL;
    }
    rd_kafka_conf_set_rebalance_cb(c, eddy_ksrc_rebalance);
    rd_kafka_conf_set_offset_commit_cb(c, eddy_ksrc_commit_cb);
    rd_kafka_conf_set_error_cb(c, error_cb);
    rd_kafka_conf_set_opaque(c, s);
    return c;
}

static void metrics_open(ksrc *s, const eddy_connector_env *env)
{
    if (!env || !env->metrics)
        return;
    eddy_buf l = {0};
    eddy_metrics_label(&l, "source", s->name);
    if (eddy_buf_putc(&l, '\0') == 0) {
        s->m_consumed = eddy_metrics_get(env->metrics, "eddy_kafka_consumed_total",
                                         "Messages consumed from Kafka", EDDY_METRIC_COUNTER,
                                         (const char *)l.data);
        s->m_errors = eddy_metrics_get(env->metrics, "eddy_kafka_consumer_errors_total",
                                       "Consumer and commit errors (retried by librdkafka)",
                                       EDDY_METRIC_COUNTER, (const char *)l.data);
    }
    eddy_buf_free(&l);
}

static int subscribe(ksrc *s, const eddy_opts *o, const eddy_connector_env *env, char *err,
                     size_t errlen)
{
    uint32_t n = eddy_opts_count(o, "topics");
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)n);
    if (!l) {
        eddy_errf(err, errlen, "kafka source %s: out of memory", s->name);
        return EDDY_ENOMEM;
    }
    char why[512];
    int rc = 0;
    for (uint32_t i = 0; i < n && rc == 0; i++) {
        const char *t = eddy_opts_item(o, "topics", i);
        if (!t || !*t) {
            eddy_errf(err, errlen, "kafka source %s: topics[%u] is empty", s->name, i);
            rc = EDDY_ECONFIG;
        } else if (t[0] != '^' && eddy_kafka_is_embedded(env ? env->kafka : NULL) &&
                   eddy_kafka_embedded_topic(t, EDDY_KAFKA_EMBEDDED_PARTITIONS, why,
                                             sizeof why) != 0) {
            eddy_errf(err, errlen, "kafka source %s: %s", s->name, why);
            rc = EDDY_EIO;
        } else {
            rd_kafka_topic_partition_list_add(l, t, RD_KAFKA_PARTITION_UA);
        }
    }
    if (rc == 0 && !n) {
        eddy_errf(err, errlen, "kafka source %s: topics is empty; name at least one topic", s->name);
        rc = EDDY_ECONFIG;
    }
    rd_kafka_resp_err_t e = rc == 0 ? rd_kafka_subscribe(s->rk, l) : RD_KAFKA_RESP_ERR_NO_ERROR;
    if (e) {
        eddy_errf(err, errlen, "kafka source %s: cannot subscribe: %s", s->name,
                 rd_kafka_err2str(e));
        rc = EDDY_EIO;
    }
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

static int ksrc_open(const eddy_opts *o, const char *name, const eddy_connector_env *env,
                     void **self, char *err, size_t errlen)
{
    ksrc *s = calloc(1, sizeof *s);
    if (!s || !(s->name = strdup(name && *name ? name : "kafka"))) {
        free(s);
        eddy_errf(err, errlen, "kafka source: out of memory");
        return EDDY_ENOMEM;
    }
    s->env = env;
    pthread_mutex_init(&s->err_mu, NULL);
    s->opened_ms = eddy_ksrc_now_ms();
    s->join_timeout_ms = eddy_opts_int(o, "join_timeout");
    int64_t bs = eddy_opts_int(o, "batch_size");
    s->batch_size = bs >= 1 && bs <= 1000000 ? (uint32_t)bs : 1024;
    s->stop_at_end = eddy_opts_bool(o, "stop_at_end");
    int rc = codec_open(s, o, err, errlen);
    if (rc == 0 && !(s->pend = calloc(s->batch_size, sizeof *s->pend))) {
        eddy_errf(err, errlen, "kafka source %s: out of memory", s->name);
        rc = EDDY_ENOMEM;
    }
    rd_kafka_conf_t *c = rc == 0 ? make_conf(s, o, env, err, errlen) : NULL;
    if (rc == 0 && !c)
        rc = EDDY_ECONFIG;
    char why[512];
    if (c && !(s->rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, why, sizeof why))) {
        eddy_errf(err, errlen, "kafka source %s: cannot create the consumer: %s", s->name, why);
        rd_kafka_conf_destroy(c);
        rc = EDDY_ECONFIG;
    }
    if (rc == 0) {
        /* One queue for messages, errors and rebalances: consumer_poll
         * serves them all on the processing thread. */
        rd_kafka_poll_set_consumer(s->rk);
        rc = subscribe(s, o, env, err, errlen);
    }
    if (rc == 0 && eddy_ksrc_waker_start(s) != 0) {
        eddy_errf(err, errlen, "kafka source %s: cannot start its fetch wake-up thread", s->name);
        rc = EDDY_ENOMEM;
    }
    if (rc != 0) {
        s->fatal = 1; /* nothing to commit */
        ksrc_close(s);
        return rc;
    }
    metrics_open(s, env);
    *self = s;
    return 0;
}

static int topic_of(ksrc *s, const rd_kafka_message_t *m, uint32_t *idx)
{
    if (m->rkt == s->last_rkt) {
        *idx = s->last_topic;
        return 0;
    }
    int rc = eddy_ksrc_topic_index(s, rd_kafka_topic_name(m->rkt), idx);
    if (rc == 0) {
        s->last_rkt = m->rkt;
        s->last_topic = *idx;
    }
    return rc;
}

/* While paused, librdkafka normally holds messages back; one that still
 * arrives with no room is read again after resume: seek back to it. */
static void seek_back(ksrc *s, rd_kafka_message_t *m)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    if (l) {
        rd_kafka_topic_partition_list_add(l, rd_kafka_topic_name(m->rkt), m->partition)->offset =
            m->offset;
        rd_kafka_error_t *e = rd_kafka_seek_partitions(s->rk, l, 0);
        if (e) {
            eddy_ksrc_fatal(s, "cannot seek back to %s[%d]@%lld while paused: %s",
                            rd_kafka_topic_name(m->rkt), (int)m->partition, (long long)m->offset,
                            rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
        }
        rd_kafka_topic_partition_list_destroy(l);
    } else {
        eddy_ksrc_fatal(s, "out of memory");
    }
    rd_kafka_message_destroy(m);
}

/* stop_at_end: a partition is at its end between librdkafka's EOF event
 * and the next message that arrives for it. */
static void mark_eof(ksrc *s, const rd_kafka_message_t *m, int eof)
{
    uint32_t ti;
    if (!m->rkt || topic_of(s, m, &ti) != 0)
        return;
    ksrc_part *p = eddy_ksrc_part(s, (int32_t)(ti << KSRC_PART_BITS) | m->partition);
    if (p)
        p->eof = eof;
}

static int all_at_end(const ksrc *s)
{
    if (!s->ever_assigned || s->nparts == 0 || s->npend)
        return 0;
    for (uint32_t i = 0; i < s->nparts; i++)
        if (!s->parts[i].eof)
            return 0;
    return 1;
}

static void consume(ksrc *s, int timeout_ms)
{
    /* Wait only when there is nothing to hand out; otherwise just top up
     * and serve callbacks. */
    int wait = s->npend && !s->paused ? 0 : timeout_ms;
    while (!s->fatal && (s->paused || s->npend < s->batch_size)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(s->rk, wait);
        wait = 0;
        if (!m)
            break;
        if (m->err) {
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
                mark_eof(s, m, 1);
            else
                classify(s, m->err, m->rkt ? rd_kafka_topic_name(m->rkt) : NULL,
                         rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        if (s->stop_at_end)
            mark_eof(s, m, 0);
        if (s->npend >= s->batch_size) {
            seek_back(s, m);
            continue;
        }
        s->pend[s->npend++] = m;
    }
}

static int set_key(eddy_batch *b, eddy_record *r, const rd_kafka_message_t *m)
{
    if (!m->key)
        return 0;
    const uint8_t *k = m->key;
    uint8_t *p = eddy_batch_alloc(b, m->key_len + 1);
    if (!p)
        return -1;
    memcpy(p, k, m->key_len);
    p[m->key_len] = '\0';
    r->key.type = eddy_utf8_valid(k, m->key_len) ? EDDY_STRING : EDDY_BYTES;
    r->key.len = (uint32_t)m->key_len;
    r->key.u.bytes = p;
    return 0;
}

static int set_headers(eddy_batch *b, eddy_record *r, rd_kafka_message_t *m)
{
    rd_kafka_headers_t *h;
    if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0;
    size_t n = rd_kafka_header_cnt(h);
    eddy_header *arr = n ? eddy_batch_alloc(b, sizeof *arr * n) : NULL;
    if (n && !arr)
        return -1;
    uint32_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name;
        const void *val;
        size_t size;
        if (rd_kafka_header_get_all(h, i, &name, &val, &size) != RD_KAFKA_RESP_ERR_NO_ERROR)
            continue;
        size_t nl = strlen(name);
        char *nm = eddy_batch_alloc(b, nl + 1 + size);
        if (!nm)
            return -1;
        memcpy(nm, name, nl + 1);
        if (size)
            memcpy(nm + nl + 1, val, size);
        arr[k].name = nm;
        arr[k].val = size ? (const uint8_t *)nm + nl + 1 : NULL;
        arr[k].len = (uint32_t)size;
        k++;
    }
    r->headers = arr;
    r->nheaders = k;
    return 0;
}

static int to_record(ksrc *s, eddy_batch *b, rd_kafka_message_t *m, const char *topic)
{
    eddy_record *r = eddy_batch_append(b);
    if (!r)
        return EDDY_ENOMEM;
    int rc = eddy_codec_decode(s->codec, b, r, m->payload ? m->payload : "", m->len);
    if (rc == EDDY_ENOMEM || set_key(b, r, m) != 0 || set_headers(b, r, m) != 0) {
        eddy_batch_pop(b);
        return EDDY_ENOMEM;
    }
    r->topic = topic;
    r->partition = m->partition;
    r->offset = m->offset;
    rd_kafka_timestamp_type_t tt;
    int64_t ts = rd_kafka_message_timestamp(m, &tt);
    r->ts = tt != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE && ts >= 0 ? ts : EDDY_TS_NONE;
    return 0;
}

/* A message that alone does not fit in a batch's memory still must not be
 * lost silently: it becomes a dead letter without its payload. */
static void too_big(eddy_batch *b, rd_kafka_message_t *m, const char *topic)
{
    eddy_batch_reset(b);
    eddy_record *r = eddy_batch_append(b);
    if (!r)
        return;
    r->topic = topic;
    r->partition = m->partition;
    r->offset = m->offset;
    r->ts = EDDY_TS_NONE;
    eddy_record_fail(b, r, "decode", 0, "message of %zu bytes does not fit in the batch memory "
                     "(worker.batch_memory); payload not kept", m->len);
}

static int emit(ksrc *s, eddy_batch *b, uint32_t max, char *err, size_t errlen)
{
    uint32_t limit = max && max < s->batch_size ? max : s->batch_size;
    rd_kafka_message_t *m0 = s->pend[0];
    uint32_t ti;
    if (topic_of(s, m0, &ti) != 0) {
        eddy_errf(err, errlen, "%s", s->fatal ? s->fatal_msg : "kafka source: out of memory");
        return EDDY_ENOMEM;
    }
    const char *topic = s->topics[ti];
    int32_t vpart = (int32_t)(ti << KSRC_PART_BITS) | m0->partition;
    int32_t kp = m0->partition;
    const rd_kafka_topic_t *rkt = m0->rkt;
    b->partition = vpart;
    uint32_t j = 0, taken = 0;
    int full = 0;
    int64_t last = -1;
    for (uint32_t i = 0; i < s->npend; i++) {
        rd_kafka_message_t *m = s->pend[i];
        if (!full && taken < limit && m->partition == kp &&
            (m->rkt == rkt || strcmp(rd_kafka_topic_name(m->rkt), topic) == 0)) {
            int rc = to_record(s, b, m, topic);
            if (rc != 0 && b->n == 0) {
                too_big(b, m, topic);
                rc = b->n ? 0 : rc;
            }
            if (rc == 0) {
                last = m->offset;
                taken++;
                rd_kafka_message_destroy(m);
                continue;
            }
            full = 1; /* the rest waits for the next batch */
        }
        s->pend[j++] = m;
    }
    s->npend = j;
    if (!taken) {
        eddy_errf(err, errlen, "kafka source %s: out of memory building a batch", s->name);
        return EDDY_ENOMEM;
    }
    ksrc_part *p = eddy_ksrc_part(s, vpart);
    if (p)
        p->next = last + 1;
    eddy_metric_add(s->m_consumed, taken);
    return (int)taken;
}

static int ksrc_poll(void *self, eddy_batch *b, uint32_t max, int timeout_ms, char *err,
                     size_t errlen)
{
    ksrc *s = self;
    if (!s->fatal)
        consume(s, timeout_ms);
    if (!s->fatal && !s->ever_assigned && s->join_timeout_ms &&
        eddy_ksrc_now_ms() - s->opened_ms > s->join_timeout_ms) {
        char last[256];
        pthread_mutex_lock(&s->err_mu);
        snprintf(last, sizeof last, "%s", s->last_err[0] ? s->last_err : "no error reported");
        pthread_mutex_unlock(&s->err_mu);
        eddy_ksrc_fatal(s, "not in consumer group %s after join_timeout (%lld ms): are the "
                        "brokers in kafka.brokers reachable and the listener, credentials and "
                        "topics right? Last broker error: %s", s->group,
                        (long long)s->join_timeout_ms, last);
    }
    if (s->fatal) {
        eddy_errf(err, errlen, "%s", s->fatal_msg);
        return EDDY_EIO;
    }
    eddy_ksrc_lag(s);
    eddy_ksrc_wake(s);
    if (s->stop_at_end && !s->paused && all_at_end(s))
        return EDDY_EEOF;
    if (s->paused || !s->npend)
        return 0;
    return emit(s, b, max, err, errlen);
}

static const char *ksrc_not_ready(void *self, char *buf, size_t len)
{
    ksrc *s = self;
    if (atomic_load(&s->joined))
        return NULL;
    pthread_mutex_lock(&s->err_mu);
    snprintf(buf, len, "kafka source %s: not yet in consumer group %s%s%s", s->name, s->group,
             s->last_err[0] ? "; last broker error: " : " (joining)", s->last_err);
    pthread_mutex_unlock(&s->err_mu);
    return buf;
}

const eddy_source_ops eddy_kafka_source = {
    .type = "kafka",
    .summary = "Reads Kafka topics in a consumer group; offsets committed after outputs are "
               "acknowledged",
    .options = kafka_source_options,
    .open = ksrc_open,
    .partitions = ksrc_partitions,
    .poll = ksrc_poll,
    .commit = eddy_ksrc_commit,
    .close = ksrc_close,
    .pause = eddy_ksrc_pause,
    .sections = &eddy_kafka_sections,
    .partition_topic = eddy_ksrc_partition_topic,
    .changelog = &eddy_kafka_changelog,
    .txn = &eddy_kafka_txn,
    .rewind = eddy_ksrc_rewind,
    .not_ready = ksrc_not_ready,
    .parallel = true,
};
