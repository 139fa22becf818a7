/* Topics as configuration (topics.h): parse the `topics:` section, read
 * what the cluster has (metadata + DescribeConfigs), report the difference,
 * and apply it through the Admin API. */
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/kafka/kafka_conf.h"
#include "connectors/kafka/topics.h"
#include "engine/core/error.h"

#define MAX_PARTITIONS 1000000
#define NAME_MAX_LEN 249 /* Kafka's limit on a topic name */
#define METADATA_WAIT_MS 10000

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

/* ---- parsing ------------------------------------------------------------ */

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

/* ---- client ------------------------------------------------------------- */

/* librdkafka logs from its own threads; the last warning is what explains a
 * timeout (connection refused, SASL failure), so it is kept for messages. */
static pthread_mutex_t last_log_mu = PTHREAD_MUTEX_INITIALIZER;
static char last_log[512];

static void quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    (void)fac;
    if (level > 4)
        return;
    pthread_mutex_lock(&last_log_mu);
    snprintf(last_log, sizeof last_log, "%s", buf);
    pthread_mutex_unlock(&last_log_mu);
}

/* "; last client message: ..." or "". */
static void last_log_hint(char *out, size_t len)
{
    pthread_mutex_lock(&last_log_mu);
    if (last_log[0])
        snprintf(out, len, "; last client message: %s", last_log);
    else if (len)
        out[0] = 0;
    pthread_mutex_unlock(&last_log_mu);
}

rd_kafka_t *eddy_topics_client(const eddy_opts *kafka, char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = eddy_kafka_conf(kafka, NULL, NULL, "admin", err, errlen);
    if (!conf)
        return NULL;
    rd_kafka_conf_set_log_cb(conf, quiet_log);
    char why[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        eddy_errf(err, errlen, "cannot create a Kafka client: %s", why);
    }
    return rk;
}

/* ---- what the cluster has ------------------------------------------------ */

enum { OBS_SET = 1, OBS_SENSITIVE = 2, OBS_READONLY = 4 };

typedef struct tstate {
    const eddy_topic *d;
    bool exists;
    int32_t parts, repl; /* repl: fewest replicas of any partition */
    bool cfg_known;
    char cfg_err[1024]; /* why configs could not be read */
    size_t nobs;
    char **okeys, **ovals; /* ovals[i] NULL: sensitive or unset */
    unsigned char *oflags;
} tstate;

typedef struct plan {
    tstate *ts;
    size_t n;
} plan;

static void plan_free(plan *p)
{
    for (size_t i = 0; i < p->n; i++) {
        tstate *s = &p->ts[i];
        for (size_t j = 0; j < s->nobs; j++) {
            free(s->okeys[j]);
            free(s->ovals[j]);
        }
        free(s->okeys);
        free(s->ovals);
        free(s->oflags);
    }
    free(p->ts);
    p->ts = NULL;
    p->n = 0;
}

static int read_metadata(const eddy_topics *t, rd_kafka_t *rk, int timeout_ms, plan *p,
                         char *err, size_t errlen)
{
    const struct rd_kafka_metadata *md = NULL;
    /* Unreachable brokers are reported soon, whatever the operation timeout. */
    int wait_ms = timeout_ms < METADATA_WAIT_MS ? timeout_ms : METADATA_WAIT_MS;
    /* All topics: asking for named topics can make brokers auto-create them. */
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, &md, wait_ms);
    if (e) {
        char hint[600];
        last_log_hint(hint, sizeof hint);
        eddy_errf(err, errlen, "cannot get metadata from the Kafka brokers within %d ms: %s%s",
            wait_ms, rd_kafka_err2str(e), hint);
        return EDDY_EIO;
    }
    int rc = 0;
    for (size_t i = 0; i < t->n && rc == 0; i++) {
        tstate *s = &p->ts[i];
        s->d = &t->v[i];
        for (int j = 0; j < md->topic_cnt; j++) {
            const rd_kafka_metadata_topic_t *mt = &md->topics[j];
            if (strcmp(mt->topic, s->d->name) != 0)
                continue;
            if (mt->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
                break;
            if (mt->err && mt->err != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE) {
                eddy_errf(err, errlen, "topic %s: the brokers answered: %s", s->d->name,
                    rd_kafka_err2str(mt->err));
                rc = EDDY_EIO;
                break;
            }
            s->exists = true;
            s->parts = mt->partition_cnt;
            s->repl = -1;
            for (int k = 0; k < mt->partition_cnt; k++)
                if (s->repl < 0 || mt->partitions[k].replica_cnt < s->repl)
                    s->repl = mt->partitions[k].replica_cnt;
            break;
        }
    }
    rd_kafka_metadata_destroy(md);
    return rc;
}

