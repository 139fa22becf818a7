#include "engine/worker.h"

#include <event2/event.h>
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

static int route_pipelines(void *arg, const char *path, eddy_buf *body, const char **ct)
{
    return eddy_runtime_status_json(arg, body) == 0 ? 200 : 500;
}

static const char *ready(void *arg) { return eddy_runtime_not_ready(arg); }

/* "after=N&limit=M": each may be absent (dflt); present, it is a decimal
 * integer of at most 19 digits, else 0 is returned and *bad names it. */
static uint64_t query_u64(const char *q, const char *name, uint64_t dflt, const char **bad)
{
    size_t n = strlen(name);
    for (const char *p = q; p && *p;) {
        if (strncmp(p, name, n) == 0 && p[n] == '=') {
            const char *v = p + n + 1;
            size_t len = strcspn(v, "&");
            if (len == 0 || len > 19 || strspn(v, "0123456789") < len) {
                *bad = name;
                return 0;
            }
            return strtoull(v, NULL, 10);
        }
        p = strchr(p, '&');
        if (p)
            p++;
    }
    return dflt;
}

/* GET /v1/alerts?after=SEQ&limit=N: alerts newer than SEQ (see alert.h). */
static int route_alerts(void *arg, const eddy_admin_req *req, eddy_buf *body, const char **ct)
{
    eddy_runtime *rt = arg;
    const char *bad = NULL;
    uint64_t after = query_u64(req->query, "after", 0, &bad);
    uint64_t limit = query_u64(req->query, "limit", 1000, &bad);
    if (!bad && (limit == 0 || limit > 100000))
        bad = "limit";
    if (bad) {
        eddy_buf_puts(body, strcmp(bad, "after") == 0
                                ? "{\"error\":\"after must be an alert sequence number (a "
                                  "non-negative integer)\"}\n"
                                : "{\"error\":\"limit must be an integer from 1 to 100000\"}\n");
        return 400;
    }
    return eddy_alert_ring_json(rt->alerts, after, (uint32_t)limit, body) == 0 ? 200 : 500;
}

/* GET /v1/features/{view}/{entity}: the latest features of an entity from
 * the feature store a `feature_store` sink of this worker writes. */
static int route_features(void *arg, const char *path, eddy_buf *body, const char **ct)
{
    char view[256], entity[1024];
    const char *rest = path + strlen("/v1/features/");
    const char *slash = strchr(rest, '/');
    if (!slash || slash == rest || !slash[1] || (size_t)(slash - rest) >= sizeof view ||
        strlen(slash + 1) >= sizeof entity) {
        eddy_buf_puts(body, "{\"error\":\"expected /v1/features/{view}/{entity}\"}\n");
        return 404;
    }
    memcpy(view, rest, (size_t)(slash - rest));
    view[slash - rest] = '\0';
    snprintf(entity, sizeof entity, "%s", slash + 1);
    int rc = eddy_stores_get(view, entity, body);
    if (rc == 0)
        return 200;
    eddy_buf_reset(body);
    char m[1400];
    if (rc == EDDY_ENOTFOUND)
        snprintf(m, sizeof m, "no features for entity '%s' in view '%s' (absent, expired, or no "
                              "feature_store sink writes that view)", entity, view);
    else
        snprintf(m, sizeof m, "feature store unavailable for view '%s' (%s)", view,
                 eddy_strerror(rc));
    eddy_buf_puts(body, "{\"error\":");
    eddy_buf_json_str(body, m, strlen(m));
    eddy_buf_puts(body, "}\n");
    return rc == EDDY_ENOTFOUND ? 404 : 503;
}

/* {"error": m}\n */
static void json_error(eddy_buf *body, const char *m)
{
    eddy_buf_puts(body, "{\"error\":");
    eddy_buf_json_str(body, m, strlen(m));
    eddy_buf_puts(body, "}\n");
}

