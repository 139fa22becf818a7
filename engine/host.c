/* The host function table handed to every operator, built-in or plugin.
 * Each entry is a thin, checked wrapper: operators reach records only
 * through here, which is what lets the record layout change without an ABI
 * break. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/exec.h"
#include "engine/host_ext.h"
#include "engine/state/state.h"
#include "engine/obs/log.h"
#include "engine/plugin_abi.h" /* asserts sizeof(eddy_host) is the frozen 1.1 size */
#include "engine/core/sym.h"

static void *h_alloc(size_t n) { return malloc(n); }
static void *h_realloc(void *p, size_t n) { return realloc(p, n); }
static void h_free(void *p) { free(p); }
static void *h_batch_alloc(eddy_batch *b, size_t n) { return eddy_batch_alloc(b, n); }

static void h_log(eddy_ctx *ctx, eddy_log_level level, const char *fmt, ...)
{
    char part[16];
    snprintf(part, sizeof part, "%d", ctx ? (int)ctx->partition : -1);
    const char *kv[] = {"pipeline", ctx && ctx->p ? ctx->p->name : "",
                        "step", ctx && ctx->st ? ctx->st->name : "",
                        "partition", part, NULL};
    va_list ap;
    va_start(ap, fmt);
    eddy_logv(level, kv, fmt, ap);
    va_end(ap);
}

static eddy_sym h_intern(const char *s, size_t len) { return eddy_sym_intern(s, len); }
static const char *h_sym_name(eddy_sym s) { return eddy_sym_name(s); }
static uint32_t h_batch_count(const eddy_batch *b) { return b->n; }
static eddy_record *h_batch_get(eddy_batch *b, uint32_t i) { return i < b->n ? &b->recs[i] : NULL; }

static eddy_record *h_batch_append(eddy_batch *b) { return eddy_batch_append(b); }

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
static const eddy_value *h_record_get(const eddy_record *r, eddy_sym s) { return eddy_record_get(r, s); }

static int h_record_set(eddy_batch *b, eddy_record *r, eddy_sym s, const eddy_value *v)
{
    if (!s || !v)
        return EDDY_EINVAL;
    return eddy_record_set(b, r, s, v) == 0 ? 0 : EDDY_ENOMEM;
}

static int h_record_remove(eddy_record *r, eddy_sym s) { return eddy_record_remove(r, s) == 0 ? 0 : EDDY_ENOTFOUND; }

static const eddy_field *h_record_fields(const eddy_record *r, uint32_t *n)
{
    *n = r->nfields;
    return r->fields;
}

static void h_record_source(const eddy_record *r, const char **topic, int32_t *partition,
                            int64_t *offset)
{
    if (topic)
        *topic = r->topic ? r->topic : "";
    if (partition)
        *partition = r->partition;
    if (offset)
        *offset = r->offset;
}

static eddy_value h_batch_string(eddy_batch *b, const char *s, size_t len) { return eddy_batch_string(b, s, len); }

static int h_record_copy(eddy_batch *db, eddy_record *dst, const eddy_record *src)
{
    return eddy_record_copy(db, dst, src) == 0 ? 0 : EDDY_ENOMEM;
}

static eddy_batch *h_emit_batch(eddy_ctx *ctx)
{
    if (!ctx->th)
        return NULL; /* validation probes do not run */
    eddy_batch *b = eddy_exec_batch_get(ctx->th);
    if (b)
        b->partition = ctx->partition;
    return b;
}

static int h_emit(eddy_ctx *ctx, eddy_batch *b)
{
    if (!ctx->th || !b)
        return EDDY_EINVAL;
    eddy_batch_compact(b);
    eddy_metric_add(ctx->st->m_out, b->n);
    eddy_exec_after(ctx->th, ctx->task, ctx->p, ctx->step, b);
    return 0;
}

static int h_reject(eddy_ctx *ctx, eddy_batch *b, uint32_t i, const char *reason)
{
    if (!ctx->th || i >= b->n)
        return EDDY_EINVAL;
    eddy_metric_add(ctx->st->m_err, 1);
    eddy_exec_dead_letter(ctx->th, ctx->p, NULL, b, i, ctx->st->name, reason);
    if (!(b->recs[i].flags & EDDY_REC_DROPPED)) {
        b->recs[i].flags |= EDDY_REC_DROPPED;
        b->ndropped++;
    }
    return 0;
}