/* Waits for the one result event of an admin request. NULL with a reason
 * when none came: librdkafka answers every request by its request timeout,
 * so the margin only guards against a stuck client. */
static rd_kafka_event_t *await(rd_kafka_queue_t *q, int timeout_ms, const char *what,
                               char *err, size_t errlen)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 5000);
    if (!ev) {
        eddy_errf(err, errlen, "%s: no answer from the brokers within %d ms", what, timeout_ms);
        return NULL;
    }
    if (rd_kafka_event_error(ev)) {
        char hint[600];
        last_log_hint(hint, sizeof hint);
        eddy_errf(err, errlen, "%s: %s%s", what, rd_kafka_event_error_string(ev),
            rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR__TIMED_OUT ? hint : "");
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    return ev;
}

static rd_kafka_AdminOptions_t *admin_opts(rd_kafka_t *rk, rd_kafka_admin_op_t op,
                                           int timeout_ms, bool op_timeout)
{
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, op);
    char why[256];
    if (!o)
        return NULL;
    if (rd_kafka_AdminOptions_set_request_timeout(o, timeout_ms, why, sizeof why) ||
        (op_timeout && rd_kafka_AdminOptions_set_operation_timeout(o, timeout_ms, why, sizeof why))) {
        rd_kafka_AdminOptions_destroy(o);
        return NULL;
    }
    return o;
}

static int keep_entries(tstate *s, const rd_kafka_ConfigResource_t *res)
{
    size_t n;
    const rd_kafka_ConfigEntry_t **ents = rd_kafka_ConfigResource_configs(res, &n);
    if (n) {
        s->okeys = calloc(n, sizeof *s->okeys);
        s->ovals = calloc(n, sizeof *s->ovals);
        s->oflags = calloc(n, 1);
        if (!s->okeys || !s->ovals || !s->oflags)
            return EDDY_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const char *v = rd_kafka_ConfigEntry_value(ents[i]);
        if (!(s->okeys[i] = strdup(rd_kafka_ConfigEntry_name(ents[i]))))
            return EDDY_ENOMEM;
        s->nobs = i + 1;
        if (v && !(s->ovals[i] = strdup(v)))
            return EDDY_ENOMEM;
        unsigned char f = 0;
        if (rd_kafka_ConfigEntry_source(ents[i]) == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG)
            f |= OBS_SET;
        if (rd_kafka_ConfigEntry_is_sensitive(ents[i]))
            f |= OBS_SENSITIVE;
        if (rd_kafka_ConfigEntry_is_read_only(ents[i]))
            f |= OBS_READONLY;
        s->oflags[i] = f;
    }
    s->cfg_known = true;
    return 0;
}

/* Configs of every existing topic that declares some (others need none).
 * A failure is kept per topic in cfg_err: plan and apply refuse to guess,
 * check only warns. */
static int read_configs(plan *p, rd_kafka_t *rk, int timeout_ms)
{
    size_t want = 0;
    for (size_t i = 0; i < p->n; i++)
        want += p->ts[i].exists && p->ts[i].d->nconfigs;
    if (!want)
        return 0;
    rd_kafka_ConfigResource_t **res = calloc(want, sizeof *res);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *o = admin_opts(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout_ms, false);
    int rc = 0;
    size_t nres = 0;
    if (!res || !q || !o) {
        rc = EDDY_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < p->n; i++)
        if (p->ts[i].exists && p->ts[i].d->nconfigs &&
            !(res[nres++] = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, p->ts[i].d->name))) {
            rc = EDDY_ENOMEM;
            goto out;
        }
    rd_kafka_DescribeConfigs(rk, res, nres, o, q);
    char why[1024];
    rd_kafka_event_t *ev = await(q, timeout_ms, "cannot read topic configs (DescribeConfigs)",
                                 why, sizeof why);
    if (!ev) {
        for (size_t i = 0; i < p->n; i++)
            snprintf(p->ts[i].cfg_err, sizeof p->ts[i].cfg_err, "%s", why);
        goto out;
    }
    size_t cnt;
    const rd_kafka_ConfigResource_t **got =
        rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &cnt);
    for (size_t i = 0; i < p->n && rc == 0; i++) {
        tstate *s = &p->ts[i];
        if (!s->exists || !s->d->nconfigs)
            continue;
        snprintf(s->cfg_err, sizeof s->cfg_err, "the brokers did not describe it");
        for (size_t j = 0; j < cnt; j++) {
            if (strcmp(rd_kafka_ConfigResource_name(got[j]), s->d->name) != 0)
                continue;
            if (rd_kafka_ConfigResource_error(got[j])) {
                const char *es = rd_kafka_ConfigResource_error_string(got[j]);
                snprintf(s->cfg_err, sizeof s->cfg_err, "%s",
                         es && es[0] ? es : rd_kafka_err2str(rd_kafka_ConfigResource_error(got[j])));
            } else {
                s->cfg_err[0] = 0;
                rc = keep_entries(s, got[j]);
            }
            break;
        }
    }
    rd_kafka_event_destroy(ev);
