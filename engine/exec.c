#define _GNU_SOURCE /* strptime */
/* Dispatch: batches through the steps of a partition's task, depth first,
 * on the processing thread. Fan-out clones the batch for every branch but
 * the last, so each branch may change records without the others seeing it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/format/codec.h"
#include "engine/exec.h"
#include "engine/obs/log.h"
#include "engine/core/sym.h"
#include "engine/state/state.h"

#define POOL_MAX 64

int64_t eddy_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

eddy_batch *eddy_exec_batch_get(rt_thread *th)
{
    eddy_batch *b = th->pool;
    if (b) {
        th->pool = b->next_free;
        th->pool_size--;
        eddy_batch_reset(b);
        return b;
    }
    return eddy_batch_new(th->rt->batch_size, th->rt->batch_memory);
}

void eddy_exec_batch_put(rt_thread *th, eddy_batch *b)
{
    if (!b)
        return;
    if (th->pool_size >= POOL_MAX) {
        eddy_batch_destroy(b);
        return;
    }
    eddy_batch_reset(b);
    b->next_free = th->pool;
    th->pool = b;
    th->pool_size++;
}

static eddy_ctx *ctx_new(eddy_runtime *rt, rt_thread *th, rt_task *t, rt_pipeline *p, int s,
                         int32_t partition, char *err, size_t errlen)
{
    eddy_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->rt = rt;
    c->th = th;
    c->task = t;
    c->p = p;
    c->st = &p->steps[s];
    c->step = s;
    c->partition = partition;
    err[0] = '\0';
    c->state = c->st->op->d.create(&eddy_host_table, c, c->st->opts, err, errlen);
    if (!c->state) {
        if (!err[0])
            snprintf(err, errlen, "create() failed without a reason");
        free(c);
        return NULL;
    }
    return c;
}

static void ctx_free(eddy_ctx *c)
{
    if (!c)
        return;
    c->st->op->d.destroy(c->state);
    eddy_state_ctx_free(c);
    if (c->alerts)
        eddy_alert_merge_forget(c->st->alert_merge, c);
    eddy_alert_state_free(c->alerts);
    free(c->timers);
    free(c);
}

int eddy_exec_probe_operator(eddy_runtime *rt, rt_pipeline *p, rt_step *st, char *err, size_t errlen)
{
    eddy_ctx *c = ctx_new(rt, NULL, NULL, p, (int)(st - p->steps), -1, err, errlen);
    if (!c)
        return -1;
    ctx_free(c);
    return 0;
}

static rt_task *task_get(rt_thread *th, int src, int32_t partition)
{
    for (int i = 0; i < th->ntasks; i++)
        if (th->tasks[i]->source == src && th->tasks[i]->partition == partition)
            return th->tasks[i];
    eddy_runtime *rt = th->rt;
    rt_task *t = calloc(1, sizeof *t);
    rt_task **tasks = realloc(th->tasks, sizeof *tasks * (size_t)(th->ntasks + 1));
    if (!t || !tasks) {
        free(t);
        if (tasks)
            th->tasks = tasks;
        return NULL;
    }
    th->tasks = tasks;
    t->source = src;
    t->partition = partition;
    t->max_ts = EDDY_TS_NONE;
    t->watermark = EDDY_TS_NONE;
    t->last_offset = -1;
    t->committed = -1;
    t->last_arrival = eddy_now_ms();
    t->inst = calloc((size_t)(rt->ninst ? rt->ninst : 1), sizeof *t->inst);
    if (!t->inst) {
        free(t);
        return NULL;
    }
    th->tasks[th->ntasks++] = t;
    for (int i = 0; i < rt->npipelines; i++) {
        rt_pipeline *p = &rt->pipelines[i];
        if (p->root_source != rt->sources[src].origin)
            continue;
        for (int s = 0; s < p->nsteps; s++) {
            char err[512];
            t->inst[p->base + s] = ctx_new(rt, th, t, p, s, partition, err, sizeof err);
            if (!t->inst[p->base + s]) {
                char part[16];
                snprintf(part, sizeof part, "%d", (int)partition);
                eddy_log(EDDY_LOG_ERROR,
                         (const char *[]){"pipeline", p->name, "step", p->steps[s].name,
                                          "partition", part, NULL},
                         "cannot create operator instance: %s", err);
                atomic_store(&rt->failed, 1);
                atomic_store(&rt->stopping, 1);
            }
        }
    }
    return t;
}

void eddy_exec_task_free(eddy_runtime *rt, rt_task *t)
{
    for (int i = 0; i < rt->ninst; i++)
        ctx_free(t->inst[i]);
    eddy_state_task_free(t);
    free(t->inst);
    free(t);
}

/* A sink that cannot write stops the worker: carrying on would lose the
 * records silently. */
