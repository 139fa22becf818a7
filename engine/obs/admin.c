/* Admin HTTP server. evhttp only accepts and parses; all routing is ours (one
 * generic callback) so prefix routes, "later wins", the JSON 404 and the 405
 * behave the same for built-in and added routes. Before any route, the guard
 * (admin_guard.h) admits or refuses the request from its headers, so no
 * handler needs to think about Host, Origin or tokens. Plain handlers see neither
 * the method nor a request body: they are read-only (GET and HEAD). Request
 * handlers (eddy_admin_route_req) also see the method and the query string,
 * and may accept POST for operator requests such as taking a reference. */
#include "engine/obs/admin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "engine/core/error.h"
#include "engine/obs/admin_guard.h"
#include "engine/obs/admin_tls.h"

#define TEXT_PLAIN "text/plain; charset=utf-8"
#define PROM_TEXT "text/plain; version=0.0.4; charset=utf-8"

typedef struct route {
    char *path;
    size_t len;
    bool prefix;
    eddy_admin_handler fn;
    eddy_admin_req_handler rfn;
    bool post;
    void *arg;
    eddy_metric *requests; /* labelled by the route, never the raw path */
} route;

struct eddy_admin {
    struct evhttp *http;
    eddy_metrics *metrics;
    eddy_admin_ready_fn ready_fn;
    void *ready_arg;
    /* eddy_ready: /readyz as a gauge, so that Prometheus can alert on a
     * worker that is up (scraped) but not ready, without probing /readyz. */
    eddy_metric *ready;
    route *routes;
    size_t nroutes, cap;
    int port;
    eddy_admin_guard guard;
    eddy_admin_tls *tls; /* NULL: plain HTTP */
};

static int on_healthz(void *arg, const char *path, eddy_buf *body, const char **ct)
{
    *ct = TEXT_PLAIN;
    return eddy_buf_puts(body, "ok\n") == 0 ? 200 : 500;
}

static int on_readyz(void *arg, const char *path, eddy_buf *body, const char **ct)
{
    eddy_admin *a = arg;
    const char *why = a->ready_fn ? a->ready_fn(a->ready_arg) : NULL;
    *ct = TEXT_PLAIN;
    if (eddy_buf_puts(body, why ? why : "ready") != 0 || eddy_buf_putc(body, '\n') != 0)
        return 500;
    return why ? 503 : 200;
}

static int on_metrics(void *arg, const char *path, eddy_buf *body, const char **ct)
{
    eddy_admin *a = arg;
    *ct = PROM_TEXT;
    eddy_process_metrics_update(a->metrics);
    /* Decided at scrape time by the same function as /readyz, so the two
     * never disagree. */
    if (a->ready)
        eddy_metric_set(a->ready, a->ready_fn && a->ready_fn(a->ready_arg) ? 0 : 1);
    if (a->metrics && eddy_metrics_render(a->metrics, body) != 0) {
        eddy_buf_reset(body);
        eddy_buf_puts(body, "cannot render metrics: out of memory\n");
        return 500;
    }
    return 200;
}

static void reply(struct evhttp_request *req, int status, const char *ct, const eddy_buf *body)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    struct evbuffer *out = evbuffer_new();
    if (!out) {
        evhttp_send_error(req, 500, NULL);
        return;
    }
    /* A content type with CR/LF is refused by evhttp; fall back rather than
     * send a response without one. */
    if (evhttp_add_header(h, "Content-Type", ct) != 0)
        evhttp_add_header(h, "Content-Type", "application/octet-stream");
    evhttp_add_header(h, "Cache-Control", "no-store");
    /* JSON and text are never to be sniffed into HTML by a browser. */
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
        char n[32];
        snprintf(n, sizeof n, "%zu", body->len);
        evhttp_add_header(h, "Content-Length", n);
    } else if (body->len && evbuffer_add(out, body->data, body->len) != 0) {
        evbuffer_free(out);
        evhttp_send_error(req, 500, NULL);
        return;
    }
    evhttp_send_reply(req, status, NULL, out);
    evbuffer_free(out);
}

static void reply_error(struct evhttp_request *req, int status, const char *what, const char *path)
{
    eddy_buf b = {0};
    eddy_buf tmp = {0};
    int rc = eddy_buf_puts(&tmp, what);
    if (rc == 0 && path)
        rc = eddy_buf_puts(&tmp, path);
    if (rc == 0)
        rc = eddy_buf_puts(&b, "{\"error\":");
    if (rc == 0)
        rc = eddy_buf_json_str(&b, (const char *)tmp.data, tmp.len);
    if (rc == 0)
        rc = eddy_buf_puts(&b, "}\n");
    if (rc != 0)
        evhttp_send_error(req, 500, NULL);
    else
        reply(req, status, "application/json", &b);
    eddy_buf_free(&tmp);
    eddy_buf_free(&b);
}

static const route *find_route(const eddy_admin *a, const char *path)
{
    for (size_t i = a->nroutes; i-- > 0;) {
        const route *r = &a->routes[i];
        if (r->prefix ? strncmp(path, r->path, r->len) == 0 : strcmp(path, r->path) == 0)
            return r;
    }
    return NULL;
}

