/* What the raw librdkafka baselines (raw_consume.c, raw_pipe.c) share:
 * clocks, and assigning every partition of a topic from the beginning with
 * the number of messages present at start. Header-only: each baseline is
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

#endif
