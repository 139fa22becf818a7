/* Structured log lines. A line is built in a fixed stack buffer and handed
 * to one write(2), so lines from several threads never interleave and logging
 * never allocates. A line that would outgrow the buffer is cut inside the
 * value that overflows: the value ends with "…", later fields are dropped,
 * and the line stays valid logfmt / JSON. */
#include <stdarg.h>

#include "engine/obs/log.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 8192
/* Values stop here; the rest is room for one more key (at most KEY_MAX), the
 * marker, closing quotes and the newline, so nothing else needs a check. */
#define VALUE_LIMIT (LINE_MAX_BYTES - 96)
#define KEY_MAX 64
#define MARKER "\xe2\x80\xa6" /* U+2026 … */

static _Atomic int log_level = EDDY_LOG_INFO;
static _Atomic int log_fmt = EDDY_LOGFMT_LOGFMT;
static _Atomic int log_fd = 2;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void eddy_log_setup(eddy_log_level level, eddy_log_format fmt, int fd)
{
    int lv = (int)level;
    atomic_store(&log_level, lv < EDDY_LOG_ERROR ? EDDY_LOG_ERROR
                             : lv > EDDY_LOG_DEBUG ? EDDY_LOG_DEBUG
                                                   : lv);
    atomic_store(&log_fmt, fmt == EDDY_LOGFMT_JSON ? EDDY_LOGFMT_JSON : EDDY_LOGFMT_LOGFMT);
    atomic_store(&log_fd, fd >= 0 ? fd : 2);
}

eddy_log_level eddy_log_get_level(void) { return (eddy_log_level)atomic_load(&log_level); }

int eddy_log_level_parse(const char *s)
{
    for (int i = 0; s && i < 4; i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

int eddy_log_format_parse(const char *s)
{
    if (s && strcmp(s, "logfmt") == 0)
        return EDDY_LOGFMT_LOGFMT;
    if (s && strcmp(s, "json") == 0)
        return EDDY_LOGFMT_JSON;
    return -1;
}

typedef struct line {
    char b[LINE_MAX_BYTES];
    size_t len;
    bool json, cut;
} line;

/* Only for pieces the layout above guarantees room for. */
static void put(line *l, const char *s, size_t n)
{
    memcpy(l->b + l->len, s, n);
    l->len += n;
}

static void puts_(line *l, const char *s) { put(l, s, strlen(s)); }

/* Keys come from code, but a space or '=' in one would break logfmt, so
 * anything outside [A-Za-z0-9_.-] becomes '_' (both formats, so a key reads
 * the same in either). */
static void put_key(line *l, const char *k)
{
    size_t n = 0;
    for (; k[n] && n < KEY_MAX; n++) {
        char c = k[n];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-';
        l->b[l->len + n] = ok ? c : '_';
    }
    if (n == 0)
        l->b[l->len + n++] = '_';
    l->len += n;
}

static bool logfmt_needs_quotes(const char *v)
{
    if (!*v)
        return true;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == 0x7f)
            return true;
    return false;
}

/* Drop a UTF-8 sequence the cut left incomplete, so the marker follows a
 * whole character. */
static void trim_partial_utf8(line *l, size_t start)
{
    size_t i = l->len, back = 0;
    while (i > start && back < 4 && ((unsigned char)l->b[i - 1] & 0xC0) == 0x80) {
        i--;
        back++;
    }
    if (i == start)
        return;
    unsigned char lead = (unsigned char)l->b[i - 1];
    size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (want > 1 && back + 1 < want)
        l->len = i - 1;
}

/* The bytes for c: \" \\ \n \r \t, \u00XX for other control characters
 * (DEL too in logfmt), else c itself. An unquoted logfmt value holds no
 * quote or control character and is read literally, so its backslashes stay
 * as they are. */
static size_t escape(unsigned char c, bool quoted, bool json, char esc[6])
{
    static const char hex[] = "0123456789abcdef";
    esc[0] = '\\';
    switch (c) {
    case '"': esc[1] = '"'; return 2;
    case '\\':
        if (!quoted)
            return 1;
        esc[1] = '\\';
        return 2;
    case '\n': esc[1] = 'n'; return 2;
    case '\r': esc[1] = 'r'; return 2;
    case '\t': esc[1] = 't'; return 2;
    default:
        if (c < 0x20 || (c == 0x7f && !json)) {
            esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
            esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
            return 6;
        }
        esc[0] = (char)c;
        return 1;
    }
}

static void put_value(line *l, const char *v, bool quote)
{
    if (quote)
        put(l, "\"", 1);
    size_t start = l->len;
    if (l->len >= VALUE_LIMIT) {
        /* Only a key fitted: even an empty value must show the line was cut. */
        l->cut = true;
        puts_(l, MARKER);
        v = "";
    }
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        char esc[6];
        size_t n = escape(*p, quote, l->json, esc);
        if (l->len + n > VALUE_LIMIT) {
            l->cut = true;
            trim_partial_utf8(l, start);
            puts_(l, MARKER);
            break;
        }
        put(l, esc, n);
    }
    if (quote)
        put(l, "\"", 1);
}