static void dispatch(eddy_admin *a, struct evhttp_request *req, const char *path)
{
    const route *r = find_route(a, path);
    if (!r) {
        reply_error(req, 404, "no route for ", path);
        return;
    }
    eddy_metric_add(r->requests, 1);
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    bool post_ok = r->post && cmd == EVHTTP_REQ_POST;
    if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD && !post_ok) {
        const char *allow = r->post ? "GET, HEAD, POST" : "GET, HEAD";
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
        reply_error(req, 405, r->post ? "method not allowed; use GET, HEAD or POST on "
                                      : "method not allowed; use GET or HEAD on ",
                    path);
        return;
    }
    eddy_buf body = {0};
    const char *ct = "application/json";
    int status;
    if (r->rfn) {
        const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
        eddy_admin_req q = {cmd == EVHTTP_REQ_POST ? "POST" : cmd == EVHTTP_REQ_HEAD ? "HEAD" : "GET",
                            path, uri ? evhttp_uri_get_query(uri) : NULL};
        status = r->rfn(r->arg, &q, &body, &ct);
    } else {
        status = r->fn(r->arg, path, &body, &ct);
    }
    if (status < 100 || status > 599)
        reply_error(req, 500, "handler failed for ", path);
    else
        reply(req, status, ct ? ct : "application/json", &body);
    eddy_buf_free(&body);
}

static const char *method_name(enum evhttp_cmd_type cmd)
{
    switch (cmd) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    case EVHTTP_REQ_TRACE: return "TRACE";
    case EVHTTP_REQ_CONNECT: return "CONNECT";
    case EVHTTP_REQ_PATCH: return "PATCH";
    }
    return "UNKNOWN";
}

/* The guard (admin_guard.h) runs before routing, so that a refused client
 * learns nothing, not even which routes exist. */
static bool admitted(eddy_admin *a, struct evhttp_request *req, const char *path)
{
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    eddy_admin_seen s = {
        .method = method_name(evhttp_request_get_command(req)),
        .path = path,
        .host = evhttp_find_header(in, "Host"),
        .origin = evhttp_find_header(in, "Origin"),
        .sec_fetch_site = evhttp_find_header(in, "Sec-Fetch-Site"),
        .authorization = evhttp_find_header(in, "Authorization"),
        .content_type = evhttp_find_header(in, "Content-Type"),
        .body_len = evbuffer_get_length(evhttp_request_get_input_buffer(req)),
    };
    char why[512];
    const char *challenge = NULL;
    int status = eddy_admin_guard_check(&a->guard, &s, why, sizeof why, &challenge);
    if (status == 0)
        return true;
    if (a->metrics) {
        char labels[32];
        snprintf(labels, sizeof labels, "status=\"%d\"", status);
        eddy_metric_add(eddy_metrics_get(a->metrics, "eddy_admin_refused_total",
                                         "Admin HTTP requests the guard refused, by status "
                                         "(401 token, 403 origin or no token, 415 body, 421 Host).",
                                         EDDY_METRIC_COUNTER, labels),
                        1);
    }
    if (challenge)
        evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate", challenge);
    reply_error(req, status, why, NULL);
    return false;
}

static void on_request(struct evhttp_request *req, void *arg)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *raw = uri ? evhttp_uri_get_path(uri) : NULL;
    if (!raw || !*raw)
        raw = "/";
    size_t plen = 0;
    char *path = evhttp_uridecode(raw, 0, &plen);
    if (!path)
        evhttp_send_error(req, 500, NULL);
    else if (strlen(path) != plen)
        reply_error(req, 400, "path contains a NUL byte", NULL);
    else if (admitted(arg, req, path))
        dispatch(arg, req, path);
    free(path);
}

static int add_route(eddy_admin *a, const char *path, eddy_admin_handler fn,
                     eddy_admin_req_handler rfn, bool post, void *arg);

int eddy_admin_route(eddy_admin *a, const char *path, eddy_admin_handler fn, void *arg)
{
    if (!fn)
        return EDDY_EINVAL;
    return add_route(a, path, fn, NULL, false, arg);
}

int eddy_admin_route_req(eddy_admin *a, const char *path, bool allow_post,
                         eddy_admin_req_handler fn, void *arg)
{
    if (!fn)
        return EDDY_EINVAL;
    return add_route(a, path, NULL, fn, allow_post, arg);
}

