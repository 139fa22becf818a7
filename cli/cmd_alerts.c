/* `eddy alerts tail`: alert records (configs/schemas/alert.avsc), one
 * readable line each, read either from the Kafka topic a step's `alerts`
 * output writes to (through tail_util.c, like `eddy tail`) or from a running
 * worker's recent-alerts ring (GET /v1/alerts on its admin server). */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/http_get.h"
#include "engine/format/codec.h"
#include "engine/config/config.h"
#include "engine/core/sym.h"
#include "cli/tail_util.h"

#define PROG "eddy alerts"
#define DEFAULT_SCHEMA "configs/schemas/alert.avsc"
#define INSTALLED_SCHEMA EDDY_DATADIR "/schemas/alert.avsc" /* meson install puts it there */

static const char alerts_usage[] =
    "usage: eddy alerts tail TOPIC [-c FILE | --brokers HOST:PORT] [options]\n"
    "       eddy alerts tail --admin HOST:PORT [-f] [--json] [-n N] [--interval D]\n"
    "\n"
    "Prints drift and anomaly alerts, one line each:\n"
    "  TIME STATE SEVERITY PIPELINE/STEP FEATURE key=KEY STAT=VALUE OP THRESHOLD (p=P) MESSAGE\n"
    "e.g. 2026-01-01T10:00:00Z FIRING   critical  p/dd  amount  key=-  psi=6.4 > 0.2  (p=0)  ...\n"
    "TIME is the event time of the check, OP how VALUE compares with THRESHOLD (p-values\n"
    "breach below it, most statistics above); `-` stands for an empty feature or key. A record\n"
    "that is not an alert (cannot be decoded, or lacks a field of the alert schema) is\n"
    "printed as an ERROR line and skipped.\n"
    "\n"
    "From a Kafka topic (a step's `outputs: { alerts: ... }`), read as `eddy tail` does:\n"
    "without -f up to the end present at start-up, joining no consumer group.\n"
    "  -c, --config FILE      take kafka.brokers and kafka.properties (e.g. SASL) from FILE\n"
    "  --brokers HOST:PORT    brokers to read from (default localhost:9092; overrides -c)\n"
    "  --format F             json (default) or avro\n"
    "  --schema FILE          Avro schema of the alerts (default " DEFAULT_SCHEMA ", else\n"
    "                         the installed " INSTALLED_SCHEMA ");\n"
    "                         with --confluent also ID=FILE (repeatable)\n"
    "  --confluent            payloads use the Confluent wire format; with a plain --schema\n"
    "                         (or none) any schema id is read with the alert schema\n"
    "  -f, --follow           keep waiting for new alerts (start at the end)\n"
    "  --from-beginning       with -f, start at the first retained alert\n"
    "  --timeout DURATION     how long to wait for the brokers (or the admin server), and\n"
    "                         without -f for the next record, before giving up (default 10s)\n"
    "\n"
    "From a running worker (`eddy run --admin HOST:PORT`): its last 1024 alerts. Without -f\n"
    "prints what the worker holds and exits; with -f prints them, then new ones as they\n"
    "come. Alerts overwritten before they could be read are reported on stderr.\n"
    "  --admin HOST:PORT      the worker's admin server (or an http:// or https:// URL);\n"
    "                         its admin token, if it has one, is read from\n"
    "                         EDDY_ADMIN_TOKEN, and EDDY_ADMIN_CACERT names the CA file of\n"
    "                         an https:// server with its own certificate\n"
    "  --interval DURATION    with -f, time between two polls (default 1s)\n"
    "\n"
    "Both:\n"
    "  --json                 each alert as its JSON object (the schema's fields), one a line\n"
    "  -n, --count N          stop after N alerts (ERROR lines do not count)\n"
    "\n"
    "Exit codes: 0 done (or interrupted), 1 cannot connect, topic missing or no progress,\n"
    "2 usage, 3 invalid config.\n";

/* ---- one alert ---------------------------------------------------------- */

/* An alert is a decoded Kafka record or an object of the /v1/alerts answer. */
typedef struct alert_view {
    const eddy_record *r;
    const eddy_value *map;
} alert_view;

