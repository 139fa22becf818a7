/* `type: console` sink: records for a human. `lines` prints one readable
 * line per record, `json` one JSON object per line, `summary` a short block
 * every interval (what the quick start shows): how many records, the rate,
 * how many distinct keys, and the latest record of up to three keys. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "connectors/deadletter.h"
#include "engine/connector.h"
#include "engine/format/codec.h"
#include "engine/core/error.h"
#include "engine/config/options.h"
#include "engine/core/sym.h"

#define SAMPLES 3
#define KEYSET_MAX (1u << 20) /* distinct keys counted per interval, at most */

static const eddy_option console_options[] = {
    {"format", EDDY_OPT_ENUM, "lines", EDDY_NO_RANGE, "lines|json|summary", 0,
     "lines: one readable line per record (time, key, name=value ...; doubles rounded to 6 "
     "significant digits). json: one JSON "
     "object per record (dead letters as their envelope). summary: every `interval`, the "
     "record count, rate, distinct keys and the latest record of up to 3 keys."},
    {"interval", EDDY_OPT_DURATION, "1s", 10, 86400000, NULL, 0,
     "How often format summary prints a block (wall clock)."},
    {"stream", EDDY_OPT_ENUM, "stdout", EDDY_NO_RANGE, "stdout|stderr", 0,
     "Where to print."},
    {"label", EDDY_OPT_STRING, NULL, EDDY_NO_RANGE, NULL, 0,
     "format lines: a word in brackets before each line saying which output it is. Default: "
     "the pipeline's name, so several console outputs can be told apart; \"\" for none."},
    {NULL, 0, NULL, 0, 0, NULL, 0, NULL},
};

typedef enum { CON_LINES, CON_JSON, CON_SUMMARY } con_mode;

typedef struct sample {
    uint64_t key;   /* hash of the record key */
    eddy_buf text;  /* "<key>\t<rest of the line>" */
} sample;

typedef struct console {
    int fd;
    char label[96]; /* "[pipeline] " before each line (lines), or "" */
    con_mode mode;
    int64_t interval_ms;
    eddy_buf out;
    /* summary */
    double t_start;
    uint64_t count, errors;
    uint64_t *keys; /* open addressing, 0 = empty */
    size_t keycap, nkeys;
    sample samples[SAMPLES];
    int nsamples;
    eddy_buf last_error;
} console;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int put_time(eddy_buf *out, int64_t ms)
{
    if (ms == EDDY_TS_NONE)
        return eddy_buf_putc(out, '-');
    int64_t sec = ms / 1000, rem = ms % 1000;
    if (rem < 0) {
        rem += 1000;
        sec--;
    }
    time_t t = (time_t)sec;
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return eddy_buf_printf(out, "%lld", (long long)ms);
    return eddy_buf_printf(out, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)rem);
}

static int put_key(eddy_buf *out, const eddy_value *k)
{
    if (k->type == EDDY_STRING)
        return eddy_buf_put(out, k->u.s, k->len);
    if (k->type == EDDY_NULL)
        return eddy_buf_putc(out, '-');
    return eddy_value_to_json(k, out);
}

/* window_start, window_end, current_start...: times, not counts. */
static bool is_time_name(const char *n)
{
    size_t l = strlen(n);
    return (l > 6 && strcmp(n + l - 6, "_start") == 0) || (l > 4 && strcmp(n + l - 4, "_end") == 0);
}

static bool is_key_field(const eddy_record *r, const eddy_value *v)
{
    return r->key.type != EDDY_NULL && eddy_value_equal(v, &r->key);
}

/* `name=value ...`, leaving out what the line already shows: the "ts"
 * field equal to the record time and the field holding the key. */