static void sink_write(rt_thread *th, rt_sink *s, const eddy_batch *b)
{
    if (!b->n)
        return;
    char err[512] = "";
    pthread_mutex_lock(&s->mu);
    int rc = s->ops->write(s->self, b, err, sizeof err);
    pthread_mutex_unlock(&s->mu);
    if (rc < 0) {
        eddy_metric_add(s->m_err, b->n);
        eddy_log(EDDY_LOG_ERROR, (const char *[]){"sink", s->name, NULL},
                 "sink write failed, stopping the worker: %s", err[0] ? err : eddy_strerror(rc));
        atomic_store(&th->rt->failed, 1);
        atomic_store(&th->rt->stopping, 1);
        return;
    }
    eddy_metric_add(s->m_out, b->n - b->ndropped);
}

int eddy_exec_side(rt_thread *th, rt_pipeline *p, rt_step *st, const char *output,
                   const eddy_batch *b)
{
    for (int k = 0; k < st->nouts; k++)
        if (strcmp(st->out_names[k], output) == 0) {
            if (st->out_sinks[k])
                sink_write(th, st->out_sinks[k], b);
            return 0;
        }
    /* No such output configured: count and log, never drop silently. */
    eddy_buf lb = {0};
    eddy_metrics_label(&lb, "pipeline", p->name);
    eddy_metrics_label(&lb, "step", st->name);
    eddy_metrics_label(&lb, "output", output);
    eddy_buf_putc(&lb, '\0');
    eddy_metric *m = eddy_metrics_get(th->rt->metrics, "eddy_step_unrouted_total",
                                      "Records sent to a side output the step does not configure",
                                      EDDY_METRIC_COUNTER, (char *)lb.data);
    eddy_buf_free(&lb);
    eddy_metric_add(m, b->n);
    static _Thread_local uint64_t logged;
    if (logged++ % 10000 == 0)
        eddy_log(EDDY_LOG_WARN,
                 (const char *[]){"pipeline", p->name, "step", st->name, "output", output, NULL},
                 "%u record(s) for side output '%s', which this step does not configure "
                 "(add `outputs: { %s: <sink> }` to the step)", b->n, output, output);
    return 0;
}

void eddy_exec_flush_dead_letters(rt_thread *th)
{
    eddy_runtime *rt = th->rt;
    for (int i = 0; i < rt->nsinks; i++) {
        eddy_batch *b = th->dl[i];
        if (b && b->n) {
            sink_write(th, rt->sinks[i], b);
            eddy_batch_reset(b);
        }
    }
}

void eddy_exec_dead_letter(rt_thread *th, rt_pipeline *p, rt_source *src, const eddy_batch *b,
                           uint32_t i, const char *step, const char *reason)
{
    eddy_runtime *rt = th->rt;
    if (!src && p && p->root_source >= 0)
        src = &rt->sources[p->root_source];
    rt_sink *sink = p && p->dead_letter ? p->dead_letter : src ? src->dead_letter : NULL;
    if (p)
        eddy_metric_add(p->m_dead, 1);
    if (src)
        eddy_metric_add(src->m_dead, 1);
    const eddy_record *r = &b->recs[i];
    if (!sink) {
        /* No dead-letter output configured: the record still is not lost
         * silently; it is counted and logged (sparingly). */
        static _Thread_local uint64_t logged;
        if (logged < 10 || logged % 10000 == 0) {
            char off[32], part[16];
            snprintf(off, sizeof off, "%lld", (long long)r->offset);
            snprintf(part, sizeof part, "%d", (int)r->partition);
            eddy_log(EDDY_LOG_WARN,
                     (const char *[]){"step", step ? step : "", "topic", r->topic ? r->topic : "",
                                      "partition", part, "offset", off, NULL},
                     "record rejected and no dead_letter output is configured: %s", reason);
        }
        logged++;
        return;
    }
    eddy_batch **slot = &th->dl[sink->idx];
    if (!*slot && !(*slot = eddy_batch_new(rt->batch_size, rt->batch_memory)))
        goto oom;
    eddy_batch *d = *slot;
    eddy_record *dr = eddy_batch_append(d);
    if (!dr || eddy_record_copy(d, dr, r) != 0)
        goto oom;
    if (!(dr->flags & EDDY_REC_ERROR))
        eddy_record_fail(d, dr, step, 0, "%s", reason);
    if (!dr->raw) {
        /* A valid record rejected by an operator: keep it as JSON so the
         * dead letter carries the record unchanged. */
        eddy_buf j = {0};
        if (eddy_record_to_json(r, &j) == 0)
            eddy_record_keep_raw(d, dr, j.data, j.len);
        eddy_buf_free(&j);
    }
    if (d->n >= rt->batch_size) {
        sink_write(th, sink, d);
        eddy_batch_reset(d);
    }
    return;
oom:
    eddy_log(EDDY_LOG_ERROR, (const char *[]){"sink", sink->name, NULL},
             "out of batch memory for a dead letter; stopping the worker: %s", reason);
    atomic_store(&rt->failed, 1);
    atomic_store(&rt->stopping, 1);
}