static const eddy_value *view_get(const alert_view *a, const char *name)
{
    size_t n = strlen(name);
    if (a->r) {
        eddy_sym s = eddy_sym_lookup(name, n);
        return s ? eddy_record_get(a->r, s) : NULL;
    }
    for (uint32_t i = 0; i < a->map->len; i++) {
        const eddy_kv *kv = &a->map->u.kvs[i];
        if (kv->key.type == EDDY_STRING && kv->key.len == n && memcmp(kv->key.u.s, name, n) == 0)
            return &kv->val;
    }
    return NULL;
}

enum { NEED_STR, NEED_INT, NEED_NUM };
static const struct {
    const char *name;
    int type;
} required[] = {
    {"alert_id", NEED_STR}, {"state", NEED_STR},     {"severity", NEED_STR},
    {"time", NEED_INT},     {"pipeline", NEED_STR},  {"step", NEED_STR},
    {"feature", NEED_STR},  {"key", NEED_STR},       {"statistic", NEED_STR},
    {"value", NEED_NUM},    {"threshold", NEED_NUM}, {"message", NEED_STR},
};

/* NULL when a is an alert, else why not (static or in why). */
static const char *not_alert(const alert_view *a, char *why, size_t n)
{
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        const eddy_value *v = view_get(a, required[i].name);
        int t = required[i].type;
        bool ok = v && (t == NEED_STR   ? v->type == EDDY_STRING
                        : t == NEED_INT ? v->type == EDDY_INT
                                        : v->type == EDDY_INT || v->type == EDDY_DOUBLE ||
                                          v->type == EDDY_NULL); /* JSON's inf */
        if (!ok) {
            snprintf(why, n, "not an alert record: %s field '%s'%s%s", v ? "bad" : "missing",
                     required[i].name, v ? ", expected " : "",
                     v ? (t == NEED_STR ? "a string" : t == NEED_INT ? "an integer" : "a number")
                       : "");
            return why;
        }
    }
    const eddy_value *st = view_get(a, "state");
    if (!(st->len == 6 && memcmp(st->u.s, "firing", 6) == 0) &&
        !(st->len == 8 && memcmp(st->u.s, "resolved", 8) == 0)) {
        snprintf(why, n, "not an alert record: state '%.*s', expected firing or resolved",
                 (int)(st->len > 40 ? 40 : st->len), st->u.s);
        return why;
    }
    return NULL;
}

static double num(const eddy_value *v)
{
    double d = NAN;
    if (v)
        eddy_value_number(v, &d);
    return d;
}

/* A string field, `-` when empty; control characters escaped so that an
 * alert stays one line. */
static int put_text(eddy_buf *out, const eddy_value *v)
{
    if (!v->len)
        return eddy_buf_putc(out, '-');
    int rc = 0;
    for (uint32_t i = 0; i < v->len; i++) {
        unsigned char c = (unsigned char)v->u.s[i];
        rc |= c < 0x20 || c == 0x7f ? eddy_buf_printf(out, "\\x%02x", c)
                                    : eddy_buf_putc(out, (char)c);
    }
    return rc;
}