/* The requests an operator lists, "a, b" or "none". */
static void list_requests(const eddy_opdef *op, char *out, size_t len)
{
    size_t n = 0;
    out[0] = '\0';
    for (const char *const *r = op->d.requests; r && *r && n < len; r++)
        n += (size_t)snprintf(out + n, len - n, "%s%s", n ? ", " : "", *r);
    if (!out[0])
        snprintf(out, len, "none");
}

/* POST /v1/pipelines/{pipeline}/steps/{step}/{request}: an operator
 * request, e.g. `reference` (take the current window as the reference).
 * 404 for an unknown pipeline or step, 409 for a request the step's
 * operator does not list (ABI 1.3 `requests`), 202 when counted. */
static int route_step_request(void *arg, const eddy_admin_req *req, eddy_buf *body,
                              const char **ct)
{
    eddy_runtime *rt = arg;
    char pipe[128], step[128], what[64], m[600];
    const char *rest = req->path + strlen("/v1/pipelines/");
    int used = 0;
    if (sscanf(rest, "%127[^/]/steps/%127[^/]/%63[^/]%n", pipe, step, what, &used) != 3 ||
        rest[used] != '\0') {
        eddy_buf_puts(body, "{\"error\":\"expected /v1/pipelines/{pipeline}/steps/{step}/{request}\"}\n");
        return 404;
    }
    if (strcmp(req->method, "POST") != 0) {
        eddy_buf_puts(body, "{\"error\":\"operator requests are POSTed\"}\n");
        return 405;
    }
    bool found_pipe;
    const eddy_opdef *op;
    int rc = eddy_runtime_request(rt, pipe, step, what, &found_pipe, &op);
    if (rc == EDDY_ENOTFOUND) {
        if (found_pipe)
            snprintf(m, sizeof m, "no step '%s' in pipeline '%s' (GET /v1/pipelines lists them)",
                     step, pipe);
        else
            snprintf(m, sizeof m, "no pipeline '%s' (GET /v1/pipelines lists them)", pipe);
        json_error(body, m);
        return 404;
    }
    if (rc == EDDY_EUNSUPPORTED) {
        char accepts[256];
        list_requests(op, accepts, sizeof accepts);
        snprintf(m, sizeof m,
                 "step '%s' of pipeline '%s' is a %s step, which does not act on '%s' requests "
                 "(it accepts: %s)",
                 step, pipe, op->d.name, what, accepts);
        json_error(body, m);
        return 409;
    }
    if (rc == EDDY_ELIMIT) {
        json_error(body, "too many distinct request names for this step (at most 8)");
        return 400;
    }
    if (rc < 0) {
        json_error(body, "cannot count the request: out of memory");
        return 500;
    }
    eddy_buf_puts(body, "{\"accepted\":true,\"pipeline\":");
    eddy_buf_json_str(body, pipe, strlen(pipe));
    eddy_buf_puts(body, ",\"step\":");
    eddy_buf_json_str(body, step, strlen(step));
    eddy_buf_puts(body, ",\"request\":");
    eddy_buf_json_str(body, what, strlen(what));
    if (rc == 1) {
        /* A plugin built before ABI 1.3 cannot say what it acts on. */
        snprintf(m, sizeof m,
                 "operator '%s' (%s) was built for ABI %u.%u and does not list its requests: the "
                 "request is counted, but the step may not act on it",
                 op->d.name, op->origin, op->abi_major, op->abi_minor);
        eddy_buf_puts(body, ",\"checked\":false,\"note\":");
        eddy_buf_json_str(body, m, strlen(m));
    } else {
        eddy_buf_puts(body, ",\"checked\":true");
    }
    eddy_buf_puts(body, "}\n");
    return 202;
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
        eddy_admin_set_ready(admin, ready, rt);
        eddy_admin_route(admin, "/v1/pipelines", route_pipelines, rt);
        eddy_admin_route_req(admin, "/v1/pipelines/", true, route_step_request, rt);
        eddy_admin_route_req(admin, "/v1/alerts", false, route_alerts, rt);
        eddy_admin_route(admin, "/v1/features/", route_features, rt);
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