static void run_pipeline(rt_thread *th, rt_task *t, rt_pipeline *p, eddy_batch *b);

static void run_step(rt_thread *th, rt_task *t, rt_pipeline *p, int s, eddy_batch *b)
{
    rt_step *st = &p->steps[s];
    eddy_ctx *c = t->inst[p->base + s];
    if (!c) {
        eddy_exec_batch_put(th, b);
        return;
    }
    eddy_metric_add(st->m_in, b->n);
    c->cur = b;
    int rc = st->op->d.process(c->state, c, b);
    c->cur = NULL;
    if (rc < 0) {
        char reason[256];
        snprintf(reason, sizeof reason, "operator %s failed on this batch (%s)", st->op->d.name,
                 eddy_strerror(rc));
        for (uint32_t i = 0; i < b->n; i++)
            if (!(b->recs[i].flags & EDDY_REC_DROPPED)) {
                eddy_metric_add(st->m_err, 1);
                eddy_exec_dead_letter(th, p, NULL, b, i, st->name, reason);
            }
        eddy_exec_batch_put(th, b);
        return;
    }
    if (rc == EDDY_CONSUMED) {
        eddy_exec_batch_put(th, b);
        return;
    }
    eddy_batch_compact(b);
    eddy_metric_add(st->m_out, b->n);
    eddy_exec_after(th, t, p, s, b);
}

void eddy_exec_after(rt_thread *th, rt_task *t, rt_pipeline *p, int step, eddy_batch *b)
{
    eddy_runtime *rt = th->rt;
    const int *children = step < 0 ? p->root_children : p->steps[step].children;
    int nchildren = step < 0 ? p->nroot_children : p->steps[step].nchildren;
    const int *sinks = step < 0 ? p->root_sinks : p->steps[step].sinks;
    int nsinks = step < 0 ? p->nroot_sinks : p->steps[step].nsinks;
    int nsubs = step == p->output ? p->nsubscribers : 0;
    for (int i = 0; i < nsinks; i++)
        sink_write(th, p->sinks[sinks[i]], b);
    int total = nchildren + nsubs;
    if (total == 0 || b->n == 0) {
        eddy_exec_batch_put(th, b);
        return;
    }
    for (int k = 0; k < total; k++) {
        eddy_batch *bb = b;
        if (k < total - 1) {
            bb = eddy_exec_batch_get(th);
            if (!bb || eddy_batch_clone(bb, b) != 0) {
                eddy_log(EDDY_LOG_ERROR, (const char *[]){"pipeline", p->name, NULL},
                         "out of batch memory while fanning out; stopping the worker");
                eddy_exec_batch_put(th, bb);
                atomic_store(&rt->failed, 1);
                atomic_store(&rt->stopping, 1);
                continue;
            }
        }
        if (k < nchildren)
            run_step(th, t, p, children[k], bb);
        else
            run_pipeline(th, t, &rt->pipelines[p->subscribers[k - nchildren]], bb);
    }
}

static void run_pipeline(rt_thread *th, rt_task *t, rt_pipeline *p, eddy_batch *b)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    eddy_metric_add(p->m_in, b->n);
    eddy_exec_after(th, t, p, -1, b);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    eddy_hist_observe(p->h_latency,
                      (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9);
}

