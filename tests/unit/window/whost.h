/* A small host for driving the window operator in tests: it implements the
 * eddy_host table over engine/batch.h, keeps every result and late record
 * (copied into long-lived batches), lets the test set the wall clock, and
 * reads options from a plain table instead of YAML. */
#ifndef EDDY_TEST_WHOST_H
#define EDDY_TEST_WHOST_H
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "operators/window/window.h"
#include "sym.h"
#include "test.h"

struct eddy_metric {
    char name[80];
    double v;
};

struct eddy_ctx {
    struct eddy_metric m[32];
    uint32_t nm;
    eddy_batch *res;  /* every result record */
    eddy_batch *late; /* every late record */
    uint32_t nrej;
    char rej_reason[256];
    int64_t timer_at; /* wall-clock timer, INT64_MAX when none */
    uint32_t emits, sides;
    char last_log[512];
};

static int64_t g_now;

/* ---- options ------------------------------------------------------------- */

typedef struct topt {
    const char *name, *str;
    const char *const *keys, *const *items;
    uint32_t n;
} topt;

typedef struct tconf {
    topt o[24];
    int n;
} tconf;

static void conf_set(tconf *c, const char *name, const char *v)
{
    c->o[c->n++] = (topt){name, v, NULL, NULL, 0};
}
static void conf_list(tconf *c, const char *name, const char *const *items, uint32_t n)
{
    c->o[c->n++] = (topt){name, "", NULL, items, n};
}
static void conf_map(tconf *c, const char *name, const char *const *keys, const char *const *items,
                     uint32_t n)
{
    c->o[c->n++] = (topt){name, "", keys, items, n};
}

static const topt *find_opt(const eddy_opts *o, const char *name)
{
    const tconf *t = (const tconf *)(const void *)o;
    for (int i = 0; i < t->n; i++)
        if (strcmp(t->o[i].name, name) == 0)
            return &t->o[i];
    return NULL;
}
static const char *h_opt_str(const eddy_opts *o, const char *name)
{
    const topt *t = find_opt(o, name);
    return t ? t->str : NULL;
}
static int64_t h_opt_int(const eddy_opts *o, const char *name)
{
    const topt *t = find_opt(o, name);
    return t && t->str ? strtoll(t->str, NULL, 10) : 0;
}
static uint32_t h_opt_count(const eddy_opts *o, const char *name)
{
    const topt *t = find_opt(o, name);
    return t ? t->n : 0;
}
static const char *h_opt_item(const eddy_opts *o, const char *name, uint32_t i)
{
    const topt *t = find_opt(o, name);
    return t && i < t->n ? t->items[i] : NULL;
}
static const char *h_opt_key(const eddy_opts *o, const char *name, uint32_t i)
{
    const topt *t = find_opt(o, name);
    return t && t->keys && i < t->n ? t->keys[i] : NULL;
}

/* ---- host functions --------------------------------------------------------- */

static void h_log(eddy_ctx *ctx, eddy_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->last_log, sizeof ctx->last_log, fmt, ap);
    va_end(ap);
}
static uint32_t h_batch_count(const eddy_batch *b) { return b->n; }
static eddy_record *h_batch_get(eddy_batch *b, uint32_t i) { return i < b->n ? &b->recs[i] : NULL; }
static void h_batch_drop(eddy_batch *b, uint32_t i)
{
    if (i < b->n && !(b->recs[i].flags & EDDY_REC_DROPPED)) {
        b->recs[i].flags |= EDDY_REC_DROPPED;
        b->ndropped++;
    }
}
static int32_t h_batch_partition(const eddy_batch *b) { return b->partition; }
static int64_t h_record_time(const eddy_record *r) { return r->ts; }
static void h_record_set_time(eddy_record *r, int64_t ts) { r->ts = ts; }
static const eddy_value *h_record_key(const eddy_record *r) { return &r->key; }
static void h_record_set_key(eddy_record *r, const eddy_value *k) { r->key = *k; }
static const eddy_field *h_record_fields(const eddy_record *r, uint32_t *n)
{
    *n = r->nfields;
    return r->fields;
}
static int h_reject(eddy_ctx *ctx, eddy_batch *b, uint32_t i, const char *reason)
{
    ctx->nrej++;
    snprintf(ctx->rej_reason, sizeof ctx->rej_reason, "%s", reason);
    h_batch_drop(b, i);
    return 0;
}
static eddy_batch *h_emit_batch(eddy_ctx *ctx) { return eddy_batch_new(64, 0); }

