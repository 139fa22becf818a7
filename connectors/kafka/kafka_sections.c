/* The Kafka connectors' top-level config sections: the `kafka:` option
 * table, and the sections hook (engine/connector.h) through which a worker
 * parses `kafka:` and `topics:`, checks the declared topics at start-up and
 * hands the `kafka:` settings to every connector (env->kafka). Tools that
 * build no graph (`eddy topics`, `eddy tail`) use
 * eddy_topics_load_sections instead.
 *
 * Owner: the runtime owns the hook's state (parse to free); the state
 * copies what it keeps of the cfg. Main thread only. */
#include <stdlib.h>
#include <string.h>

#include "connectors/kafka/kafka_int.h"
#include "connectors/kafka/topics.h"
#include "engine/connector.h"
#include "engine/core/error.h"
#include "engine/obs/log.h"

const eddy_option eddy_kafka_options[] = {
    {"brokers", EDDY_OPT_STRING, "localhost:9092", EDDY_NO_RANGE, NULL, 0,
     "Bootstrap brokers, host:port[,host:port]. `embedded` starts librdkafka's in-process mock "
     "cluster (quick start and demos only: it keeps a few MB per partition, in memory)."},
    {"group", EDDY_OPT_STRING, NULL, EDDY_NO_RANGE, NULL, 0,
     "Consumer group of the Kafka sources (default: worker.name). Workers of one group share "
     "the partitions."},
    {"client_id", EDDY_OPT_STRING, NULL, EDDY_NO_RANGE, NULL, 0,
     "client.id sent to the brokers (default: eddy-<worker.name>)."},
    {"properties", EDDY_OPT_MAP, NULL, EDDY_NO_RANGE, NULL, 0,
     "Any librdkafka property, e.g. security.protocol, sasl.mechanism, sasl.username, "
     "sasl.password (use ${ENV} or file:), ssl.ca.location. Applied to every client."},
    {NULL, 0, NULL, 0, 0, NULL, 0, NULL},
};

/* ---- the sections hook of a worker -------------------------------------- */

typedef struct kafka_sections {
    eddy_opts *kafka;     /* `kafka:`, defaults filled */
    eddy_topics *topics;  /* `topics:` (may be empty) */
    char *config_path;    /* names the file in "run `eddy topics apply -c FILE`" */
} kafka_sections;

static void sections_free(void *state)
{
    kafka_sections *ks = state;
    if (!ks)
        return;
    eddy_opts_free(ks->kafka);
    eddy_topics_free(ks->topics);
    free(ks->config_path);
    free(ks);
}

static void *sections_parse(eddy_cfg *cfg, const eddy_cnode *root)
{
    kafka_sections *ks = calloc(1, sizeof *ks);
    const char *path = eddy_cfg_path(cfg);
    if (!ks || (path && !(ks->config_path = strdup(path)))) {
        eddy_cfg_fail(cfg, root, "kafka", "out of memory");
        sections_free(ks);
        return NULL;
    }
    const eddy_cnode *kn = eddy_cnode_get(root, "kafka");
    if (kn && eddy_cnode_kind_of(kn) == EDDY_CNODE_NULL)
        kn = NULL;
    if (kn && eddy_cnode_kind_of(kn) != EDDY_CNODE_MAP) {
        eddy_cfg_fail(cfg, kn, "kafka",
                      "expected Kafka settings like { brokers: \"localhost:9092\" } (a mapping), "
                      "found %s",
                      eddy_cnode_kind_name(kn));
        kn = NULL;
    }
    ks->kafka = eddy_opts_parse(cfg, eddy_kafka_options, kn, "kafka", NULL);
    eddy_topics_parse(cfg, eddy_cnode_get(root, "topics"), &ks->topics);
    return ks;
}

/* Declared topics must exist before any Kafka client starts: a missing
 * topic is a start-up error naming the command that creates it. */
static int sections_start(void *state, char *err, size_t errlen)
{
    const kafka_sections *ks = state;
    if (!ks->topics || ks->topics->n == 0)
        return 0;
    eddy_buf report = {0};
    int rc;
    if (eddy_kafka_is_embedded(ks->kafka)) {
        /* The embedded broker answers no Admin API: create what is declared
         * directly in the mock cluster. */
        char e[256] = "";
        if (!eddy_kafka_embedded(e, sizeof e)) {
            eddy_errf(err, errlen, "embedded broker: %s", e);
            return EDDY_EIO;
        }
        rc = eddy_topics_apply_mock(ks->topics, eddy_kafka_embedded_cluster(), &report, err,
                                    errlen);
    } else {
        rd_kafka_t *admin = eddy_topics_client(ks->kafka, err, errlen);
        if (!admin)
            return EDDY_EIO;
        rc = eddy_topics_check(ks->topics, admin, 10000, ks->config_path, &report, err, errlen);
        rd_kafka_destroy(admin);
    }
    eddy_buf_putc(&report, '\0');
    /* One log line per finding (created topics, differences). */
    for (char *line = (char *)report.data, *end; report.len && line && *line; line = end) {
        end = strchr(line, '\n');
        if (end)
            *end++ = '\0';
        if (*line)
            eddy_log(rc ? EDDY_LOG_ERROR : EDDY_LOG_INFO, NULL, "topics: %s", line);
    }
    eddy_buf_free(&report);
    return rc ? EDDY_ECONFIG : 0;
}

static void sections_bind(void *state, eddy_connector_env *env)
{
    env->kafka = ((const kafka_sections *)state)->kafka;
}

static const char *const section_keys[] = {"kafka", "topics", NULL};

const eddy_conn_sections eddy_kafka_sections = {
    .keys = section_keys,
    .parse = sections_parse,
    .start = sections_start,
    .bind = sections_bind,
    .free = sections_free,
};

/* ---- the same sections for tools ----------------------------------------- */

int eddy_topics_load_sections(eddy_cfg *cfg, eddy_opts **kafka, eddy_topics **topics)
{
    *kafka = NULL;
    if (topics)
        *topics = NULL;
    if (eddy_cfg_errors(cfg))
        return EDDY_ECONFIG;
    eddy_cnode *root = eddy_cfg_root(cfg);
    if (root && eddy_cnode_kind_of(root) != EDDY_CNODE_MAP) {
        eddy_cfg_fail(cfg, root, "(top level)", "expected a mapping, found %s",
                      eddy_cnode_kind_name(root));
        return EDDY_ECONFIG;
    }
    const eddy_cnode *kn = root ? eddy_cnode_get(root, "kafka") : NULL;
    eddy_opts *k = eddy_opts_parse(cfg, eddy_kafka_options, kn, "kafka", NULL);
    eddy_topics *t = NULL;
    if (topics)
        eddy_topics_parse(cfg, root ? eddy_cnode_get(root, "topics") : NULL, &t);
    if (!k || (topics && !t)) {
        eddy_opts_free(k);
        eddy_topics_free(t);
        return EDDY_ECONFIG;
    }
    *kafka = k;
    if (topics)
        *topics = t;
    return 0;
}