static int fire_timers(eddy_ctx *c, int event_time, int64_t now)
{
    int fired = 0;
    for (uint32_t i = 0; i < c->ntimers;) {
        rt_timer tm = c->timers[i];
        if (tm.event_time == event_time && tm.at <= now) {
            /* Removed before the call, so the callback may set it again. */
            c->timers[i] = c->timers[--c->ntimers];
            if (c->st->op->d.on_timer)
                c->st->op->d.on_timer(c->state, c, tm.id, tm.at);
            fired++;
            continue;
        }
        i++;
    }
    return fired;
}

/* Watermarks flow in graph order: pipelines by their depth on the bus,
 * steps by index (a step's parent always has a smaller index). */
static void advance_watermark(rt_thread *th, rt_task *t, int64_t wm)
{
    eddy_runtime *rt = th->rt;
    for (int depth = 0; depth <= rt->npipelines; depth++) {
        for (int i = 0; i < rt->npipelines; i++) {
            rt_pipeline *p = &rt->pipelines[i];
            if (p->root_source != rt->sources[t->source].origin)
                continue;
            int d = 0;
            for (int q = i; rt->pipelines[q].from_pipeline >= 0; q = rt->pipelines[q].from_pipeline)
                d++;
            if (d != depth)
                continue;
            for (int s = 0; s < p->nsteps; s++) {
                eddy_ctx *c = t->inst[p->base + s];
                if (!c)
                    continue;
                if (c->st->op->d.on_watermark)
                    c->st->op->d.on_watermark(c->state, c, wm);
                if (c->ntimers)
                    fire_timers(c, 1, wm);
            }
        }
    }
}

/* Event times accepted from numeric fields: 0000-01-01T00:00:00Z to
 * 9999-12-31T23:59:59.999Z, in ms since 1970. */
#define EDDY_TS_MIN_MS (-62167219200000.0)
#define EDDY_TS_MAX_MS 253402300799999.0

static const char *ts_unit_name(int unit)
{
    static const char *const names[] = {"ms", "s", "us", "ns"};
    return unit >= 0 && unit < 4 ? names[unit] : "?";
}

/* Key and event time from the configured fields. */
static void stamp(rt_source *src, eddy_batch *b, eddy_record *r, int64_t now)
{
    if (src->key_field) {
        const eddy_value *k = eddy_record_get(r, src->key_field);
        if (k)
            r->key = *k;
    }
    if (src->ts_field) {
        const eddy_value *v = eddy_record_get(r, src->ts_field);
        double x;
        if (!v) {
            eddy_record_fail(b, r, "timestamp", 0, "timestamp field '%s' is missing",
                             eddy_sym_name(src->ts_field));
            return;
        }
        if (src->ts_unit == TS_ISO8601) {
            if (v->type != EDDY_STRING) {
                eddy_record_fail(b, r, "timestamp", 0, "timestamp field '%s' is %s, expected an ISO 8601 string",
                                 eddy_sym_name(src->ts_field), eddy_type_name(v->type));
                return;
            }
            char tmp[64];
            size_t n = v->len < sizeof tmp - 1 ? v->len : sizeof tmp - 1;
            memcpy(tmp, v->u.s, n);
            tmp[n] = '\0';
            /* RFC 3339 allows a space instead of the T (NAB's corpus, SQL
             * exports); accept both. */
            if (n > 10 && tmp[10] == ' ')
                tmp[10] = 'T';
            struct tm tmv = {0};
            char *end = strptime(tmp, "%Y-%m-%dT%H:%M:%S", &tmv);
            if (!end) {
                eddy_record_fail(b, r, "timestamp", 0, "timestamp '%s' is not ISO 8601 (2026-01-01T00:00:00Z)", tmp);
                return;
            }
            int64_t ms = (int64_t)timegm(&tmv) * 1000;
            if (*end == '.') {
                int64_t scale = 100;
                for (end++; *end >= '0' && *end <= '9'; end++, scale /= 10)
                    ms += (*end - '0') * scale;
            }
            if (*end == '+' || *end == '-') {
                int hh = 0, mm = 0;
                if (sscanf(end + 1, "%2d:%2d", &hh, &mm) >= 1)
                    ms -= (*end == '+' ? 1 : -1) * ((int64_t)hh * 3600000 + (int64_t)mm * 60000);
            }
            r->ts = ms;
        } else if (eddy_value_number(v, &x) && v->type != EDDY_BOOL) {
            static const double scale[] = {1.0, 1000.0, 0.001, 0.000001};
            double ms = x * scale[src->ts_unit];
            /* Casting a double outside int64's range is undefined, and
             * INT64_MIN means "no event time": only the years 0000-9999
             * are event times (the range of ISO 8601 without extensions). */
            if (!(ms >= EDDY_TS_MIN_MS && ms <= EDDY_TS_MAX_MS)) {
                eddy_record_fail(b, r, "timestamp", 0, "timestamp field '%s' is %.17g (%s), %s "
                                 "the years 0000-9999 (%.0f to %.0f ms since 1970)",
                                 eddy_sym_name(src->ts_field), x,
                                 ts_unit_name(src->ts_unit),
                                 ms != ms ? "not a number: expected a time within"
                                          : "outside",
                                 EDDY_TS_MIN_MS, EDDY_TS_MAX_MS);
                return;
            }
            r->ts = (int64_t)ms;
        } else {
            eddy_record_fail(b, r, "timestamp", 0, "timestamp field '%s' is %s, expected a number",
                             eddy_sym_name(src->ts_field), eddy_type_name(v->type));
            return;
        }
    }
    if (r->ts == EDDY_TS_NONE)
        r->ts = now; /* no event time at all: ingestion time */
}