out:
    for (size_t i = 0; i < nres; i++)
        if (res[i])
            rd_kafka_ConfigResource_destroy(res[i]);
    free(res);
    if (o)
        rd_kafka_AdminOptions_destroy(o);
    if (q)
        rd_kafka_queue_destroy(q);
    return rc;
}

static int plan_build(const eddy_topics *t, rd_kafka_t *rk, int timeout_ms, plan *p, char *err,
                      size_t errlen)
{
    p->n = t->n;
    p->ts = calloc(t->n ? t->n : 1, sizeof *p->ts);
    if (!p->ts) {
        eddy_errf(err, errlen, "out of memory");
        return EDDY_ENOMEM;
    }
    int rc = read_metadata(t, rk, timeout_ms, p, err, errlen);
    if (rc == 0 && (rc = read_configs(p, rk, timeout_ms)) != 0)
        eddy_errf(err, errlen, "out of memory reading topic configs");
    return rc;
}

/* The observed value of a config; *found false when the broker did not
 * report the key. NULL value with found: sensitive. */
static const char *observed(const tstate *s, const char *key, bool *found)
{
    for (size_t i = 0; i < s->nobs; i++)
        if (strcmp(s->okeys[i], key) == 0) {
            *found = true;
            return s->ovals[i];
        }
    *found = false;
    return NULL;
}

static bool config_differs(const tstate *s, size_t k)
{
    bool found;
    const char *v = observed(s, s->d->keys[k], &found);
    return !v || strcmp(v, s->d->vals[k]) != 0;
}

static size_t config_diffs(const tstate *s)
{
    size_t n = 0;
    if (!s->exists || !s->cfg_known)
        return 0;
    for (size_t k = 0; k < s->d->nconfigs; k++)
        n += config_differs(s, k);
    return n;
}

static bool needs_parts(const tstate *s) { return s->exists && s->parts < s->d->partitions; }

static int put_create_desc(eddy_buf *out, const eddy_topic *d)
{
    int rc = eddy_buf_printf(out, "%s (partitions %d, replication %d", d->name, (int)d->partitions,
                             (int)d->replication);
    for (size_t k = 0; k < d->nconfigs; k++)
        rc |= eddy_buf_printf(out, ", %s=%s", d->keys[k], d->vals[k]);
    return rc | eddy_buf_putc(out, ')');
}

static int put_config_change(eddy_buf *out, const tstate *s, size_t k)
{
    bool found;
    const char *v = observed(s, s->d->keys[k], &found);
    return eddy_buf_printf(out, "%s %s -> %s", s->d->keys[k],
                           v ? v : found ? "(hidden)" : "(unset)", s->d->vals[k]);
}