/* Event time to the second, with milliseconds only when there are some. */
static int put_time(eddy_buf *out, int64_t ms)
{
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return eddy_buf_printf(out, "%" PRId64, ms);
    int rc = eddy_buf_printf(out, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    int frac = (int)(ms - (int64_t)t * 1000);
    if (frac)
        rc |= eddy_buf_printf(out, ".%03d", frac);
    return rc | eddy_buf_putc(out, 'Z');
}

/* The relation that holds, not the detector's rule: p-values breach below
 * their threshold, most statistics above, a share at it. */
static const char *relation(double v, double thr)
{
    return isnan(v) || isnan(thr) ? "vs" : v < thr ? "<" : v > thr ? ">" : "=";
}

static int format_alert(const alert_view *a, eddy_buf *out)
{
    const eddy_value *st = view_get(a, "state"), *stat = view_get(a, "statistic");
    int firing = st->len == 6;
    double v = num(view_get(a, "value")), thr = num(view_get(a, "threshold"));
    int rc = put_time(out, view_get(a, "time")->u.i);
    rc |= eddy_buf_printf(out, " %-8s ", firing ? "FIRING" : "RESOLVED");
    const eddy_value *sev = view_get(a, "severity");
    rc |= put_text(out, sev);
    rc |= eddy_buf_printf(out, "%*s", sev->len < 8 ? (int)(10 - sev->len) : 2, "");
    rc |= put_text(out, view_get(a, "pipeline"));
    rc |= eddy_buf_putc(out, '/');
    rc |= put_text(out, view_get(a, "step"));
    rc |= eddy_buf_puts(out, "  ");
    rc |= put_text(out, view_get(a, "feature"));
    rc |= eddy_buf_puts(out, "  key=");
    rc |= put_text(out, view_get(a, "key"));
    rc |= eddy_buf_puts(out, "  ");
    rc |= put_text(out, stat);
    rc |= eddy_buf_printf(out, "=%.4g %s %g", v, relation(v, thr), thr);
    const eddy_value *p = view_get(a, "p_value");
    if (p && (p->type == EDDY_DOUBLE || p->type == EDDY_INT))
        rc |= eddy_buf_printf(out, "  (p=%.3g)", num(p));
    rc |= eddy_buf_puts(out, "  ");
    rc |= put_text(out, view_get(a, "message"));
    return rc | eddy_buf_putc(out, '\n');
}

/* One alert to out: its line, or (--json) its object. A non-alert gives
 * an ERROR line, on stderr with --json so that stdout stays alerts only.
 * TAIL_PRINTED, TAIL_SKIPPED or <0 (out of memory). */
static int emit_alert(const alert_view *a, int json, const char *where, eddy_buf *out)
{
    char why[200];
    const char *bad = not_alert(a, why, sizeof why);
    if (bad) {
        if (json) {
            fprintf(stderr, "ERROR %s: %s\n", where, bad);
            return TAIL_SKIPPED;
        }
        return eddy_buf_printf(out, "ERROR %s: %s\n", where, bad) ? -1 : TAIL_SKIPPED;
    }
    if (!json)
        return format_alert(a, out) ? -1 : TAIL_PRINTED;
    int rc = a->r ? eddy_record_to_json(a->r, out) : eddy_value_to_json(a->map, out);
    return rc || eddy_buf_putc(out, '\n') ? -1 : TAIL_PRINTED;
}

/* ---- from Kafka ----------------------------------------------------------- */

static int kafka_format(void *arg, const tail_opts *o, const rd_kafka_message_t *m, int64_t ts,
                        const eddy_record *r, eddy_buf *line)
{
    (void)arg;
    (void)ts;
    char where[128];
    snprintf(where, sizeof where, "%s [%d] offset %lld", o->topic, (int)m->partition,
             (long long)m->offset);
    const char *why = !r                            ? "no value (tombstone)"
                      : r->flags & EDDY_REC_ERROR ? r->err_reason ? r->err_reason : "cannot decode"
                                                   : NULL;
    if (why) {
        if (o->json) {
            fprintf(stderr, "ERROR %s: %s\n", where, why);
            return TAIL_SKIPPED;
        }
        return eddy_buf_printf(line, "ERROR %s: %s\n", where, why) ? -1 : TAIL_SKIPPED;
    }
    alert_view a = {.r = r};
    return emit_alert(&a, o->json, where, line);
}

static int kafka_tail(tail_opts *o)
{
    int fmt = eddy_format_parse(o->format);
    if (fmt != EDDY_FMT_JSON && fmt != EDDY_FMT_AVRO) {
        fprintf(stderr, PROG ": --format %s: expected json or avro\n", o->format);
        return EXIT_USAGE;
    }
    if (fmt == EDDY_FMT_AVRO) {
        if (!o->nschemas) {
            /* From a source tree, its schema; anywhere else the installed one. */
            const char *def = access(DEFAULT_SCHEMA, R_OK) == 0     ? DEFAULT_SCHEMA
                              : access(INSTALLED_SCHEMA, R_OK) == 0 ? INSTALLED_SCHEMA
                                                                    : NULL;
            if (!def) {
                fprintf(stderr,
                        PROG ": --format avro: no --schema given, and neither %s nor %s is "
                             "readable; give --schema FILE (the alert schema of the eddy "
                             "sources)\n",
                        DEFAULT_SCHEMA, INSTALLED_SCHEMA);
                return EXIT_USAGE;
            }
            o->schemas[o->nschemas++] = def;
        }
        /* One record type: a Confluent id needs no mapping unless given. */
        o->confluent_any = o->confluent && o->nschemas == 1 && !strchr(o->schemas[0], '=');
    }
    tail_stats st = {0};
    int code = tail_run(o, kafka_format, NULL, &st);
    if (st.ran)
        fprintf(stderr, "%lld alert%s (%lld record%s skipped) from %d partition%s of %s\n",
                st.printed, st.printed == 1 ? "" : "s", st.errors, st.errors == 1 ? "" : "s",
                st.nparts, st.nparts == 1 ? "" : "s", o->topic);
    return code;
}

#if EDDY_HAVE_LIBCURL
/* ---- from a worker's admin server --------------------------------------- */

typedef struct admin_tail {
    const tail_opts *o;
    const char *base; /* http://host:port */
    int interval_ms;
    CURL *curl;
    eddy_buf body, url, line;
    eddy_codec *json;
    eddy_batch *batch;
    uint64_t after, dropped;
    long long printed, skipped;
} admin_tail;

/* GET /v1/alerts after `after`: 0, or -1 with the reason printed (when
 * `quiet` is false). */
static int fetch(admin_tail *t, int quiet)
{
    eddy_buf_reset(&t->body);
    eddy_buf_reset(&t->url);
    long long left = t->o->count ? t->o->count - t->printed : 1000;
    if (eddy_buf_printf(&t->url, "%s/v1/alerts?after=%" PRIu64 "&limit=%lld%c", t->base,
                        t->after, left < 1 ? 1 : left < 1000 ? left : 1000, '\0') != 0)
        return -1;
    char err[CURL_ERROR_SIZE];
    long status = 0;
    if (cli_http_get(t->curl, (const char *)t->url.data, &t->body, &status, err, sizeof err) != 0) {
        if (!quiet)
            fprintf(stderr, PROG ": cannot reach the admin server at %s: %s\n", t->base, err);
        return -1;
    }
    if (status != 200) {
        if (!quiet) {
            int n = t->body.len > 300 ? 300 : (int)t->body.len;
            fprintf(stderr, PROG ": GET %s answered HTTP %ld%s%.*s%s\n", (const char *)t->url.data,
                    status, n ? ": " : "", n, n ? (const char *)t->body.data : "",
                    status == 404 ? " (is this an eddy worker's admin server, version with "
                                    "/v1/alerts?)"
                                  : cli_http_hint(status));
        }
        return -1;
    }
    return 0;
}

static const eddy_value *field(const eddy_record *r, const char *name, int type)
{
    eddy_sym s = eddy_sym_lookup(name, strlen(name));
    const eddy_value *v = s ? eddy_record_get(r, s) : NULL;
    return v && v->type == type ? v : NULL;
}

/* Prints the alerts of one answer. 0 go on, 1 count reached, -1 failed. */
static int print_page(admin_tail *t, uint32_t *nalerts)
{
    eddy_batch_reset(t->batch);
    eddy_record *r = eddy_batch_append(t->batch);
    if (!r) {
        fprintf(stderr, PROG ": out of memory\n");
        return -1;
    }
    eddy_codec_decode(t->json, t->batch, r, t->body.data, t->body.len);
    const eddy_value *next = NULL, *dropped = NULL, *alerts = NULL;
    if (!(r->flags & EDDY_REC_ERROR)) {
        next = field(r, "next", EDDY_INT);
        dropped = field(r, "dropped", EDDY_INT);
        alerts = field(r, "alerts", EDDY_ARRAY);
    }
    if (!next || !dropped || !alerts || next->u.i < 0) {
        int n = t->body.len > 200 ? 200 : (int)t->body.len;
        fprintf(stderr, PROG ": %s/v1/alerts: unexpected answer (%s): %.*s\n", t->base,
                r->flags & EDDY_REC_ERROR ? r->err_reason : "expected next, dropped and alerts",
                n ? n : 7, n ? (const char *)t->body.data : "(empty)");
        return -1;
    }
    if ((uint64_t)next->u.i < t->after) {
        /* Sequence numbers went back: a new worker process answers. */
        fprintf(stderr, PROG ": the worker at %s restarted; reading its alerts from the start\n",
                t->base);
        t->after = 0;
        *nalerts = 1; /* ask again at once */
        return 0;
    }
    if (dropped->u.i > 0) {
        fprintf(stderr,
                PROG ": %lld alert%s after #%" PRIu64 " were overwritten in the worker's ring "
                     "before they could be read\n",
                (long long)dropped->u.i, dropped->u.i == 1 ? "" : "s", t->after);
        t->dropped += (uint64_t)dropped->u.i;
    }
    *nalerts = alerts->len;
    for (uint32_t i = 0; i < alerts->len; i++) {
        const eddy_value *item = &alerts->u.items[i];
        alert_view wrap = {.map = item};
        const eddy_value *seq = item->type == EDDY_MAP ? view_get(&wrap, "seq") : NULL;
        const eddy_value *a = item->type == EDDY_MAP ? view_get(&wrap, "alert") : NULL;
        char where[64];
        snprintf(where, sizeof where, "alert #%lld",
                 seq && seq->type == EDDY_INT ? (long long)seq->u.i : -1LL);
        eddy_buf_reset(&t->line);
        int rc;
        if (!a || a->type != EDDY_MAP) {
            const char *why = "not an alert record: expected {\"seq\":N,\"alert\":{...}}";
            if (t->o->json)
                fprintf(stderr, "ERROR %s: %s\n", where, why);
            rc = t->o->json || eddy_buf_printf(&t->line, "ERROR %s: %s\n", where, why) == 0
                     ? TAIL_SKIPPED
                     : -1;
        } else {
            alert_view v = {.map = a};
            rc = emit_alert(&v, t->o->json, where, &t->line);
        }
        if (rc < 0) {
            fprintf(stderr, PROG ": out of memory\n");
            return -1;
        }
        fwrite(t->line.data, 1, t->line.len, stdout);
        t->printed += rc == TAIL_PRINTED;
        t->skipped += rc == TAIL_SKIPPED;
        if (t->o->count && t->printed >= t->o->count)
            return 1;
    }
    t->after = (uint64_t)next->u.i;
    return 0;
}

static void pause_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL); /* a signal ends it early: the loop then stops */
}

