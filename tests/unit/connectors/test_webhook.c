/* Webhook sink against an HTTP server run in this process (libevent evhttp
 * on 127.0.0.1, its own thread) whose answers each test scripts: JSON
 * bodies and headers, retries on 5xx and 429 (Retry-After), no retry on
 * 400 under both on_failure modes, timeouts, a server that comes up late,
 * the queue bound, and option errors. */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>

#include "tests/unit/connectors/conn_util.h"
#include "engine/obs/log.h"
#include "engine/obs/metrics.h"

#define MAXREQ 64

typedef struct reply {
    int status;
    const char *retry_after; /* header value, or NULL */
    const char *body;
} reply;

typedef struct request {
    char *body;
    char ctype[64], token[64], team[64];
    int put;
    int64_t at_ns;
} request;

typedef struct server {
    struct event_base *base;
    struct evhttp *http;
    pthread_t th;
    int port;
    pthread_mutex_t mu;
    reply script[16];
    int nscript, next;
    request req[MAXREQ];
    int nreq;
} server;

static const eddy_sink_ops *W;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void copy_header(struct evkeyvalq *h, const char *name, char *out, size_t len)
{
    const char *v = evhttp_find_header(h, name);
    snprintf(out, len, "%s", v ? v : "");
}

static void on_request(struct evhttp_request *rq, void *arg)
{
    server *sv = arg;
    struct evbuffer *in = evhttp_request_get_input_buffer(rq);
    size_t len = evbuffer_get_length(in);
    pthread_mutex_lock(&sv->mu);
    reply rp = sv->next < sv->nscript ? sv->script[sv->next++] : (reply){200, NULL, NULL};
    if (sv->nreq < MAXREQ) {
        request *r = &sv->req[sv->nreq++];
        r->body = calloc(1, len + 1);
        if (r->body)
            evbuffer_copyout(in, r->body, len);
        struct evkeyvalq *h = evhttp_request_get_input_headers(rq);
        copy_header(h, "Content-Type", r->ctype, sizeof r->ctype);
        copy_header(h, "X-Token", r->token, sizeof r->token);
        copy_header(h, "X-Team", r->team, sizeof r->team);
        r->put = evhttp_request_get_command(rq) == EVHTTP_REQ_PUT;
        r->at_ns = now_ns();
    }
    pthread_mutex_unlock(&sv->mu);
    if (rp.retry_after)
        evhttp_add_header(evhttp_request_get_output_headers(rq), "Retry-After", rp.retry_after);
    struct evbuffer *out = evbuffer_new();
    if (out && rp.body)
        evbuffer_add_printf(out, "%s", rp.body);
    evhttp_send_reply(rq, rp.status, rp.status < 300 ? "OK" : "Scripted", out);
    if (out)
        evbuffer_free(out);
}

static void *server_main(void *arg)
{
    server *sv = arg;
    event_base_dispatch(sv->base);
    return NULL;
}

/* port 0: any free port. The answers follow `script`, then 200. */
static server *server_start(int port, const reply *script, int n)
{
    server *sv = calloc(1, sizeof *sv);
    pthread_mutex_init(&sv->mu, NULL);
    if (n)
        memcpy(sv->script, script, sizeof *script * (size_t)n);
    sv->nscript = n;
    sv->base = event_base_new();
    sv->http = sv->base ? evhttp_new(sv->base) : NULL;
    struct evhttp_bound_socket *bs =
        sv->http ? evhttp_bind_socket_with_handle(sv->http, "127.0.0.1", (ev_uint16_t)port) : NULL;
    if (!bs) {
        fprintf(stderr, "test server: cannot listen on 127.0.0.1:%d\n", port);
        exit(2);
    }
    evhttp_set_gencb(sv->http, on_request, sv);
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&a, &alen);
    sv->port = ntohs(a.sin_port);
    pthread_create(&sv->th, NULL, server_main, sv);
    return sv;
}

static int server_count(server *sv)
{
    pthread_mutex_lock(&sv->mu);
    int n = sv->nreq;
    pthread_mutex_unlock(&sv->mu);
    return n;
}

static void server_stop(server *sv)
{
    event_base_loopbreak(sv->base);
    pthread_join(sv->th, NULL);
    evhttp_free(sv->http);
    event_base_free(sv->base);
    for (int i = 0; i < sv->nreq; i++)
        free(sv->req[i].body);
    pthread_mutex_destroy(&sv->mu);
    free(sv);
}

/* A port nothing listens on (connections are refused). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &alen);
    close(fd);
    return ntohs(a.sin_port);
}

/* Listens but never accepts: connections complete in the backlog and the
 * request is never answered. */
