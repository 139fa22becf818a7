/* Admin HTTP server over real TCP on an ephemeral port. The test drives the
 * event loop itself (EVLOOP_NONBLOCK steps between socket reads), so no
 * thread and no cross-thread libevent use is needed. */
#define _GNU_SOURCE /* strcasestr */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/obs/admin.h"
#include "engine/core/error.h"
#include "tests/unit/test.h"

typedef struct resp {
    int status;
    char head[4096];
    char body[65536];
    size_t body_len;
} resp;

static resp R;

/* Sends raw request text to the server and reads until the server closes
 * (requests say Connection: close). 0 on a complete response. */
static int http_raw(struct event_base *base, int family, int port, const char *req)
{
    memset(&R, 0, sizeof R);
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof ss);
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sl = sizeof *a;
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        a->sin6_addr = in6addr_loopback;
        sl = sizeof *a;
    }
    if (connect(fd, (struct sockaddr *)&ss, sl) != 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    char raw[sizeof R.head + sizeof R.body];
    size_t got = 0, sent = 0, len = strlen(req);
    int done = 0;
    /* The bound only stops a broken server from hanging the suite. */
    for (int i = 0; i < 4000 && !done; i++) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        if (sent < len) {
            ssize_t w = send(fd, req + sent, len - sent, MSG_NOSIGNAL);
            if (w > 0)
                sent += (size_t)w;
        }
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 5) <= 0)
            continue;
        ssize_t r = recv(fd, raw + got, sizeof raw - 1 - got, 0);
        if (r == 0)
            done = 1;
        else if (r > 0)
            got += (size_t)r;
        else if (errno != EAGAIN && errno != EINTR)
            break;
    }
    close(fd);
    if (!done)
        return -1;
    raw[got] = '\0';
    char *sep = strstr(raw, "\r\n\r\n");
    if (!sep || sscanf(raw, "HTTP/1.%*d %d", &R.status) != 1)
        return -1;
    size_t hl = (size_t)(sep - raw) + 2;
    if (hl >= sizeof R.head)
        return -1;
    memcpy(R.head, raw, hl);
    R.body_len = got - hl - 2;
    memcpy(R.body, sep + 4, R.body_len);
    return 0;
}

static int http_get(struct event_base *base, int port, const char *path)
{
    char req[512];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    return http_raw(base, AF_INET, port, req);
}

/* The value of a response header, up to the end of its line. */
static const char *header(const char *name)
{
    static char v[256];
    char key[64];
    snprintf(key, sizeof key, "\r\n%s: ", name);
    const char *p = strcasestr(R.head, key);
    if (!p)
        return NULL;
    p += strlen(key);
    size_t n = strcspn(p, "\r\n");
    if (n >= sizeof v)
        n = sizeof v - 1;
    memcpy(v, p, n);
    v[n] = '\0';
    return v;
}

static eddy_admin *admin_new(struct event_base *base, const char *listen, const char *token,
                             eddy_metrics *m, char *err, size_t errlen)
{
    eddy_admin_conf c = {.listen = listen, .token = token};
    return eddy_admin_new(base, &c, m, err, errlen);
}

static const char *not_ready_reason;
static const char *ready_fn(void *arg) { return not_ready_reason; }

static int list_pipelines(void *arg, const char *path, eddy_buf *body, const char **ct)
{
    eddy_buf_puts(body, "{\"pipelines\":[]}");
    return 200;
}

static int one_pipeline(void *arg, const char *path, eddy_buf *body, const char **ct)
{
    *ct = "text/plain";
    eddy_buf_printf(body, "%s:%s", (const char *)arg, path);
    return 200;
}

static int broken(void *arg, const char *path, eddy_buf *body, const char **ct) { return -5; }

