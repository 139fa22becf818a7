/* What the raw librdkafka baselines (raw_consume.c, raw_pipe.c) share:
 * clocks, assigning every partition of a topic from the beginning with
 * the number of messages present at start, the timed read loop and the
 * figures line. Header-only: each baseline is
 * one small program. */
#ifndef EDDY_BENCH_RAW_COMMON_H
#define EDDY_BENCH_RAW_COMMON_H
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>

static inline double raw_now(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline double raw_cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru); /* all threads: librdkafka's included */
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

/* Every partition of topic from its beginning: the list to assign, the
 * partition count and the messages present now. NULL (said on stderr) when
 * the topic has no metadata. */
static inline rd_kafka_topic_partition_list_t *raw_all_partitions(rd_kafka_t *rk,
                                                                  const char *topic, int *np,
                                                                  int64_t *expected)
{
    const struct rd_kafka_metadata *md;
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    if (rd_kafka_metadata(rk, 0, t, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        md->topic_cnt != 1 || md->topics[0].err) {
        fprintf(stderr, "no metadata for topic %s\n", topic);
        rd_kafka_topic_destroy(t);
        return NULL;
    }
    *np = md->topics[0].partition_cnt;
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(*np);
    *expected = 0;
    for (int p = 0; p < *np; p++) {
        int64_t lo, hi;
        rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000);
        *expected += hi - lo;
        rd_kafka_topic_partition_list_add(parts, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(t);
    return parts;
}

/* Reads every message of the assigned partitions until each reported its
 * end (or `expected` messages came), calling on_msg for each message (its
 * return < 0 stops the read) and after_batch after each batch (NULL:
 * none); *bytes gets the payload bytes. Returns the messages read, or -1
 * when on_msg stopped it. The loop both baselines time. */
static inline int64_t raw_read_all(rd_kafka_t *rk, int np, int64_t expected,
                                   int (*on_msg)(void *arg, rd_kafka_message_t *m),
                                   void (*after_batch)(void *arg), void *arg, int64_t *bytes)
{
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(rk);
    rd_kafka_message_t *msgs[1024];
    int64_t n = 0;
    int eof = 0, stop = 0;
    *bytes = 0;
    while (!stop && eof < np && n < expected) {
        ssize_t got = rd_kafka_consume_batch_queue(q, 1000, msgs, 1024);
        for (ssize_t i = 0; i < got; i++) {
            rd_kafka_message_t *m = msgs[i];
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                eof++;
            } else if (!m->err && !stop) {
                n++;
                *bytes += (int64_t)m->len;
                if (on_msg && on_msg(arg, m) < 0)
                    stop = 1;
            }
            rd_kafka_message_destroy(m);
        }
        if (after_batch)
            after_batch(arg);
    }
    rd_kafka_queue_destroy(q);
    return stop ? -1 : n;
}

/* The figures line of a baseline, "NAME messages=... peak_rss_mib=..."
 * followed by `extra` (may be ""). */
static inline void raw_report(const char *name, int64_t n, int64_t bytes, double wall, double cpu,
                              const char *extra)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%s messages=%lld bytes=%lld wall_s=%.3f cpu_s=%.3f events_per_s=%.0f "
           "events_per_cpu_s=%.0f ns_per_event=%.1f peak_rss_mib=%.1f%s\n",
           name, (long long)n, (long long)bytes, wall, cpu, (double)n / wall, (double)n / cpu,
           cpu * 1e9 / (double)n, (double)ru.ru_maxrss / 1024.0, extra);
}

#endif
