/* The Kafka source's state, shared by kafka_source.c (open, poll, batches)
 * and kafka_group.c (group membership: rebalances, commits, pause, lag).
 *
 * Partitions: the runtime keys its per-partition tasks by one int32, while
 * a source may read several topics; each (topic, partition) gets a task
 * partition `vpart` = topic index << 20 | partition, so a one-topic source
 * shows its Kafka partition numbers unchanged. Records keep the real topic,
 * partition and offset. */
#ifndef EDDY_KAFKA_SRC_H
#define EDDY_KAFKA_SRC_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "engine/format/codec.h"
#include "engine/connector.h"
#include "connectors/kafka/kafka_int.h"

#define KSRC_PART_BITS 20
#define KSRC_MAX_TOPICS 2047

typedef struct ksrc_part {
    int32_t vpart;
    uint32_t topic; /* index in ksrc.topics */
    int32_t partition;
    int64_t next;      /* offset after the last one delivered; -1 = none yet */
    int64_t committed; /* last offset committed (next to read); -1 = none */
    int eof;           /* stop_at_end: read to the end, nothing newer yet */
    eddy_metric *lag;
} ksrc_part;

typedef struct ksrc_waker ksrc_waker; /* kafka_wake.c */

typedef struct ksrc {
    char *name;
    rd_kafka_t *rk;
    eddy_codec *codec;
    eddy_schema_ref *schemas;
    uint32_t nschemas;
    const eddy_connector_env *env; /* may be NULL */
    char **topics; /* every topic seen, by index (stable: records point here) */
    uint32_t ntopics, cap_topics;
    rd_kafka_topic_t *last_rkt; /* topic index cache for the hot path */
    uint32_t last_topic;
    ksrc_part *parts; /* current assignment */
    uint32_t nparts, cap_parts;
    rd_kafka_message_t **pend; /* consumed, not yet delivered, in order */
    uint32_t npend, batch_size;
    int paused, in_rebalance, closing, ever_assigned;
    _Atomic int joined;       /* a first assignment arrived (read by /readyz) */
    int64_t opened_ms;        /* monotonic, for join_timeout */
    int64_t join_timeout_ms;  /* 0: wait for the group forever */
    char group[256];
    pthread_mutex_t err_mu;   /* guards last_err (the main thread reads it) */
    char last_err[256];       /* the latest retried consumer error */
    int txn_managed; /* offsets commit through transactions (kafka_txn.c) */
    int fatal;
    int stop_at_end;
    char fatal_msg[768];
    char user[128]; /* sasl.username, for error messages */
    eddy_metric *m_consumed, *m_errors;
    int64_t lag_at_ms;
    ksrc_waker *waker; /* NULL: not started */
    eddy_kafka_ratelog rl_err, rl_commit;
} ksrc;

/* kafka_group.c */
int eddy_ksrc_topic_index(ksrc *s, const char *topic, uint32_t *idx);
ksrc_part *eddy_ksrc_part(ksrc *s, int32_t vpart);
void eddy_ksrc_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque);
void eddy_ksrc_commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *offsets, void *opaque);
int eddy_ksrc_commit(void *self, int32_t vpart, int64_t offset);
int eddy_ksrc_pause(void *self, int paused);
const char *eddy_ksrc_partition_topic(void *self, int32_t vpart, int32_t *partition);
/* Exactly-once: every assigned partition back to its last committed
 * position (the runtime restores its state again through assigned_at). */
int eddy_ksrc_rewind(void *self);
/* kafka_txn.c: transactions, one per processing thread. */
extern const eddy_txn_ops eddy_kafka_txn;
/* kafka_changelog.c: durable state's changelog topic. */
extern const eddy_changelog_ops eddy_kafka_changelog;
void eddy_ksrc_lag(ksrc *s);
/* Commits every partition's last committed offset again, synchronously
 * (close: the runtime's final commits were asynchronous). */
void eddy_ksrc_commit_final(ksrc *s);
/* Marks the source failed with a message (poll returns it). */
void eddy_ksrc_fatal(ksrc *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int64_t eddy_ksrc_now_ms(void);
int eddy_ksrc_waker_start(ksrc *s);
void eddy_ksrc_waker_stop(ksrc *s);
void eddy_ksrc_wake(ksrc *s);

#endif
