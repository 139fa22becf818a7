/* `eddy topics apply`: carries out a plan with three Admin API batches,
 * each run by eddy_tp_run_batch (topics_admin.c): create missing topics
 * (CreateTopics), add partitions (CreatePartitions), alter configs
 * (AlterConfigs, which replaces every non-default config of a topic, so
 * the declared keys go with every other config already set). */
#include <stdio.h>
#include <string.h>

#include "connectors/kafka/topics_int.h"
#include "engine/core/error.h"

/* Results of CreateTopics and CreatePartitions: one per topic. */
static void topic_result(const void *r, const char **name, rd_kafka_resp_err_t *e,
                         const char **es)
{
    *name = rd_kafka_topic_result_name(r);
    *e = rd_kafka_topic_result_error(r);
    *es = rd_kafka_topic_result_error_string(r);
}

/* ---- create ------------------------------------------------------------- */

static bool create_wanted(const tp_state *s) { return !s->exists; }

static void *create_make(const tp_state *s, char *why, size_t whylen)
{
    const eddy_topic *d = s->d;
    rd_kafka_NewTopic_t *nt =
        rd_kafka_NewTopic_new(d->name, d->partitions, d->replication, why, whylen);
    for (size_t c = 0; nt && c < d->nconfigs; c++)
        rd_kafka_NewTopic_set_config(nt, d->keys[c], d->vals[c]);
    return nt;
}

static void create_destroy(void *req) { rd_kafka_NewTopic_destroy(req); }

static void create_send(rd_kafka_t *rk, void **reqs, size_t n, const rd_kafka_AdminOptions_t *o,
                        rd_kafka_queue_t *q)
{
    rd_kafka_CreateTopics(rk, (rd_kafka_NewTopic_t **)reqs, n, o, q);
}

static const void **create_results(rd_kafka_event_t *ev, size_t *cnt)
{
    return (const void **)rd_kafka_CreateTopics_result_topics(
        rd_kafka_event_CreateTopics_result(ev), cnt);
}

static int create_done(eddy_buf *out, const tp_state *s)
{
    int rc = eddy_buf_puts(out, "created ");
    rc |= eddy_tp_put_create_desc(out, s->d);
    return rc | eddy_buf_putc(out, '\n');
}

static const tp_batch create_batch = {
    .op = RD_KAFKA_ADMIN_OP_CREATETOPICS,
    .op_timeout = true,
    .request = "CreateTopics",
    .what = "create",
    .wanted = create_wanted,
    .make = create_make,
    .destroy = create_destroy,
    .send = create_send,
    .results = create_results,
    .result = topic_result,
    .done = create_done,
};

/* ---- add partitions ----------------------------------------------------- */

static void *grow_make(const tp_state *s, char *why, size_t whylen)
{
    return rd_kafka_NewPartitions_new(s->d->name, (size_t)s->d->partitions, why, whylen);
}

static void grow_destroy(void *req) { rd_kafka_NewPartitions_destroy(req); }

static void grow_send(rd_kafka_t *rk, void **reqs, size_t n, const rd_kafka_AdminOptions_t *o,
                      rd_kafka_queue_t *q)
{
    rd_kafka_CreatePartitions(rk, (rd_kafka_NewPartitions_t **)reqs, n, o, q);
}

static const void **grow_results(rd_kafka_event_t *ev, size_t *cnt)
{
    return (const void **)rd_kafka_CreatePartitions_result_topics(
        rd_kafka_event_CreatePartitions_result(ev), cnt);
}

static int grow_done(eddy_buf *out, const tp_state *s)
{
    return eddy_buf_printf(out, "%s: partitions %d -> %d: done\n", s->d->name, (int)s->parts,
                           (int)s->d->partitions);
}

static const tp_batch grow_batch = {
    .op = RD_KAFKA_ADMIN_OP_CREATEPARTITIONS,
    .op_timeout = true,
    .request = "CreatePartitions",
    .what = "add partitions",
    .wanted = eddy_tp_needs_parts,
    .make = grow_make,
    .destroy = grow_destroy,
    .send = grow_send,
    .results = grow_results,
    .result = topic_result,
    .done = grow_done,
};

/* ---- alter configs ------------------------------------------------------ */

static bool alter_wanted(const tp_state *s) { return eddy_tp_config_diffs(s) > 0; }

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
static void *alter_make(const tp_state *s, char *why, size_t whylen)
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

static int alter_done(eddy_buf *out, const tp_state *s)
{
    int rc = eddy_buf_printf(out, "%s: configs altered (", s->d->name);
    bool first = true;
    for (size_t k = 0; k < s->d->nconfigs; k++) {
        if (!eddy_tp_config_differs(s, k))
            continue;
        if (!first)
            rc |= eddy_buf_puts(out, ", ");
        first = false;
        rc |= eddy_tp_put_config_change(out, s, k);
    }
    return rc | eddy_buf_puts(out, ")\n");
}

static void alter_destroy(void *req) { rd_kafka_ConfigResource_destroy(req); }

static void alter_send(rd_kafka_t *rk, void **reqs, size_t n, const rd_kafka_AdminOptions_t *o,
                       rd_kafka_queue_t *q)
{
    rd_kafka_AlterConfigs(rk, (rd_kafka_ConfigResource_t **)reqs, n, o, q);
}

static const void **alter_results(rd_kafka_event_t *ev, size_t *cnt)
{
    return (const void **)rd_kafka_AlterConfigs_result_resources(
        rd_kafka_event_AlterConfigs_result(ev), cnt);
}

static void alter_result(const void *r, const char **name, rd_kafka_resp_err_t *e, const char **es)
{
    *name = rd_kafka_ConfigResource_name(r);
    *e = rd_kafka_ConfigResource_error(r);
    *es = rd_kafka_ConfigResource_error_string(r);
}

static const tp_batch alter_batch = {
    .op = RD_KAFKA_ADMIN_OP_ALTERCONFIGS,
    .op_timeout = false,
    .request = "AlterConfigs",
    .what = "alter configs",
    .wanted = alter_wanted,
    .make = alter_make,
    .destroy = alter_destroy,
    .send = alter_send,
    .results = alter_results,
    .result = alter_result,
    .done = alter_done,
};

/* ---- apply -------------------------------------------------------------- */

int eddy_topics_apply(const eddy_topics *t, rd_kafka_t *rk, int timeout_ms, eddy_buf *report,
                      int *failures, int *nproblems, char *err, size_t errlen)
{
    tp_plan p = {0};
    int changes = 0, problems = 0;
    *failures = 0;
    int rc = eddy_tp_plan_build(t, rk, timeout_ms, &p, err, errlen);
    if (rc == 0)
        rc = eddy_tp_configs_known(&p, err, errlen);
    if (rc == 0 && (rc = eddy_tp_report_all(&p, report, &changes, &problems)) == 0 && changes) {
        /* Partitions and configs of existing topics are independent of the
         * creations, so one failing batch does not stop the others. */
        int r1 = eddy_tp_run_batch(&create_batch, &p, rk, timeout_ms, report, failures);
        int r2 = eddy_tp_run_batch(&grow_batch, &p, rk, timeout_ms, report, failures);
        int r3 = eddy_tp_run_batch(&alter_batch, &p, rk, timeout_ms, report, failures);
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
    if (nproblems)
        *nproblems = problems;
    eddy_tp_plan_free(&p);
    return rc;
}
