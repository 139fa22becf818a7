/* The admin request guard and listen rules without sockets: which Host,
 * Origin, token and body each configuration admits, and which listen
 * addresses count as loopback. (test_admin.c runs them over TCP.) */
#include <string.h>

#include "engine/core/error.h"
#include "engine/obs/admin.h"
#include "engine/obs/admin_guard.h"
#include "tests/unit/test.h"

#define TOKEN "0123456789abcdef0123"

static eddy_admin_guard G;

static void guard(const char *listen, const char *token, bool tls, const char *const *hosts)
{
    eddy_admin_addr addr;
    char err[256] = "";
    eddy_admin_guard_free(&G);
    CHECK_MSG(eddy_admin_parse_listen(listen, &addr, err, sizeof err) == 0, "%s", err);
    eddy_admin_conf c = {.listen = listen, .token = token, .allowed_hosts = hosts,
                         .tls_cert = tls ? "cert.pem" : NULL, .tls_key = tls ? "key.pem" : NULL};
    CHECK_MSG(eddy_admin_guard_init(&G, &c, &addr, 9464, err, sizeof err) == 0, "%s", err);
}

static char why[512];

/* The status for a request; headers may be NULL. */
static int ask(const char *method, const char *path, const char *host, const char *origin,
               const char *auth, const char *ct, size_t body)
{
    eddy_admin_seen s = {.method = method, .path = path, .host = host, .origin = origin,
                         .authorization = auth, .content_type = ct, .body_len = body};
    const char *challenge;
    why[0] = '\0';
    return eddy_admin_guard_check(&G, &s, why, sizeof why, &challenge);
}

static void test_loopback(void)
{
    guard("127.0.0.1:9464", NULL, false, NULL);
    CHECK(ask("GET", "/metrics", "127.0.0.1:9464", NULL, NULL, NULL, 0) == 0);
    CHECK(ask("GET", "/metrics", NULL, NULL, NULL, NULL, 0) == 0); /* HTTP/1.0 */
    CHECK(ask("GET", "/metrics", "localhost", NULL, NULL, NULL, 0) == 0);
    CHECK(ask("GET", "/metrics", "[::1]:9464", NULL, NULL, NULL, 0) == 0);
    CHECK(ask("GET", "/metrics", "127.0.0.2:9464", NULL, NULL, NULL, 0) == 421);
    CHECK(ask("GET", "/metrics", "localhost.evil.example", NULL, NULL, NULL, 0) == 421);
    CHECK(ask("GET", "/metrics", "", NULL, NULL, NULL, 0) == 421);
    CHECK(ask("GET", "/metrics", ":9464", NULL, NULL, NULL, 0) == 421);
    /* POST always needs a token; without one configured it is 403 */
    CHECK(ask("POST", "/v1/pipelines/p/steps/s/reference", "localhost", NULL, NULL, NULL, 0) == 403);
    CHECK_CONTAINS(why, "set worker.admin.token");
    CHECK(ask("POST", "/v1/x", "localhost", NULL, "Bearer " TOKEN, NULL, 0) == 403);

    const char *const extra[] = {"eddy.local", "[fd00::1]", NULL};
    guard("127.0.0.2:9464", NULL, false, extra);
    CHECK(ask("GET", "/metrics", "127.0.0.2", NULL, NULL, NULL, 0) == 0);
    CHECK(ask("GET", "/metrics", "EDDY.local:80", NULL, NULL, NULL, 0) == 0);
    CHECK(ask("GET", "/metrics", "[fd00::1]:9464", NULL, NULL, NULL, 0) == 0);
    CHECK(ask("GET", "/metrics", "other.local", NULL, NULL, NULL, 0) == 421);
}

