/* Changelog topics in `eddy topics plan|apply`: each durable source's
 * changelog is an implied entry of the `topics:` section (compacted, with
 * the partitions of its input: the declared ones, else the cluster's),
 * unless the config declares that topic itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/kafka/kafka_int.h"
#include "connectors/kafka/topics.h"
#include "engine/state/state_int.h"

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

static int32_t input_partitions(eddy_runtime *rt, int si, const eddy_topics *t, rd_kafka_t **admin)
{
    int32_t most = 0;
    const rt_source *src = &rt->sources[si];
    for (uint32_t i = 0; i < eddy_opts_count(src->opts, "topics"); i++) {
        const char *name = eddy_opts_item(src->opts, "topics", i);
        int32_t n = 0;
        char err[512];
        if (!name || name[0] == '^')
            continue;
        if (!declared(t, name, &n)) {
            if (!*admin)
                *admin = eddy_topics_client(rt->kafka, err, sizeof err);
            n = *admin ? st_topic_partitions(*admin, name, err, sizeof err) : 0;
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
        return EDDY_ENOMEM;
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
    return tp->nconfigs ? 0 : EDDY_ENOMEM;
}

int eddy_state_topics_add(eddy_cfg *cfg, const eddy_opts *kafka, eddy_topics *t)
{
    eddy_cnode *root = eddy_cfg_root(cfg);
    if (eddy_kafka_is_embedded(kafka) || !root || !eddy_cnode_get(root, "sources") ||
        !eddy_cnode_get(root, "pipelines"))
        return 0;
    /* The pipelines say which sources keep state; a config that does not
     * build adds nothing here (`eddy validate` reports it). */
    size_t nerr = eddy_cfg_errors(cfg);
    eddy_runtime *rt = nerr ? NULL : eddy_runtime_build(cfg, false);
    if (!rt)
        return 0;
    rd_kafka_t *admin = NULL;
    int rc = 0;
    for (int i = 0; i < rt->nsources && rc == 0; i++) {
        if (!st_durable_candidate(rt, i))
            continue;
        char *name = st_changelog_name(rt, i);
        if (!name) {
            rc = EDDY_ENOMEM;
            break;
        }
        int32_t n = 0;
        if (declared(t, name, NULL) || (n = input_partitions(rt, i, t, &admin)) <= 0) {
            free(name); /* declared by the user, or its input is not there yet */
            continue;
        }
        rc = add(t, name, n, rt->sources[i].name);
        if (rc != 0)
            free(name);
    }
    if (admin)
        rd_kafka_destroy(admin);
    eddy_runtime_free(rt);
    return rc;
}