static int silent_listener(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0) {
        perror("silent listener");
        exit(2);
    }
    getsockname(fd, (struct sockaddr *)&a, &alen);
    *port = ntohs(a.sin_port);
    return fd;
}

/* ---- sink helpers -------------------------------------------------------- */

static double metric(eddy_metrics *m, const char *sink, const char *outcome)
{
    eddy_buf l = {0};
    eddy_metrics_label(&l, "sink", sink);
    if (outcome)
        eddy_metrics_label(&l, "outcome", outcome);
    eddy_buf_putc(&l, '\0');
    eddy_metric *c = eddy_metrics_get(m,
                                      outcome ? "eddy_webhook_requests_total"
                                              : "eddy_webhook_dropped_total",
                                      "", EDDY_METRIC_COUNTER, (const char *)l.data);
    eddy_buf_free(&l);
    return c ? eddy_metric_value(c) : -1;
}

/* Opens a sink from YAML options; NULL with the reason in err. */
static void *open_yaml(const char *yaml, eddy_metrics *m, const char *name, char *err,
                       size_t errlen)
{
    err[0] = '\0';
    eddy_opts *o = opts_yaml(W->options, yaml, err, errlen);
    if (!o)
        return NULL;
    eddy_connector_env env = {.worker = "w", .metrics = m};
    void *s = NULL;
    if (W->open(o, name, &env, &s, err, errlen) != 0)
        s = NULL;
    eddy_opts_free(o);
    return s;
}

static void *open_ok(const char *yaml, eddy_metrics *m, const char *name)
{
    char err[1024];
    void *s = open_yaml(yaml, m, name, err, sizeof err);
    CHECK_MSG(s != NULL, "open failed: %s", err);
    return s;
}

static eddy_record *alert(eddy_batch *b, const char *sensor, double score)
{
    eddy_record *r = eddy_batch_append(b);
    push_str(b, r, "sensor", sensor);
    push_val(b, r, "score", eddy_v_double(score));
    push_str(b, r, "sev", "high");
    return r;
}

static int write_alerts(void *s, int n)
{
    eddy_batch *b = eddy_batch_new(16, 0);
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "s%d", i);
        alert(b, name, 0.5 + i);
    }
    char err[512] = "";
    int rc = W->write(s, b, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "write: %s\n", err);
    eddy_batch_destroy(b);
    return rc;
}

/* Log lines go to a temp file while a test looks at them. */
static char log_path[256];
static void log_begin(void)
{
    tmp_path(log_path, sizeof log_path, "log");
    int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    eddy_log_setup(EDDY_LOG_DEBUG, EDDY_LOGFMT_LOGFMT, fd);
}

static char *log_end(void)
{
    eddy_log_setup(EDDY_LOG_WARN, EDDY_LOGFMT_LOGFMT, 2);
    char *text = read_file(log_path, NULL);
    unlink(log_path);
    return text ? text : calloc(1, 1);
}

/* ---- scenarios ---------------------------------------------------------- */