static int h_timer_set(eddy_ctx *ctx, uint64_t id, int64_t at, int event_time)
{
    for (uint32_t i = 0; i < ctx->ntimers; i++)
        if (ctx->timers[i].id == id) {
            ctx->timers[i].at = at;
            ctx->timers[i].event_time = event_time;
            return 0;
        }
    if (ctx->ntimers == ctx->cap) {
        uint32_t cap = ctx->cap ? ctx->cap * 2 : 8;
        rt_timer *t = realloc(ctx->timers, sizeof *t * cap);
        if (!t)
            return EDDY_ENOMEM;
        ctx->timers = t;
        ctx->cap = cap;
    }
    ctx->timers[ctx->ntimers++] = (rt_timer){id, at, event_time};
    return 0;
}

static int h_timer_cancel(eddy_ctx *ctx, uint64_t id)
{
    for (uint32_t i = 0; i < ctx->ntimers; i++)
        if (ctx->timers[i].id == id) {
            ctx->timers[i] = ctx->timers[--ctx->ntimers];
            return 0;
        }
    return EDDY_ENOTFOUND;
}

static int64_t h_now_ms(void) { return eddy_now_ms(); }

static eddy_metric *h_metric(eddy_ctx *ctx, const char *name, const char *help, eddy_metric_kind kind)
{
    return eddy_host_step_metric(ctx, name, help, kind, NULL, 0);
}

static void h_metric_add(eddy_metric *m, double v)
{
    if (m)
        eddy_metric_add(m, v);
}

static void h_metric_set(eddy_metric *m, double v)
{
    if (m)
        eddy_metric_set(m, v);
}

static int h_emit_side(eddy_ctx *ctx, const char *output, eddy_batch *b)
{
    if (!ctx->th || !b || !output)
        return EDDY_EINVAL;
    eddy_batch_compact(b);
    int rc = eddy_exec_side(ctx->th, ctx->p, ctx->st, output, b);
    eddy_exec_batch_put(ctx->th, b);
    return rc;
}

static int64_t h_ctx_watermark(const eddy_ctx *c) { return c->task ? c->task->watermark : INT64_MIN; }

static const char *h_ctx_pipeline(const eddy_ctx *c) { return c->p->name; }
static const char *h_ctx_step(const eddy_ctx *c) { return c->st->name; }
static int32_t h_ctx_partition(const eddy_ctx *c) { return c->partition; }

const eddy_host eddy_host_table = {
    .struct_size = sizeof(eddy_host),
    .abi_major = EDDY_ABI_MAJOR,
    .abi_minor = EDDY_ABI_MINOR,
    .alloc = h_alloc,
    .realloc = h_realloc,
    .free = h_free,
    .batch_alloc = h_batch_alloc,
    .log = h_log,
    .intern = h_intern,
    .sym_name = h_sym_name,
    .batch_count = h_batch_count,
    .batch_get = h_batch_get,
    .batch_append = h_batch_append,
    .batch_drop = h_batch_drop,
    .batch_partition = h_batch_partition,
    .record_time = h_record_time,
    .record_set_time = h_record_set_time,
    .record_key = h_record_key,
    .record_set_key = h_record_set_key,
    .record_get = h_record_get,
    .record_set = h_record_set,
    .record_remove = h_record_remove,
    .record_fields = h_record_fields,
    .record_source = h_record_source,
    .batch_string = h_batch_string,
    .record_copy = h_record_copy,
    .emit_batch = h_emit_batch,
    .emit = h_emit,
    .reject = h_reject,
    .timer_set = h_timer_set,
    .timer_cancel = h_timer_cancel,
    .now_ms = h_now_ms,
    .metric = h_metric,
    .metric_add = h_metric_add,
    .metric_set = h_metric_set,
    .opt_bool = eddy_opts_bool,
    .opt_int = eddy_opts_int,
    .opt_double = eddy_opts_double,
    .opt_str = eddy_opts_str,
    .opt_count = eddy_opts_count,
    .opt_item = eddy_opts_item,
    .opt_key = eddy_opts_key,
    .ctx_pipeline = h_ctx_pipeline,
    .ctx_step = h_ctx_step,
    .ctx_partition = h_ctx_partition,
    .emit_side = h_emit_side,
    .ctx_watermark = h_ctx_watermark,
    .alert = eddy_host_alert,
    .metric_labels = eddy_host_metric_labels,
    .ctx_requests = eddy_host_ctx_requests,
    .state_write = eddy_host_state_write,
    .state_put = eddy_host_state_put,
    .state_get = eddy_host_state_get,
    .state_del = eddy_host_state_del,
};
