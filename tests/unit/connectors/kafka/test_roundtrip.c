/* Kafka sink -> embedded broker -> Kafka source, in every format: fields,
 * keys, headers, timestamps, one partition per batch, keys kept on one
 * partition; undecodable payloads become error records; metrics. */
#include "tests/unit/connectors/kafka/kafka_util.h"

#include "engine/obs/metrics.h"

#define N 300
#define TS0 1700000000000LL

static char *avsc(void)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/rt.avsc", KAFKA_DATA_DIR);
    return path;
}

static int produce_records(kt_env *e, const char *const *pairs, size_t npairs)
{
    const eddy_sink_ops *ops = &eddy_kafka_sink;
    eddy_opts *o = kt_opts(ops->options, pairs, npairs);
    void *sink = NULL;
    char err[1024] = "";
    int rc = ops->open(o, "out", &e->env, &sink, err, sizeof err);
    CHECK_MSG(rc == 0, "%s", err);
    if (rc != 0) {
        eddy_opts_free(o);
        return -1;
    }
    eddy_batch *b = eddy_batch_new(N, 0);
    for (int i = 0; i < N; i++) {
        eddy_record *r = eddy_batch_append(b);
        char u[16], t[16];
        snprintf(u, sizeof u, "u%d", i % 7);
        snprintf(t, sizeof t, "t%d", i);
        kt_push_str(b, r, "user_id", u);
        kt_push(b, r, "amount", eddy_v_double(i * 1.5));
        kt_push(b, r, "count", eddy_v_int(i));
        r->key = eddy_batch_string(b, u, strlen(u));
        r->ts = TS0 + i;
        r->topic = "in";
        r->partition = i % 3;
        r->offset = 1000 + i;
        eddy_record_add_header(b, r, "trace", t, (uint32_t)strlen(t));
        eddy_record_add_header(b, r, "eddy.source", "stale", 5); /* replaced by the sink */
    }
    /* A dropped record is not written. */
    eddy_record *d = eddy_batch_append(b);
    kt_push(b, d, "count", eddy_v_int(-1));
    d->flags |= EDDY_REC_DROPPED;
    rc = ops->write(sink, b, err, sizeof err);
    CHECK_MSG(rc == 0, "%s", err);
    CHECK(ops->flush(sink) == 0);
    int64_t hw = 0;
    CHECK(ops->pending(sink, &hw) == 0);
    CHECK(hw == 100000);
    ops->close(sink);
    eddy_batch_destroy(b);
    eddy_opts_free(o);
    return rc;
}

static void check_records(const eddy_batch *all, const kt_seen *seen, int confluent)
{
    int found[N] = {0};
    int32_t part_of_key[7];
    for (int i = 0; i < 7; i++)
        part_of_key[i] = -1;
    int key_moved = 0, bad = 0, parts_used = 0;
    int used[64] = {0};
    for (uint32_t k = 0; k < all->n; k++) {
        const eddy_record *r = &all->recs[k];
        const eddy_value *c = kt_field(r, "count");
        if (!c || c->type != EDDY_INT || c->u.i < 0 || c->u.i >= N || (r->flags & EDDY_REC_ERROR)) {
            bad++;
            continue;
        }
        int i = (int)c->u.i;
        found[i]++;
        char u[16], t[16], src[64];
        snprintf(u, sizeof u, "u%d", i % 7);
        snprintf(t, sizeof t, "t%d", i);
        snprintf(src, sizeof src, "in/%d/%d", i % 3, 1000 + i);
        const eddy_value *a = kt_field(r, "amount");
        double x;
        if (!kt_is(kt_field(r, "user_id"), u) || !a || !eddy_value_number(a, &x) ||
            x != i * 1.5 || r->key.type != EDDY_STRING || !kt_is(&r->key, u) || r->ts != TS0 + i ||
            !kt_header_is(r, "trace", t) || (confluent ? eddy_record_header(r, "eddy.source") != NULL
                       : !kt_header_is(r, "eddy.source", src)) ||
            (confluent && !kt_header_is(r, "eddy.schema_id", "42")) ||
            (!confluent && eddy_record_header(r, "eddy.schema_id")) || !r->topic ||
            r->offset < 0)
            bad++;
        if (part_of_key[i % 7] < 0)
            part_of_key[i % 7] = r->partition;
        else if (part_of_key[i % 7] != r->partition)
            key_moved++;
        if (r->partition >= 0 && r->partition < 64 && !used[r->partition]++)
            parts_used++;
    }
    int missing = 0, dup = 0;
    for (int i = 0; i < N; i++) {
        missing += found[i] == 0;
        dup += found[i] > 1;
    }
    CHECK_MSG(all->n == N, "%u records", all->n);
    CHECK_MSG(bad == 0, "%d records differ from what was written", bad);
    CHECK(missing == 0 && dup == 0);
    CHECK_MSG(key_moved == 0, "a key was spread over %d partitions", key_moved);
    CHECK_MSG(parts_used > 1, "only %d partition used", parts_used);
    CHECK(seen->mixed_batches == 0);
    CHECK(seen->out_of_order == 0);
    for (int p = 0; p < 64; p++)
        if (seen->last_off[p] >= 0)
            CHECK(seen->vpart_of[p] == p); /* one topic: task partition = Kafka partition */
}

