/* Failure paths on the embedded broker: missing topics, authentication and
 * authorization failures stop the source or sink with a clear message (and
 * never a secret); a lost delivery fails flush so nothing is committed; a
 * producer queue that stays full fails the write; dead letters carry the
 * original payload and the envelope headers. */
#include "tests/unit/connectors/kafka/kafka_util.h"

#define SECRET "hunter2-do-not-log"

static const eddy_source_ops *src_ops = &eddy_kafka_source;
static const eddy_sink_ops *sink_ops = &eddy_kafka_sink;

/* An env pointing at the embedded broker by address, so nothing is created
 * on demand: like a real cluster. */
static void env_direct(kt_env *e, const char *extra_props)
{
    char err[512], b[300], p[600];
    const char *bs = eddy_kafka_embedded(err, sizeof err);
    snprintf(b, sizeof b, "brokers=%s", bs ? bs : "127.0.0.1:1");
    snprintf(p, sizeof p, "properties=%s", extra_props ? extra_props : "");
    if (extra_props)
        kt_env_init(e, (const char *[]){b, p}, 2);
    else
        kt_env_init(e, (const char *[]){b}, 1);
}

/* Polls until poll() fails; returns its code with the message in err. */
static int poll_until_error(void *src, char *err, size_t errlen)
{
    eddy_batch *b = eddy_batch_new(64, 0);
    int rc = 0;
    int64_t end = kt_now_ms() + KT_WAIT_MS;
    while (rc >= 0 && kt_now_ms() < end) {
        eddy_batch_reset(b);
        rc = src_ops->poll(src, b, 64, 50, err, errlen);
    }
    eddy_batch_destroy(b);
    return rc;
}