static void process_source_batch(rt_thread *th, int si, eddy_batch *b)
{
    eddy_runtime *rt = th->rt;
    rt_source *src = &rt->sources[si];
    rt_task *t = task_get(th, si, b->partition);
    if (!t) {
        eddy_log(EDDY_LOG_ERROR, (const char *[]){"source", src->name, NULL},
                 "out of memory creating a partition task; stopping the worker");
        atomic_store(&rt->failed, 1);
        atomic_store(&rt->stopping, 1);
        eddy_exec_batch_put(th, b);
        return;
    }
    eddy_metric_add(src->m_in, b->n);
    int64_t now = eddy_now_ms();
    for (uint32_t i = 0; i < b->n; i++) {
        eddy_record *r = &b->recs[i];
        if (!(r->flags & EDDY_REC_ERROR))
            stamp(src, b, r, now);
        if (r->flags & EDDY_REC_ERROR) {
            if (!r->raw) {
                eddy_buf j = {0};
                if (eddy_record_to_json(r, &j) == 0)
                    eddy_record_keep_raw(b, r, j.data, j.len);
                eddy_buf_free(&j);
            }
            eddy_metric_add(src->m_err, 1);
            eddy_exec_dead_letter(th, NULL, src, b, i, r->err_step ? r->err_step : "decode",
                                  r->err_reason ? r->err_reason : "record could not be decoded");
            r->flags |= EDDY_REC_DROPPED;
            b->ndropped++;
            continue;
        }
        if (r->ts > t->max_ts)
            t->max_ts = r->ts;
        t->last_offset = r->offset;
        t->last_arrival = now;
    }
    eddy_batch_compact(b);
    if (b->n) {
        for (int k = 0; k < src->npipelines; k++) {
            eddy_batch *bb = b;
            if (k < src->npipelines - 1) {
                bb = eddy_exec_batch_get(th);
                if (!bb || eddy_batch_clone(bb, b) != 0) {
                    eddy_exec_batch_put(th, bb);
                    atomic_store(&rt->failed, 1);
                    atomic_store(&rt->stopping, 1);
                    continue;
                }
            }
            run_pipeline(th, t, &rt->pipelines[src->pipelines[k]], bb);
        }
    } else {
        eddy_exec_batch_put(th, b);
    }
    eddy_exec_flush_dead_letters(th);
    if (t->max_ts != EDDY_TS_NONE) {
        int64_t wm = t->max_ts - src->max_out_of_order;
        if (t->watermark == EDDY_TS_NONE || wm > t->watermark) {
            t->watermark = wm;
            advance_watermark(th, t, wm);
            eddy_exec_flush_dead_letters(th);
        }
    }
}

/* Source offsets are committed only here, after every sink has confirmed
 * everything written so far: the at-least-once rule. A failed flush
 * commits nothing and stops the worker. */
static void commit_task(rt_thread *th, rt_task *t)
{
    rt_source *src = &th->rt->sources[t->source];
    if (!src->ops->commit || t->last_offset < 0 || t->last_offset == t->committed)
        return;
    if (src->ops->commit(src->self, t->partition, t->last_offset) == 0)
        t->committed = t->last_offset;
}

static int flush_sinks_timed(rt_thread *th);

/* The sink holds its output (e.g. a feature store that is down) and will
 * deliver it later: nothing is lost, but nothing may be committed yet.
 * The source is paused through pending(). */