/* One topic's lines. `problems` counts the ! lines. */
static int report_topic(const tstate *s, eddy_buf *out, int *changes, int *problems)
{
    const eddy_topic *d = s->d;
    int rc = 0, before = *changes + *problems;
    if (!s->exists) {
        rc |= eddy_buf_puts(out, "+ create ");
        rc |= put_create_desc(out, d);
        rc |= eddy_buf_putc(out, '\n');
        (*changes)++;
        return rc;
    }
    if (needs_parts(s)) {
        rc |= eddy_buf_printf(out, "~ %s: partitions %d -> %d\n", d->name, (int)s->parts,
                              (int)d->partitions);
        (*changes)++;
    } else if (s->parts > d->partitions) {
        rc |= eddy_buf_printf(out, "! %s: has %d partitions, declared %d (cannot shrink)\n",
                              d->name, (int)s->parts, (int)d->partitions);
        (*problems)++;
    }
    if (s->repl >= 0 && s->repl != d->replication) {
        rc |= eddy_buf_printf(out,
                              "! %s: replication %d, declared %d (not changed: reassign "
                              "partitions with Kafka's tools)\n",
                              d->name, (int)s->repl, (int)d->replication);
        (*problems)++;
    }
    if (d->nconfigs && !s->cfg_known) {
        rc |= eddy_buf_printf(out, "! %s: configs unknown: %s\n", d->name, s->cfg_err);
        (*problems)++;
    }
    for (size_t k = 0; s->cfg_known && k < d->nconfigs; k++) {
        if (!config_differs(s, k))
            continue;
        rc |= eddy_buf_printf(out, "~ %s: ", d->name);
        rc |= put_config_change(out, s, k);
        rc |= eddy_buf_putc(out, '\n');
        (*changes)++;
    }
    if (*changes + *problems == before)
        rc |= eddy_buf_printf(out, "= %s: up to date\n", d->name);
    return rc;
}

static int report_all(const plan *p, eddy_buf *out, int *changes, int *problems)
{
    int rc = 0;
    *changes = *problems = 0;
    for (size_t i = 0; i < p->n; i++)
        rc |= report_topic(&p->ts[i], out, changes, problems);
    return rc ? EDDY_ENOMEM : 0;
}

static const char *first_unknown_configs(const plan *p)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->ts[i].exists && p->ts[i].d->nconfigs && !p->ts[i].cfg_known)
            return p->ts[i].d->name;
    return NULL;
}

int eddy_topics_plan(const eddy_topics *t, rd_kafka_t *rk, int timeout_ms, eddy_buf *report,
                     int *changes, char *err, size_t errlen)
{
    plan p = {0};
    int problems = 0;
    *changes = 0;
    int rc = plan_build(t, rk, timeout_ms, &p, err, errlen);
    if (rc == 0) {
        const char *unk = first_unknown_configs(&p);
        /* Without the configs the plan would be a guess: say so instead. */
        if (unk) {
            for (size_t i = 0; i < p.n; i++)
                if (strcmp(p.ts[i].d->name, unk) == 0)
                    eddy_errf(err, errlen, "cannot read the configs of topic %s: %s", unk, p.ts[i].cfg_err);
            rc = EDDY_EIO;
        } else if ((rc = report_all(&p, report, changes, &problems)) != 0) {
            eddy_errf(err, errlen, "out of memory");
        }
    }
    plan_free(&p);
    return rc;
}

/* ---- apply -------------------------------------------------------------- */

static int result_line(eddy_buf *out, const char *name, const char *what,
                       rd_kafka_resp_err_t e, const char *es)
{
    if (e == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE)
        return eddy_buf_printf(out, "! %s: %s failed: the brokers do not support it (%s)\n", name,
                               what, es && es[0] ? es : rd_kafka_err2str(e));
    if (es && es[0] && strcmp(es, rd_kafka_err2str(e)) != 0)
        return eddy_buf_printf(out, "! %s: %s failed: %s: %s\n", name, what, rd_kafka_err2str(e), es);
    return eddy_buf_printf(out, "! %s: %s failed: %s\n", name, what, rd_kafka_err2str(e));
}

/* Per-topic results of CreateTopics / CreatePartitions. */
static int topic_results(const rd_kafka_topic_result_t **r, size_t cnt, const plan *p,
                         bool create, eddy_buf *out, int *failures)
{
    int rc = 0;
    for (size_t j = 0; j < cnt; j++) {
        const char *name = rd_kafka_topic_result_name(r[j]);
        const tstate *s = NULL;
        for (size_t i = 0; i < p->n && !s; i++)
            if (strcmp(p->ts[i].d->name, name) == 0)
                s = &p->ts[i];
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(r[j]);
        if (e) {
            rc |= result_line(out, name, create ? "create" : "add partitions", e,
                              rd_kafka_topic_result_error_string(r[j]));
            (*failures)++;
        } else if (create && s) {
            rc |= eddy_buf_puts(out, "created ");
            rc |= put_create_desc(out, s->d);
            rc |= eddy_buf_putc(out, '\n');
        } else if (s) {
            rc |= eddy_buf_printf(out, "%s: partitions %d -> %d: done\n", name, (int)s->parts,
                                  (int)s->d->partitions);
        }
    }
    return rc;
}

