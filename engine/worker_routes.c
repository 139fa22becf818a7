/* The worker's admin routes: readiness, /v1/pipelines, /v1/alerts,
 * /v1/features and operator requests, on the runtime's state. Apart from
 * worker.c so that the admin fuzzing harness (tests/fuzz/fuzz_admin.c)
 * serves exactly the routes `eddy run` serves. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/exec.h"
#include "engine/worker.h"
#include "lib/store/store.h"

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

void eddy_worker_admin_routes(eddy_admin *admin, eddy_runtime *rt)
{
    eddy_admin_set_ready(admin, ready, rt);
    eddy_admin_route(admin, "/v1/pipelines", route_pipelines, rt);
    eddy_admin_route_req(admin, "/v1/pipelines/", true, route_step_request, rt);
    eddy_admin_route_req(admin, "/v1/alerts", false, route_alerts, rt);
    eddy_admin_route(admin, "/v1/features/", route_features, rt);
}
