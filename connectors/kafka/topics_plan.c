/* What the cluster has for each declared topic: existence, partitions and
 * replication from metadata, configs from DescribeConfigs; and `eddy topics
 * plan`, which reports how it differs from the declarations. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/kafka/topics_int.h"
#include "engine/core/error.h"

#define METADATA_WAIT_MS 10000

void eddy_tp_plan_free(tp_plan *p)
{
    for (size_t i = 0; i < p->n; i++) {
        tp_state *s = &p->ts[i];
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

static int read_metadata(const eddy_topics *t, rd_kafka_t *rk, int timeout_ms, tp_plan *p,
                         char *err, size_t errlen)
{
    const struct rd_kafka_metadata *md = NULL;
    /* Unreachable brokers are reported soon, whatever the operation timeout. */
    int wait_ms = timeout_ms < METADATA_WAIT_MS ? timeout_ms : METADATA_WAIT_MS;
    /* All topics: asking for named topics can make brokers auto-create them. */
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, &md, wait_ms);
    if (e) {
        char hint[600];
        eddy_tp_last_log_hint(hint, sizeof hint);
        eddy_errf(err, errlen, "cannot get metadata from the Kafka brokers within %d ms: %s%s",
            wait_ms, rd_kafka_err2str(e), hint);
        return EDDY_EIO;
    }
    int rc = 0;
    for (size_t i = 0; i < t->n && rc == 0; i++) {
        tp_state *s = &p->ts[i];
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

static int keep_entries(tp_state *s, const rd_kafka_ConfigResource_t *res)
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
static int read_configs(tp_plan *p, rd_kafka_t *rk, int timeout_ms)
{
    size_t want = 0;
    for (size_t i = 0; i < p->n; i++)
        want += p->ts[i].exists && p->ts[i].d->nconfigs;
    if (!want)
        return 0;
    rd_kafka_ConfigResource_t **res = calloc(want, sizeof *res);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *o = eddy_tp_admin_opts(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout_ms, false);
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
    rd_kafka_event_t *ev = eddy_tp_await(q, timeout_ms, "cannot read topic configs (DescribeConfigs)",
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
        tp_state *s = &p->ts[i];
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

int eddy_tp_plan_build(const eddy_topics *t, rd_kafka_t *rk, int timeout_ms, tp_plan *p, char *err,
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

int eddy_tp_configs_known(const tp_plan *p, char *err, size_t errlen)
{
    for (size_t i = 0; i < p->n; i++) {
        const tp_state *s = &p->ts[i];
        if (s->exists && s->d->nconfigs && !s->cfg_known) {
            eddy_errf(err, errlen, "cannot read the configs of topic %s: %s", s->d->name,
                      s->cfg_err);
            return EDDY_EIO;
        }
    }
    return 0;
}

int eddy_topics_plan(const eddy_topics *t, rd_kafka_t *rk, int timeout_ms, eddy_buf *report,
                     int *changes, int *nproblems, char *err, size_t errlen)
{
    tp_plan p = {0};
    int problems = 0;
    *changes = 0;
    int rc = eddy_tp_plan_build(t, rk, timeout_ms, &p, err, errlen);
    /* Without the configs the plan would be a guess: say so instead. */
    if (rc == 0 && (rc = eddy_tp_configs_known(&p, err, errlen)) == 0 &&
        (rc = eddy_tp_report_all(&p, report, changes, &problems)) != 0)
        eddy_errf(err, errlen, "out of memory");
    if (nproblems)
        *nproblems = problems;
    eddy_tp_plan_free(&p);
    return rc;
}