static void test_json_and_headers(void)
{
    server *sv = server_start(0, NULL, 0);
    eddy_metrics *m = eddy_metrics_new();
    setenv("WH_TEST_TOKEN", "tok-123", 1);
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "url: http://127.0.0.1:%d/hook\n"
             "headers: {X-Token: \"${WH_TEST_TOKEN}\", X-Team: sre}\n", sv->port);
    void *s = open_ok(yaml, m, "alerts");
    if (!s)
        goto out;
    eddy_batch *b = eddy_batch_new(8, 0);
    alert(b, "t1", 3.5);
    alert(b, "gone", 1)->flags |= EDDY_REC_DROPPED;
    alert(b, "t2", 4.25);
    eddy_record *dl = eddy_batch_append(b);
    dl->topic = "in";
    eddy_record_keep_raw(b, dl, "{oops", 5);
    eddy_record_fail(b, dl, "decode", 1, "bad json");
    char err[512] = "";
    CHECK(W->write(s, b, err, sizeof err) == 0);
    eddy_batch_destroy(b);
    CHECK(W->flush(s) == 0);
    int64_t hw = 0;
    CHECK(W->pending(s, &hw) == 0);
    CHECK(hw > 0);
    CHECK(server_count(sv) == 3);
    if (server_count(sv) == 3) {
        CHECK_CONTAINS(sv->req[0].body, "\"sensor\":\"t1\"");
        CHECK_CONTAINS(sv->req[0].body, "\"score\":3.5");
        CHECK(sv->req[0].body[0] == '{');
        CHECK_CONTAINS(sv->req[1].body, "\"sensor\":\"t2\"");
        CHECK_CONTAINS(sv->req[2].body, "\"error\":\"bad json\"");
        for (int i = 0; i < 3; i++) {
            CHECK_STR(sv->req[i].ctype, "application/json");
            CHECK_STR(sv->req[i].token, "tok-123");
            CHECK_STR(sv->req[i].team, "sre");
            CHECK(!sv->req[i].put);
        }
    }
    CHECK(metric(m, "alerts", "ok") == 3);
    CHECK(metric(m, "alerts", "retry") == 0);
    W->close(s);

    /* batch: one PUT per write, a JSON array. */
    snprintf(yaml, sizeof yaml, "url: http://127.0.0.1:%d/hook\nbatch: true\nmethod: PUT\n",
             sv->port);
    s = open_ok(yaml, m, "batched");
    if (!s)
        goto out;
    CHECK(write_alerts(s, 3) == 0);
    CHECK(W->flush(s) == 0);
    CHECK(server_count(sv) == 4);
    if (server_count(sv) == 4) {
        const char *body = sv->req[3].body;
        CHECK(body[0] == '[' && body[strlen(body) - 1] == ']');
        CHECK_CONTAINS(body, "{\"sensor\":\"s0\"");
        CHECK_CONTAINS(body, "},{\"sensor\":\"s2\"");
        CHECK(sv->req[3].put);
    }
    CHECK(metric(m, "batched", "ok") == 1);
    W->close(s);
out:
    eddy_metrics_free(m);
    server_stop(sv);
}

static void test_retry_5xx(void)
{
    reply script[] = {{500, NULL, "oops"}, {503, NULL, NULL}};
    server *sv = server_start(0, script, 2);
    eddy_metrics *m = eddy_metrics_new();
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "url: http://127.0.0.1:%d/hook\nretries: 3\nbackoff: 5ms\nmax_backoff: 20ms\n"
             "on_failure: fail\n", sv->port);
    void *s = open_ok(yaml, m, "r");
    if (s) {
        CHECK(write_alerts(s, 1) == 0);
        CHECK(W->flush(s) == 0);
        CHECK(server_count(sv) == 3);
        if (server_count(sv) == 3)
            CHECK_STR(sv->req[0].body, sv->req[2].body);
        CHECK(metric(m, "r", "ok") == 1);
        CHECK(metric(m, "r", "retry") == 2);
        CHECK(metric(m, "r", "failed") == 0);
        CHECK(metric(m, "r", NULL) == 0);
        W->close(s);
    }
    eddy_metrics_free(m);
    server_stop(sv);
}

static void test_retry_after(void)
{
    /* Retry-After: 1 with a far larger max_backoff: the second attempt
     * comes at least about a second later, not after backoff (1ms). */
    reply script[] = {{429, "1", NULL}};
    server *sv = server_start(0, script, 1);
    eddy_metrics *m = eddy_metrics_new();
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "url: http://127.0.0.1:%d/hook\nbackoff: 1ms\nmax_backoff: 5s\n", sv->port);
    void *s = open_ok(yaml, m, "ra");
    if (s) {
        CHECK(write_alerts(s, 1) == 0);
        CHECK(W->flush(s) == 0);
        CHECK(server_count(sv) == 2);
        if (server_count(sv) == 2)
            CHECK_MSG(sv->req[1].at_ns - sv->req[0].at_ns >= 900000000LL, "gap %lld ns",
                      (long long)(sv->req[1].at_ns - sv->req[0].at_ns));
        CHECK(metric(m, "ra", "retry") == 1);
        CHECK(metric(m, "ra", "ok") == 1);
        W->close(s);
    }
    server_stop(sv);

    /* Retry-After: 3600 is capped by max_backoff. */
    reply longer[] = {{429, "3600", NULL}};
    sv = server_start(0, longer, 1);
    snprintf(yaml, sizeof yaml,
             "url: http://127.0.0.1:%d/hook\nbackoff: 1ms\nmax_backoff: 30ms\n", sv->port);
    s = open_ok(yaml, m, "cap");
    if (s) {
        int64_t t0 = now_ns();
        CHECK(write_alerts(s, 1) == 0);
        CHECK(W->flush(s) == 0);
        CHECK(now_ns() - t0 < 60LL * 1000000000);
        CHECK(server_count(sv) == 2);
        W->close(s);
    }
    eddy_metrics_free(m);
    server_stop(sv);
}