void eddy_exec_sink_held(const rt_sink *s)
{
    static _Thread_local int64_t last_log;
    int64_t now = eddy_now_ms();
    if (now - last_log >= 10000) {
        last_log = now;
        eddy_log(EDDY_LOG_WARN, (const char *[]){"sink", s->name, NULL},
                 "sink has not acknowledged its output yet; offsets are not committed until it "
                 "has (retrying)");
    }
}

static int flush_sinks(rt_thread *th)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int rc = flush_sinks_timed(th);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    eddy_metric_add(th->m_commit_ms, ms);
    th->commit_ms += ms;
    return rc;
}

static int flush_sinks_timed(rt_thread *th)
{
    eddy_runtime *rt = th->rt;
    /* An aborted transaction: the in-memory state holds work that never
     * committed; nothing of it may be written before the rewind. */
    if (th->need_rewind)
        return 0;
    eddy_exec_flush_dead_letters(th);
    int ok = !atomic_load(&rt->failed);
    for (int i = 0; i < rt->nsinks; i++) {
        rt_sink *s = rt->sinks[i];
        if (!s->ops->flush)
            continue;
        pthread_mutex_lock(&s->mu);
        int rc = s->ops->flush(s->self);
        pthread_mutex_unlock(&s->mu);
        if (rc == EDDY_EAGAIN) {
            eddy_exec_sink_held(s);
            ok = 0;
            continue;
        }
        if (rc < 0) {
            eddy_log(EDDY_LOG_ERROR, (const char *[]){"sink", s->name, NULL},
                     "sink flush failed, stopping the worker without committing: %s",
                     eddy_strerror(rc));
            atomic_store(&rt->failed, 1);
            atomic_store(&rt->stopping, 1);
            ok = 0;
        }
    }
    if (!ok)
        return atomic_load(&rt->failed) ? -1 : 0;
    /* Durable state of what the offsets cover goes first (engine/state). */
    if (eddy_state_flush(th) != 0)
        return -1;
    if (th->txn) {
        /* Exactly-once: the offsets join the transaction that holds the
         * outputs and the state, and it commits (state_eos.c); sources
         * without transactions commit as before. */
        for (int i = 0; i < th->ntasks; i++)
            if (rt->sources[th->tasks[i]->source].ops->txn != th->txn_ops)
                commit_task(th, th->tasks[i]);
        return eddy_eos_commit(th);
    }
    for (int i = 0; i < th->ntasks; i++)
        commit_task(th, th->tasks[i]);
    eddy_ckpt_drop(th); /* covered: everything is acknowledged and committed */
    return 0;
}

void eddy_exec_assigned(void *arg, int32_t partition)
{
    rt_source *src = arg;
    char part[16];
    snprintf(part, sizeof part, "%d", (int)partition);
    eddy_log(EDDY_LOG_INFO, (const char *[]){"source", src->name, "partition", part, NULL},
             "partition assigned");
}

/* Like eddy_exec_assigned; a partition of a durable source gets its task
 * now and its state restored before the partition is read: the answer is
 * the offset to read from (-1: the group's committed offset). */
int64_t eddy_exec_assigned_at(void *arg, int32_t partition)
{
    rt_source *src = arg;
    eddy_runtime *rt = src->rt;
    eddy_exec_assigned(arg, partition);
    int si = (int)(src - rt->sources);
    if (!eddy_state_source_durable(rt, si))
        return -1;
    return eddy_state_assigned(&rt->threads[src->thread], si, partition, task_get);
}

/* Called from inside the source's poll on its own thread: everything of
 * the partition is flushed and committed before the group moves it. */
void eddy_exec_revoked(void *arg, int32_t partition)
{
    rt_source *src = arg;
    eddy_runtime *rt = src->rt;
    rt_thread *th = &rt->threads[src->thread];
    int si = (int)(src - rt->sources);
    char part[16];
    snprintf(part, sizeof part, "%d", (int)partition);
    flush_sinks(th);
    for (int i = 0; i < th->ntasks; i++) {
        rt_task *t = th->tasks[i];
        if (t->source != si || t->partition != partition)
            continue;
        eddy_exec_task_free(rt, t);
        th->tasks[i] = th->tasks[--th->ntasks];
        break;
    }
    eddy_log(EDDY_LOG_INFO, (const char *[]){"source", src->name, "partition", part, NULL},
             "partition revoked: flushed and committed");
}