static void roundtrip(const char *fmt, int confluent)
{
    char topic[64], group[80], tp[80], gp[100], fp[40], sp[1100];
    snprintf(topic, sizeof topic, "rt.%s%s", fmt, confluent ? ".cf" : "");
    snprintf(group, sizeof group, "g.%s", topic);
    snprintf(tp, sizeof tp, "topic=%s", topic);
    snprintf(fp, sizeof fp, "format=%s", fmt);
    snprintf(sp, sizeof sp, "schema=%s", avsc());
    kt_env e;
    kt_env_init(&e, (const char *[]){"brokers=embedded"}, 1);
    eddy_metrics *m = eddy_metrics_new();
    e.env.metrics = m;
    int avro = strcmp(fmt, "avro") == 0;
    /* eddy.source is opt-in: on in the plain runs, left at its default
     * (off, and the input's stale one dropped) in the Confluent ones. */
    const char *sink_pairs[7] = {tp, fp};
    size_t ns = 2;
    if (!confluent)
        sink_pairs[ns++] = "source_header=true";
    if (avro)
        sink_pairs[ns++] = sp;
    if (confluent) {
        sink_pairs[ns++] = "confluent=true";
        sink_pairs[ns++] = "schema_id=42";
    }
    if (produce_records(&e, sink_pairs, ns) != 0) {
        eddy_metrics_free(m);
        kt_env_free(&e);
        return;
    }
    char lp[80], schemas[1100];
    snprintf(lp, sizeof lp, "topics=%s", topic);
    snprintf(gp, sizeof gp, "group=%s", group);
    snprintf(schemas, sizeof schemas, "schemas=42:%s", avsc());
    const char *src_pairs[6] = {lp, fp, gp};
    size_t np = 3;
    if (avro && !confluent)
        src_pairs[np++] = sp;
    if (confluent) {
        src_pairs[np++] = "confluent=true";
        src_pairs[np++] = schemas;
    }
    const eddy_source_ops *ops = &eddy_kafka_source;
    eddy_opts *o = kt_opts(ops->options, src_pairs, np);
    void *src = NULL;
    char err[1024] = "";
    int rc = ops->open(o, "payments", &e.env, &src, err, sizeof err);
    CHECK_MSG(rc == 0, "%s", err);
    if (rc == 0) {
        eddy_batch *all = eddy_batch_new(N, 0);
        kt_seen seen = {0};
        int got = kt_consume(ops, src, all, N, &seen, 1, err, sizeof err);
        CHECK_MSG(got == N, "%s: got %d of %d: %s", topic, got, N, err);
        check_records(all, &seen, confluent);
        CHECK(e.assigned >= 1);
        CHECK(ops->partitions(src) == EDDY_KAFKA_EMBEDDED_PARTITIONS);
        eddy_batch_destroy(all);
        ops->close(src);
    }
    eddy_buf out = {0};
    eddy_metrics_render(m, &out);
    eddy_buf_putc(&out, '\0');
    CHECK_CONTAINS((const char *)out.data, "eddy_kafka_consumer_lag{source=\"payments\"");
    CHECK_CONTAINS((const char *)out.data, "eddy_kafka_consumed_total{source=\"payments\"} 300");
    CHECK_CONTAINS((const char *)out.data, "eddy_kafka_produced_total{sink=\"out\"");
    eddy_buf_free(&out);
    eddy_opts_free(o);
    eddy_metrics_free(m);
    kt_env_free(&e);
}

