/* Helpers for the topics and tail tests: a mock cluster and config text. */
#ifndef EDDY_TEST_TOPICS_UTIL_H
#define EDDY_TEST_TOPICS_UTIL_H
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/config/config.h"
#include "connectors/kafka/topics.h"
#include "tests/unit/test.h"

/* librdkafka's mock cluster lives in a client handle of its own. */
typedef struct mock {
    rd_kafka_t *host;
    rd_kafka_mock_cluster_t *mc;
    const char *bootstraps;
} mock;

static inline void mock_quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk, (void)level, (void)fac, (void)buf;
}

static inline int mock_start(mock *m)
{
    char err[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(c, mock_quiet_log);
    if (!(m->host = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err))) {
        fprintf(stderr, "mock host: %s\n", err);
        rd_kafka_conf_destroy(c);
        return -1;
    }
    if (!(m->mc = rd_kafka_mock_cluster_new(m->host, 1))) {
        rd_kafka_destroy(m->host);
        return -1;
    }
    m->bootstraps = rd_kafka_mock_cluster_bootstraps(m->mc);
    return 0;
}

static inline void mock_stop(mock *m)
{
    if (m->mc)
        rd_kafka_mock_cluster_destroy(m->mc);
    if (m->host)
        rd_kafka_destroy(m->host);
    m->mc = NULL;
    m->host = NULL;
}

/* The `topics:` section of `yaml` parsed; NULL with errors in *cfg. */
static inline eddy_topics *parse_topics(const char *yaml, eddy_cfg **cfg)
{
    *cfg = eddy_cfg_load_string("t.yaml", yaml, strlen(yaml));
    if (!*cfg || eddy_cfg_errors(*cfg))
        return NULL;
    eddy_topics *t = NULL;
    eddy_topics_parse(*cfg, eddy_cnode_get(eddy_cfg_root(*cfg), "topics"), &t);
    return t;
}

/* All errors of a cfg, one per line, for CHECK_CONTAINS. */
static inline const char *cfg_errors(eddy_cfg *cfg)
{
    static char buf[8192];
    buf[0] = 0;
    size_t used = 0;
    for (size_t i = 0; cfg && i < eddy_cfg_errors(cfg) && used < sizeof buf; i++)
        used += (size_t)snprintf(buf + used, sizeof buf - used, "%s\n", eddy_cfg_error(cfg, i));
    return buf;
}

#endif