static void test_token(void)
{
    guard("0.0.0.0:9464", TOKEN, false, NULL);
    /* off loopback without allowed_hosts any Host: the token guards it */
    CHECK(ask("GET", "/healthz", "eddy-3.prod.internal:9464", NULL, NULL, NULL, 0) == 0);
    CHECK(ask("HEAD", "/readyz", "10.0.0.3", NULL, NULL, NULL, 0) == 0);
    CHECK(ask("GET", "/metrics", "10.0.0.3", NULL, NULL, NULL, 0) == 401);
    CHECK(ask("GET", "/healthz/", "10.0.0.3", NULL, NULL, NULL, 0) == 401);
    CHECK(ask("POST", "/healthz", "10.0.0.3", NULL, NULL, NULL, 0) == 401);
    CHECK(ask("GET", "/metrics", "10.0.0.3", NULL, "Bearer " TOKEN, NULL, 0) == 0);
    CHECK(ask("GET", "/metrics", "10.0.0.3", NULL, "Bearer " TOKEN "0", NULL, 0) == 401);
    CHECK(ask("GET", "/metrics", "10.0.0.3", NULL, "Bearer 0123456789abcdef012", NULL, 0) == 401);
    CHECK(ask("GET", "/metrics", "10.0.0.3", NULL, "Bearer", NULL, 0) == 401);
    CHECK(ask("GET", "/metrics", "10.0.0.3", NULL, "Bearer ", NULL, 0) == 401);
    CHECK(ask("GET", "/metrics", "10.0.0.3", NULL, "Token " TOKEN, NULL, 0) == 401);
    CHECK(ask("GET", "/metrics", "10.0.0.3", NULL, TOKEN, NULL, 0) == 401);
    CHECK(strstr(why, TOKEN) == NULL);
    CHECK(ask("POST", "/v1/x", "10.0.0.3", NULL, "Bearer " TOKEN, NULL, 0) == 0);
    CHECK(ask("POST", "/v1/x", "10.0.0.3", NULL, "Bearer " TOKEN, "application/json", 2) == 0);
    CHECK(ask("POST", "/v1/x", "10.0.0.3", NULL, "Bearer " TOKEN, "Application/JSON ; charset=utf-8", 2) == 0);
    CHECK(ask("POST", "/v1/x", "10.0.0.3", NULL, "Bearer " TOKEN, "application/jsonp", 2) == 415);
    CHECK(ask("POST", "/v1/x", "10.0.0.3", NULL, "Bearer " TOKEN, "text/plain", 0) == 415);
    CHECK(ask("POST", "/v1/x", "10.0.0.3", NULL, "Bearer " TOKEN, "multipart/form-data; boundary=x", 9) == 415);
    CHECK(ask("POST", "/v1/x", "10.0.0.3", NULL, "Bearer " TOKEN, NULL, 3) == 415);
    /* own origin only, with our scheme */
    CHECK(ask("GET", "/healthz", "10.0.0.3:9464", "http://10.0.0.3:9464", NULL, NULL, 0) == 0);
    CHECK(ask("GET", "/healthz", "10.0.0.3:9464", "http://10.0.0.3:9465", NULL, NULL, 0) == 403);
    CHECK(ask("GET", "/healthz", NULL, "http://10.0.0.3:9464", NULL, NULL, 0) == 403);

    const char *const pinned[] = {"eddy.example", NULL};
    guard("0.0.0.0:9464", TOKEN, true, pinned);
    CHECK(ask("GET", "/healthz", "eddy.example:443", NULL, NULL, NULL, 0) == 0);
    CHECK(ask("GET", "/healthz", "0.0.0.0", NULL, NULL, NULL, 0) == 0);
    CHECK(ask("GET", "/healthz", "evil.example", NULL, NULL, NULL, 0) == 421);
    /* kubelet probes and Prometheus scrapes name the pod's address */
    CHECK(ask("GET", "/readyz", "10.244.1.7:9464", NULL, NULL, NULL, 0) == 0);
    CHECK(ask("GET", "/metrics", "[fd00::7]:9464", NULL, "Bearer " TOKEN, NULL, 0) == 0);
    CHECK(ask("GET", "/healthz", "10.244.1.7.evil.example", NULL, NULL, NULL, 0) == 421);
    CHECK(ask("GET", "/healthz", "eddy.example", "https://eddy.example", NULL, NULL, 0) == 0);
    CHECK(ask("GET", "/healthz", "eddy.example", "http://eddy.example", NULL, NULL, 0) == 403);
    eddy_admin_guard_free(&G);
}

static void test_listen(void)
{
    static const struct {
        const char *listen;
        bool loopback;
    } ok[] = {
        {"127.0.0.1:0", true},    {"127.1.2.3:80", true},  {"localhost:9464", true},
        {"LocalHost:1", true},    {"[::1]:9464", true},    {"[::ffff:127.0.0.1]:1", true},
        {"0.0.0.0:9464", false},  {"[::]:9464", false},    {"10.0.0.1:9464", false},
        {"eddy.internal:9464", false}, {"128.0.0.1:1", false},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        eddy_admin_addr a;
        char err[256] = "";
        CHECK_MSG(eddy_admin_parse_listen(ok[i].listen, &a, err, sizeof err) == 0, "%s: %s",
                  ok[i].listen, err);
        CHECK_MSG(a.loopback == ok[i].loopback, "%s: loopback %d", ok[i].listen, a.loopback);
    }
    eddy_admin_addr a;
    char err[256] = "";
    CHECK(eddy_admin_parse_listen("[::1]:65535", &a, err, sizeof err) == 0);
    CHECK_STR(a.host, "::1");
    CHECK(a.port == 65535);
    CHECK(eddy_admin_parse_listen(":9464", &a, err, sizeof err) == EDDY_EINVAL);
    CHECK_CONTAINS(err, "names no host: write 127.0.0.1:9464 for this machine only, or "
                        "0.0.0.0:9464 for every interface");
    CHECK(eddy_admin_parse_listen("127.0.0.1:65536", &a, err, sizeof err) == EDDY_EINVAL);
    CHECK(eddy_admin_parse_listen("127.0.0.1:0009464", &a, err, sizeof err) == EDDY_EINVAL);

    /* eddy_admin_check names the option at fault */
    const char *field = NULL;
    eddy_admin_conf c = {.listen = "0.0.0.0:1"};
    CHECK(eddy_admin_check(&c, &field, err, sizeof err) == EDDY_EINVAL);
    CHECK_STR(field, "listen");
    c.token = "x";
    CHECK(eddy_admin_check(&c, &field, err, sizeof err) == EDDY_EINVAL);
    CHECK_STR(field, "token");
    c.token = TOKEN;
    CHECK(eddy_admin_check(&c, &field, err, sizeof err) == 0);
    c.tls_key = "key.pem";
    CHECK(eddy_admin_check(&c, &field, err, sizeof err) == EDDY_EINVAL);
    CHECK_STR(field, "tls_key");
    CHECK_CONTAINS(err, "tls_key is set without tls_cert");
    c.tls_cert = "/nonexistent/cert.pem";
    CHECK(eddy_admin_check(&c, &field, err, sizeof err) == EDDY_EINVAL);
    CHECK_STR(field, "tls_cert");
    CHECK_CONTAINS(err, "cannot read the certificate chain /nonexistent/cert.pem");
}

int main(void)
{
    test_loopback();
    test_token();
    test_listen();
    return test_report();
}
