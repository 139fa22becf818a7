/* Checks the librdkafka features eddy relies on against a live broker:
 * idempotent producer, transactions (commit and abort, seen through a
 * read_committed consumer) and consumer-group offset commits.
 *
 *   rdkafka-check BROKERS TOPIC
 *
 * TOPIC must exist and be empty. Prints one line per check and exits 0 when
 * all pass. Every wait is bounded, so a broker that does not answer makes
 * the check fail instead of hang. Built on the fly by
 * tests/integration/test_kafka_harness.sh. */
#include <librdkafka/rdkafka.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TIMEOUT_MS 30000

static int failures;

static void report(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s: ", ok ? "ok" : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
    if (!ok)
        failures++;
}

static int set(rd_kafka_conf_t *conf, const char *key, const char *val)
{
    char err[256];
    if (rd_kafka_conf_set(conf, key, val, err, sizeof err) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "rdkafka-check: config %s=%s: %s\n", key, val, err);
        return -1;
    }
    return 0;
}

static rd_kafka_t *make_producer(const char *brokers, const char *txn_id)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[256];
    if (set(conf, "bootstrap.servers", brokers) || set(conf, "enable.idempotence", "true") ||
        set(conf, "message.timeout.ms", "30000") ||
        (txn_id && set(conf, "transactional.id", txn_id))) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "rdkafka-check: producer: %s\n", err);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

/* Produces COUNT messages "PREFIX-i" to partition 0; 0 on success. */
static int produce(rd_kafka_t *rk, const char *topic, const char *prefix, int count)
{
    for (int i = 0; i < count; i++) {
        char buf[64];
        int n = snprintf(buf, sizeof buf, "%s-%d", prefix, i);
        rd_kafka_resp_err_t err =
            rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                              RD_KAFKA_V_VALUE(buf, (size_t)n),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (err) {
            fprintf(stderr, "rdkafka-check: produce: %s\n", rd_kafka_err2str(err));
            return -1;
        }
    }
    return 0;
}

static int txn_ok(rd_kafka_error_t *e, const char *what)
{
    if (!e)
        return 1;
    fprintf(stderr, "rdkafka-check: %s: %s\n", what, rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    return 0;
}

static void check_idempotent(const char *brokers, const char *topic)
{
    rd_kafka_t *rk = make_producer(brokers, NULL);
    if (!rk) {
        report(0, "idempotent producer: could not be created");
        return;
    }
    int ok = produce(rk, topic, "idem", 10) == 0 && rd_kafka_flush(rk, TIMEOUT_MS) == 0 &&
             rd_kafka_outq_len(rk) == 0;
    rd_kafka_destroy(rk);
    report(ok, "idempotent producer delivered 10 messages");
}

static void check_transactions(const char *brokers, const char *topic)
{
    rd_kafka_t *rk = make_producer(brokers, "eddy-rdkafka-check");
    if (!rk) {
        report(0, "transactions: producer could not be created");
        return;
    }
    int ok = txn_ok(rd_kafka_init_transactions(rk, TIMEOUT_MS), "init_transactions");
    ok = ok && txn_ok(rd_kafka_begin_transaction(rk), "begin_transaction");
    ok = ok && produce(rk, topic, "committed", 5) == 0;
    ok = ok && txn_ok(rd_kafka_commit_transaction(rk, TIMEOUT_MS), "commit_transaction");
    report(ok, "transaction with 5 messages committed");
    int ok2 = ok && txn_ok(rd_kafka_begin_transaction(rk), "begin_transaction");
    ok2 = ok2 && produce(rk, topic, "aborted", 5) == 0;
    ok2 = ok2 && rd_kafka_flush(rk, TIMEOUT_MS) == 0;
    ok2 = ok2 && txn_ok(rd_kafka_abort_transaction(rk, TIMEOUT_MS), "abort_transaction");
    report(ok2, "transaction with 5 messages aborted");
    rd_kafka_destroy(rk);
}

static rd_kafka_t *make_consumer(const char *brokers, const char *group)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[256];
    if (set(conf, "bootstrap.servers", brokers) || set(conf, "group.id", group) ||
        set(conf, "isolation.level", "read_committed") ||
        set(conf, "auto.offset.reset", "earliest") || set(conf, "enable.auto.commit", "false") ||
        set(conf, "enable.partition.eof", "true")) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "rdkafka-check: consumer: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    return rk;
}

/* Reads partition 0 until EOF, counting message values by prefix. */
static int consume_all(rd_kafka_t *rk, const char *topic, int *idem, int *committed, int *aborted,
                       int64_t *next_offset)
{
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, topic, 0);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    if (err) {
        fprintf(stderr, "rdkafka-check: subscribe: %s\n", rd_kafka_err2str(err));
        return -1;
    }
    time_t deadline = time(NULL) + TIMEOUT_MS / 1000;
    while (time(NULL) < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 500);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            *next_offset = m->offset;
            rd_kafka_message_destroy(m);
            return 0;
        }
        if (m->err) {
            fprintf(stderr, "rdkafka-check: consume: %s\n", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            return -1;
        }
        const char *v = m->payload;
        if (m->len >= 4 && !memcmp(v, "idem", 4))
            (*idem)++;
        else if (m->len >= 9 && !memcmp(v, "committed", 9))
            (*committed)++;
        else if (m->len >= 7 && !memcmp(v, "aborted", 7))
            (*aborted)++;
        rd_kafka_message_destroy(m);
    }
    fprintf(stderr, "rdkafka-check: no end of partition within %d ms\n", TIMEOUT_MS);
    return -1;
}

static void check_consume_and_commit(const char *brokers, const char *topic)
{
    rd_kafka_t *rk = make_consumer(brokers, "eddy-rdkafka-check");
    if (!rk) {
        report(0, "consumer could not be created");
        return;
    }
    int idem = 0, committed = 0, aborted = 0;
    int64_t next = -1;
    int ok = consume_all(rk, topic, &idem, &committed, &aborted, &next) == 0;
    report(ok && idem == 10 && committed == 5 && aborted == 0,
           "read_committed consumer saw %d idempotent, %d committed, %d aborted messages "
           "(want 10, 5, 0)",
           idem, committed, aborted);

    rd_kafka_resp_err_t err = rd_kafka_commit(rk, NULL, 0);
    report(ok && err == 0, "consumer group commit: %s", rd_kafka_err2str(err));

    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, topic, 0);
    err = rd_kafka_committed(rk, parts, TIMEOUT_MS);
    int64_t got = err ? -1 : parts->elems[0].offset;
    report(ok && err == 0 && got == next && got > 0,
           "committed offset read back: %lld (want %lld)", (long long)got, (long long)next);
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: rdkafka-check BROKERS TOPIC\n");
        return 2;
    }
    printf("librdkafka %s\n", rd_kafka_version_str());
    check_idempotent(argv[1], argv[2]);
    check_transactions(argv[1], argv[2]);
    check_consume_and_commit(argv[1], argv[2]);
    return failures ? 1 : 0;
}
