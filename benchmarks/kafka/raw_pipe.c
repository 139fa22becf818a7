/* The floor for a Kafka -> Kafka passthrough built on librdkafka: consume a
 * topic (as raw_consume does) and produce every message's key and bytes,
 * unchanged, to another topic with the producer settings of eddy's Kafka
 * sink (idempotent, zstd level 1 unless COMPRESSION says otherwise), until
 * every message is acknowledged. No decoding, no encoding, no headers.
 *
 *   raw_pipe BROKERS IN_TOPIC OUT_TOPIC [COMPRESSION]
 *
 * Prints the same fields as raw_consume: what eddy's passthrough costs
 * beyond this is eddy's own (decode, records, encode, checkpoints). */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "benchmarks/kafka/raw_common.h"

static long long delivered, failed;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk, (void)opaque;
    if (m->err)
        failed++;
    else
        delivered++;
}

static int set(rd_kafka_conf_t *c, const char *k, const char *v)
{
    char err[512];
    if (rd_kafka_conf_set(c, k, v, err, sizeof err) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "raw_pipe: %s: %s\n", k, err);
        return -1;
    }
    return 0;
}

typedef struct pipe_ctx {
    rd_kafka_topic_t *out;
    rd_kafka_t *pk;
} pipe_ctx;

/* Each message's key and bytes to the output topic, waiting while the
 * producer's queue is full. */
static int forward(void *arg, rd_kafka_message_t *m)
{
    pipe_ctx *c = arg;
    while (rd_kafka_produce(c->out, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, m->payload, m->len,
                            m->key, m->key_len, NULL) == -1) {
        if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            fprintf(stderr, "raw_pipe: produce: %s\n", rd_kafka_err2str(rd_kafka_last_error()));
            return -1;
        }
        rd_kafka_poll(c->pk, 10);
    }
    return 0;
}

static void poll_producer(void *arg) { rd_kafka_poll(((pipe_ctx *)arg)->pk, 0); }

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: raw_pipe BROKERS IN_TOPIC OUT_TOPIC [COMPRESSION]\n");
        return 2;
    }
    const char *codec = argc == 5 ? argv[4] : "zstd";
    char err[512];
    rd_kafka_conf_t *cc = rd_kafka_conf_new(), *pc = rd_kafka_conf_new();
    if (set(cc, "bootstrap.servers", argv[1]) || set(cc, "group.id", "eddy-bench-raw-pipe") ||
        set(cc, "enable.partition.eof", "true") || set(cc, "enable.auto.commit", "false") ||
        set(cc, "fetch.max.bytes", "104857600") || set(pc, "bootstrap.servers", argv[1]) ||
        set(pc, "enable.idempotence", "true") || set(pc, "compression.type", codec) ||
        (!strcmp(codec, "zstd") && set(pc, "compression.level", "1")))
        return 1;
    rd_kafka_conf_set_dr_msg_cb(pc, dr_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, cc, err, sizeof err);
    rd_kafka_t *pk = rd_kafka_new(RD_KAFKA_PRODUCER, pc, err, sizeof err);
    if (!rk || !pk) {
        fprintf(stderr, "raw_pipe: %s\n", err);
        return 1;
    }
    int np;
    int64_t expected;
    rd_kafka_topic_partition_list_t *parts = raw_all_partitions(rk, argv[2], &np, &expected);
    if (!parts)
        return 1;
    rd_kafka_topic_t *out = rd_kafka_topic_new(pk, argv[3], NULL);
    double w0 = raw_now(CLOCK_MONOTONIC), c0 = raw_cpu_seconds();
    rd_kafka_assign(rk, parts);
    int64_t bytes;
    int64_t n = raw_read_all(rk, np, expected, forward, poll_producer, &(pipe_ctx){out, pk}, &bytes);
    if (n < 0)
        return 1;
    rd_kafka_flush(pk, 60000);
    double wall = raw_now(CLOCK_MONOTONIC) - w0, cpu = raw_cpu_seconds() - c0;
    char extra[96];
    snprintf(extra, sizeof extra, " delivered=%lld failed=%lld", delivered, failed);
    raw_report("raw_pipe", n, bytes, wall, cpu, extra);
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_topic_destroy(out);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    rd_kafka_destroy(pk);
    return n == expected && delivered == n ? 0 : 1;
}
