/* Log lines captured through a pipe: both formats, escaping, the level
 * filter, truncation of oversized lines, and whole lines under threads. */
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/obs/log.h"
#include "tests/unit/test.h"

static int rfd = -1, wfd = -1;
static char got[65536];

/* Everything written so far (the pipe is non-blocking on the read side). */
static char *drain(void)
{
    size_t n = 0;
    for (;;) {
        ssize_t r = read(rfd, got + n, sizeof got - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    got[n] = '\0';
    return got;
}

static bool digits(const char *p, int n)
{
    for (int i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

/* 2026-11-26T22:05:06.123Z */
static bool ts_ok(const char *p)
{
    return digits(p, 4) && p[4] == '-' && digits(p + 5, 2) && p[7] == '-' && digits(p + 8, 2) &&
           p[10] == 'T' && digits(p + 11, 2) && p[13] == ':' && digits(p + 14, 2) &&
           p[16] == ':' && digits(p + 17, 2) && p[19] == '.' && digits(p + 20, 3) && p[23] == 'Z';
}

/* The line with its timestamp checked and cut off: what follows "ts=<ts>" or
 * {"ts":"<ts>". */
static const char *after_ts(const char *line, bool json)
{
    const char *pre = json ? "{\"ts\":\"" : "ts=";
    size_t n = strlen(pre);
    if (strncmp(line, pre, n) != 0 || !ts_ok(line + n))
        return NULL;
    return line + n + 24;
}

static void test_parse(void)
{
    CHECK(eddy_log_level_parse("error") == EDDY_LOG_ERROR);
    CHECK(eddy_log_level_parse("warn") == EDDY_LOG_WARN);
    CHECK(eddy_log_level_parse("info") == EDDY_LOG_INFO);
    CHECK(eddy_log_level_parse("debug") == EDDY_LOG_DEBUG);
    CHECK(eddy_log_level_parse("verbose") == -1);
    CHECK(eddy_log_level_parse("") == -1);
    CHECK(eddy_log_level_parse(NULL) == -1);
    CHECK(eddy_log_format_parse("logfmt") == EDDY_LOGFMT_LOGFMT);
    CHECK(eddy_log_format_parse("json") == EDDY_LOGFMT_JSON);
    CHECK(eddy_log_format_parse("xml") == -1);
    CHECK(eddy_log_format_parse(NULL) == -1);
}

static void test_logfmt(void)
{
    eddy_log_setup(EDDY_LOG_INFO, EDDY_LOGFMT_LOGFMT, wfd);
    CHECK(eddy_log_get_level() == EDDY_LOG_INFO);
    eddy_log(EDDY_LOG_INFO,
             (const char *[]){"pipeline", "p", "note", "has space", "eq", "a=b", "q", "say \"hi\"",
                              "nl", "x\ny", "empty", "", "bad key", "v", "bs", "c:\\tmp", NULL},
             "started %d", 3);
    const char *line = drain();
    CHECK_STR(after_ts(line, false),
              " level=info msg=\"started 3\" pipeline=p note=\"has space\" eq=\"a=b\" "
              "q=\"say \\\"hi\\\"\" nl=\"x\\ny\" empty=\"\" bad_key=v bs=c:\\tmp\n");

    EDDY_LOG_DEBUG("hidden %s", "debug");
    eddy_log(EDDY_LOG_WARN, NULL, "tab\there \x01");
    EDDY_LOG_ERR("boom");
    char *all = drain();
    CHECK(strstr(all, "hidden") == NULL);
    char *nl = strchr(all, '\n');
    CHECK(nl != NULL);
    if (nl) {
        *nl = '\0';
        CHECK_STR(after_ts(all, false), " level=warn msg=\"tab\\there \\u0001\"");
        CHECK_STR(after_ts(nl + 1, false), " level=error msg=\"boom\"\n");
    }

    /* kv may be NULL-terminated after a key: the lone key is dropped */
    eddy_log(EDDY_LOG_INFO, (const char *[]){"a", "1", "dangling", NULL}, "kv");
    CHECK_STR(after_ts(drain(), false), " level=info msg=\"kv\" a=1\n");
}

static void test_json(void)
{
    eddy_log_setup(EDDY_LOG_DEBUG, EDDY_LOGFMT_JSON, wfd);
    eddy_log(EDDY_LOG_DEBUG, (const char *[]){"pipeline", "p", "path", "a\\b\"c\n", NULL},
             "a \"q\" \\ \t \x01 \xc3\xa9 done");
    CHECK_STR(after_ts(drain(), true),
              "\",\"level\":\"debug\",\"msg\":\"a \\\"q\\\" \\\\ \\t \\u0001 \xc3\xa9 done\","
              "\"pipeline\":\"p\",\"path\":\"a\\\\b\\\"c\\n\"}\n");
    EDDY_LOG_INFO("plain");
    CHECK_STR(after_ts(drain(), true), "\",\"level\":\"info\",\"msg\":\"plain\"}\n");
}

static size_t line_len(const char *s) { return strlen(s); }

static void test_truncation(void)
{
    static const char *ell = "\xe2\x80\xa6";
    size_t big = 20000;
    char *long_msg = malloc(big + 1);
    CHECK(long_msg != NULL);
    if (!long_msg)
        return;
    memset(long_msg, 'x', big);
    long_msg[big] = '\0';

    eddy_log_setup(EDDY_LOG_INFO, EDDY_LOGFMT_LOGFMT, wfd);
    eddy_log(EDDY_LOG_INFO, (const char *[]){"after", "dropped", NULL}, "%s", long_msg);
    const char *line = drain();
    size_t n = line_len(line);
    CHECK(n <= 8192 && n > 8000);
    CHECK(after_ts(line, false) != NULL);
    CHECK(n > 5 && strcmp(line + n - 5, "\xe2\x80\xa6\"\n") == 0);
    CHECK(strstr(line, "after=") == NULL);
    CHECK(strchr(line, '\n') == line + n - 1);

    eddy_log_setup(EDDY_LOG_INFO, EDDY_LOGFMT_JSON, wfd);
    eddy_log(EDDY_LOG_INFO, (const char *[]){"after", "dropped", NULL}, "%s", long_msg);
    line = drain();
    n = line_len(line);
    CHECK(n <= 8192 && n > 8000);
    CHECK(n > 6 && strcmp(line + n - 6, "\xe2\x80\xa6\"}\n") == 0);
    CHECK(strstr(line, "after") == NULL);

    /* a long value in a field is cut there, with the earlier fields intact */
    eddy_log(EDDY_LOG_INFO, (const char *[]){"k", "v", "long", long_msg, "next", "gone", NULL},
             "short");
    line = drain();
    n = line_len(line);
    CHECK(n <= 8192);
    CHECK_CONTAINS(line, "\"msg\":\"short\",\"k\":\"v\",\"long\":\"xxx");
    CHECK(n > 6 && strcmp(line + n - 6, "\xe2\x80\xa6\"}\n") == 0);
    CHECK(strstr(line, "next") == NULL);

    /* escapes make the line longer than the raw text: still bounded */
    memset(long_msg, '"', big);
    eddy_log(EDDY_LOG_INFO, NULL, "%s", long_msg);
    line = drain();
    n = line_len(line);
    CHECK(n <= 8192);
    CHECK(n > 8 && strcmp(line + n - 8, "\\\"\xe2\x80\xa6\"}\n") == 0);

    /* the cut never splits a UTF-8 character: 3-byte euro signs */
    for (size_t i = 0; i + 3 <= big; i += 3)
        memcpy(long_msg + i, "\xe2\x82\xac", 3);
    long_msg[big - big % 3] = '\0';
    eddy_log_setup(EDDY_LOG_INFO, EDDY_LOGFMT_LOGFMT, wfd);
    eddy_log(EDDY_LOG_INFO, NULL, "%s", long_msg);
    line = drain();
    n = line_len(line);
    const char *start = strstr(line, "msg=\"");
    const char *mark = strstr(line, ell);
    CHECK(start && mark && n <= 8192);
    if (start && mark) {
        start += 5;
        size_t body = (size_t)(mark - start);
        CHECK(body % 3 == 0);
        CHECK(body > 0 && memcmp(mark - 3, "\xe2\x82\xac", 3) == 0);
    }
    free(long_msg);
}

enum { THREADS = 4, LINES = 400 };

static void *writer(void *arg)
{
    long id = (long)arg;
    char pad[200];
    memset(pad, 'a' + (int)id, sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    for (int i = 0; i < LINES; i++)
        eddy_log(EDDY_LOG_INFO, (const char *[]){"pad", pad, NULL}, "t%ld n%d", id, i);
    return NULL;
}

typedef struct sink {
    int fd;
    char *buf;
    size_t len, cap;
} sink;

static void *reader(void *arg)
{
    sink *s = arg;
    for (;;) {
        if (s->cap - s->len < 4096) {
            char *p = realloc(s->buf, s->cap * 2);
            if (!p)
                return NULL;
            s->buf = p;
            s->cap *= 2;
        }
        ssize_t r = read(s->fd, s->buf + s->len, s->cap - s->len - 1);
        if (r <= 0)
            break;
        s->len += (size_t)r;
    }
    s->buf[s->len] = '\0';
    return NULL;
}

/* Several threads log at once through a blocking pipe: every line arrives
 * whole (one write per line). */
static void test_threads(void)
{
    int p[2];
    CHECK(pipe(p) == 0);
    sink s = {p[0], malloc(65536), 0, 65536};
    CHECK(s.buf != NULL);
    if (!s.buf)
        return;
    pthread_t rt, wt[THREADS];
    eddy_log_setup(EDDY_LOG_INFO, EDDY_LOGFMT_LOGFMT, p[1]);
    CHECK(pthread_create(&rt, NULL, reader, &s) == 0);
    for (long i = 0; i < THREADS; i++)
        CHECK(pthread_create(&wt[i], NULL, writer, (void *)i) == 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(wt[i], NULL);
    eddy_log_setup(EDDY_LOG_INFO, EDDY_LOGFMT_LOGFMT, 2);
    close(p[1]);
    pthread_join(rt, NULL);
    close(p[0]);

    int lines = 0, bad = 0;
    for (char *l = s.buf; l && *l;) {
        char *nl = strchr(l, '\n');
        if (!nl) {
            bad++;
            break;
        }
        *nl = '\0';
        lines++;
        const char *rest = after_ts(l, false);
        const char *t = rest ? strstr(rest, "msg=\"t") : NULL;
        const char *pad = t ? strstr(t, " pad=") : NULL;
        if (!pad || strlen(pad + 5) != 199 || (size_t)(pad - l) > 80)
            bad++;
        else
            for (int i = 1; i < 199; i++)
                if (pad[5 + i] != pad[5])
                    bad++;
        l = nl + 1;
    }
    CHECK(lines == THREADS * LINES);
    CHECK(bad == 0);
    free(s.buf);
}

int main(void)
{
    int p[2];
    if (pipe(p) != 0)
        return 1;
    rfd = p[0];
    wfd = p[1];
    fcntl(rfd, F_SETFL, O_NONBLOCK);
    test_parse();
    test_logfmt();
    test_json();
    test_truncation();
    test_threads();
    eddy_log_setup(EDDY_LOG_INFO, EDDY_LOGFMT_LOGFMT, 2);
    close(rfd);
    close(wfd);
    return test_report();
}
