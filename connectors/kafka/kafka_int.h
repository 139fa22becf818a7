/* Internals shared by the Kafka connectors (not part of kafka_conf.h, the
 * interface other commands use): property helpers that keep secrets out of
 * messages, the embedded cluster's topics, rate-limited logging, and the
 * dead-letter headers. */
#ifndef EDDY_KAFKA_INT_H
#define EDDY_KAFKA_INT_H
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/core/batch.h"
#include "engine/connector.h"
#include "connectors/kafka/kafka_conf.h"
#include "engine/obs/log.h"

/* Partitions of a topic the embedded cluster creates on its own (a source
 * or sink naming a topic nobody declared): enough to show partition
 * parallelism and a rebalance between two workers on a laptop. */
#define EDDY_KAFKA_EMBEDDED_PARTITIONS 4

/* The top-level `kafka:` and `topics:` sections (kafka_sections.c), shared
 * by the Kafka source and sink descriptors. */
extern const eddy_conn_sections eddy_kafka_sections;

/* True for properties whose values are never shown: the name contains
 * "password", "secret" or "key" (sasl.password, ssl.key.pem, ...). */
bool eddy_kafka_secret_name(const char *name);

/* kafka.brokers is `embedded`. */
bool eddy_kafka_is_embedded(const eddy_opts *kafka);

/* The value the user gave for a librdkafka property, in the connector's
 * map (extra[extra_key]) first, then kafka.properties; NULL if neither. */
const char *eddy_kafka_user_prop(const eddy_opts *kafka, const eddy_opts *extra,
                                 const char *extra_key, const char *name);

/* eddy's default for a property, unless the user set it (in the
 * connector's map extra[extra_key], or kafka.properties): then it is
 * kept. Errors as eddy_kafka_conf_set. 0 or -1. */
int eddy_kafka_conf_default(rd_kafka_conf_t *c, const char *what, const eddy_opts *kafka,
                            const eddy_opts *extra, const char *extra_key, const char *name,
                            const char *value, char *err, size_t errlen);

/* rd_kafka_conf_set with an error naming the property and `what` (where
 * the value came from), never a secret's value. 0 or -1. */
int eddy_kafka_conf_set(rd_kafka_conf_t *c, const char *what, const char *name,
                        const char *value, char *err, size_t errlen);

/* Creates `topic` in the embedded cluster unless it exists (started on
 * first use). 0, or -1 with a reason. */
int eddy_kafka_embedded_topic(const char *topic, int partitions, char *err, size_t errlen);
/* The embedded cluster, or NULL when it is not running (tests inject
 * broker errors through it). */
rd_kafka_mock_cluster_t *eddy_kafka_embedded_cluster(void);

/* "host:port" of the broker a librdkafka error reason names
 * ("sasl_ssl://10.0.0.1:9093/1: ..."), or "" when it names none. */
void eddy_kafka_reason_broker(const char *reason, char *out, size_t outlen);

/* At most one line per interval for a recurring error; the next line that
 * gets through says how many were suppressed. */
typedef struct eddy_kafka_ratelog {
    int64_t last_ms;
    uint64_t suppressed;
} eddy_kafka_ratelog;
void eddy_kafka_log_limited(eddy_kafka_ratelog *rl, eddy_log_level level,
                            const char *const *kv, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Dead letters (kafka_dlq.c): the headers that travel with the original
 * payload: eddy.error.reason, eddy.error.step, eddy.error.offset,
 * eddy.source.topic, eddy.source.partition, eddy.source.offset, then the
 * record's own headers. NULL on out of memory. The caller hands them to
 * rd_kafka_producev (which takes them on success) or destroys them. */
rd_kafka_headers_t *eddy_kafka_dlq_headers(const eddy_record *r);

/* Exactly-once (kafka_txn.c): the calling processing thread's
 * transactional producer while its transaction handle is open, else NULL;
 * a sink or the changelog producing through it counts each record. */
rd_kafka_t *eddy_kafka_txn_producer(void);
void eddy_kafka_txn_produced(void);
/* kafka_sink.c: the delivery report of a sink's record produced through a
 * transactional producer (the record's opaque is the sink). */
void eddy_kafka_sink_delivered(void *sink, const rd_kafka_message_t *m);
/* kafka_changelog.c: the delivery report of a changelog record. Its
 * opaque is the changelog handle with the low bit set (EDDY_KAFKA_CL_TAG),
 * so that kafka_txn.c's report callback tells it from a sink (an aligned
 * pointer) and routes it here. */
#define EDDY_KAFKA_CL_TAG ((uintptr_t)1)
void eddy_kafka_changelog_delivered(void *cl, const rd_kafka_message_t *m);

#endif
