#include "engine/worker.h"

#include <event2/event.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/admin_conf.h"
#include "engine/obs/admin.h"
#include "engine/exec.h"
#include "engine/format/codec.h"
#include "engine/obs/log.h"
#include "lib/store/store.h"

typedef struct worker {
    eddy_runtime *rt;
    struct event_base *base;
    int signals;
    int64_t drain_deadline;
    int64_t run_until; /* worker.run_for: 0 = no limit */
    int exit_code;
    uint64_t nonfinite;       /* eddy_json_nonfinite() last reported */
    eddy_metric *m_nonfinite; /* eddy_json_nonfinite_total */
} worker;

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    worker *w = arg;
    if (++w->signals > 1) {
        /* The operator asked twice: stop now, without draining. */
        eddy_log(EDDY_LOG_WARN, NULL, "second signal (%d): exiting at once", (int)sig);
        _exit(128 + (int)sig);
    }
    eddy_log(EDDY_LOG_INFO, NULL, "signal %d: draining (send it again to exit at once)", (int)sig);
    w->drain_deadline = eddy_now_ms() + eddy_opts_int(w->rt->worker, "shutdown_timeout");
    eddy_runtime_stop(w->rt);
}

/* NaN/Inf written to JSON as null is not silent: a counter, and a warning
 * the first time. */
static void report_nonfinite(worker *w)
{
    uint64_t n = eddy_json_nonfinite();
    if (n == w->nonfinite)
        return;
    if (!w->nonfinite)
        eddy_log(EDDY_LOG_WARN, NULL,
                 "a NaN or infinite number was written as null to JSON output (JSON has no "
                 "spelling for it; msgpack and Avro keep it); counted in "
                 "eddy_json_nonfinite_total");
    w->nonfinite = n;
    if (!w->m_nonfinite)
        w->m_nonfinite = eddy_metrics_get(w->rt->metrics, "eddy_json_nonfinite_total",
                                          "NaN or infinite numbers written to JSON as null",
                                          EDDY_METRIC_COUNTER, NULL);
    if (w->m_nonfinite)
        eddy_metric_set(w->m_nonfinite, (double)n);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    worker *w = arg;
    report_nonfinite(w);
    if (eddy_runtime_done(w->rt)) {
        event_base_loopbreak(w->base);
        return;
    }
    if (w->run_until && !w->drain_deadline && eddy_now_ms() >= w->run_until) {
        eddy_log(EDDY_LOG_INFO, NULL, "worker.run_for elapsed: draining");
        w->drain_deadline = eddy_now_ms() + eddy_opts_int(w->rt->worker, "shutdown_timeout");
        eddy_runtime_stop(w->rt);
    }
    if (w->drain_deadline && eddy_now_ms() > w->drain_deadline) {
        eddy_log(EDDY_LOG_ERROR, NULL, "drain did not finish within shutdown_timeout; exiting");
        _exit(1);
    }
}

int eddy_worker_run(eddy_runtime *rt, const char *admin_listen)
{
    worker w = {.rt = rt};
    signal(SIGPIPE, SIG_IGN);
    w.base = event_base_new();
    if (!w.base) {
        eddy_log(EDDY_LOG_ERROR, NULL, "cannot create the event loop");
        return 1;
    }
    /* Which eddy and which libraries are running (constant 1, labels). */
    eddy_buf bl = {0};
    eddy_metrics_label(&bl, "version", EDDY_VERSION);
    eddy_metrics_label(&bl, "librdkafka", rd_kafka_version_str());
    if (eddy_buf_putc(&bl, '\0') == 0) {
        eddy_metric *bi = eddy_metrics_get(rt->metrics, "eddy_build_info",
                                           "eddy's version and its Kafka client's (always 1)",
                                           EDDY_METRIC_GAUGE, (const char *)bl.data);
        if (bi)
            eddy_metric_set(bi, 1);
    }
    eddy_buf_free(&bl);
    eddy_admin *admin = NULL;
    if (eddy_opts_bool(rt->admin, "enabled")) {
        eddy_admin_conf conf;
        char err[512] = "admin server: out of memory";
        if (eddy_admin_conf_from_opts(rt->admin, admin_listen, &conf) == 0)
            admin = eddy_admin_new(w.base, &conf, rt->metrics, err, sizeof err);
        const char *listen = conf.listen;
        eddy_admin_conf_release(&conf);
        if (!admin) {
            eddy_log(EDDY_LOG_ERROR, NULL, "admin server: %s", err);
            event_base_free(w.base);
            return 1;
        }
        eddy_worker_admin_routes(admin, rt);
        char port[16];
        snprintf(port, sizeof port, "%d", eddy_admin_port(admin));
        const char *token = eddy_opts_str(rt->admin, "token");
        const char *tls = eddy_opts_str(rt->admin, "tls_cert");
        eddy_log(EDDY_LOG_INFO,
                 (const char *[]){"listen", listen, "port", port, "tls", tls && *tls ? "on" : "off",
                                  "token", token && *token ? "required" : "none (POST refused)",
                                  NULL},
                 "admin server up: /healthz /readyz /metrics /v1/pipelines /v1/alerts /v1/features");
    }
    struct event *sigint = evsignal_new(w.base, SIGINT, on_signal, &w);
    struct event *sigterm = evsignal_new(w.base, SIGTERM, on_signal, &w);
    struct event *tick = event_new(w.base, -1, EV_PERSIST, on_tick, &w);
    struct timeval tv = {0, 50 * 1000};
    event_add(sigint, NULL);
    event_add(sigterm, NULL);
    event_add(tick, &tv);
    char err[1024] = "";
    if (eddy_runtime_start(rt, err, sizeof err) != 0) {
        eddy_log(EDDY_LOG_ERROR, NULL, "cannot start: %s", err);
        w.exit_code = 1;
    } else {
        int configured = 0;
        for (int i = 0; i < rt->nsources; i++)
            configured += rt->sources[i].origin == i;
        if (configured == rt->nsources)
            eddy_log(EDDY_LOG_INFO, NULL,
                     "running %d pipeline(s) from %d source(s) on %d thread(s)",
                     rt->npipelines, rt->nsources, rt->nthreads);
        else
            eddy_log(EDDY_LOG_INFO, NULL,
                     "running %d pipeline(s) from %d source(s) on %d thread(s) (%d source "
                     "instances: a Kafka source reads with one consumer per thread)",
                     rt->npipelines, configured, rt->nthreads, rt->nsources);
        int64_t run_for = eddy_opts_int(rt->worker, "run_for");
        if (run_for > 0)
            w.run_until = eddy_now_ms() + run_for;
        event_base_dispatch(w.base);
        w.exit_code = atomic_load(&rt->failed) ? 1 : 0;
    }
    eddy_runtime_stop(rt);
    report_nonfinite(&w); /* what the last tick did not see */
    event_free(sigint);
    event_free(sigterm);
    event_free(tick);
    eddy_admin_free(admin);
    event_base_free(w.base);
    return w.exit_code;
}