static void keep_all(eddy_batch **store, eddy_batch *b)
{
    if (!*store)
        *store = eddy_batch_new(1024, 0);
    for (uint32_t i = 0; i < b->n; i++) {
        if (b->recs[i].flags & EDDY_REC_DROPPED)
            continue;
        eddy_record *d = eddy_batch_append(*store);
        if (!d || eddy_record_copy(*store, d, &b->recs[i]) != 0)
            abort();
    }
    eddy_batch_destroy(b);
}
static int h_emit(eddy_ctx *ctx, eddy_batch *b)
{
    ctx->emits++;
    keep_all(&ctx->res, b);
    return 0;
}
static int h_emit_side(eddy_ctx *ctx, const char *output, eddy_batch *b)
{
    if (strcmp(output, "late") != 0)
        abort();
    ctx->sides++;
    keep_all(&ctx->late, b);
    return 0;
}
static int h_timer_set(eddy_ctx *ctx, uint64_t id, int64_t at, int event_time)
{
    ctx->timer_at = at;
    return 0;
}
static int h_timer_cancel(eddy_ctx *ctx, uint64_t id)
{
    ctx->timer_at = INT64_MAX;
    return 0;
}
static int64_t h_now_ms(void) { return g_now; }
static eddy_metric *h_metric(eddy_ctx *ctx, const char *name, const char *help,
                             eddy_metric_kind kind)
{
    if (ctx->nm == 32)
        return NULL;
    eddy_metric *m = &ctx->m[ctx->nm++];
    snprintf(m->name, sizeof m->name, "%s", name);
    m->v = 0;
    return m;
}
static void h_metric_add(eddy_metric *m, double v)
{
    if (m)
        m->v += v;
}
static void h_metric_set(eddy_metric *m, double v)
{
    if (m)
        m->v = v;
}

static const eddy_host host = {
    .struct_size = sizeof(eddy_host),
    .abi_major = EDDY_ABI_MAJOR,
    .abi_minor = EDDY_ABI_MINOR,
    .alloc = malloc,
    .realloc = realloc,
    .free = free,
    .batch_alloc = eddy_batch_alloc,
    .log = h_log,
    .intern = eddy_sym_intern,
    .sym_name = eddy_sym_name,
    .batch_count = h_batch_count,
    .batch_get = h_batch_get,
    .batch_append = eddy_batch_append,
    .batch_drop = h_batch_drop,
    .batch_partition = h_batch_partition,
    .record_time = h_record_time,
    .record_set_time = h_record_set_time,
    .record_key = h_record_key,
    .record_set_key = h_record_set_key,
    .record_get = eddy_record_get,
    .record_set = eddy_record_set,
    .record_remove = eddy_record_remove,
    .record_fields = h_record_fields,
    .batch_string = eddy_batch_string,
    .record_copy = eddy_record_copy,
    .emit_batch = h_emit_batch,
    .emit = h_emit,
    .reject = h_reject,
    .timer_set = h_timer_set,
    .timer_cancel = h_timer_cancel,
    .now_ms = h_now_ms,
    .metric = h_metric,
    .metric_add = h_metric_add,
    .metric_set = h_metric_set,
    .opt_int = h_opt_int,
    .opt_str = h_opt_str,
    .opt_count = h_opt_count,
    .opt_item = h_opt_item,
    .opt_key = h_opt_key,
    .emit_side = h_emit_side,
};

/* ---- helpers ------------------------------------------------------------------ */

static eddy_sym S(const char *name) { return eddy_sym_intern(name, strlen(name)); }

static inline double metric(const eddy_ctx *ctx, const char *name)
{
    for (uint32_t i = 0; i < ctx->nm; i++)
        if (strcmp(ctx->m[i].name, name) == 0)
            return ctx->m[i].v;
    return -1;
}

/* A window instance from a config; NULL with the reason in err. */
static void *wcreate(eddy_ctx *ctx, tconf *c, char *err, size_t errlen)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->timer_at = INT64_MAX;
    err[0] = '\0';
    return eddy_op_window.create(&host, ctx, (const eddy_opts *)(const void *)c, err, errlen);
}

static void wfree(void *st, eddy_ctx *ctx)
{
    eddy_op_window.destroy(st);
    eddy_batch_destroy(ctx->res);
    eddy_batch_destroy(ctx->late);
    ctx->res = ctx->late = NULL;
}

static int64_t iget(const eddy_record *r, const char *name, int64_t dflt)
{
    const eddy_value *v = eddy_record_get(r, S(name));
    return v && v->type == EDDY_INT ? v->u.i : dflt;
}

/* 1 with *x for a number, 0 for null or missing. */
static int nget(const eddy_record *r, const char *name, double *x)
{
    const eddy_value *v = eddy_record_get(r, S(name));
    return v && v->type != EDDY_NULL && eddy_value_number(v, x);
}

static int sget(const eddy_record *r, const char *name, char *buf, size_t n)
{
    const eddy_value *v = eddy_record_get(r, S(name));
    if (!v || v->type != EDDY_STRING)
        return 0;
    snprintf(buf, n, "%.*s", (int)v->len, v->u.s);
    return 1;
}

#endif