/* Messages eddy did not write: undecodable values, binary and absent keys,
 * a tombstone, and Kafka headers. */
static void foreign_messages(void)
{
    char err[1024] = "";
    CHECK(eddy_kafka_embedded_topic("raw.in", 1, err, sizeof err) == 0);
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", eddy_kafka_embedded(err, sizeof err), err, sizeof err);
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    CHECK(p != NULL);
    if (!p)
        return;
    static const char bin_key[] = {(char)0xff, (char)0xfe, 0x01};
    CHECK(!rd_kafka_producev(p, RD_KAFKA_V_TOPIC("raw.in"), RD_KAFKA_V_VALUE("{\"a\":1}", 7),
                             RD_KAFKA_V_KEY(bin_key, 3), RD_KAFKA_V_HEADER("h1", "v1", 2),
                             RD_KAFKA_V_HEADER("h2", NULL, 0), RD_KAFKA_V_TIMESTAMP(TS0),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END));
    CHECK(!rd_kafka_producev(p, RD_KAFKA_V_TOPIC("raw.in"), RD_KAFKA_V_VALUE("{\"a\": tru", 9),
                             RD_KAFKA_V_KEY("k2", 2), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_END));
    CHECK(!rd_kafka_producev(p, RD_KAFKA_V_TOPIC("raw.in"), RD_KAFKA_V_VALUE("{\"a\":3}", 7),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END));
    CHECK(!rd_kafka_producev(p, RD_KAFKA_V_TOPIC("raw.in"), RD_KAFKA_V_VALUE(NULL, 0),
                             RD_KAFKA_V_KEY("gone", 4), RD_KAFKA_V_END));
    CHECK(rd_kafka_flush(p, KT_WAIT_MS) == 0);
    rd_kafka_destroy(p);

    kt_env e;
    kt_env_init(&e, (const char *[]){"brokers=embedded"}, 1);
    const eddy_source_ops *ops = &eddy_kafka_source;
    eddy_opts *o = kt_opts(ops->options, (const char *[]){"topics=raw.in", "group=g.raw"}, 2);
    void *src = NULL;
    int rc = ops->open(o, "raw", &e.env, &src, err, sizeof err);
    CHECK_MSG(rc == 0, "%s", err);
    if (rc == 0) {
        eddy_batch *all = eddy_batch_new(8, 0);
        kt_seen seen = {0};
        CHECK(kt_consume(ops, src, all, 4, &seen, 0, err, sizeof err) == 4);
        if (all->n == 4) {
            const eddy_record *r = &all->recs[0];
            CHECK(!(r->flags & EDDY_REC_ERROR));
            CHECK(r->key.type == EDDY_BYTES && r->key.len == 3 && memcmp(r->key.u.bytes, bin_key, 3) == 0);
            CHECK(kt_header_is(r, "h1", "v1"));
            CHECK(eddy_record_header(r, "h2") && eddy_record_header(r, "h2")->len == 0);
            CHECK(r->ts == TS0);
            CHECK_STR(r->topic, "raw.in");
            CHECK(r->offset == 0);
            r = &all->recs[1];
            CHECK(r->flags & EDDY_REC_ERROR);
            CHECK(r->err_reason && r->err_reason[0]);
            CHECK_STR(r->err_step, "decode");
            CHECK(r->raw && r->raw_len == 9 && memcmp(r->raw, "{\"a\": tru", 9) == 0);
            CHECK(r->offset == 1 && kt_is(&r->key, "k2") && r->key.type == EDDY_STRING);
            r = &all->recs[2];
            CHECK(!(r->flags & EDDY_REC_ERROR) && r->key.type == EDDY_NULL);
            CHECK(r->ts > 0); /* producer time */
            const eddy_value *a = kt_field(r, "a");
            CHECK(a && a->type == EDDY_INT && a->u.i == 3);
            r = &all->recs[3];
            CHECK(r->flags & EDDY_REC_ERROR); /* a tombstone has no record to decode */
            CHECK(kt_is(&r->key, "gone"));
        }
        eddy_batch_destroy(all);
        ops->close(src);
    }
    eddy_opts_free(o);
    kt_env_free(&e);
}