/* A durable partition the group took away without a revoke: its new owner
 * restores from the changelog, which this worker must not write to any
 * more (its records would interleave with the new owner's). The task is
 * dropped as it is; its outputs since the last commit come again from the
 * new owner (at-least-once). Other sources behave as on a revoke. */
void eddy_exec_lost(void *arg, int32_t partition)
{
    rt_source *src = arg;
    eddy_runtime *rt = src->rt;
    int si = (int)(src - rt->sources);
    rt_thread *th = &rt->threads[src->thread];
    /* Exactly-once: the open transaction holds work of the lost partition
     * that must never commit; it is aborted, and the thread's other
     * partitions rewound to their last commit after this callback. */
    if (th->txn && !th->need_rewind)
        eddy_eos_abort(th, "a partition was lost");
    if (!eddy_state_source_durable(rt, si) && !th->txn) {
        eddy_exec_revoked(arg, partition);
        return;
    }
    for (int i = 0; i < th->ntasks; i++) {
        rt_task *t = th->tasks[i];
        if (t->source != si || t->partition != partition)
            continue;
        eddy_exec_task_free(rt, t);
        th->tasks[i] = th->tasks[--th->ntasks];
        break;
    }
    char part[16];
    snprintf(part, sizeof part, "%d", (int)partition);
    eddy_log(EDDY_LOG_WARN, (const char *[]){"source", src->name, "partition", part, NULL},
             "partition lost: its state and uncommitted work are dropped; the new owner "
             "restores the last committed state");
}

/* Backpressure: a sink with more unacknowledged output than its high water
 * pauses this thread's sources; they resume below half of it. */
static void backpressure(rt_thread *th)
{
    eddy_runtime *rt = th->rt;
    int behind = 0, drained = 1;
    for (int i = 0; i < rt->nsinks; i++) {
        rt_sink *s = rt->sinks[i];
        if (!s->ops->pending || !s->self)
            continue;
        int64_t high = 0;
        pthread_mutex_lock(&s->mu);
        int64_t n = s->ops->pending(s->self, &high);
        pthread_mutex_unlock(&s->mu);
        if (high > 0 && n > high)
            behind = 1;
        if (high > 0 && n > high / 2)
            drained = 0;
    }
    int want = th->paused ? !drained : behind;
    if (want == th->paused)
        return;
    th->paused = want;
    for (int k = 0; k < th->nsources; k++) {
        rt_source *src = &rt->sources[th->sources[k]];
        if (src->ops->pause)
            src->ops->pause(src->self, th->paused);
        if (th->paused)
            eddy_metric_add(src->m_paused, 1);
    }
    eddy_log(EDDY_LOG_INFO, NULL, th->paused ? "sinks behind: sources paused"
                                             : "sinks drained: sources resumed");
}

static void end_of_input(rt_thread *th, int si)
{
    for (int i = 0; i < th->ntasks; i++) {
        rt_task *t = th->tasks[i];
        if (t->source == si && t->watermark != EDDY_WATERMARK_END) {
            t->watermark = EDDY_WATERMARK_END;
            advance_watermark(th, t, EDDY_WATERMARK_END);
        }
    }
    flush_sinks(th);
}

/* A partition quiet for longer than its source's idle_timeout no longer
 * holds its watermark back: it advances with the wall clock from the last
 * event, so windows of a quiet stream close. */
static void idle_watermarks(rt_thread *th, int64_t now)
{
    eddy_runtime *rt = th->rt;
    for (int i = 0; i < th->ntasks; i++) {
        rt_task *t = th->tasks[i];
        rt_source *src = &rt->sources[t->source];
        if (!src->idle_timeout || t->max_ts == EDDY_TS_NONE || t->watermark == EDDY_WATERMARK_END ||
            now - t->last_arrival < src->idle_timeout)
            continue;
        int64_t wm = t->max_ts - src->max_out_of_order + (now - t->last_arrival);
        if (wm > t->watermark) {
            t->watermark = wm;
            advance_watermark(th, t, wm);
        }
    }
    eddy_exec_flush_dead_letters(th);
}

static void wall_timers(rt_thread *th, int64_t now)
{
    eddy_runtime *rt = th->rt;
    for (int i = 0; i < th->ntasks; i++)
        for (int k = 0; k < rt->ninst; k++) {
            eddy_ctx *c = th->tasks[i]->inst[k];
            if (c && c->ntimers)
                fire_timers(c, 0, now);
        }
}