static int add_route(eddy_admin *a, const char *path, eddy_admin_handler fn,
                     eddy_admin_req_handler rfn, bool post, void *arg)
{
    if (!a || !path || path[0] != '/')
        return EDDY_EINVAL;
    if (a->nroutes == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 8;
        route *p = realloc(a->routes, cap * sizeof *p);
        if (!p)
            return EDDY_ENOMEM;
        a->routes = p;
        a->cap = cap;
    }
    route *r = &a->routes[a->nroutes];
    memset(r, 0, sizeof *r);
    r->path = strdup(path);
    if (!r->path)
        return EDDY_ENOMEM;
    r->len = strlen(path);
    r->prefix = path[r->len - 1] == '/';
    r->fn = fn;
    r->rfn = rfn;
    r->post = post;
    r->arg = arg;
    if (a->metrics) {
        eddy_buf lb = {0};
        int rc = eddy_metrics_label(&lb, "path", path);
        if (rc == 0)
            rc = eddy_buf_putc(&lb, '\0') == 0 ? 0 : EDDY_ENOMEM;
        if (rc == 0)
            r->requests = eddy_metrics_get(a->metrics, "eddy_admin_requests_total",
                                           "Admin HTTP requests by route.", EDDY_METRIC_COUNTER,
                                           (const char *)lb.data);
        eddy_buf_free(&lb);
        if (!r->requests) {
            free(r->path);
            return rc ? rc : EDDY_ENOMEM;
        }
    }
    a->nroutes++;
    return 0;
}

static int bound_port(struct evhttp_bound_socket *s)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(evhttp_bound_socket_get_fd(s), (struct sockaddr *)&ss, &sl) != 0)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -1;
}

eddy_admin *eddy_admin_new(struct event_base *base, const eddy_admin_conf *c,
                           eddy_metrics *metrics, char *err, size_t errlen)
{
    eddy_admin_addr addr;
    if (!base || !c) {
        eddy_errf(err, errlen, "admin server needs an event base and a configuration");
        return NULL;
    }
    if (eddy_admin_check(c, NULL, err, errlen) != 0 ||
        eddy_admin_parse_listen(c->listen, &addr, err, errlen) != 0)
        return NULL;
    eddy_admin *a = calloc(1, sizeof *a);
    if (!a || !(a->http = evhttp_new(base))) {
        eddy_errf(err, errlen, "admin server: out of memory");
        free(a);
        return NULL;
    }
    a->metrics = metrics;
    if (metrics)
        a->ready = eddy_metrics_get(metrics, "eddy_ready",
                                    "1 when /readyz answers 200 (ready), 0 when it answers 503",
                                    EDDY_METRIC_GAUGE, NULL);
    if (eddy_admin_route(a, "/healthz", on_healthz, a) != 0 ||
        eddy_admin_route(a, "/readyz", on_readyz, a) != 0 ||
        eddy_admin_route(a, "/metrics", on_metrics, a) != 0) {
        eddy_errf(err, errlen, "admin server: out of memory");
        eddy_admin_free(a);
        return NULL;
    }
    if (c->tls_cert && c->tls_cert[0]) {
        const char *field;
        a->tls = eddy_admin_tls_new(c->tls_cert, c->tls_key, &field, err, errlen);
        if (!a->tls) {
            eddy_admin_free(a);
            return NULL;
        }
        eddy_admin_tls_attach(a->tls, a->http);
    }
    /* Admit every method so a POST gets our 405 with Allow, not evhttp's 501. */
    evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                            EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    /* Probes and scrapes are small; a stalled or oversized client must not
     * hold the control loop's memory or sockets. */
    evhttp_set_timeout(a->http, 30);
    evhttp_set_max_headers_size(a->http, 16384);
    evhttp_set_max_body_size(a->http, 65536);
    evhttp_set_gencb(a->http, on_request, a);
    errno = 0;
    struct evhttp_bound_socket *s =
        evhttp_bind_socket_with_handle(a->http, addr.host, (uint16_t)addr.port);
    if (!s) {
        int e = errno;
        eddy_errf(err, errlen, "admin listen \"%s\": cannot bind %s port %u: %s", c->listen,
                  addr.host, addr.port, e ? strerror(e) : "address not usable");
        eddy_admin_free(a);
        return NULL;
    }
    a->port = bound_port(s);
    if (a->port < 0) {
        eddy_errf(err, errlen, "admin listen \"%s\": cannot read the bound port: %s", c->listen,
                  strerror(errno));
        eddy_admin_free(a);
        return NULL;
    }
    if (eddy_admin_guard_init(&a->guard, c, &addr, a->port, err, errlen) != 0) {
        eddy_admin_free(a);
        return NULL;
    }
    return a;
}

void eddy_admin_free(eddy_admin *a)
{
    if (!a)
        return;
    if (a->http)
        evhttp_free(a->http);
    eddy_admin_tls_free(a->tls); /* after the connections that use it */
    eddy_admin_guard_free(&a->guard);
    for (size_t i = 0; i < a->nroutes; i++)
        free(a->routes[i].path);
    free(a->routes);
    free(a);
}

int eddy_admin_listen_fd(eddy_admin *a, int fd)
{
    return a && evhttp_accept_socket_with_handle(a->http, fd) ? 0 : -1;
}

int eddy_admin_port(const eddy_admin *a) { return a ? a->port : -1; }

void eddy_admin_set_ready(eddy_admin *a, eddy_admin_ready_fn fn, void *arg)
{
    if (!a)
        return;
    a->ready_fn = fn;
    a->ready_arg = arg;
}