static void test_client_error(void)
{
    reply script[] = {{400, NULL, "{\"error\":\"invalid payload\"}"}};
    server *sv = server_start(0, script, 1);
    eddy_metrics *m = eddy_metrics_new();
    char yaml[512];
    /* Credentials and the path's token must stay out of the log. */
    snprintf(yaml, sizeof yaml,
             "url: http://bob:s3cret@127.0.0.1:%d/hooks/T0123/tokenpart?key=qsecret\n"
             "backoff: 1ms\n", sv->port);
    log_begin();
    void *s = open_ok(yaml, m, "drop");
    if (s) {
        CHECK(write_alerts(s, 1) == 0);
        CHECK(W->flush(s) == 0); /* drop: the pipeline goes on */
        CHECK(server_count(sv) == 1);
        CHECK(metric(m, "drop", "failed") == 1);
        CHECK(metric(m, "drop", "retry") == 0);
        CHECK(metric(m, "drop", NULL) == 1);
        CHECK(write_alerts(s, 1) == 0); /* the next alert still goes out */
        CHECK(W->flush(s) == 0);
        CHECK(server_count(sv) == 2);
        CHECK(metric(m, "drop", "ok") == 1);
        W->close(s);
    }
    char *log = log_end();
    CHECK_CONTAINS(log, "alert dropped");
    CHECK_CONTAINS(log, "HTTP 400");
    CHECK_CONTAINS(log, "invalid payload");
    CHECK_CONTAINS(log, "http://127.0.0.1:");
    CHECK_CONTAINS(log, "/hooks/...");
    CHECK(!strstr(log, "s3cret"));
    CHECK(!strstr(log, "tokenpart"));
    CHECK(!strstr(log, "qsecret"));
    free(log);
    server_stop(sv);

    /* fail: flush fails, later writes say why, and there is no retry. */
    sv = server_start(0, script, 1);
    snprintf(yaml, sizeof yaml, "url: http://127.0.0.1:%d/hook\non_failure: fail\n", sv->port);
    log_begin();
    s = open_ok(yaml, m, "fail");
    if (s) {
        CHECK(write_alerts(s, 1) == 0);
        CHECK(W->flush(s) < 0);
        CHECK(server_count(sv) == 1);
        CHECK(metric(m, "fail", "failed") == 1);
        CHECK(metric(m, "fail", NULL) == 0);
        eddy_batch *b = eddy_batch_new(4, 0);
        alert(b, "late", 1);
        char err[1024] = "";
        CHECK(W->write(s, b, err, sizeof err) < 0);
        CHECK_CONTAINS(err, "webhook sink 'fail'");
        CHECK_CONTAINS(err, "HTTP 400");
        eddy_batch_destroy(b);
        CHECK(W->flush(s) < 0);
        W->close(s);
    }
    char *log2 = log_end();
    CHECK_CONTAINS(log2, "not delivered");
    free(log2);
    eddy_metrics_free(m);
    server_stop(sv);
}

static void test_timeout(void)
{
    int port;
    int fd = silent_listener(&port);
    eddy_metrics *m = eddy_metrics_new();
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "url: http://127.0.0.1:%d/hook\ntimeout: 100ms\nretries: 2\nbackoff: 5ms\n", port);
    log_begin();
    void *s = open_ok(yaml, m, "slow");
    if (s) {
        int64_t t0 = now_ns();
        CHECK(write_alerts(s, 1) == 0);
        CHECK(W->pending(s, NULL) == 1);
        CHECK(W->flush(s) == 0);
        int64_t took = now_ns() - t0;
        /* Three attempts of 100ms each, well under the 5s default. */
        CHECK_MSG(took >= 300000000LL && took < 4LL * 1000000000, "took %lld ns", (long long)took);
        CHECK(metric(m, "slow", "retry") == 2);
        CHECK(metric(m, "slow", "failed") == 1);
        CHECK(metric(m, "slow", NULL) == 1);
        W->close(s);
    }
    char *log = log_end();
    CHECK_CONTAINS(log, "timed out");
    CHECK_CONTAINS(log, "after 3 attempts");
    free(log);
    close(fd);
    eddy_metrics_free(m);
}