static int put_fields(eddy_buf *out, const eddy_record *r)
{
    static eddy_sym ts_sym;
    if (!ts_sym)
        ts_sym = eddy_sym_intern("ts", 2);
    bool key_shown = false, first = true;
    int rc = 0;
    for (uint32_t i = 0; i < r->nfields; i++) {
        const eddy_field *f = &r->fields[i];
        if (f->name == ts_sym && f->v.type == EDDY_INT && f->v.u.i == r->ts)
            continue;
        if (!key_shown && is_key_field(r, &f->v)) {
            key_shown = true;
            continue;
        }
        if (!first)
            rc |= eddy_buf_putc(out, ' ');
        first = false;
        rc |= eddy_buf_puts(out, eddy_sym_name(f->name));
        rc |= eddy_buf_putc(out, '=');
        /* For reading, not for round trips: 6 significant digits, and a
         * window's bounds (epoch ms in *_start / *_end) as times. */
        if (f->v.type == EDDY_INT && is_time_name(eddy_sym_name(f->name)) &&
            f->v.u.i >= 946684800000LL && f->v.u.i < 4102444800000LL)
            rc |= put_time(out, f->v.u.i);
        else if (f->v.type == EDDY_DOUBLE && isfinite(f->v.u.d))
            rc |= eddy_buf_printf(out, "%.6g", f->v.u.d);
        else
            rc |= eddy_value_to_json(&f->v, out);
    }
    return rc ? -1 : 0;
}

static int put_error(eddy_buf *out, const eddy_record *r)
{
    int rc = put_time(out, r->ts);
    rc |= eddy_buf_printf(out, " ERROR %s: %s (%s[%d]@%lld)", r->err_step ? r->err_step : "-",
                          r->err_reason ? r->err_reason : "unknown error",
                          r->topic ? r->topic : "?", (int)r->partition, (long long)r->offset);
    return rc ? -1 : 0;
}

static int put_line(eddy_buf *out, const char *label, const eddy_record *r)
{
    if (*label && eddy_buf_puts(out, label) != 0)
        return -1;
    if (r->flags & EDDY_REC_ERROR)
        return put_error(out, r);
    int rc = put_time(out, r->ts);
    rc |= eddy_buf_putc(out, ' ');
    /* Without a key (an unkeyed window's row) the partition says which
     * stream the line is about. */
    if (r->key.type == EDDY_NULL && r->partition >= 0)
        rc |= eddy_buf_printf(out, "partition=%d", (int)r->partition);
    else
        rc |= put_key(out, &r->key);
    size_t before = out->len;
    rc |= eddy_buf_putc(out, ' ');
    rc |= put_fields(out, r);
    if (out->len == before + 1)
        out->len = before; /* no fields: no trailing blank */
    return rc ? -1 : 0;
}

static int flush_out(console *c, char *err, size_t errlen)
{
    size_t off = 0;
    while (off < c->out.len) {
        ssize_t w = write(c->fd, c->out.data + off, c->out.len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (err)
                snprintf(err, errlen, "console (%s): write failed: %s",
                         c->fd == 2 ? "stderr" : "stdout", strerror(errno));
            c->out.len = 0;
            return EDDY_EIO;
        }
        off += (size_t)w;
    }
    c->out.len = 0;
    return 0;
}

/* ---- summary ---------------------------------------------------------- */

static uint64_t key_hash(const eddy_value *k)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ k->type;
    const uint8_t *p = NULL;
    size_t n = 0;
    if (k->type == EDDY_STRING || k->type == EDDY_BYTES) {
        p = (const uint8_t *)k->u.s;
        n = k->len;
    } else if (k->type == EDDY_INT || k->type == EDDY_DOUBLE || k->type == EDDY_BOOL) {
        p = (const uint8_t *)&k->u;
        n = sizeof k->u.i;
    }
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    h ^= h >> 29;
    return h ? h : 1;
}

static void keyset_add(console *c, uint64_t h)
{
    if (c->nkeys * 2 >= c->keycap) {
        if (c->keycap >= 2 * KEYSET_MAX)
            return; /* counted as "at least" */
        size_t cap = c->keycap ? c->keycap * 2 : 1024;
        uint64_t *t = calloc(cap, sizeof *t);
        if (!t)
            return;
        for (size_t i = 0; i < c->keycap; i++) {
            if (!c->keys[i])
                continue;
            size_t j = c->keys[i] & (cap - 1);
            while (t[j])
                j = (j + 1) & (cap - 1);
            t[j] = c->keys[i];
        }
        free(c->keys);
        c->keys = t;
        c->keycap = cap;
    }
    size_t j = h & (c->keycap - 1);
    while (c->keys[j]) {
        if (c->keys[j] == h)
            return;
        j = (j + 1) & (c->keycap - 1);
    }
    c->keys[j] = h;
    c->nkeys++;
}