static int admin_loop(admin_tail *t)
{
    int lost = 0;
    for (int first = 1; !tail_interrupted; first = 0) {
        if (fetch(t, lost) != 0) {
            if (first || !t->o->follow)
                return EXIT_RUNTIME;
            if (!lost)
                fprintf(stderr, PROG ": retrying every %d ms\n", t->interval_ms);
            lost = 1;
            pause_ms(t->interval_ms);
            continue;
        }
        if (lost)
            fprintf(stderr, PROG ": the admin server at %s answers again\n", t->base);
        lost = 0;
        uint32_t n = 0;
        int rc = print_page(t, &n);
        fflush(stdout);
        if (rc < 0)
            return EXIT_RUNTIME;
        if (rc > 0)
            break;
        if (n > 0)
            continue; /* maybe more behind this page */
        if (!t->o->follow)
            break;
        pause_ms(t->interval_ms);
    }
    return EXIT_OK;
}

static int admin_tail_run(const tail_opts *o, const char *admin, int interval_ms)
{
    admin_tail t = {.o = o, .interval_ms = interval_ms};
    char base[512];
    size_t n = strlen(admin);
    while (n && admin[n - 1] == '/')
        n--;
    bool url = strncmp(admin, "http://", 7) == 0 || strncmp(admin, "https://", 8) == 0;
    if (n == 0 || n >= 256 || (!url && !strchr(admin, ':'))) {
        fprintf(stderr, PROG ": --admin %s: expected HOST:PORT (e.g. 127.0.0.1:9464) or an "
                             "http:// URL\n", admin);
        return EXIT_USAGE;
    }
    snprintf(base, sizeof base, "%s%.*s", url ? "" : "http://", (int)n, admin);
    t.base = base;
    char err[256];
    int code = EXIT_RUNTIME;
    if (!(t.curl = cli_http_new((long)o->timeout_ms, "eddy-alerts/" EDDY_VERSION))) {
        fprintf(stderr, PROG ": cannot initialise libcurl\n");
        return EXIT_RUNTIME;
    }
    eddy_codec_conf cc = {.format = EDDY_FMT_JSON};
    if (eddy_codec_new(&cc, &t.json, err, sizeof err) != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        goto out;
    }
    if (!(t.batch = eddy_batch_new(1, (size_t)256 << 20))) {
        fprintf(stderr, PROG ": out of memory\n");
        goto out;
    }
    tail_catch_signals();
    code = admin_loop(&t);
    fprintf(stderr, "%lld alert%s (%lld skipped, %" PRIu64 " overwritten unread) from %s\n",
            t.printed, t.printed == 1 ? "" : "s", t.skipped, t.dropped, base);
out:
    curl_easy_cleanup(t.curl);
    curl_global_cleanup();
    eddy_codec_destroy(t.json);
    if (t.batch)
        eddy_batch_destroy(t.batch);
    eddy_buf_free(&t.body);
    eddy_buf_free(&t.url);
    eddy_buf_free(&t.line);
    return code;
}