static void test_routes(void)
{
    struct event_base *base = event_base_new();
    eddy_metrics *m = eddy_metrics_new();
    eddy_metric *g = eddy_metrics_get(m, "test_gauge", "A gauge.", EDDY_METRIC_GAUGE, NULL);
    eddy_metric_set(g, 7);
    char err[256] = "";
    eddy_admin *a = admin_new(base, "127.0.0.1:0", NULL, m, err, sizeof err);
    CHECK_MSG(a != NULL, "%s", err);
    if (!a) {
        eddy_metrics_free(m);
        event_base_free(base);
        return;
    }
    int port = eddy_admin_port(a);
    CHECK(port > 0 && port < 65536);

    CHECK(http_get(base, port, "/healthz") == 0);
    CHECK(R.status == 200);
    CHECK_STR(R.body, "ok\n");
    CHECK_STR(header("Content-Type"), "text/plain; charset=utf-8");

    CHECK(http_get(base, port, "/readyz") == 0);
    CHECK(R.status == 200);
    CHECK_STR(R.body, "ready\n");
    eddy_admin_set_ready(a, ready_fn, NULL);
    not_ready_reason = "consumer group not joined";
    CHECK(http_get(base, port, "/readyz") == 0);
    CHECK(R.status == 503);
    CHECK_STR(R.body, "consumer group not joined\n");
    not_ready_reason = NULL;
    CHECK(http_get(base, port, "/readyz") == 0);
    CHECK(R.status == 200);
    CHECK_STR(R.body, "ready\n");

    /* routes: exact, prefix, and later ones win */
    CHECK(eddy_admin_route(a, "/v1/", one_pipeline, "v1") == 0);
    CHECK(eddy_admin_route(a, "/v1/pipelines", list_pipelines, NULL) == 0);
    CHECK(eddy_admin_route(a, "/v1/pipelines/", one_pipeline, "one") == 0);
    CHECK(eddy_admin_route(a, "/v1/broken", broken, NULL) == 0);
    CHECK(eddy_admin_route(a, "relative", list_pipelines, NULL) == EDDY_EINVAL);
    CHECK(eddy_admin_route(a, "/x", NULL, NULL) == EDDY_EINVAL);
    CHECK(eddy_admin_route(a, NULL, list_pipelines, NULL) == EDDY_EINVAL);

    CHECK(http_get(base, port, "/v1/pipelines") == 0);
    CHECK(R.status == 200);
    CHECK_STR(R.body, "{\"pipelines\":[]}");
    CHECK_STR(header("Content-Type"), "application/json");
    CHECK(http_get(base, port, "/v1/pipelines/user%20spend?x=1") == 0);
    CHECK(R.status == 200);
    CHECK_STR(R.body, "one:/v1/pipelines/user spend");
    CHECK_STR(header("Content-Type"), "text/plain");
    CHECK(http_get(base, port, "/v1/other") == 0);
    CHECK_STR(R.body, "v1:/v1/other");
    CHECK(http_get(base, port, "/v1/broken") == 0);
    CHECK(R.status == 500);
    CHECK_STR(R.body, "{\"error\":\"handler failed for /v1/broken\"}\n");

    /* 404 with the path JSON-escaped */
    CHECK(http_get(base, port, "/nope") == 0);
    CHECK(R.status == 404);
    CHECK_STR(R.body, "{\"error\":\"no route for /nope\"}\n");
    CHECK_STR(header("Content-Type"), "application/json");
    CHECK(http_get(base, port, "/a%22b") == 0);
    CHECK(R.status == 404);
    CHECK_STR(R.body, "{\"error\":\"no route for /a\\\"b\"}\n");
    CHECK(http_get(base, port, "/a%00b") == 0);
    CHECK(R.status == 400);

    /* methods: without a token nothing but GET and HEAD gets through */
    CHECK(http_raw(base, AF_INET, port,
                   "POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                   "Content-Length: 2\r\n\r\nhi") == 0);
    CHECK(R.status == 403);
    CHECK_CONTAINS(R.body, "POST /healthz changes the worker, and this admin server has no token");
    CHECK(http_raw(base, AF_INET, port,
                   "DELETE /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n") == 0);
    CHECK(R.status == 403);
    CHECK(http_raw(base, AF_INET, port,
                   "HEAD /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n") == 0);
    CHECK(R.status == 200);
    CHECK(R.body_len == 0);
    CHECK_STR(header("Content-Length"), "3");

    /* metrics last, so the request counts above are in it */
    CHECK(http_get(base, port, "/metrics") == 0);
    CHECK(R.status == 200);
    CHECK_STR(header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    CHECK_CONTAINS(R.body, "# HELP test_gauge A gauge.\n# TYPE test_gauge gauge\ntest_gauge 7\n");
    CHECK_CONTAINS(R.body, "# TYPE eddy_admin_requests_total counter\n");
    CHECK_CONTAINS(R.body, "eddy_admin_requests_total{path=\"/healthz\"} 2\n");
    CHECK_CONTAINS(R.body, "eddy_admin_requests_total{path=\"/readyz\"} 3\n");
    CHECK_CONTAINS(R.body, "eddy_admin_requests_total{path=\"/v1/pipelines/\"} 1\n");
    CHECK_CONTAINS(R.body, "eddy_admin_requests_total{path=\"/metrics\"} 1\n");
    CHECK_CONTAINS(R.body, "eddy_admin_refused_total{status=\"403\"} 2\n");
    CHECK(strstr(R.body, "/nope") == NULL);
    CHECK(strstr(R.body, "user spend") == NULL);
    /* eddy_ready follows /readyz at each scrape */
    CHECK_CONTAINS(R.body, "# TYPE eddy_ready gauge\neddy_ready 1\n");
    not_ready_reason = "draining";
    CHECK(http_get(base, port, "/metrics") == 0);
    CHECK_CONTAINS(R.body, "\neddy_ready 0\n");
    not_ready_reason = NULL;
    CHECK(http_get(base, port, "/metrics") == 0);
    CHECK_CONTAINS(R.body, "\neddy_ready 1\n");

    eddy_admin_free(a);
    eddy_metrics_free(m);
    event_base_free(base);
}

#define TOKEN "0123456789abcdef-token"

/* A request with extra header lines (each ending in \r\n). */
static int http_req(struct event_base *base, int port, const char *method, const char *path,
                    const char *headers, const char *body)
{
    char req[2048];
    snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nConnection: close\r\n%sContent-Length: %zu\r\n\r\n%s",
             method, path, headers, strlen(body), body);
    return http_raw(base, AF_INET, port, req);
}

static void test_guard(void)
{
    struct event_base *base = event_base_new();
    eddy_metrics *m = eddy_metrics_new();
    char err[256] = "";
    eddy_admin *a = admin_new(base, "127.0.0.1:0", TOKEN, m, err, sizeof err);
    CHECK_MSG(a != NULL, "%s", err);
    if (!a) {
        eddy_metrics_free(m);
        event_base_free(base);
        return;
    }
    int port = eddy_admin_port(a);
    const char *h = "Host: 127.0.0.1\r\n";
    const char *auth = "Host: 127.0.0.1\r\nAuthorization: Bearer " TOKEN "\r\n";

    /* probes need no token; everything else does */
    CHECK(http_req(base, port, "GET", "/healthz", h, "") == 0 && R.status == 200);
    CHECK(http_req(base, port, "GET", "/readyz", h, "") == 0 && R.status == 200);
    CHECK(http_req(base, port, "GET", "/metrics", h, "") == 0);
    CHECK(R.status == 401);
    CHECK_STR(header("WWW-Authenticate"), "Bearer realm=\"eddy admin\"");
    CHECK_CONTAINS(R.body, "GET /metrics needs the admin token");
    CHECK(http_req(base, port, "GET", "/metrics", auth, "") == 0 && R.status == 200);
    CHECK(http_req(base, port, "GET", "/metrics",
                   "Host: 127.0.0.1\r\nAuthorization: bearer   " TOKEN "  \r\n", "") == 0);
    CHECK(R.status == 200);
    CHECK(http_req(base, port, "GET", "/metrics",
                   "Host: 127.0.0.1\r\nAuthorization: Bearer " TOKEN "x\r\n", "") == 0);
    CHECK(R.status == 401);
    CHECK_CONTAINS(header("WWW-Authenticate"), "invalid_token");
    CHECK(strstr(R.body, TOKEN) == NULL);
    CHECK(http_req(base, port, "GET", "/metrics",
                   "Host: 127.0.0.1\r\nAuthorization: Basic " TOKEN "\r\n", "") == 0);
    CHECK(R.status == 401);
    /* a refused client learns nothing about routes */
    CHECK(http_req(base, port, "GET", "/nope", h, "") == 0 && R.status == 401);
    CHECK(http_req(base, port, "GET", "/nope", auth, "") == 0 && R.status == 404);

    /* POST: a token, and a JSON body or none */
    CHECK(http_req(base, port, "POST", "/healthz", auth, "") == 0);
    CHECK(R.status == 405);
    CHECK_STR(header("Allow"), "GET, HEAD");
    CHECK(http_req(base, port, "POST", "/healthz", h, "") == 0 && R.status == 401);
    CHECK(http_req(base, port, "POST", "/healthz",
                   "Host: 127.0.0.1\r\nAuthorization: Bearer " TOKEN "\r\n"
                   "Content-Type: text/plain\r\n", "x=1") == 0);
    CHECK(R.status == 415);
    CHECK_CONTAINS(R.body, "must be application/json");
    CHECK(http_req(base, port, "POST", "/healthz",
                   "Host: 127.0.0.1\r\nAuthorization: Bearer " TOKEN "\r\n", "x=1") == 0);
    CHECK(R.status == 415);
    CHECK(http_req(base, port, "POST", "/healthz",
                   "Host: 127.0.0.1\r\nAuthorization: Bearer " TOKEN "\r\n"
                   "Content-Type: application/json; charset=utf-8\r\n", "{}") == 0);
    CHECK(R.status == 405);

    /* Host: DNS rebinding; the port is not compared (tunnels change it) */
    CHECK(http_req(base, port, "GET", "/healthz", "Host: evil.example\r\n", "") == 0);
    CHECK(R.status == 421);
    CHECK_CONTAINS(R.body, "does not name this admin server");
    CHECK(http_req(base, port, "GET", "/healthz", "Host: evil.example:1\r\n", "") == 0);
    CHECK(R.status == 421);
    CHECK(http_req(base, port, "GET", "/healthz", "Host: [::1]:1\r\n", "") == 0 && R.status == 200);
    CHECK(http_req(base, port, "GET", "/healthz", "Host: LOCALHOST:8080\r\n", "") == 0);
    CHECK(R.status == 200);
    CHECK(http_req(base, port, "GET", "/healthz", "Host: [evil\r\n", "") == 0 && R.status == 421);

    /* Origin: only our own; Sec-Fetch-Site: same-origin or none */
    CHECK(http_req(base, port, "GET", "/healthz",
                   "Host: 127.0.0.1\r\nOrigin: http://evil.example\r\n", "") == 0);
    CHECK(R.status == 403);
    CHECK_CONTAINS(R.body, "cross-origin request refused");
    CHECK(http_req(base, port, "POST", "/healthz",
                   "Host: 127.0.0.1\r\nOrigin: null\r\nAuthorization: Bearer " TOKEN "\r\n",
                   "") == 0);
    CHECK(R.status == 403);
    CHECK(http_req(base, port, "GET", "/healthz",
                   "Host: 127.0.0.1\r\nOrigin: http://127.0.0.1\r\n", "") == 0);
    CHECK(R.status == 200);
    CHECK(http_req(base, port, "GET", "/healthz",
                   "Host: 127.0.0.1\r\nOrigin: https://127.0.0.1\r\n", "") == 0);
    CHECK(R.status == 403);
    CHECK(http_req(base, port, "GET", "/healthz",
                   "Host: 127.0.0.1\r\nSec-Fetch-Site: cross-site\r\n", "") == 0);
    CHECK(R.status == 403);
    CHECK(http_req(base, port, "GET", "/healthz",
                   "Host: 127.0.0.1\r\nSec-Fetch-Site: none\r\n", "") == 0);
    CHECK(R.status == 200);
    CHECK_STR(header("X-Content-Type-Options"), "nosniff");

    eddy_admin_free(a);
    eddy_metrics_free(m);
    event_base_free(base);
}

static void expect_bad_listen(struct event_base *base, const char *listen, const char *token,
                              const char *why)
{
    char err[256] = "";
    eddy_admin *a = admin_new(base, listen, token, NULL, err, sizeof err);
    CHECK_MSG(a == NULL, "listen %s accepted", listen ? listen : "(null)");
    eddy_admin_free(a);
    CHECK_CONTAINS(err, why);
}

static void test_listen_errors(void)
{
    struct event_base *base = event_base_new();
    expect_bad_listen(base, NULL, NULL, "empty");
    expect_bad_listen(base, "", NULL, "empty");
    expect_bad_listen(base, "nonsense", NULL, "\"nonsense\": expected host:port");
    expect_bad_listen(base, "127.0.0.1:", NULL, "port must be a number");
    expect_bad_listen(base, "127.0.0.1:99999", NULL, "port must be a number");
    expect_bad_listen(base, "127.0.0.1:12a", NULL, "port must be a number");
    expect_bad_listen(base, "::1:80", NULL, "needs brackets");
    expect_bad_listen(base, "[::1", NULL, "expected [ipv6]:port");
    expect_bad_listen(base, "[]:80", NULL, "empty IPv6");
    expect_bad_listen(base, "192.0.2.1:0", "0123456789abcdef", "cannot bind");
    /* ":port" no longer means every interface; off loopback needs a token */
    expect_bad_listen(base, ":0", NULL, "names no host: write 127.0.0.1:0");
    expect_bad_listen(base, ":99999", NULL, "port must be a number");
    expect_bad_listen(base, "0.0.0.0:0", NULL, "needs worker.admin.token");
    expect_bad_listen(base, "[::]:0", NULL, "needs worker.admin.token");
    expect_bad_listen(base, "example.com:0", NULL, "needs worker.admin.token");
    expect_bad_listen(base, "127.0.0.1:0", "short", "5 characters long");
    expect_bad_listen(base, "127.0.0.1:0", "0123456789 abcdef", "space, control or non-ASCII");

    char err[256] = "";
    CHECK(admin_new(NULL, "127.0.0.1:0", NULL, NULL, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "event base");

    /* the port is taken: the second server says so */
    eddy_admin *a = admin_new(base, "127.0.0.1:0", NULL, NULL, err, sizeof err);
    CHECK_MSG(a != NULL, "%s", err);
    if (a) {
        char listen[64];
        snprintf(listen, sizeof listen, "127.0.0.1:%d", eddy_admin_port(a));
        expect_bad_listen(base, listen, NULL, "cannot bind 127.0.0.1 port");
        /* without a registry /metrics is empty, not an error */
        CHECK(http_get(base, eddy_admin_port(a), "/metrics") == 0);
        CHECK(R.status == 200 && R.body_len == 0);
        eddy_admin_free(a);
    }
    event_base_free(base);
}

static int have_ipv6_loopback(void)
{
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    int ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

static void test_ipv6(void)
{
    if (!have_ipv6_loopback()) {
        printf("no IPv6 loopback here: IPv6 listen not exercised\n");
        return;
    }
    struct event_base *base = event_base_new();
    char err[256] = "";
    eddy_admin *a = admin_new(base, "[::1]:0", NULL, NULL, err, sizeof err);
    CHECK_MSG(a != NULL, "%s", err);
    if (a) {
        CHECK(eddy_admin_port(a) > 0);
        CHECK(http_raw(base, AF_INET6, eddy_admin_port(a),
                       "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n") == 0);
        CHECK(R.status == 200);
        CHECK_STR(R.body, "ok\n");
        eddy_admin_free(a);
    }
    event_base_free(base);
}

int main(void)
{
    test_routes();
    test_listen_errors();
    test_guard();
    test_ipv6();
    return test_report();
}