/* A source instance (worker.threads) that holds no partition while every
 * other instance of its source has read its input to the end (a bounded
 * replay with more threads than partitions): it has nothing left to read. */
static int idle_instance_done(eddy_runtime *rt, int si)
{
    rt_source *src = &rt->sources[si];
    if (!src->ops->parallel || !src->ops->partitions)
        return 0;
    int idle = src->ops->partitions(src->self) == 0;
    atomic_store(&src->idle, idle);
    if (!idle)
        return 0;
    /* Done when the others ended or hold nothing either, and at least one
     * of them read something to its end. */
    int ended = 0;
    for (int i = 0; i < rt->nsources; i++) {
        if (i == si || rt->sources[i].origin != src->origin)
            continue;
        if (atomic_load(&rt->sources[i].ended))
            ended++;
        else if (!atomic_load(&rt->sources[i].idle))
            return 0;
    }
    return ended > 0;
}

void *eddy_exec_thread_main(void *arg)
{
    rt_thread *th = arg;
    eddy_runtime *rt = th->rt;
    int64_t flush_every = eddy_flush_interval_ms(rt);
    bool exit_on_eof = eddy_opts_bool(rt->worker, "exit_on_eof");
    th->last_flush_ms = eddy_now_ms();
    eddy_eos_thread_open(th);
    while (!atomic_load(&rt->stopping)) {
        int active = 0, worked = 0;
        if (th->need_rewind)
            eddy_eos_rewind(th);
        for (int k = 0; k < th->nsources && !atomic_load(&rt->stopping); k++) {
            int si = th->sources[k];
            rt_source *src = &rt->sources[si];
            if (atomic_load(&src->ended))
                continue;
            active++;
            eddy_batch *b = eddy_exec_batch_get(th);
            if (!b) {
                atomic_store(&rt->failed, 1);
                atomic_store(&rt->stopping, 1);
                break;
            }
            int timeout = worked ? 0 : (th->nsources == 1 ? 100 : 10);
            th->err[0] = '\0';
            int n = src->ops->poll(src->self, b, rt->batch_size, timeout, th->err, sizeof th->err);
            if (n > 0 && th->need_rewind) {
                /* An abort inside this poll (a rebalance): the batch is
                 * read again after the rewind. */
                eddy_exec_batch_put(th, b);
                eddy_eos_rewind(th);
                continue;
            }
            if (n > 0) {
                worked = 1;
                if (src->ops->parallel)
                    atomic_store(&src->idle, 0);
                process_source_batch(th, si, b);
                continue;
            }
            eddy_exec_batch_put(th, b);
            if (n == 0 && idle_instance_done(rt, si))
                n = EDDY_EEOF;
            if (n == EDDY_EEOF) {
                atomic_store(&src->ended, 1);
                eddy_log(EDDY_LOG_INFO, (const char *[]){"source", src->name, NULL}, "input ended");
                end_of_input(th, si);
            } else if (n < 0) {
                eddy_log(EDDY_LOG_ERROR, (const char *[]){"source", src->name, NULL},
                         "source failed, stopping the worker: %s",
                         th->err[0] ? th->err : eddy_strerror(n));
                atomic_store(&rt->failed, 1);
                atomic_store(&rt->stopping, 1);
            }
        }
        int64_t now = eddy_now_ms();
        backpressure(th);
        idle_watermarks(th, now);
        wall_timers(th, now);
        if (now - th->last_flush_ms >= flush_every) {
            if (!eddy_ckpt_usable(th) || eddy_ckpt_start(th) != 0)
                flush_sinks(th);
            th->last_flush_ms = now;
        } else {
            eddy_ckpt_poll(th);
        }
        if (active == 0) {
            if (exit_on_eof)
                break;
            struct timespec ts = {0, 100 * 1000000};
            nanosleep(&ts, NULL);
        }
    }
    if (!th->need_rewind)
        flush_sinks(th);
    eddy_eos_thread_close(th);
    char num[2][32];
    snprintf(num[0], sizeof num[0], "%d", th->idx);
    snprintf(num[1], sizeof num[1], "%.0f", th->commit_ms);
    eddy_log(EDDY_LOG_INFO, (const char *[]){"thread", num[0], "commit_ms", num[1], NULL},
             "processing thread done (%.0f ms of its run spent committing)", th->commit_ms);
    atomic_fetch_add(&rt->threads_done, 1);
    return NULL;
}