/* Every topic the batch names gets a failure line when the whole request
 * failed (unsupported, timed out, unreachable). */
static void batch_failed(const plan *p, bool (*in_batch)(const tstate *), const char *what,
                         const char *why, eddy_buf *out, int *failures)
{
    for (size_t i = 0; i < p->n; i++)
        if (in_batch(&p->ts[i])) {
            eddy_buf_printf(out, "! %s: %s failed: %s\n", p->ts[i].d->name, what, why);
            (*failures)++;
        }
}

static bool to_create(const tstate *s) { return !s->exists; }
static bool to_grow(const tstate *s) { return needs_parts(s); }
static bool to_alter(const tstate *s) { return config_diffs(s) > 0; }

static int do_create(const plan *p, rd_kafka_t *rk, int timeout_ms, eddy_buf *out, int *failures)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++)
        n += to_create(&p->ts[i]);
    if (!n)
        return 0;
    rd_kafka_NewTopic_t **nt = calloc(n, sizeof *nt);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *o = admin_opts(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout_ms, true);
    char why[1024];
    size_t k = 0;
    int rc = 0;
    if (!nt || !q || !o) {
        rc = EDDY_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < p->n; i++) {
        const eddy_topic *d = p->ts[i].d;
        if (!to_create(&p->ts[i]))
            continue;
        if (!(nt[k] = rd_kafka_NewTopic_new(d->name, d->partitions, d->replication, why, sizeof why))) {
            eddy_buf_printf(out, "! %s: create failed: %s\n", d->name, why);
            (*failures)++;
            continue;
        }
        for (size_t c = 0; c < d->nconfigs; c++)
            rd_kafka_NewTopic_set_config(nt[k], d->keys[c], d->vals[c]);
        k++;
    }
    if (!k)
        goto out;
    rd_kafka_CreateTopics(rk, nt, k, o, q);
    rd_kafka_event_t *ev = await(q, timeout_ms, "CreateTopics", why, sizeof why);
    if (!ev) {
        batch_failed(p, to_create, "create", why, out, failures);
        goto out;
    }
    size_t cnt;
    const rd_kafka_topic_result_t **r =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt);
    rc = topic_results(r, cnt, p, true, out, failures) ? EDDY_ENOMEM : 0;
    rd_kafka_event_destroy(ev);
out:
    if (nt)
        rd_kafka_NewTopic_destroy_array(nt, k);
    free(nt);
    if (o)
        rd_kafka_AdminOptions_destroy(o);
    if (q)
        rd_kafka_queue_destroy(q);
    return rc;
}

static int do_grow(const plan *p, rd_kafka_t *rk, int timeout_ms, eddy_buf *out, int *failures)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++)
        n += to_grow(&p->ts[i]);
    if (!n)
        return 0;
    rd_kafka_NewPartitions_t **np = calloc(n, sizeof *np);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *o = admin_opts(rk, RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, timeout_ms, true);
    char why[1024];
    size_t k = 0;
    int rc = 0;
    if (!np || !q || !o) {
        rc = EDDY_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < p->n; i++) {
        const eddy_topic *d = p->ts[i].d;
        if (!to_grow(&p->ts[i]))
            continue;
        if (!(np[k] = rd_kafka_NewPartitions_new(d->name, (size_t)d->partitions, why, sizeof why))) {
            eddy_buf_printf(out, "! %s: add partitions failed: %s\n", d->name, why);
            (*failures)++;
            continue;
        }
        k++;
    }
    if (!k)
        goto out;
    rd_kafka_CreatePartitions(rk, np, k, o, q);
    rd_kafka_event_t *ev = await(q, timeout_ms, "CreatePartitions", why, sizeof why);
    if (!ev) {
        batch_failed(p, to_grow, "add partitions", why, out, failures);
        goto out;
    }
    size_t cnt;
    const rd_kafka_topic_result_t **r =
        rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(ev), &cnt);
    rc = topic_results(r, cnt, p, false, out, failures) ? EDDY_ENOMEM : 0;
    rd_kafka_event_destroy(ev);
out:
    if (np)
        rd_kafka_NewPartitions_destroy_array(np, k);
    free(np);
    if (o)
        rd_kafka_AdminOptions_destroy(o);
    if (q)
        rd_kafka_queue_destroy(q);
    return rc;
}

