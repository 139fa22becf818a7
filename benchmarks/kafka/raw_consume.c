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

static double now(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru); /* all threads: librdkafka fetches in its own */
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

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
    const struct rd_kafka_metadata *md;
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, argv[2], NULL);
    if (rd_kafka_metadata(rk, 0, t, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 ||
        md->topics[0].err) {
        fprintf(stderr, "raw_consume: no metadata for topic %s\n", argv[2]);
        return 1;
    }
    int np = md->topics[0].partition_cnt;
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(np);
    int64_t expected = 0;
    for (int p = 0; p < np; p++) {
        int64_t lo, hi;
        rd_kafka_query_watermark_offsets(rk, argv[2], p, &lo, &hi, 10000);
        expected += hi - lo;
        rd_kafka_topic_partition_list_add(parts, argv[2], p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(t);
    double w0 = now(CLOCK_MONOTONIC), c0 = cpu_seconds();
    rd_kafka_assign(rk, parts);
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(rk);
    rd_kafka_message_t *msgs[1024];
    int64_t n = 0, bytes = 0;
    int eof = 0;
    while (eof < np && n < expected) {
        ssize_t got = rd_kafka_consume_batch_queue(q, 1000, msgs, 1024);
        for (ssize_t i = 0; i < got; i++) {
            if (msgs[i]->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
                eof++;
            else if (!msgs[i]->err) {
                n++;
                bytes += (int64_t)msgs[i]->len;
            }
            rd_kafka_message_destroy(msgs[i]);
        }
    }
    double wall = now(CLOCK_MONOTONIC) - w0, cpu = cpu_seconds() - c0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("raw_consume messages=%lld bytes=%lld wall_s=%.3f cpu_s=%.3f events_per_s=%.0f "
           "events_per_cpu_s=%.0f ns_per_event=%.1f peak_rss_mib=%.1f\n",
           (long long)n, (long long)bytes, wall, cpu, (double)n / wall, (double)n / cpu,
           cpu * 1e9 / (double)n, (double)ru.ru_maxrss / 1024.0);
    rd_kafka_queue_destroy(q);
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return n == expected ? 0 : 1;
}
