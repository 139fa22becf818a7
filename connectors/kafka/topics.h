/* Topics as configuration: the top-level `topics:` section declares the
 * Kafka topics a deployment needs (name, partitions, replication, topic
 * configs). `eddy topics plan` shows how the cluster differs, `eddy topics
 * apply` changes it (create, add partitions, alter configs), and a worker
 * checks at start-up that every declared topic exists.
 *
 * Everything goes through librdkafka: metadata for existence, partition
 * counts and replication; the Admin API (DescribeConfigs, CreateTopics,
 * CreatePartitions, AlterConfigs) for the rest. librdkafka 2.0.2 has no
 * IncrementalAlterConfigs, and its AlterConfigs replaces every non-default
 * config of a topic, so apply sends the declared keys plus every other
 * config already set on the topic.
 *
 * librdkafka's mock cluster (the embedded broker) implements none of the
 * Admin API: plan and check work against it for topics without configs;
 * eddy_topics_apply_mock creates declared topics in it directly.
 *
 * Owner: eddy_topics_parse returns an eddy_topics owned by the caller (free
 * with eddy_topics_free); it copies what it keeps, so it outlives the cfg.
 * Reports are appended to a caller's eddy_buf, one line per finding. */
#ifndef EDDY_KAFKA_TOPICS_H
#define EDDY_KAFKA_TOPICS_H
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf/buf.h"
#include "engine/config/config.h"
#include "engine/config/options.h"

typedef struct eddy_topic {
    char *name;
    int32_t partitions;
    int32_t replication;
    size_t nconfigs;
    char **keys; /* topic config names, document order */
    char **vals;
    char where[96]; /* file:line:col of the declaration */
} eddy_topic;

typedef struct eddy_topics {
    eddy_topic *v;
    size_t n;
} eddy_topics;

/* The option table of one `topics:` entry (for describe and docs). */
extern const eddy_option eddy_topic_options[];

/* Parses the `topics:` sequence (seq NULL or null: no topics, *out is an
 * empty set). Errors (with file:line:col) go to cfg: unknown keys, bad
 * values, names Kafka would refuse, names declared twice. 0, or <0 with
 * *out NULL when there was any error. */
int eddy_topics_parse(eddy_cfg *cfg, const eddy_cnode *seq, eddy_topics **out);
void eddy_topics_free(eddy_topics *t);

/* For tools that need only the `kafka:` and `topics:` sections of a loaded
 * config (`eddy topics`, `eddy tail`), without building its pipelines
 * (kafka_sections.c; a worker gets them through eddy_kafka_sections).
 * *kafka gets the parsed `kafka:` section (defaults when absent; free with
 * eddy_opts_free); topics may be NULL when not wanted. Errors go to cfg.
 * 0, or <0 with both outputs NULL. */
int eddy_topics_load_sections(eddy_cfg *cfg, eddy_opts **kafka, eddy_topics **topics);

/* A client for admin requests (a producer handle that never produces)
 * from the `kafka:` settings (kafka may be NULL: defaults), with
 * librdkafka's own log lines kept quiet: failures come back through err.
 * NULL with a reason in err. The caller destroys it (rd_kafka_destroy). */
rd_kafka_t *eddy_topics_client(const eddy_opts *kafka, char *err, size_t errlen);

/* Compares the declared topics with the cluster and appends one line per
 * finding to report:
 *   + create payments (partitions 6, replication 1, cleanup.policy=delete)
 *   ~ payments: partitions 3 -> 6
 *   ~ payments: retention.ms 86400000 -> 604800000
 *   ! payments: has 8 partitions, declared 6 (cannot shrink)
 *   ! payments: replication 3, declared 1 (not changed by eddy)
 *   = payments: up to date
 * *changes counts the actions apply would take (+ and ~ lines; ! lines are
 * findings apply cannot fix; *problems counts them when not NULL). timeout_ms bounds each request to the
 * brokers (the first, metadata, to at most 10 s so that unreachable
 * brokers are reported soon). 0, or <0 with a reason in err (brokers unreachable, configs
 * unreadable). */
int eddy_topics_plan(const eddy_topics *t, rd_kafka_t *admin_client, int timeout_ms,
                     eddy_buf *report, int *changes, int *problems, char *err, size_t errlen);

/* Computes the plan and carries it out: creates missing topics (with their
 * configs), adds partitions, alters configs. Appends one line per action
 * ("created payments (partitions 6, replication 1)", "payments: partitions
 * 3 -> 6: done") or failure ("payments: create failed: Replication factor:
 * 3 larger than available brokers: 1."). timeout_ms is the brokers'
 * operation timeout and bounds each request. *failures counts the actions
 * that failed; *problems (when not NULL) the differences it cannot fix
 * (the plan's ! lines), which are not failures. 0 when every action succeeded; <0 when the plan could not
 * be computed or any action failed (err says what). */
int eddy_topics_apply(const eddy_topics *t, rd_kafka_t *admin_client, int timeout_ms,
                      eddy_buf *report, int *failures, int *problems, char *err, size_t errlen);

/* Start-up check of a worker: every declared topic must exist, else <0 and
 * err says "topic X is declared but does not exist; run `eddy topics apply
 * -c FILE`" (config_path fills FILE; several missing topics are listed).
 * Other differences (partitions, replication, configs, configs that cannot
 * be read) are appended to warnings, one line each; they do not fail. */
int eddy_topics_check(const eddy_topics *t, rd_kafka_t *admin_client, int timeout_ms,
                      const char *config_path, eddy_buf *warnings, char *err, size_t errlen);

/* Creates each declared topic missing from the mock cluster with its
 * partitions and replication (topic configs do not exist there), appending
 * "created NAME (...)" lines. For `kafka.brokers: embedded`, whose broker
 * answers no Admin API request. 0, or <0 with a reason in err. */
int eddy_topics_apply_mock(const eddy_topics *t, rd_kafka_mock_cluster_t *mock,
                           eddy_buf *report, char *err, size_t errlen);

#endif