static bool declared(const eddy_topic *d, const char *key)
{
    for (size_t k = 0; k < d->nconfigs; k++)
        if (strcmp(d->keys[k], key) == 0)
            return true;
    return false;
}

/* The full config set AlterConfigs will install: the declared keys, and
 * every other config already set on the topic (AlterConfigs resets what
 * it is not given). NULL with the reason in why when a set config cannot
 * be carried over (its value is hidden). */
static rd_kafka_ConfigResource_t *alter_resource(const tstate *s, char *why, size_t whylen)
{
    const eddy_topic *d = s->d;
    for (size_t i = 0; i < s->nobs; i++)
        if ((s->oflags[i] & OBS_SET) && !declared(d, s->okeys[i]) && !s->ovals[i]) {
            snprintf(why, whylen,
                     "the topic sets %s, whose value the brokers hide (sensitive); altering "
                     "would reset it, so declare it too",
                     s->okeys[i]);
            return NULL;
        }
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, d->name);
    if (!res) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    for (size_t k = 0; k < d->nconfigs; k++)
        rd_kafka_ConfigResource_set_config(res, d->keys[k], d->vals[k]);
    for (size_t i = 0; i < s->nobs; i++)
        if ((s->oflags[i] & OBS_SET) && !(s->oflags[i] & OBS_READONLY) && !declared(d, s->okeys[i]))
            rd_kafka_ConfigResource_set_config(res, s->okeys[i], s->ovals[i]);
    return res;
}

static int alter_line(eddy_buf *out, const tstate *s)
{
    int rc = eddy_buf_printf(out, "%s: configs altered (", s->d->name);
    bool first = true;
    for (size_t k = 0; k < s->d->nconfigs; k++) {
        if (!config_differs(s, k))
            continue;
        if (!first)
            rc |= eddy_buf_puts(out, ", ");
        first = false;
        rc |= put_config_change(out, s, k);
    }
    return rc | eddy_buf_puts(out, ")\n");
}

static int do_alter(const plan *p, rd_kafka_t *rk, int timeout_ms, eddy_buf *out, int *failures)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++)
        n += to_alter(&p->ts[i]);
    if (!n)
        return 0;
    rd_kafka_ConfigResource_t **res = calloc(n, sizeof *res);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *o = admin_opts(rk, RD_KAFKA_ADMIN_OP_ALTERCONFIGS, timeout_ms, false);
    char why[1024];
    size_t k = 0;
    int rc = 0;
    if (!res || !q || !o) {
        rc = EDDY_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < p->n; i++) {
        if (!to_alter(&p->ts[i]))
            continue;
        if (!(res[k] = alter_resource(&p->ts[i], why, sizeof why))) {
            eddy_buf_printf(out, "! %s: alter configs failed: %s\n", p->ts[i].d->name, why);
            (*failures)++;
            continue;
        }
        k++;
    }
    if (!k)
        goto out;
    rd_kafka_AlterConfigs(rk, res, k, o, q);
    rd_kafka_event_t *ev = await(q, timeout_ms, "AlterConfigs", why, sizeof why);
    if (!ev) {
        batch_failed(p, to_alter, "alter configs", why, out, failures);
        goto out;
    }
    size_t cnt;
    const rd_kafka_ConfigResource_t **got =
        rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &cnt);
    for (size_t j = 0; j < cnt; j++) {
        const char *name = rd_kafka_ConfigResource_name(got[j]);
        rd_kafka_resp_err_t e = rd_kafka_ConfigResource_error(got[j]);
        if (e) {
            rc |= result_line(out, name, "alter configs", e, rd_kafka_ConfigResource_error_string(got[j]));
            (*failures)++;
            continue;
        }
        for (size_t i = 0; i < p->n; i++)
            if (strcmp(p->ts[i].d->name, name) == 0)
                rc |= alter_line(out, &p->ts[i]);
    }
    rc = rc ? EDDY_ENOMEM : 0;
    rd_kafka_event_destroy(ev);
out:
    for (size_t i = 0; res && i < k; i++)
        rd_kafka_ConfigResource_destroy(res[i]);
    free(res);
    if (o)
        rd_kafka_AdminOptions_destroy(o);
    if (q)
        rd_kafka_queue_destroy(q);
    return rc;
}