/* Moves the sample of key h (or a recycled slot) to the front. */
static sample *sample_front(console *c, uint64_t h)
{
    int i = 0;
    while (i < c->nsamples && c->samples[i].key != h)
        i++;
    if (i == c->nsamples) {
        if (c->nsamples < SAMPLES)
            c->nsamples++;
        i = c->nsamples - 1; /* the oldest is replaced */
    }
    sample s = c->samples[i];
    memmove(&c->samples[1], &c->samples[0], sizeof s * (size_t)i);
    c->samples[0] = s;
    c->samples[0].key = h;
    return &c->samples[0];
}

static void summary_add(console *c, const eddy_batch *b)
{
    /* The latest record of up to 3 keys: walk back from the end, then put
     * the picks at the front oldest first, so the newest ends up on top. */
    uint32_t picks[SAMPLES];
    uint64_t hashes[SAMPLES];
    int np = 0;
    bool error_kept = false;
    for (uint32_t i = b->n; i-- > 0;) {
        const eddy_record *r = &b->recs[i];
        if (r->flags & EDDY_REC_DROPPED)
            continue;
        if (r->flags & EDDY_REC_ERROR) {
            c->errors++;
            if (!error_kept) { /* walking backwards: the first is the latest */
                eddy_buf_reset(&c->last_error);
                put_error(&c->last_error, r);
                error_kept = true;
            }
            continue;
        }
        c->count++;
        uint64_t h = key_hash(&r->key);
        if (r->key.type != EDDY_NULL) /* keyless records are not "a key" */
            keyset_add(c, h);
        if (np == SAMPLES)
            continue;
        int k = 0;
        while (k < np && hashes[k] != h)
            k++;
        if (k == np) {
            picks[np] = i;
            hashes[np++] = h;
        }
    }
    for (int k = np; k-- > 0;) {
        const eddy_record *r = &b->recs[picks[k]];
        sample *s = sample_front(c, hashes[k]);
        eddy_buf_reset(&s->text);
        put_key(&s->text, &r->key);
        eddy_buf_putc(&s->text, '\t');
        put_time(&s->text, r->ts);
        eddy_buf_puts(&s->text, "  ");
        put_fields(&s->text, r);
    }
}

static void put_count(eddy_buf *out, uint64_t n)
{
    char d[32];
    int len = snprintf(d, sizeof d, "%llu", (unsigned long long)n);
    for (int i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0)
            eddy_buf_putc(out, ',');
        eddy_buf_putc(out, d[i]);
    }
}

static void summary_block(console *c, double now)
{
    double secs = now - c->t_start;
    time_t wall = time(NULL);
    struct tm tm;
    localtime_r(&wall, &tm);
    eddy_buf *o = &c->out;
    eddy_buf_printf(o, "[%02d:%02d:%02d] ", tm.tm_hour, tm.tm_min, tm.tm_sec);
    put_count(o, c->count);
    eddy_buf_printf(o, " record%s in %.1fs  ", c->count == 1 ? "" : "s", secs);
    put_count(o, secs > 0 ? (uint64_t)((double)c->count / secs + 0.5) : c->count);
    eddy_buf_puts(o, "/s  ");
    if (c->keycap >= 2 * KEYSET_MAX && c->nkeys * 2 >= c->keycap)
        eddy_buf_puts(o, ">=");
    put_count(o, c->nkeys);
    eddy_buf_printf(o, " key%s", c->nkeys == 1 ? "" : "s");
    if (c->errors) {
        eddy_buf_puts(o, "  ");
        put_count(o, c->errors);
        eddy_buf_printf(o, " error%s", c->errors == 1 ? "" : "s");
    }
    eddy_buf_putc(o, '\n');
    size_t width = 0;
    for (int i = 0; i < c->nsamples; i++) {
        const char *t = (const char *)c->samples[i].text.data;
        size_t k = (size_t)((const char *)memchr(t, '\t', c->samples[i].text.len) - t);
        if (k > width)
            width = k;
    }
    for (int i = 0; i < c->nsamples; i++) {
        const eddy_buf *t = &c->samples[i].text;
        size_t k = (size_t)((const char *)memchr(t->data, '\t', t->len) - (const char *)t->data);
        eddy_buf_puts(o, "  ");
        eddy_buf_put(o, t->data, k);
        for (size_t pad = k; pad < width + 2; pad++)
            eddy_buf_putc(o, ' ');
        eddy_buf_put(o, t->data + k + 1, t->len - k - 1);
        eddy_buf_putc(o, '\n');
    }
    if (c->errors) {
        eddy_buf_puts(o, "  last error: ");
        eddy_buf_put(o, c->last_error.data, c->last_error.len);
        eddy_buf_putc(o, '\n');
    }
    /* The samples stay: with a quiet interval the block still shows the
     * latest known record per key. */
    c->t_start = now;
    c->count = c->errors = 0;
    c->nkeys = 0;
    if (c->keys)
        memset(c->keys, 0, c->keycap * sizeof *c->keys);
}