#else
static int admin_tail_run(const tail_opts *o, const char *admin, int interval_ms)
{
    fprintf(stderr, PROG ": --admin %s: %s\n", admin, cli_no_http());
    return EXIT_USAGE;
}
#endif

/* ---- command line ----------------------------------------------------------- */

static int alerts_tail(int argc, char **argv)
{
    tail_opts o = {.prog = PROG, .format = "json", .timeout_ms = 10000};
    const char *timeout = NULL, *interval = NULL, *admin = NULL;
    int interval_ms = 1000;
    static const struct option longopts[] = {
        {"config", required_argument, 0, 'c'},   {"brokers", required_argument, 0, 'b'},
        {"format", required_argument, 0, 'F'},   {"schema", required_argument, 0, 's'},
        {"confluent", no_argument, 0, 'C'},      {"json", no_argument, 0, 'j'},
        {"from-beginning", no_argument, 0, 'B'}, {"follow", no_argument, 0, 'f'},
        {"count", required_argument, 0, 'n'},    {"timeout", required_argument, 0, 't'},
        {"admin", required_argument, 0, 'a'},    {"interval", required_argument, 0, 'i'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0},
    };
    int c, kafka_only = 0;
    int64_t v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:fn:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': o.config = optarg; kafka_only = 1; break;
        case 'b': o.brokers = optarg; kafka_only = 1; break;
        case 'F': o.format = optarg; kafka_only = 1; break;
        case 's':
            if (o.nschemas == TAIL_MAX_SCHEMAS) {
                fprintf(stderr, PROG ": at most %d --schema\n", TAIL_MAX_SCHEMAS);
                return EXIT_USAGE;
            }
            o.schemas[o.nschemas++] = optarg;
            kafka_only = 1;
            break;
        case 'C': o.confluent = 1; kafka_only = 1; break;
        case 'j': o.json = 1; break;
        case 'B': o.from_beginning = 1; kafka_only = 1; break;
        case 'f': o.follow = 1; break;
        case 'n':
            if (eddy_parse_int(optarg, &v) != 0 || v < 1) {
                fprintf(stderr, PROG ": --count %s: expected a number >= 1\n", optarg);
                return EXIT_USAGE;
            }
            o.count = v;
            break;
        case 't': timeout = optarg; break;
        case 'a': admin = optarg; break;
        case 'i': interval = optarg; break;
        case 'h': fputs(alerts_usage, stdout); return EXIT_OK;
        default: fputs(alerts_usage, stderr); return EXIT_USAGE;
        }
    }
    if (timeout && tail_parse_duration_opt(PROG, "--timeout", timeout, &o.timeout_ms) != 0)
        return EXIT_USAGE;
    if (interval && tail_parse_duration_opt(PROG, "--interval", interval, &interval_ms) != 0)
        return EXIT_USAGE;
    if (admin) {
        if (optind != argc || kafka_only) {
            fprintf(stderr, PROG ": --admin reads a worker's alerts, not a topic: %s\n",
                    optind != argc ? "drop the TOPIC"
                                   : "-c, --brokers, --format, --schema, --confluent and "
                                     "--from-beginning are for a topic");
            return EXIT_USAGE;
        }
        return admin_tail_run(&o, admin, interval_ms);
    }
    if (interval) {
        fprintf(stderr, PROG ": --interval is for --admin\n");
        return EXIT_USAGE;
    }
    if (optind != argc - 1) {
        fprintf(stderr, PROG ": give a TOPIC or --admin HOST:PORT\n\n");
        fputs(alerts_usage, stderr);
        return EXIT_USAGE;
    }
    o.topic = argv[optind];
    return kafka_tail(&o);
}

int cmd_alerts(int argc, char **argv)
{
    if (argc >= 2 && cli_is_help(argv[1])) {
        fputs(alerts_usage, stdout);
        return EXIT_OK;
    }
    if (argc < 2 || strcmp(argv[1], "tail") != 0) {
        if (argc >= 2)
            fprintf(stderr, PROG ": unknown subcommand '%s'\n\n", argv[1]);
        fputs(alerts_usage, stderr);
        return EXIT_USAGE;
    }
    return alerts_tail(argc - 1, argv + 1);
}
