/* Console sink: lines, json and summary output, captured by pointing
 * stdout (or stderr) at a temp file. */
#include "tests/unit/connectors/conn_util.h"

static const eddy_sink_ops *C;

typedef struct capture {
    int fd, saved;
    char path[256];
} capture;

static void capture_start(capture *c, int fd)
{
    fflush(NULL);
    c->fd = fd;
    tmp_path(c->path, sizeof c->path, fd == 1 ? "stdout" : "stderr");
    int t = open(c->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    c->saved = dup(fd);
    dup2(t, fd);
    close(t);
}

/* Restores the stream and returns what was written (caller frees). */
static char *capture_end(capture *c)
{
    fflush(NULL);
    dup2(c->saved, c->fd);
    close(c->saved);
    char *text = read_file(c->path, NULL);
    unlink(c->path);
    return text;
}

static void *open_console(const char *const *pairs, size_t n)
{
    char err[512] = "";
    eddy_opts *o = opts_pairs(C->options, pairs, n);
    void *s = NULL;
    if (!o || C->open(o, "console", NULL, &s, err, sizeof err) != 0)
        fprintf(stderr, "console open: %s\n", err);
    eddy_opts_free(o);
    return s;
}

static eddy_record *event(eddy_batch *b, int64_t ts, int user, double amount, const char *merchant)
{
    char key[32];
    snprintf(key, sizeof key, "user-%d", user);
    eddy_record *r = eddy_batch_append(b);
    r->topic = "in";
    r->ts = ts;
    r->key = eddy_batch_string(b, key, strlen(key));
    push_val(b, r, "user_id", r->key);
    push_val(b, r, "ts", eddy_v_int(ts));
    push_val(b, r, "amount", eddy_v_double(amount));
    push_str(b, r, "merchant", merchant);
    return r;
}

static eddy_batch *sample(void)
{
    eddy_batch *b = eddy_batch_new(8, 0);
    event(b, 1767225601000LL, 3, 12.5, "acme");
    eddy_record *r = eddy_batch_append(b);
    r->topic = "in";
    r->offset = 4;
    eddy_record_keep_raw(b, r, "{oops", 5);
    eddy_record_fail(b, r, "decode", 1, "bad json");
    r = eddy_batch_append(b); /* no key, no time */
    push_val(b, r, "a", eddy_v_int(1));
    r = eddy_batch_append(b);
    push_val(b, r, "gone", eddy_v_int(1));
    r->flags |= EDDY_REC_DROPPED;
    return b;
}

static void test_lines(void)
{
    const char *pairs[] = {"format=lines"};
    void *s = open_console(pairs, 1);
    CHECK(s != NULL);
    if (!s)
        return;
    eddy_batch *b = sample();
    capture cap;
    char err[512] = "";
    capture_start(&cap, 1);
    int rc = C->write(s, b, err, sizeof err);
    C->close(s);
    char *out = capture_end(&cap);
    CHECK(rc == 0);
    CHECK_STR(out, "2026-01-01T00:00:01.000Z user-3 amount=12.5 merchant=\"acme\"\n"
                   "- ERROR decode: bad json (in[0]@4)\n"
                   "- partition=0 a=1\n");
    free(out);
    eddy_batch_destroy(b);
}

/* Lines say which output they are (the pipeline, from the runtime's sink
 * name "<pipeline>.<sink>"), and a window's bounds read as times. */
static void test_lines_label(void)
{
    char err[512] = "";
    const char *pairs[] = {"format=lines"};
    eddy_opts *o = eddy_opts_from_pairs(C->options, pairs, 1, err, sizeof err);
    void *s = NULL;
    CHECK(o && C->open(o, "large_online.console#0", NULL, &s, err, sizeof err) == 0);
    eddy_opts_free(o);
    if (!s)
        return;
    eddy_batch *b = eddy_batch_new(4, 0);
    eddy_record *r = eddy_batch_append(b);
    r->ts = 1767225609999LL;
    r->partition = 2;
    push_val(b, r, "window_start", eddy_v_int(1767225600000LL));
    push_val(b, r, "n", eddy_v_int(7));
    capture cap;
    capture_start(&cap, 1);
    CHECK(C->write(s, b, err, sizeof err) == 0);
    C->close(s);
    char *out = capture_end(&cap);
    CHECK_STR(out, "[large_online] 2026-01-01T00:00:09.999Z partition=2 "
                   "window_start=2026-01-01T00:00:00.000Z n=7\n");
    free(out);
    eddy_batch_destroy(b);
}

static void test_json(void)
{
    const char *pairs[] = {"format=json", "stream=stderr"};
    void *s = open_console(pairs, 2);
    CHECK(s != NULL);
    if (!s)
        return;
    eddy_batch *b = sample();
    eddy_buf want = {0};
    eddy_record_to_json(&b->recs[0], &want);
    eddy_buf_puts(&want, "\n{\"error\":\"bad json\",\"step\":\"decode\",\"source\":{\"topic\":\"in\","
                         "\"partition\":0,\"offset\":4},\"error_offset\":1,\"raw\":\"{oops\"}\n"
                         "{\"a\":1}\n");
    eddy_buf_putc(&want, '\0');
    capture cap;
    char err[512] = "";
    capture_start(&cap, 2);
    int rc = C->write(s, b, err, sizeof err);
    C->close(s);
    char *out = capture_end(&cap);
    CHECK(rc == 0);
    CHECK_STR(out, (const char *)want.data);
    CHECK_CONTAINS(out, "\"amount\":12.5");
    free(out);
    eddy_buf_free(&want);
    eddy_batch_destroy(b);
}

static void test_summary(void)
{
    const char *pairs[] = {"format=summary", "interval=1h"};
    void *s = open_console(pairs, 2);
    CHECK(s != NULL);
    if (!s)
        return;
    eddy_batch *b = eddy_batch_new(8, 0);
    capture cap;
    char err[512] = "";
    capture_start(&cap, 1);
    /* Two batches; keys 1..5, user-12 has the longest name. */
    for (int i = 0; i < 6; i++)
        event(b, 1767225600000LL + i, i % 5 + 1, i * 1.5, "acme");
    int rc = C->write(s, b, err, sizeof err);
    eddy_batch_reset(b);
    event(b, 1767225600010LL, 12, 99.0, "bobs");
    event(b, 1767225600011LL, 4, 7.0, "acme");
    eddy_record *r = eddy_batch_append(b);
    r->topic = "in";
    r->offset = 9;
    eddy_record_fail(b, r, "decode", 0, "broken record");
    rc |= C->write(s, b, err, sizeof err);
    rc |= C->flush(s); /* the interval has not passed: nothing yet */
    char *mid = read_file(cap.path, NULL);
    C->close(s); /* prints what is pending */
    char *out = capture_end(&cap);
    CHECK(rc == 0);
    CHECK_STR(mid, "");
    CHECK_CONTAINS(out, " 8 records in ");
    CHECK_CONTAINS(out, "/s  6 keys  1 error\n");
    /* The latest record of the 3 most recent keys, newest first, aligned. */
    CHECK_CONTAINS(out, "\n  user-4   2026-01-01T00:00:00.011Z  amount=7 merchant=\"acme\"\n"
                        "  user-12  2026-01-01T00:00:00.010Z  amount=99 merchant=\"bobs\"\n"
                        "  user-1   2026-01-01T00:00:00.005Z  amount=7.5 merchant=\"acme\"\n");
    CHECK_CONTAINS(out, "  last error: - ERROR decode: broken record (in[0]@9)\n");
    CHECK(!strstr(out, "user-5 "));
    free(mid);
    free(out);
    eddy_batch_destroy(b);
}

static void test_bad_options(void)
{
    char err[512] = "";
    const char *pairs[] = {"format=fancy"};
    eddy_opts *o = eddy_opts_from_pairs(C->options, pairs, 1, err, sizeof err);
    CHECK(o == NULL);
    CHECK_CONTAINS(err, "format");
}

int main(void)
{
    C = eddy_sink_find("console");
    CHECK(C != NULL);
    if (!C)
        return test_report();
    test_lines();
    test_lines_label();
    test_json();
    test_summary();
    test_bad_options();
    return test_report();
}