static void test_down_then_up(void)
{
    int port = free_port();
    eddy_metrics *m = eddy_metrics_new();
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "url: http://127.0.0.1:%d/hook\nretries: 100\nbackoff: 10ms\nmax_backoff: 40ms\n"
             "on_failure: fail\n", port);
    void *s = open_ok(yaml, m, "late");
    if (!s) {
        eddy_metrics_free(m);
        return;
    }
    CHECK(write_alerts(s, 1) == 0);
    for (int i = 0; i < 2000 && metric(m, "late", "retry") < 2; i++)
        usleep(5000);
    CHECK(metric(m, "late", "retry") >= 2);
    CHECK(metric(m, "late", "ok") == 0);
    server *sv = server_start(port, NULL, 0);
    CHECK(W->flush(s) == 0);
    CHECK(server_count(sv) == 1);
    CHECK(metric(m, "late", "ok") == 1);
    CHECK(metric(m, "late", "failed") == 0);
    W->close(s);
    server_stop(sv);
    eddy_metrics_free(m);
}

/* A stuck endpoint fills the queue: pending() reports it, records past
 * max_pending are dropped (counted), and close gives up after
 * close_timeout. */
static void test_queue_bound(void)
{
    int port;
    int fd = silent_listener(&port);
    eddy_metrics *m = eddy_metrics_new();
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "url: http://127.0.0.1:%d/hook\ntimeout: 10s\nmax_pending: 2\nclose_timeout: 20ms\n",
             port);
    void *s = open_ok(yaml, m, "full");
    if (s) {
        CHECK(write_alerts(s, 5) == 0);
        int64_t hw = 0;
        CHECK(W->pending(s, &hw) == 2);
        CHECK(hw >= 1 && hw <= 2);
        CHECK(metric(m, "full", NULL) == 3);
        int64_t t0 = now_ns();
        W->close(s);
        CHECK(now_ns() - t0 < 8LL * 1000000000); /* not the 10s request timeout */
        CHECK(metric(m, "full", NULL) == 5);
        CHECK(metric(m, "full", "ok") == 0);
    }
    close(fd);
    eddy_metrics_free(m);
}

static void expect_open_error(const char *yaml, const char *want1, const char *want2)
{
    char err[1024];
    void *s = open_yaml(yaml, NULL, "bad", err, sizeof err);
    CHECK_MSG(s == NULL, "accepted: %s", yaml);
    if (s)
        W->close(s);
    CHECK_CONTAINS(err, want1);
    if (want2)
        CHECK_CONTAINS(err, want2);
}

static void test_bad_options(void)
{
    char err[512] = "";
    const char *none[] = {"retries=2"};
    eddy_opts *o = eddy_opts_from_pairs(W->options, none, 1, err, sizeof err);
    CHECK(o == NULL);
    CHECK_CONTAINS(err, "missing required option 'url'");
    eddy_opts_free(o);

    expect_open_error("retries: 1\n", "url", NULL);
    expect_open_error("url: ftp://example.com/x\n", "must be http or https", "'ftp'");
    expect_open_error("url: ftp://example.com/x\n", "test.yaml:1", "webhook sink 'bad'");
    expect_open_error("url: example.com/hook\n", "no scheme", NULL);
    expect_open_error("url: \"http://\"\n", "url", NULL);
    expect_open_error("url: http://example.com/h\ntimeout: -1s\n", "timeout", NULL);
    expect_open_error("url: http://example.com/h\ntimeout: 0ms\n", "timeout", NULL);
    expect_open_error("url: http://example.com/h\nretries: -1\n", "retries", NULL);
    expect_open_error("url: http://example.com/h\nmethod: GET\n", "POST|PUT", NULL);
    expect_open_error("url: http://example.com/h\non_failure: retry\n", "drop|fail", NULL);
    expect_open_error("url: http://example.com/h\nbackoff: 2s\nmax_backoff: 1s\n",
                      "max_backoff (1000ms) is shorter than backoff (2000ms)", NULL);
    expect_open_error("url: http://example.com/h\nheaders: {\"Bad Name\": x}\n",
                      "headers: name 'Bad Name'", NULL);
    expect_open_error("url: http://example.com/h\nheaders: {X-A: \"a\\r\\nX-Evil: 1\"}\n",
                      "line break", NULL);
    expect_open_error("url: http://example.com/h\nmax_pending: 0\n", "max_pending", NULL);
}

int main(void)
{
    alarm(180); /* a hung flush fails the test instead of stalling the suite */
    evthread_use_pthreads();
    eddy_log_setup(EDDY_LOG_WARN, EDDY_LOGFMT_LOGFMT, 2);
    W = eddy_sink_find("webhook");
    CHECK(W != NULL);
    if (!W)
        return test_report();
    CHECK(W->pending != NULL);
    test_bad_options();
    test_json_and_headers();
    test_retry_5xx();
    test_retry_after();
    test_client_error();
    test_timeout();
    test_down_then_up();
    test_queue_bound();
    return test_report();
}
