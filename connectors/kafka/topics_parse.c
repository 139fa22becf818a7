/* The `topics:` section (topics.h): its option table, and parsing it into an
 * eddy_topics that copies what it keeps (it outlives the cfg). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/kafka/topics.h"
#include "engine/core/error.h"

#define MAX_PARTITIONS 1000000
#define NAME_MAX_LEN 249 /* Kafka's limit on a topic name */

const eddy_option eddy_topic_options[] = {
    {"name", EDDY_OPT_STRING, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_REQUIRED,
     "Topic name: letters, digits, '.', '_' and '-', at most 249 characters."},
    {"partitions", EDDY_OPT_INT, "1", 1, MAX_PARTITIONS, NULL, 0,
     "Number of partitions. `eddy topics apply` adds partitions to reach it; Kafka cannot "
     "remove partitions, so a topic with more is reported and left as it is."},
    {"replication", EDDY_OPT_INT, "1", 1, 32767, NULL, 0,
     "Replication factor used when the topic is created (at most the number of brokers). "
     "A different factor on an existing topic is reported, not changed."},
    {"config", EDDY_OPT_MAP, NULL, EDDY_NO_RANGE, NULL, 0,
     "Topic configs as Kafka names them, e.g. { retention.ms: \"604800000\", "
     "cleanup.policy: compact }. apply sets them; configs not listed keep their value."},
    {NULL, 0, NULL, 0, 0, NULL, 0, NULL},
};

static void topic_clear(eddy_topic *tp)
{
    free(tp->name);
    for (size_t i = 0; i < tp->nconfigs; i++) {
        free(tp->keys[i]);
        free(tp->vals[i]);
    }
    free(tp->keys);
    free(tp->vals);
}

void eddy_topics_free(eddy_topics *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        topic_clear(&t->v[i]);
    free(t->v);
    free(t);
}

/* Kafka's rule (kafka.common.internals.Topic.validate). */
static const char *bad_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0)
        return "is empty";
    if (n > NAME_MAX_LEN)
        return "is longer than 249 characters";
    if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return "cannot be '.' or '..'";
    for (const char *p = s; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return "may only hold letters, digits, '.', '_' and '-'";
    }
    return NULL;
}

static int topic_fill(eddy_topic *tp, const eddy_opts *o)
{
    if (!(tp->name = strdup(eddy_opts_str(o, "name"))))
        return -1;
    tp->partitions = (int32_t)eddy_opts_int(o, "partitions");
    tp->replication = (int32_t)eddy_opts_int(o, "replication");
    uint32_t n = eddy_opts_count(o, "config");
    if (n == 0)
        return 0;
    tp->keys = calloc(n, sizeof *tp->keys);
    tp->vals = calloc(n, sizeof *tp->vals);
    if (!tp->keys || !tp->vals)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        tp->keys[i] = strdup(eddy_opts_key(o, "config", i));
        tp->vals[i] = strdup(eddy_opts_item(o, "config", i));
        tp->nconfigs = i + 1;
        if (!tp->keys[i] || !tp->vals[i])
            return -1;
    }
    return 0;
}

typedef struct seen {
    char *name; /* copied: the opts holding it are freed per entry */
    char where[96];
} seen;

int eddy_topics_parse(eddy_cfg *cfg, const eddy_cnode *seq, eddy_topics **out)
{
    *out = NULL;
    size_t errors = eddy_cfg_errors(cfg);
    eddy_topics *t = calloc(1, sizeof *t);
    if (!t) {
        eddy_cfg_fail(cfg, seq, "topics", "out of memory");
        return EDDY_ENOMEM;
    }
    if (seq && eddy_cnode_kind_of(seq) == EDDY_CNODE_NULL)
        seq = NULL;
    if (seq && eddy_cnode_kind_of(seq) != EDDY_CNODE_SEQ) {
        eddy_cfg_fail(cfg, seq, "topics",
                      "expected a sequence of topics like - { name: payments, partitions: 6 }, "
                      "found %s",
                      eddy_cnode_kind_name(seq));
        eddy_topics_free(t);
        return EDDY_ECONFIG;
    }
    size_t n = seq ? eddy_cnode_seq_len(seq) : 0;
    if (n && !(t->v = calloc(n, sizeof *t->v))) {
        eddy_cfg_fail(cfg, seq, "topics", "out of memory");
        eddy_topics_free(t);
        return EDDY_ENOMEM;
    }
    /* Names of every entry, even one with other errors, so a duplicate is
     * reported in the same run. */
    seen *names = calloc(n ? n : 1, sizeof *names);
    if (!names) {
        eddy_cfg_fail(cfg, seq, "topics", "out of memory");
        eddy_topics_free(t);
        return EDDY_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const eddy_cnode *item = eddy_cnode_seq_at(seq, i);
        char path[64], npath[80];
        snprintf(path, sizeof path, "topics[%zu]", i);
        snprintf(npath, sizeof npath, "%s.name", path);
        eddy_opts *o = eddy_opts_parse(cfg, eddy_topic_options, item, path, NULL);
        const eddy_cnode *name_node =
            eddy_cnode_kind_of(item) == EDDY_CNODE_MAP ? eddy_cnode_get(item, "name") : NULL;
        const char *name = o ? eddy_opts_str(o, "name")
                         : name_node && eddy_cnode_kind_of(name_node) == EDDY_CNODE_SCALAR
                             ? eddy_cnode_str(cfg, name_node, npath)
                             : NULL;
        const char *why = name ? bad_name(name) : NULL;
        if (why)
            eddy_cfg_fail(cfg, name_node, npath, "topic name '%.300s' %s", name, why);
        const seen *first = NULL;
        for (size_t j = 0; name && j < i && !first; j++)
            if (names[j].name && strcmp(names[j].name, name) == 0)
                first = &names[j];
        if (first)
            eddy_cfg_fail(cfg, name_node, npath, "topic '%s' is declared twice (first at %s)",
                          name, first->where);
        if (name && !first && !(names[i].name = strdup(name))) {
            eddy_cfg_fail(cfg, item, path, "out of memory");
            eddy_opts_free(o);
            break;
        }
        eddy_cnode_where(cfg, item, names[i].where, sizeof names[i].where);
        if (!o || why || first) {
            eddy_opts_free(o);
            continue;
        }
        eddy_topic *tp = &t->v[t->n++];
        memcpy(tp->where, names[i].where, sizeof tp->where);
        int rc = topic_fill(tp, o);
        eddy_opts_free(o);
        if (rc != 0) {
            eddy_cfg_fail(cfg, item, path, "out of memory");
            break;
        }
        for (size_t k = 0; k < tp->nconfigs; k++)
            if (!tp->keys[k][0])
                eddy_cfg_fail(cfg, item, path, "config: a config name is empty");
    }
    for (size_t i = 0; i < n; i++)
        free(names[i].name);
    free(names);
    if (eddy_cfg_errors(cfg) > errors) {
        eddy_topics_free(t);
        return EDDY_ECONFIG;
    }
    *out = t;
    return 0;
}
