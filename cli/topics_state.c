/* Changelog topics in `eddy topics plan|apply`: each durable source's
 * changelog (engine/state) is an implied entry of the `topics:` section,
 * compacted, with the partitions of its input (the declared ones, else the
 * cluster's), unless the config declares that topic itself. */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "connectors/kafka/topics.h"
#include "engine/graph.h"
#include "engine/state/state.h"

static int declared(const eddy_topics *t, const char *name, int32_t *partitions)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->v[i].name, name) == 0) {
            if (partitions)
                *partitions = t->v[i].partitions;
            return 1;
        }
    return 0;
}

/* Partitions of an existing topic from metadata, 0 when unknown. */
static int32_t cluster_partitions(rd_kafka_t *rk, const char *topic)
{
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    int32_t n = 0;
    if (t && !rd_kafka_metadata(rk, 0, t, &md, 10000) && md->topic_cnt == 1 &&
        !md->topics[0].err)
        n = md->topics[0].partition_cnt;
    if (md)
        rd_kafka_metadata_destroy(md);
    if (t)
        rd_kafka_topic_destroy(t);
    return n;
}

static int32_t input_partitions(const rt_source *src, const eddy_opts *kafka,
                                const eddy_topics *t, rd_kafka_t **admin)
{
    int32_t most = 0;
    for (uint32_t i = 0; i < eddy_opts_count(src->opts, "topics"); i++) {
        const char *name = eddy_opts_item(src->opts, "topics", i);
        int32_t n = 0;
        char err[512];
        if (!name || name[0] == '^')
            continue;
        if (!declared(t, name, &n)) {
            if (!*admin)
                *admin = eddy_topics_client(kafka, err, sizeof err);
            n = *admin ? cluster_partitions(*admin, name) : 0;
        }
        if (n > most)
            most = n;
    }
    return most;
}

static int add(eddy_topics *t, char *name, int32_t partitions, const char *source)
{
    eddy_topic *v = realloc(t->v, sizeof *v * (t->n + 1));
    if (!v)
        return -1;
    t->v = v;
    eddy_topic *tp = &v[t->n];
    memset(tp, 0, sizeof *tp);
    tp->name = name;
    tp->partitions = partitions;
    tp->replication = 1;
    tp->keys = calloc(1, sizeof *tp->keys);
    tp->vals = calloc(1, sizeof *tp->vals);
    if (tp->keys && tp->vals && (tp->keys[0] = strdup("cleanup.policy")) &&
        (tp->vals[0] = strdup("compact")))
        tp->nconfigs = 1;
    snprintf(tp->where, sizeof tp->where, "state of source %s", source);
    t->n++;
    return tp->nconfigs ? 0 : -1;
}

int cli_topics_add_changelogs(eddy_cfg *cfg, const eddy_opts *kafka, eddy_topics *t)
{
    eddy_cnode *root = eddy_cfg_root(cfg);
    const char *brokers = eddy_opts_str(kafka, "brokers");
    if ((brokers && strcmp(brokers, "embedded") == 0) || !root ||
        !eddy_cnode_get(root, "sources") || !eddy_cnode_get(root, "pipelines"))
        return 0;
    /* The pipelines say which sources keep state; a config that does not
     * build adds nothing here (`eddy validate` reports it). */
    eddy_runtime *rt = eddy_cfg_errors(cfg) ? NULL : eddy_runtime_build(cfg, false);
    if (!rt)
        return 0;
    /* What a start gives connectors (kafka.group names changelogs). */
    for (int i = 0; i < rt->nsections; i++)
        if (rt->sections[i].def->bind)
            rt->sections[i].def->bind(rt->sections[i].state, &rt->sink_env);
    rt->sink_env.worker = eddy_opts_str(rt->worker, "name");
    rd_kafka_t *admin = NULL;
    int rc = 0;
    for (int i = 0; i < rt->nsources && rc == 0; i++) {
        if (!eddy_state_source_stateful(rt, i))
            continue;
        char *name = eddy_state_changelog_topic(rt, i);
        int32_t n = 0;
        if (!name) {
            rc = -1;
        } else if (declared(t, name, NULL) ||
                   (n = input_partitions(&rt->sources[i], kafka, t, &admin)) <= 0) {
            free(name); /* declared by the user, or its input is not there yet */
        } else if ((rc = add(t, name, n, rt->sources[i].name)) != 0) {
            free(name);
        }
    }
    if (admin)
        rd_kafka_destroy(admin);
    eddy_runtime_free(rt);
    return rc;
}