static int summary_tick(console *c, bool force, char *err, size_t errlen)
{
    double now = mono_s();
    if ((now - c->t_start) * 1000.0 >= (double)c->interval_ms || (force && (c->count || c->errors)))
        summary_block(c, now);
    return flush_out(c, err, errlen);
}

/* ---- sink ops ----------------------------------------------------------- */

static int con_open(const eddy_opts *o, const char *name, const eddy_connector_env *env, void **self, char *err, size_t errlen)
{
    console *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "console: out of memory");
        return EDDY_ENOMEM;
    }
    /* The runtime names a sink "<pipeline>.<sink>": the pipeline says which
     * output a line comes from when several print (the quick start). */
    const char *label = eddy_opts_str(o, "label");
    const char *dot = name ? strchr(name, '.') : NULL;
    if (label)
        snprintf(c->label, sizeof c->label, *label ? "[%.80s] " : "", label);
    else if (dot && dot > name)
        snprintf(c->label, sizeof c->label, "[%.*s] ", (int)(dot - name > 80 ? 80 : dot - name),
                 name);
    const char *fmt = eddy_opts_str(o, "format"), *stream = eddy_opts_str(o, "stream");
    c->mode = !fmt || strcmp(fmt, "lines") == 0 ? CON_LINES
              : strcmp(fmt, "json") == 0        ? CON_JSON
              : strcmp(fmt, "summary") == 0     ? CON_SUMMARY
                                                : (con_mode)-1;
    if ((int)c->mode < 0 || (stream && strcmp(stream, "stdout") != 0 && strcmp(stream, "stderr") != 0)) {
        snprintf(err, errlen, "console: format must be lines, json or summary and stream stdout "
                 "or stderr (found %s, %s)", fmt ? fmt : "-", stream ? stream : "-");
        free(c);
        return EDDY_ECONFIG;
    }
    c->fd = stream && strcmp(stream, "stderr") == 0 ? 2 : 1;
    c->interval_ms = eddy_opts_int(o, "interval");
    if (c->interval_ms <= 0)
        c->interval_ms = 1000;
    c->t_start = mono_s();
    *self = c;
    return 0;
}

static int con_write(void *self, const eddy_batch *b, char *err, size_t errlen)
{
    console *c = self;
    if (c->mode == CON_SUMMARY) {
        summary_add(c, b);
        return summary_tick(c, false, err, errlen);
    }
    for (uint32_t i = 0; i < b->n; i++) {
        const eddy_record *r = &b->recs[i];
        if (r->flags & EDDY_REC_DROPPED)
            continue;
        int rc;
        if (c->mode == CON_LINES)
            rc = put_line(&c->out, c->label, r);
        else if (r->flags & EDDY_REC_ERROR)
            rc = eddy_deadletter_json(r, &c->out);
        else
            rc = eddy_record_to_json(r, &c->out);
        if (rc != 0 || eddy_buf_putc(&c->out, '\n') != 0) {
            snprintf(err, errlen, "console: out of memory formatting a record");
            c->out.len = 0;
            return EDDY_ENOMEM;
        }
    }
    return flush_out(c, err, errlen);
}

static int con_flush(void *self)
{
    console *c = self;
    return c->mode == CON_SUMMARY ? summary_tick(c, false, NULL, 0) : flush_out(c, NULL, 0);
}

static void con_close(void *self)
{
    console *c = self;
    if (!c)
        return;
    if (c->mode == CON_SUMMARY)
        summary_tick(c, true, NULL, 0);
    else
        flush_out(c, NULL, 0);
    for (int i = 0; i < SAMPLES; i++)
        eddy_buf_free(&c->samples[i].text);
    eddy_buf_free(&c->last_error);
    eddy_buf_free(&c->out);
    free(c->keys);
    free(c);
}

const eddy_sink_ops eddy_console_sink = {
    .type = "console",
    .summary = "Prints records for a human: readable lines, JSON lines or a live summary",
    .options = console_options,
    .open = con_open,
    .write = con_write,
    .flush = con_flush,
    .close = con_close,
};