int eddy_topics_apply(const eddy_topics *t, rd_kafka_t *rk, int timeout_ms, eddy_buf *report,
                      int *failures, char *err, size_t errlen)
{
    plan p = {0};
    int changes = 0, problems = 0;
    *failures = 0;
    int rc = plan_build(t, rk, timeout_ms, &p, err, errlen);
    if (rc == 0) {
        const char *unk = first_unknown_configs(&p);
        for (size_t i = 0; unk && i < p.n; i++)
            if (strcmp(p.ts[i].d->name, unk) == 0)
                eddy_errf(err, errlen, "cannot read the configs of topic %s: %s", unk, p.ts[i].cfg_err);
        if (unk)
            rc = EDDY_EIO;
    }
    if (rc == 0 && (rc = report_all(&p, report, &changes, &problems)) == 0 && changes) {
        /* Partitions and configs of existing topics are independent of the
         * creations, so one failing batch does not stop the others. */
        int r1 = do_create(&p, rk, timeout_ms, report, failures);
        int r2 = do_grow(&p, rk, timeout_ms, report, failures);
        int r3 = do_alter(&p, rk, timeout_ms, report, failures);
        rc = r1 ? r1 : r2 ? r2 : r3;
        if (rc)
            eddy_errf(err, errlen, "out of memory");
        else if (*failures) {
            eddy_errf(err, errlen, "%d of %d change%s failed", *failures, changes, changes == 1 ? "" : "s");
            rc = EDDY_EIO;
        }
    } else if (rc == EDDY_ENOMEM) {
        eddy_errf(err, errlen, "out of memory");
    }
    plan_free(&p);
    return rc;
}

/* ---- start-up check ----------------------------------------------------- */

int eddy_topics_check(const eddy_topics *t, rd_kafka_t *rk, int timeout_ms,
                      const char *config_path, eddy_buf *warnings, char *err, size_t errlen)
{
    if (!t || t->n == 0)
        return 0;
    plan p = {0};
    int rc = plan_build(t, rk, timeout_ms, &p, err, errlen);
    if (rc != 0) {
        plan_free(&p);
        return rc;
    }
    eddy_buf missing = {0};
    size_t nmissing = 0;
    for (size_t i = 0; i < p.n; i++) {
        const tstate *s = &p.ts[i];
        if (!s->exists) {
            rc |= eddy_buf_printf(&missing, "%s%s", nmissing ? ", " : "", s->d->name);
            nmissing++;
            continue;
        }
        int changes = 0, problems = 0;
        size_t mark = warnings->len;
        rc |= report_topic(s, warnings, &changes, &problems);
        if (!changes && !problems)
            warnings->len = mark; /* "= up to date" is no warning */
    }
    if (rc == 0 && eddy_buf_putc(&missing, 0) != 0)
        rc = -1;
    const char *file = config_path ? config_path : "FILE";
    if (rc) {
        eddy_errf(err, errlen, "out of memory");
        rc = EDDY_ENOMEM;
    } else if (nmissing == 1) {
        eddy_errf(err, errlen, "topic %s is declared but does not exist; run `eddy topics apply -c %s`",
            (const char *)missing.data, file);
        rc = EDDY_ENOTFOUND;
    } else if (nmissing > 1) {
        eddy_errf(err, errlen, "topics %s are declared but do not exist; run `eddy topics apply -c %s`",
            (const char *)missing.data, file);
        rc = EDDY_ENOTFOUND;
    }
    eddy_buf_free(&missing);
    plan_free(&p);
    return rc;
}

/* ---- embedded cluster --------------------------------------------------- */

int eddy_topics_apply_mock(const eddy_topics *t, rd_kafka_mock_cluster_t *mock,
                           eddy_buf *report, char *err, size_t errlen)
{
    for (size_t i = 0; t && i < t->n; i++) {
        const eddy_topic *d = &t->v[i];
        rd_kafka_resp_err_t e =
            rd_kafka_mock_topic_create(mock, d->name, d->partitions, d->replication);
        if (e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
            continue;
        if (e) {
            eddy_errf(err, errlen, "topic %s: cannot create it in the embedded cluster: %s", d->name,
                rd_kafka_err2str(e));
            return EDDY_EIO;
        }
        if (eddy_buf_printf(report, "created %s (partitions %d, replication %d)\n", d->name,
                            (int)d->partitions, (int)d->replication) != 0) {
            eddy_errf(err, errlen, "out of memory");
            return EDDY_ENOMEM;
        }
    }
    return 0;
}
