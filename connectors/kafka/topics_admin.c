/* Admin plumbing of topics as configuration: the admin client (its
 * librdkafka log kept quiet, the last warning kept for messages), waiting
 * for a request's result, and eddy_tp_run_batch, which create, add
 * partitions and alter configs share. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/kafka/kafka_conf.h"
#include "connectors/kafka/topics_int.h"
#include "engine/core/error.h"

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
void eddy_tp_last_log_hint(char *out, size_t len)
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

/* Waits for the one result event of an admin request. NULL with a reason
 * when none came: librdkafka answers every request by its request timeout,
 * so the margin only guards against a stuck client. */
rd_kafka_event_t *eddy_tp_await(rd_kafka_queue_t *q, int timeout_ms, const char *what,
                               char *err, size_t errlen)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 5000);
    if (!ev) {
        eddy_errf(err, errlen, "%s: no answer from the brokers within %d ms", what, timeout_ms);
        return NULL;
    }
    if (rd_kafka_event_error(ev)) {
        char hint[600];
        eddy_tp_last_log_hint(hint, sizeof hint);
        eddy_errf(err, errlen, "%s: %s%s", what, rd_kafka_event_error_string(ev),
            rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR__TIMED_OUT ? hint : "");
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    return ev;
}

rd_kafka_AdminOptions_t *eddy_tp_admin_opts(rd_kafka_t *rk, rd_kafka_admin_op_t op,
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

/* Every topic the batch names gets a failure line when the whole request
 * failed (unsupported, timed out, unreachable). */
static void batch_failed(const tp_batch *b, const tp_plan *p, const char *why, eddy_buf *out,
                         int *failures)
{
    for (size_t i = 0; i < p->n; i++)
        if (b->wanted(&p->ts[i])) {
            eddy_buf_printf(out, "! %s: %s failed: %s\n", p->ts[i].d->name, b->what, why);
            (*failures)++;
        }
}

/* Per-topic results: a failure line, or the success line of the declared
 * topic the result names. 0, or nonzero when out ran out of memory. */
static int batch_results(const tp_batch *b, const tp_plan *p, rd_kafka_event_t *ev,
                         eddy_buf *out, int *failures)
{
    int rc = 0;
    size_t cnt;
    const void **r = b->results(ev, &cnt);
    for (size_t j = 0; j < cnt; j++) {
        const char *name, *es;
        rd_kafka_resp_err_t e;
        b->result(r[j], &name, &e, &es);
        if (e) {
            rc |= result_line(out, name, b->what, e, es);
            (*failures)++;
            continue;
        }
        for (size_t i = 0; i < p->n; i++)
            if (strcmp(p->ts[i].d->name, name) == 0) {
                rc |= b->done(out, &p->ts[i]);
                break;
            }
    }
    return rc;
}

int eddy_tp_run_batch(const tp_batch *b, const tp_plan *p, rd_kafka_t *rk, int timeout_ms,
                      eddy_buf *out, int *failures)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++)
        n += b->wanted(&p->ts[i]);
    if (!n)
        return 0;
    void **reqs = calloc(n, sizeof *reqs);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *o = eddy_tp_admin_opts(rk, b->op, timeout_ms, b->op_timeout);
    char why[1024];
    size_t k = 0;
    int rc = 0;
    if (!reqs || !q || !o) {
        rc = EDDY_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < p->n; i++) {
        if (!b->wanted(&p->ts[i]))
            continue;
        if (!(reqs[k] = b->make(&p->ts[i], why, sizeof why))) {
            eddy_buf_printf(out, "! %s: %s failed: %s\n", p->ts[i].d->name, b->what, why);
            (*failures)++;
            continue;
        }
        k++;
    }
    if (!k)
        goto out;
    b->send(rk, reqs, k, o, q);
    rd_kafka_event_t *ev = eddy_tp_await(q, timeout_ms, b->request, why, sizeof why);
    if (!ev) {
        batch_failed(b, p, why, out, failures);
        goto out;
    }
    rc = batch_results(b, p, ev, out, failures) ? EDDY_ENOMEM : 0;
    rd_kafka_event_destroy(ev);
out:
    for (size_t i = 0; reqs && i < k; i++)
        b->destroy(reqs[i]);
    free(reqs);
    if (o)
        rd_kafka_AdminOptions_destroy(o);
    if (q)
        rd_kafka_queue_destroy(q);
    return rc;
}