/* `key: count` sends the field's value as the message key (numbers as
 * text), and `timestamp: now` the time of writing instead of event time. */
static void key_field(void)
{
    kt_env e;
    kt_env_init(&e, (const char *[]){"brokers=embedded"}, 1);
    char err[1024] = "";
    const eddy_sink_ops *so = &eddy_kafka_sink;
    eddy_opts *o = kt_opts(so->options, (const char *[]){"topic=rt.key", "key=count", "timestamp=now"}, 3);
    void *sink = NULL;
    CHECK_MSG(so->open(o, "out", &e.env, &sink, err, sizeof err) == 0, "%s", err);
    eddy_opts_free(o);
    if (!sink) {
        kt_env_free(&e);
        return;
    }
    eddy_batch *b = eddy_batch_new(4, 0);
    eddy_record *r = eddy_batch_append(b);
    kt_push(b, r, "count", eddy_v_int(42));
    r->key = eddy_batch_string(b, "ignored", 7);
    r->ts = 1000; /* 1970: would be the message time with timestamp: event */
    r = eddy_batch_append(b);
    kt_push(b, r, "other", eddy_v_int(1)); /* no key field: no key */
    r->key = eddy_batch_string(b, "ignored", 7);
    r->ts = EDDY_TS_NONE;
    CHECK_MSG(so->write(sink, b, err, sizeof err) == 0, "%s", err);
    CHECK(so->flush(sink) == 0);
    so->close(sink);
    eddy_batch_destroy(b);
    const eddy_source_ops *ops = &eddy_kafka_source;
    o = kt_opts(ops->options, (const char *[]){"topics=rt.key", "group=g.key"}, 2);
    void *src = NULL;
    CHECK_MSG(ops->open(o, "k", &e.env, &src, err, sizeof err) == 0, "%s", err);
    if (src) {
        eddy_batch *all = eddy_batch_new(4, 0);
        kt_seen seen = {0};
        CHECK(kt_consume(ops, src, all, 2, &seen, 0, err, sizeof err) == 2);
        for (uint32_t i = 0; i < all->n; i++) {
            const eddy_record *x = &all->recs[i];
            if (kt_field(x, "count")) {
                CHECK(kt_is(&x->key, "42") && x->key.type == EDDY_STRING);
                CHECK(x->ts > 1000000);
            } else {
                CHECK(x->key.type == EDDY_NULL);
            }
        }
        eddy_batch_destroy(all);
        ops->close(src);
    }
    eddy_opts_free(o);
    kt_env_free(&e);
}

int main(void)
{
    eddy_log_setup(EDDY_LOG_WARN, EDDY_LOGFMT_LOGFMT, 2);
    roundtrip("json", 0);
    roundtrip("msgpack", 0);
#if EDDY_HAVE_AVRO
    roundtrip("avro", 0);
    roundtrip("avro", 1);
#endif
    foreign_messages();
    key_field();
    eddy_kafka_embedded_stop();
    return test_report();
}