static void put_field(line *l, const char *key, const char *value)
{
    if (l->json) {
        put(l, ",\"", 2);
        put_key(l, key);
        put(l, "\":", 2);
        put_value(l, value, true);
    } else {
        put(l, " ", 1);
        put_key(l, key);
        put(l, "=", 1);
        put_value(l, value, logfmt_needs_quotes(value));
    }
}

static void put_timestamp(line *l)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char tmp[40];
    size_t n = strftime(tmp, sizeof tmp, "%Y-%m-%dT%H:%M:%S", &tm);
    int ms = (int)(ts.tv_nsec / 1000000);
    tmp[n++] = '.';
    tmp[n++] = (char)('0' + ms / 100);
    tmp[n++] = (char)('0' + ms / 10 % 10);
    tmp[n++] = (char)('0' + ms % 10);
    tmp[n++] = 'Z';
    put(l, tmp, n);
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return; /* nowhere left to report a failing log sink */
        }
        p += w;
        n -= (size_t)w;
    }
}

void eddy_logv(eddy_log_level level, const char *const *kv, const char *fmt, va_list ap)
{
    int lv = (int)level;
    if (lv < EDDY_LOG_ERROR)
        lv = EDDY_LOG_ERROR;
    if (lv > atomic_load_explicit(&log_level, memory_order_relaxed))
        return;
    if (lv > EDDY_LOG_DEBUG)
        lv = EDDY_LOG_DEBUG;

    char msg[LINE_MAX_BYTES];
    /* A message longer than msg is cut by vsnprintf; it is still longer than
     * VALUE_LIMIT, so put_value adds the marker. */
    if (vsnprintf(msg, sizeof msg, fmt ? fmt : "", ap) < 0)
        msg[0] = '\0';

    line l;
    l.len = 0;
    l.cut = false;
    l.json = atomic_load_explicit(&log_fmt, memory_order_relaxed) == EDDY_LOGFMT_JSON;
    if (l.json) {
        puts_(&l, "{\"ts\":\"");
        put_timestamp(&l);
        puts_(&l, "\",\"level\":\"");
        puts_(&l, level_names[lv]);
        puts_(&l, "\"");
    } else {
        puts_(&l, "ts=");
        put_timestamp(&l);
        puts_(&l, " level=");
        puts_(&l, level_names[lv]);
    }
    if (l.json) {
        put_field(&l, "msg", msg);
    } else {
        /* msg is always quoted in logfmt so a grep for msg=" finds it. */
        puts_(&l, " msg=");
        put_value(&l, msg, true);
    }
    for (size_t i = 0; kv && kv[i] && kv[i + 1] && !l.cut; i += 2)
        put_field(&l, kv[i], kv[i + 1]);
    if (l.json)
        put(&l, "}", 1);
    put(&l, "\n", 1);
    write_all(atomic_load_explicit(&log_fd, memory_order_relaxed), l.b, l.len);
}

void eddy_log(eddy_log_level level, const char *const *kv, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    eddy_logv(level, kv, fmt, ap);
    va_end(ap);
}
