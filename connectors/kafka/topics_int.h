/* Internals of topics as configuration (topics.h), shared by its files:
 *   topics_parse.c     the `topics:` option table and parsing
 *   topics_admin.c     the admin client, waiting for a result, and the one
 *                      runner of an Admin API batch
 *   topics_plan.c      what the cluster has (metadata, DescribeConfigs);
 *                      `eddy topics plan`
 *   topics_report.c    one line per finding (plan, apply, start-up check)
 *   topics_apply.c     create, add partitions, alter configs; `eddy topics apply`
 *   topics_check.c     a worker's start-up check
 *   topics_embedded.c  declared topics in the embedded (mock) cluster
 * A plan is built, read and freed by one thread; nothing here is shared
 * between threads except the client's last log line (topics_admin.c). */
#ifndef EDDY_KAFKA_TOPICS_INT_H
#define EDDY_KAFKA_TOPICS_INT_H
#include <stdbool.h>

#include "connectors/kafka/topics.h"

/* What the cluster has for one declared topic. */
enum { OBS_SET = 1, OBS_SENSITIVE = 2, OBS_READONLY = 4 };

typedef struct tp_state {
    const eddy_topic *d;
    bool exists;
    int32_t parts, repl; /* repl: fewest replicas of any partition */
    bool cfg_known;
    char cfg_err[1024]; /* why configs could not be read */
    size_t nobs;
    char **okeys, **ovals; /* ovals[i] NULL: sensitive or unset */
    unsigned char *oflags;
} tp_state;

typedef struct tp_plan {
    tp_state *ts;
    size_t n;
} tp_plan;

/* ---- topics_plan.c ---- */

/* Reads metadata and, for existing topics that declare configs, their
 * configs (a failure to read them is kept per topic in cfg_err). 0, or <0
 * with a reason in err. Free with eddy_tp_plan_free, also after an error. */
int eddy_tp_plan_build(const eddy_topics *t, rd_kafka_t *rk, int timeout_ms, tp_plan *p,
                       char *err, size_t errlen);
void eddy_tp_plan_free(tp_plan *p);
/* 0 when the configs of every topic that declares some are known; else
 * EDDY_EIO and err names the first topic and why (plan and apply refuse to
 * guess). */
int eddy_tp_configs_known(const tp_plan *p, char *err, size_t errlen);

/* ---- topics_report.c ---- */

bool eddy_tp_needs_parts(const tp_state *s);               /* fewer partitions than declared */
bool eddy_tp_config_differs(const tp_state *s, size_t k);  /* declared config k */
size_t eddy_tp_config_diffs(const tp_state *s);           /* 0 when configs are unknown */
/* "NAME (partitions P, replication R, key=value, ...)" */
int eddy_tp_put_create_desc(eddy_buf *out, const eddy_topic *d);
/* "KEY OLD -> NEW" for declared config k */
int eddy_tp_put_config_change(eddy_buf *out, const tp_state *s, size_t k);
/* One topic's lines (+ ~ ! =, see topics.h); changes counts + and ~ lines,
 * problems the ! lines. 0, or nonzero when out ran out of memory. */
int eddy_tp_report_topic(const tp_state *s, eddy_buf *out, int *changes, int *problems);
/* Every topic's lines; 0 or EDDY_ENOMEM. */
int eddy_tp_report_all(const tp_plan *p, eddy_buf *out, int *changes, int *problems);

/* ---- topics_admin.c ---- */

/* "; last client message: ..." (librdkafka's last warning), or "". */
void eddy_tp_last_log_hint(char *out, size_t len);
/* Admin options with the request timeout (and the operation timeout when
 * op_timeout). NULL on failure. */
rd_kafka_AdminOptions_t *eddy_tp_admin_opts(rd_kafka_t *rk, rd_kafka_admin_op_t op,
                                            int timeout_ms, bool op_timeout);
/* The one result event of an admin request, or NULL with
 * "WHAT: <reason>" in err. The caller destroys the event. */
rd_kafka_event_t *eddy_tp_await(rd_kafka_queue_t *q, int timeout_ms, const char *what,
                                char *err, size_t errlen);

/* One Admin API batch over a plan: a request for each topic `wanted`
 * selects, sent in one call; its result event gives one line per topic:
 * done() on success, "! NAME: WHAT failed: ..." on failure. */
typedef struct tp_batch {
    rd_kafka_admin_op_t op;
    bool op_timeout;     /* also bound the brokers' operation (create, add partitions) */
    const char *request; /* "CreateTopics": names the request when it gets no answer */
    const char *what;    /* "create": the action in failure lines */
    bool (*wanted)(const tp_state *s);
    /* The request of one topic, or NULL with why (that topic fails). */
    void *(*make)(const tp_state *s, char *why, size_t whylen);
    void (*destroy)(void *req);
    void (*send)(rd_kafka_t *rk, void **reqs, size_t n, const rd_kafka_AdminOptions_t *o,
                 rd_kafka_queue_t *q);
    /* The per-topic results of the event, and each one's topic and error. */
    const void **(*results)(rd_kafka_event_t *ev, size_t *cnt);
    void (*result)(const void *r, const char **name, rd_kafka_resp_err_t *e, const char **es);
    int (*done)(eddy_buf *out, const tp_state *s); /* the success line */
} tp_batch;

/* Runs batch b: 0 (failed topics are counted in *failures and reported in
 * out), or EDDY_ENOMEM. */
int eddy_tp_run_batch(const tp_batch *b, const tp_plan *p, rd_kafka_t *rk, int timeout_ms,
                      eddy_buf *out, int *failures);

#endif