static void missing_topics(void)
{
    kt_env e;
    env_direct(&e, NULL);
    char err[1024] = "";
    eddy_opts *o = kt_opts(sink_ops->options, (const char *[]){"topic=nope.missing"}, 1);
    void *sink = NULL;
    CHECK(sink_ops->open(o, "alerts", &e.env, &sink, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "topic nope.missing does not exist (declare it under topics: and run "
                        "eddy topics apply)");
    eddy_opts_free(o);

    /* The embedded broker creates any topic a client asks about, so the
     * broker's answer for a missing topic is injected. */
    rd_kafka_mock_cluster_t *mc = eddy_kafka_embedded_cluster();
    if (mc)
        rd_kafka_mock_topic_set_error(mc, "src.missing", RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
    o = kt_opts(src_ops->options, (const char *[]){"topics=src.missing", "group=g.missing"}, 2);
    void *src = NULL;
    CHECK(src_ops->open(o, "payments", &e.env, &src, err, sizeof err) == 0);
    if (src) {
        err[0] = '\0';
        CHECK(poll_until_error(src, err, sizeof err) < 0);
        CHECK_CONTAINS(err, "kafka source payments: topic src.missing does not exist");
        src_ops->close(src);
    }
    eddy_opts_free(o);
    kt_env_free(&e);
}

static void not_authorized(void)
{
    char err[1024] = "";
    CHECK(eddy_kafka_embedded_topic("secret.topic", 1, err, sizeof err) == 0);
    rd_kafka_mock_cluster_t *mc = eddy_kafka_embedded_cluster();
    if (!mc)
        return;
    rd_kafka_mock_topic_set_error(mc, "secret.topic", RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    kt_env e;
    env_direct(&e, NULL);
    eddy_opts *o = kt_opts(src_ops->options, (const char *[]){"topics=secret.topic", "group=g.auth"}, 2);
    void *src = NULL;
    CHECK(src_ops->open(o, "payments", &e.env, &src, err, sizeof err) == 0);
    if (src) {
        err[0] = '\0';
        CHECK(poll_until_error(src, err, sizeof err) < 0);
        CHECK_CONTAINS(err, "kafka source payments: not authorized to read topic secret.topic");
        src_ops->close(src);
    }
    rd_kafka_mock_topic_set_error(mc, "secret.topic", RD_KAFKA_RESP_ERR_NO_ERROR);
    eddy_opts_free(o);
    kt_env_free(&e);
}

/* The embedded broker speaks no SASL, so a SASL client fails to
 * authenticate the way a wrong password does. */
static void wrong_password(void)
{
    kt_env e;
    env_direct(&e, "security.protocol:sasl_plaintext,sasl.mechanisms:PLAIN,sasl.username:eddy,"
                   "sasl.password:" SECRET);
    char err[1024] = "";
    CHECK(eddy_kafka_embedded_topic("auth.in", 1, err, sizeof err) == 0);
    eddy_opts *o = kt_opts(src_ops->options, (const char *[]){"topics=auth.in", "group=g.sasl"}, 2);
    void *src = NULL;
    CHECK(src_ops->open(o, "payments", &e.env, &src, err, sizeof err) == 0);
    if (src) {
        err[0] = '\0';
        CHECK(poll_until_error(src, err, sizeof err) < 0);
        CHECK_CONTAINS(err, "kafka source payments: authentication failed for user eddy on 127.0.0.1:");
        CHECK(strstr(err, SECRET) == NULL);
        src_ops->close(src);
    }
    eddy_opts_free(o);
    o = kt_opts(sink_ops->options, (const char *[]){"topic=auth.in"}, 1);
    void *sink = NULL;
    err[0] = '\0';
    CHECK(sink_ops->open(o, "alerts", &e.env, &sink, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "kafka sink alerts: authentication failed for user eddy on 127.0.0.1:");
    CHECK(strstr(err, SECRET) == NULL);
    eddy_opts_free(o);
    kt_env_free(&e);
}

static eddy_batch *one_record(void)
{
    eddy_batch *b = eddy_batch_new(4, 0);
    eddy_record *r = eddy_batch_append(b);
    kt_push(b, r, "n", eddy_v_int(1));
    r->ts = EDDY_TS_NONE;
    return b;
}

static void lost_delivery(void)
{
    kt_env e;
    kt_env_init(&e, (const char *[]){"brokers=embedded"}, 1);
    char err[1024] = "";
    eddy_opts *o = kt_opts(sink_ops->options,
                           (const char *[]){"topic=fail.out"}, 1);
    void *sink = NULL;
    CHECK_MSG(sink_ops->open(o, "out", &e.env, &sink, err, sizeof err) == 0, "%s", err);
    rd_kafka_mock_cluster_t *mc = eddy_kafka_embedded_cluster();
    if (sink && mc) {
        eddy_batch *b = one_record();
        CHECK(sink_ops->write(sink, b, err, sizeof err) == 0);
        CHECK(sink_ops->flush(sink) == 0); /* fine so far */
        rd_kafka_resp_err_t perm = RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED;
        rd_kafka_mock_push_request_errors_array(mc, 0 /* Produce */, 1, &perm);
        CHECK(sink_ops->write(sink, b, err, sizeof err) == 0);
        CHECK(sink_ops->flush(sink) < 0); /* the runtime must not commit */
        CHECK(sink_ops->write(sink, b, err, sizeof err) < 0); /* and stays failed */
        CHECK_CONTAINS(err, "kafka sink out:");
        CHECK_CONTAINS(err, "fail.out");
        eddy_batch_destroy(b);
    }
    if (sink)
        sink_ops->close(sink);
    eddy_opts_free(o);
    kt_env_free(&e);
}

/* Checkpoint tokens (engine/checkpoint.c): a token is acknowledged only
 * once everything written before it is, never while some of it is still
 * in flight (here: the broker is down), and a lost delivery fails it. */
static int acked_within(void *sink, uint64_t tok, int ms)
{
    int r = 0;
    for (int i = 0; i < ms / 10 && (r = sink_ops->acked(sink, tok)) == 0; i++)
        usleep(10000);
    return r;
}

static void checkpoint_tokens(void)
{
    kt_env e;
    kt_env_init(&e, (const char *[]){"brokers=embedded"}, 1);
    char err[1024] = "";
    eddy_opts *o = kt_opts(sink_ops->options, (const char *[]){"topic=ck.out"}, 1);
    void *sink = NULL;
    CHECK_MSG(sink_ops->open(o, "out", &e.env, &sink, err, sizeof err) == 0, "%s", err);
    rd_kafka_mock_cluster_t *mc = eddy_kafka_embedded_cluster();
    if (sink && mc) {
        eddy_batch *b = one_record();
        uint64_t t0 = 0, t1 = 0, t2 = 0;
        CHECK(sink_ops->mark(sink, &t0) == 0); /* nothing written: acknowledged */
        CHECK(acked_within(sink, t0, 5000) == 1);
        rd_kafka_mock_broker_set_down(mc, 1);
        CHECK(sink_ops->write(sink, b, err, sizeof err) == 0);
        CHECK(sink_ops->mark(sink, &t1) == 0);
        CHECK(t1 > t0);
        usleep(300000);
        CHECK_MSG(sink_ops->acked(sink, t1) == 0, "a token was acknowledged while its record "
                  "was still in flight");
        CHECK(sink_ops->write(sink, b, err, sizeof err) == 0);
        CHECK(sink_ops->mark(sink, &t2) == 0);
        rd_kafka_mock_broker_set_up(mc, 1);
        CHECK_MSG(acked_within(sink, t1, 10000) == 1, "token not acknowledged after 10 s");
        CHECK(acked_within(sink, t2, 10000) == 1);
        /* Many checkpoints in flight: mark refuses before the ring wraps
         * (the runtime flushes instead), and accepts again once they are
         * acknowledged. */
        rd_kafka_mock_broker_set_down(mc, 1);
        int refused = 0;
        uint64_t t = 0;
        for (int i = 0; i < 100 && !refused; i++) {
            CHECK(sink_ops->write(sink, b, err, sizeof err) == 0);
            refused = sink_ops->mark(sink, &t) != 0;
        }
        CHECK_MSG(refused, "mark never refused with 100 checkpoints in flight");
        rd_kafka_mock_broker_set_up(mc, 1);
        CHECK(sink_ops->flush(sink) == 0);
        CHECK(sink_ops->mark(sink, &t) == 0);
        CHECK(acked_within(sink, t, 5000) == 1);
        /* A delivery that fails for good fails its token. */
        rd_kafka_resp_err_t perm = RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED;
        rd_kafka_mock_push_request_errors_array(mc, 0 /* Produce */, 1, &perm);
        CHECK(sink_ops->write(sink, b, err, sizeof err) == 0);
        CHECK(sink_ops->mark(sink, &t) == 0);
        CHECK_MSG(acked_within(sink, t, 10000) < 0, "a lost delivery did not fail its token");
        eddy_batch_destroy(b);
    }
    if (sink)
        sink_ops->close(sink);
    eddy_opts_free(o);
    kt_env_free(&e);
}

static void queue_full(void)
{
    kt_env e;
    kt_env_init(&e, (const char *[]){"brokers=embedded"}, 1);
    char err[1024] = "";
    eddy_opts *o = kt_opts(sink_ops->options,
                           (const char *[]){"topic=full.out", "timeout=300ms",
                                            "properties=queue.buffering.max.messages:1,linger.ms:0"},
                           3);
    void *sink = NULL;
    CHECK_MSG(sink_ops->open(o, "out", &e.env, &sink, err, sizeof err) == 0, "%s", err);
    rd_kafka_mock_cluster_t *mc = eddy_kafka_embedded_cluster();
    if (sink && mc) {
        rd_kafka_mock_broker_set_down(mc, 1);
        eddy_batch *b = eddy_batch_new(4, 0);
        for (int i = 0; i < 3; i++) {
            eddy_record *r = eddy_batch_append(b);
            kt_push(b, r, "n", eddy_v_int(i));
            r->ts = EDDY_TS_NONE;
        }
        CHECK(sink_ops->write(sink, b, err, sizeof err) < 0);
        CHECK_CONTAINS(err, "producer queue still full");
        int64_t hw = 0;
        CHECK(sink_ops->pending(sink, &hw) >= 1);
        rd_kafka_mock_broker_set_up(mc, 1);
        eddy_batch_destroy(b);
    }
    if (sink)
        sink_ops->close(sink);
    eddy_opts_free(o);
    kt_env_free(&e);
}

/* Dead letters, read back from their topic; the sink under test writes Avro
 * (not in a build without avro-c). */
#if EDDY_HAVE_AVRO
/* Reads up to max messages of a topic from the beginning (no group). The
 * messages hold *rkp alive: destroy them before the handle. */
static int read_topic(const char *topic, int partitions, rd_kafka_message_t **out, int max,
                      rd_kafka_t **rkp)
{
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", eddy_kafka_embedded(err, sizeof err), err, sizeof err);
    rd_kafka_conf_set(c, "group.id", "reader", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err);
    *rkp = rk;
    if (!rk)
        return 0;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; p++)
        rd_kafka_topic_partition_list_add(l, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    int n = 0;
    int64_t end = kt_now_ms() + KT_WAIT_MS;
    while (n < max && kt_now_ms() < end) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (m->err)
            rd_kafka_message_destroy(m);
        else
            out[n++] = m;
    }
    return n;
}

static int hdr_is(rd_kafka_message_t *m, const char *name, const void *val, size_t len)
{
    rd_kafka_headers_t *h;
    const void *v;
    size_t sz;
    return rd_kafka_message_headers(m, &h) == 0 && rd_kafka_header_get_last(h, name, &v, &sz) == 0 &&
           sz == len && (len == 0 || memcmp(v, val, len) == 0);
}

static void dead_letters(void)
{
    kt_env e;
    kt_env_init(&e, (const char *[]){"brokers=embedded"}, 1);
    char err[1024] = "";
    CHECK(eddy_kafka_embedded_topic("payments.dlq", 1, err, sizeof err) == 0);
    eddy_opts *o = kt_opts(sink_ops->options, (const char *[]){"topic=payments.dlq", "format=avro",
                                                              "schema=" KAFKA_DATA_DIR "/rt.avsc"},
                           3);
    void *sink = NULL;
    CHECK_MSG(sink_ops->open(o, "payments.dead_letter", &e.env, &sink, err, sizeof err) == 0, "%s",
              err);
    static const uint8_t binary[] = {0x00, 0xff, 0x10, 0x80};
    if (sink) {
        eddy_batch *b = eddy_batch_new(4, 0);
        eddy_record *r = eddy_batch_append(b);
        eddy_record_keep_raw(b, r, "{\"amount\": tru", 14);
        eddy_record_fail(b, r, "decode", 13, "expected true at byte 13");
        r->key = eddy_batch_string(b, "u1", 2);
        r->topic = "payments";
        r->partition = 2;
        r->offset = 77;
        r->ts = EDDY_TS_NONE;
        eddy_record_add_header(b, r, "trace", "abc", 3);
        r = eddy_batch_append(b);
        eddy_record_keep_raw(b, r, binary, sizeof binary);
        eddy_record_fail(b, r, "filter#1", 0, "rejected by filter");
        r->topic = "payments";
        r->partition = 0;
        r->offset = 5;
        r->ts = EDDY_TS_NONE;
        CHECK_MSG(sink_ops->write(sink, b, err, sizeof err) == 0, "%s", err);
        CHECK(sink_ops->flush(sink) == 0);
        eddy_batch_destroy(b);
        sink_ops->close(sink);
    }
    rd_kafka_message_t *m[2] = {0};
    rd_kafka_t *rk = NULL;
    int n = read_topic("payments.dlq", 1, m, 2, &rk);
    CHECK(n == 2);
    if (n == 2) {
        CHECK(m[0]->len == 14 && memcmp(m[0]->payload, "{\"amount\": tru", 14) == 0);
        CHECK(m[0]->key_len == 2 && memcmp(m[0]->key, "u1", 2) == 0);
        CHECK(hdr_is(m[0], "eddy.error.reason", "expected true at byte 13", 24));
        CHECK(hdr_is(m[0], "eddy.error.step", "decode", 6));
        CHECK(hdr_is(m[0], "eddy.error.offset", "13", 2));
        CHECK(hdr_is(m[0], "eddy.source.topic", "payments", 8));
        CHECK(hdr_is(m[0], "eddy.source.partition", "2", 1));
        CHECK(hdr_is(m[0], "eddy.source.offset", "77", 2));
        CHECK(hdr_is(m[0], "trace", "abc", 3));
        CHECK(m[1]->len == sizeof binary && memcmp(m[1]->payload, binary, sizeof binary) == 0);
        CHECK(m[1]->key == NULL);
        CHECK(hdr_is(m[1], "eddy.error.step", "filter#1", 8));
        CHECK(hdr_is(m[1], "eddy.source.offset", "5", 1));
    }
    for (int i = 0; i < n; i++)
        rd_kafka_message_destroy(m[i]);
    if (rk) {
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
    }
    eddy_opts_free(o);
    kt_env_free(&e);
}
#endif

int main(void)
{
    eddy_log_setup(EDDY_LOG_ERROR, EDDY_LOGFMT_LOGFMT, 2);
    missing_topics();
    not_authorized();
    wrong_password();
#if EDDY_HAVE_AVRO
    dead_letters();
#endif
    lost_delivery();
    checkpoint_tokens();
    queue_full();
    eddy_kafka_embedded_stop();
    return test_report();
}
