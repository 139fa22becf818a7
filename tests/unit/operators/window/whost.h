/* A small host for driving the window operator in tests: the engine's host
 * table (tests/unit/testhost.h) with outputs that keep every result and late
 * record (copied into long-lived batches), a wall clock the test sets, and
 * options from a plain table instead of YAML. */
#ifndef EDDY_TEST_WHOST_H
#define EDDY_TEST_WHOST_H
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/batch.h"
#include "operators/window/window.h"
#include "engine/core/sym.h"
#include "tests/unit/test.h"
#include "tests/unit/testhost.h"

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

/* ---- host functions --------------------------------------------------------- */

static void h_log(eddy_ctx *ctx, eddy_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->last_log, sizeof ctx->last_log, fmt, ap);
    va_end(ap);
}
static int h_reject(eddy_ctx *ctx, eddy_batch *b, uint32_t i, const char *reason)
{
    ctx->nrej++;
    snprintf(ctx->rej_reason, sizeof ctx->rej_reason, "%s", reason);
    if (i < b->n && !(b->recs[i].flags & EDDY_REC_DROPPED)) {
        b->recs[i].flags |= EDDY_REC_DROPPED;
        b->ndropped++;
    }
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

/* Durable state (ABI 1.2): every state_write in order, as a changelog. */
typedef struct wcl_rec {
    uint8_t *key, *val; /* val NULL: tombstone */
    size_t klen, vlen;
    int version;
} wcl_rec;
static wcl_rec *g_cl;
static size_t g_ncl, g_capcl;

static int h_state_write(eddy_ctx *ctx, const void *key, size_t klen, int version,
                         const void *data, size_t len)
{
    if (g_ncl == g_capcl) {
        g_capcl = g_capcl ? g_capcl * 2 : 256;
        g_cl = realloc(g_cl, sizeof *g_cl * g_capcl);
    }
    wcl_rec *r = &g_cl[g_ncl++];
    r->key = malloc(klen ? klen : 1);
    memcpy(r->key, key, klen);
    r->klen = klen;
    r->val = data ? malloc(len ? len : 1) : NULL;
    if (data)
        memcpy(r->val, data, len);
    r->vlen = len;
    r->version = version;
    return 0;
}

static inline void wcl_clear(void)
{
    for (size_t i = 0; i < g_ncl; i++) {
        free(g_cl[i].key);
        free(g_cl[i].val);
    }
    g_ncl = 0;
}

/* The engine's host table with this file's output, timers and metrics. */
static const eddy_host *whost(void)
{
    static eddy_host h;
    if (!h.struct_size) {
        h = testhost_base();
        h.log = h_log;
        h.reject = h_reject;
        h.emit_batch = h_emit_batch;
        h.emit = h_emit;
        h.emit_side = h_emit_side;
        h.timer_set = h_timer_set;
        h.timer_cancel = h_timer_cancel;
        h.now_ms = h_now_ms;
        h.metric = h_metric;
        h.metric_add = h_metric_add;
        h.metric_set = h_metric_set;
        h.state_write = h_state_write;
    }
    return &h;
}

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
    return eddy_op_window.create(whost(), ctx, (const eddy_opts *)(const void *)c, err, errlen);
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
