/* Baseline for the end-to-end Kafka benchmark: librdkafka's raw consume
 * rate on the same topic in the same run, with no decoding and no output.
 * It assigns every partition from the beginning (no group) and reads until
 * each partition reaches the high watermark it had at start.
 *
 *   raw_consume BROKERS TOPIC
 *
 * Prints messages, bytes, wall seconds, CPU seconds, events/s per core
 * (messages / CPU seconds), ns/event and peak RSS. */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "benchmarks/kafka/raw_common.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: raw_consume BROKERS TOPIC\n");
        return 2;
    }
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], err, sizeof err) ||
        rd_kafka_conf_set(conf, "group.id", "eddy-bench-raw", err, sizeof err) ||
        rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof err) ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err) ||
        rd_kafka_conf_set(conf, "fetch.max.bytes", "104857600", err, sizeof err)) {
        fprintf(stderr, "raw_consume: %s\n", err);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "raw_consume: %s\n", err);
        return 1;
    }
    int np;
    int64_t expected;
    rd_kafka_topic_partition_list_t *parts = raw_all_partitions(rk, argv[2], &np, &expected);
    if (!parts)
        return 1;
    double w0 = raw_now(CLOCK_MONOTONIC), c0 = raw_cpu_seconds();
    rd_kafka_assign(rk, parts);
    int64_t bytes;
    int64_t n = raw_read_all(rk, np, expected, NULL, NULL, NULL, &bytes);
    raw_report("raw_consume", n, bytes, raw_now(CLOCK_MONOTONIC) - w0, raw_cpu_seconds() - c0, "");
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return n == expected ? 0 : 1;
}
