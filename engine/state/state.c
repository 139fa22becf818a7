/* Durable state, the runtime's side: which sources and steps are durable,
 * the flush at each commit (steps 2-3 of the protocol in state.h) and the
 * restore when a partition is assigned. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/obs/log.h"
#include "engine/state/state_int.h"

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int op_mode(const eddy_opdef *op)
{
    if (op->d.state_flush && op->d.state_load)
        return ST_KEYED;
    if (op->d.state_flags & EDDY_STATE_HOST)
        return ST_HOST;
    if (op->d.snapshot && op->d.restore)
        return ST_SNAPSHOT;
    return 0;
}

bool eddy_state_source_durable(const eddy_runtime *rt, int source)
{
    return rt->state && rt->state->src[source].durable;
}

static int has_stateful_step(const eddy_runtime *rt, int si)
{
    for (int i = 0; i < rt->npipelines; i++) {
        const rt_pipeline *p = &rt->pipelines[i];
        if (p->root_source != rt->sources[si].origin)
            continue;
        for (int s = 0; s < p->nsteps; s++)
            if (op_mode(p->steps[s].op))
                return 1;
    }
    return 0;
}

static eddy_metric *metric(eddy_runtime *rt, const char *name, const char *help,
                           eddy_metric_kind kind)
{
    return eddy_metrics_get(rt->metrics, name, help, kind, "");
}

bool eddy_state_source_stateful(const eddy_runtime *rt, int i)
{
    const eddy_source_ops *ops = rt->sources[i].ops;
    return rt->state_opts && eddy_opts_bool(rt->state_opts, "enabled") && ops->changelog &&
           ops->partition_topic && has_stateful_step(rt, i);
}

char *eddy_state_changelog_topic(const eddy_runtime *rt, int i)
{
    const rt_source *src = &rt->sources[i];
    for (uint32_t k = 0; k < eddy_opts_count(rt->state_opts, "topics"); k++)
        if (strcmp(eddy_opts_key(rt->state_opts, "topics", k), src->name) == 0) {
            const char *named = eddy_opts_item(rt->state_opts, "topics", k);
            if (named && *named)
                return strdup(named);
        }
    return src->ops->changelog->default_topic(src->opts, &rt->sink_env, src->name);
}

int eddy_state_start(eddy_runtime *rt, char *err, size_t errlen)
{
    int any = 0;
    for (int i = 0; i < rt->nsources; i++)
        any |= eddy_state_source_stateful(rt, i);
    if (!any)
        return 0;
    eddy_state *s = calloc(1, sizeof *s);
    if (!s || !(s->src = calloc((size_t)rt->nsources, sizeof *s->src))) {
        free(s);
        eddy_errf(err, errlen, "out of memory");
        return EDDY_ENOMEM;
    }
    s->rt = rt;
    rt->state = s;
    pthread_mutex_init(&s->mu, NULL);
    const char *mm = eddy_opts_str(rt->state_opts, "on_mismatch");
    s->discard = mm && strcmp(mm, "discard") == 0;
    s->restore_timeout = eddy_opts_int(rt->state_opts, "restore_timeout");
    const char *cd = eddy_opts_str(rt->state_opts, "cache_dir");
    s->cache_dir = cd && *cd ? cd : NULL;
    for (int i = 0; i < rt->nsources; i++) {
        rt_source *src = &rt->sources[i];
        st_source *ss = &s->src[i];
        if (!eddy_state_source_stateful(rt, i))
            continue;
        if (src->origin != i) {
            /* An instance: the configured source's changelog (its handle
             * keeps a producer per thread). */
            *ss = s->src[src->origin];
            ss->shared = 1;
            continue;
        }
        ss->durable = 1;
        ss->ops = src->ops->changelog;
        if (!(ss->topic = eddy_state_changelog_topic(rt, i))) {
            eddy_errf(err, errlen, "out of memory");
            return EDDY_ENOMEM;
        }
        if (!(ss->cl = ss->ops->open(src->opts, &rt->sink_env, src->name, ss->topic,
                                     eddy_cfg_path(rt->cfg), err, errlen)))
            return EDDY_ECONFIG;
    }
    /* A step's state is found again by its name: a default name ("window#1")
     * changes when a step is inserted before it. */
    for (int i = 0; i < rt->npipelines; i++) {
        rt_pipeline *p = &rt->pipelines[i];
        if (p->root_source < 0 || !s->src[p->root_source].durable)
            continue;
        for (int k = 0; k < p->nsteps; k++)
            if (op_mode(p->steps[k].op) && strchr(p->steps[k].name, '#'))
                eddy_log(EDDY_LOG_WARN,
                         (const char *[]){"pipeline", p->name, "step", p->steps[k].name, NULL},
                         "step %s keeps durable state under its default name; give it a `name:` "
                         "so that adding a step before it does not rename it (its state would "
                         "not be found)", p->steps[k].name);
    }
    s->m_records = metric(rt, "eddy_state_changelog_records_total",
                          "State records written to changelog topics", EDDY_METRIC_COUNTER);
    s->m_tombs = metric(rt, "eddy_state_changelog_tombstones_total",
                        "Tombstones (keys gone) written to changelog topics", EDDY_METRIC_COUNTER);
    s->m_bytes = metric(rt, "eddy_state_changelog_bytes_total",
                        "Key and value bytes written to changelog topics (before compression)",
                        EDDY_METRIC_COUNTER);
    s->m_restored = eddy_metrics_get(rt->metrics, "eddy_state_restore_records_total",
                                     "State records read while restoring partitions, from the "
                                     "changelog or the local cache (state.cache_dir)",
                                     EDDY_METRIC_COUNTER, "from=\"changelog\"");
    s->m_restored_cache = eddy_metrics_get(rt->metrics, "eddy_state_restore_records_total",
                                           "State records read while restoring partitions, from "
                                           "the changelog or the local cache (state.cache_dir)",
                                           EDDY_METRIC_COUNTER, "from=\"cache\"");
    s->m_restore_ms = metric(rt, "eddy_state_restore_milliseconds_total",
                             "Time spent restoring partitions' state", EDDY_METRIC_COUNTER);
    s->m_flush_ms = metric(rt, "eddy_state_flush_milliseconds_total",
                           "Time spent writing state and waiting for the changelog at commits",
                           EDDY_METRIC_COUNTER);
    return 0;
}

void eddy_state_free(eddy_runtime *rt)
{
    eddy_state *s = rt->state;
    if (!s)
        return;
    for (int i = 0; s->src && i < rt->nsources; i++) {
        if (s->src[i].shared)
            continue;
        if (s->src[i].cl)
            s->src[i].ops->close(s->src[i].cl);
        free(s->src[i].topic);
    }
    free(s->src);
    pthread_mutex_destroy(&s->mu);
    free(s);
    rt->state = NULL;
}

/* The task's local cache goes without a trailer (ignored at the next
 * restore): writing it failed, or it could not be kept up. */
static void cache_off(st_task *tt, const char *why)
{
    eddy_log(EDDY_LOG_WARN, (const char *[]){"file", eddy_scache_path(tt->cache), NULL},
             "local state cache of %s[%d] turned off: %s; the next restore reads the changelog",
             tt->topic, (int)tt->kpart, why);
    eddy_scache_close(tt->cache);
    tt->cache = NULL;
    tt->pend.len = 0;
    tt->npend = 0;
}

void eddy_state_task_free(rt_task *t)
{
    if (!t->st)
        return;
    st_task *tt = t->st;
    /* A clean point: the file holds what the changelog held for good at
     * cache_x (records still pending are not, and are dropped). A failed
     * worker leaves no trailer: its next start reads the changelog. */
    if (tt->cache && !atomic_load(&tt->s->rt->failed) && tt->cache_x >= 0) {
        char err[512];
        if (eddy_scache_seal(tt->cache, tt->cache_x, err, sizeof err) != 0)
            eddy_log(EDDY_LOG_WARN, NULL, "local state cache: %s; the next restore reads the "
                     "changelog", err);
    }
    eddy_scache_close(tt->cache);
    eddy_buf_free(&tt->pend);
    free(t->st->topic);
    eddy_buf_free(&t->st->kb);
    eddy_buf_free(&t->st->vb);
    free(t->st);
    t->st = NULL;
}

const char *eddy_state_not_ready(eddy_runtime *rt, char *buf, size_t len)
{
    eddy_state *s = rt->state;
    if (!s)
        return NULL;
    pthread_mutex_lock(&s->mu);
    int n = s->nrestoring;
    if (n)
        snprintf(buf, len, "restoring state: %s", s->restoring);
    pthread_mutex_unlock(&s->mu);
    return n ? buf : NULL;
}

void eddy_state_stop_worker(eddy_runtime *rt)
{
    atomic_store(&rt->failed, 1);
    atomic_store(&rt->stopping, 1);
}

/* ---- writing ------------------------------------------------------------------------ */

int eddy_state_write_kind(eddy_ctx *ctx, int kind, const void *key, size_t klen, int version,
                          const void *data, size_t len)
{
    eddy_state *s = ctx->rt->state;
    st_task *tt = ctx->task->st;
    st_ctx *sc = ctx->sst;
    eddy_buf *kb = &tt->kb, *vb = &tt->vb;
    kb->len = vb->len = 0;
    if (eddy_cl_key(kb, kind, sc->step_id, key, klen) != 0 ||
        (data && (eddy_cl_value_hdr(vb, sc->fp, version) != 0 ||
                  (len && eddy_buf_put(vb, data, len) != 0))))
        return EDDY_ENOMEM;
    st_source *ss = &s->src[ctx->task->source];
    int rc = ss->ops->write(ss->cl, ctx->th->idx, tt->kpart, kb->data, kb->len,
                            data ? vb->data : NULL, data ? vb->len : 0);
    if (rc == 0) {
        tt->produced++;
        if (tt->cache) {
            if (eddy_scache_frame(&tt->pend, kb->data, kb->len, data ? vb->data : NULL,
                                  data ? vb->len : 0) == 0)
                tt->npend++;
            else
                cache_off(tt, "out of memory");
        }
        eddy_metric_add(data ? s->m_records : s->m_tombs, 1);
        eddy_metric_add(s->m_bytes, (double)(kb->len + (data ? vb->len : 0)));
    }
    return rc;
}

static int flush_host_keys(eddy_ctx *c)
{
    st_kv *kv = &c->sst->kv;
    for (uint32_t i = 0; i < kv->nb; i++)
        for (st_kv_ent **pe = &kv->b[i]; *pe;) {
            st_kv_ent *e = *pe;
            if (e->dirty) {
                int rc = eddy_state_write_kind(c, EDDY_CL_HOSTKEY, e->key, e->klen, 1,
                                               e->gone ? NULL : (e->val ? e->val : (uint8_t *)""),
                                               e->vlen);
                if (rc < 0)
                    return rc;
                e->dirty = 0;
            }
            if (e->gone) {
                *pe = e->next;
                free(e->val);
                free(e);
                kv->n--;
                continue;
            }
            pe = &e->next;
        }
    return 0;
}

static int flush_ctx(rt_task *t, eddy_ctx *c)
{
    st_ctx *sc = c->sst;
    st_task *tt = t->st;
    int rc = 0;
    if (!sc->meta_written) {
        rc = eddy_state_write_kind(c, EDDY_CL_META, NULL, 0, 1, sc->text.data ? (const void *)sc->text.data : (const void *)"",
                                   sc->text.len);
        if (rc < 0)
            return rc;
        sc->meta_written = 1;
    }
    switch (sc->mode) {
    case ST_KEYED:
        return c->st->op->d.state_flush(c->state, c);
    case ST_HOST:
        return flush_host_keys(c);
    case ST_SNAPSHOT: {
        /* Whole-operator fallback (ABI 1.0/1.1 operators): rewritten only
         * when the task moved since the last flush. */
        if (t->last_offset == tt->flushed_offset && t->watermark == tt->flushed_wm)
            return 0;
        void *data = NULL;
        size_t len = 0;
        int v = c->st->op->d.snapshot(c->state, c, &data, &len);
        if (v > 0)
            rc = eddy_state_write_kind(c, EDDY_CL_SNAPSHOT, NULL, 0, v, data ? data : "", len);
        else if (v < 0)
            rc = v;
        eddy_host_table.free(data);
        return rc;
    }
    default:
        return 0;
    }
}

/* The watermark a marker keeps: a bounded input's END is not a position a
 * later run should start from. */
static int64_t marker_wm(const eddy_runtime *rt, const rt_task *t)
{
    if (t->watermark != EDDY_WATERMARK_END)
        return t->watermark;
    return t->max_ts == EDDY_TS_NONE ? EDDY_TS_NONE
                                     : t->max_ts - rt->sources[t->source].max_out_of_order;
}

static int flush_task(eddy_runtime *rt, rt_thread *th, rt_task *t)
{
    st_task *tt = t->st;
    tt->produced = 0;
    for (int i = 0; i < rt->ninst; i++) {
        eddy_ctx *c = t->inst[i];
        if (!c || !c->sst || !c->sst->active)
            continue;
        int rc = flush_ctx(t, c);
        if (rc >= 0)
            rc = eddy_state_alerts_flush(c);
        if (rc >= 0)
            rc = eddy_state_timers_flush(c);
        if (rc < 0) {
            eddy_log(EDDY_LOG_ERROR,
                     (const char *[]){"pipeline", c->p->name, "step", c->st->name, NULL},
                     "cannot write the step's durable state (%s); stopping without committing",
                     eddy_strerror(rc));
            return rc;
        }
    }
    if (t->last_offset < 0 ||
        (!tt->produced && t->last_offset == tt->flushed_offset && t->watermark == tt->flushed_wm))
        return 0;
    eddy_cl_marker m = {t->last_offset, t->max_ts, marker_wm(rt, t), ++tt->seq};
    eddy_buf k = {0}, v = {0};
    eddy_cl_key(&k, EDDY_CL_MARKER, tt->marker_id, tt->topic, strlen(tt->topic));
    eddy_cl_marker_put(&v, &m);
    eddy_state *s = rt->state;
    st_source *ss = &s->src[t->source];
    int rc = k.data && v.data ? ss->ops->write(ss->cl, th->idx, tt->kpart, k.data, k.len, v.data,
                                               v.len)
                              : EDDY_ENOMEM;
    if (rc == 0 && tt->cache) {
        if (eddy_scache_frame(&tt->pend, k.data, k.len, v.data, v.len) == 0)
            tt->npend++;
        else
            cache_off(tt, "out of memory");
    }
    eddy_buf_free(&k);
    eddy_buf_free(&v);
    if (rc == 0) {
        tt->flushed_offset = t->last_offset;
        tt->flushed_wm = t->watermark;
    }
    return rc;
}

/* The changelog holds the task's pending records for good: into the file,
 * and the file's offset moves past them. At-least-once, only when they
 * follow the file's offset with no other writer's records in between (a
 * worker that lost the partition without knowing yet, or the task of
 * another input topic sharing the changelog partition): otherwise the
 * offset stays, and the next restore reads those records from the
 * changelog. Exactly-once, to the last acknowledged record: what lies
 * between is transaction markers, aborted records, or records of other
 * tasks (a zombie's transaction cannot commit). A position too low only
 * makes the next restore read records again: applying a suffix of the
 * history twice leaves the same state. */
static void cache_commit(eddy_state *s, rt_task *t, int eos)
{
    st_task *tt = t->st;
    if (!tt || !tt->cache)
        return;
    if (tt->npend && eddy_scache_append(tt->cache, tt->pend.data, tt->pend.len, tt->npend) != 0) {
        cache_off(tt, "cannot write the file");
        return;
    }
    tt->pend.len = 0;
    tt->npend = 0;
    /* Keys rewritten at every commit would grow the file without bound
     * between restarts: it is compacted whenever it doubled. */
    char err[512];
    int64_t t0 = mono_ms();
    uint64_t before = eddy_scache_records(tt->cache);
    int c = eddy_scache_maybe_compact(tt->cache, err, sizeof err);
    if (c < 0) {
        cache_off(tt, err);
        return;
    }
    if (c > 0)
        eddy_log(EDDY_LOG_INFO, (const char *[]){"file", eddy_scache_path(tt->cache), NULL},
                 "local state cache compacted: %llu record(s) to %llu in %lld ms",
                 (unsigned long long)before, (unsigned long long)eddy_scache_records(tt->cache),
                 (long long)(mono_ms() - t0));
    st_source *ss = &s->src[t->source];
    int64_t first = -1;
    uint64_t n = 0;
    int64_t x = ss->ops->position(ss->cl, tt->kpart, &first, &n);
    if (x > tt->cache_x && (eos || (first == tt->cache_x && x - first == (int64_t)n)))
        tt->cache_x = x;
}

void eddy_state_txn_done(rt_thread *th, int committed)
{
    eddy_state *s = th->rt->state;
    if (!s || !s->cache_dir)
        return;
    for (int i = 0; i < th->ntasks; i++) {
        rt_task *t = th->tasks[i];
        if (!t->st)
            continue;
        if (committed) {
            cache_commit(s, t, 1);
        } else {
            t->st->pend.len = 0;
            t->st->npend = 0;
        }
    }
}

int eddy_state_flush(rt_thread *th)
{
    eddy_runtime *rt = th->rt;
    eddy_state *s = rt->state;
    if (!s)
        return 0;
    int64_t t0 = mono_ms();
    int any = 0;
    for (int i = 0; i < th->ntasks; i++) {
        rt_task *t = th->tasks[i];
        if (!t->st)
            continue;
        any = 1;
        if (flush_task(rt, th, t) != 0) {
            eddy_state_stop_worker(rt);
            return EDDY_EIO;
        }
    }
    if (!any)
        return 0;
    for (int k = 0; k < th->nsources; k++) {
        st_source *ss = &s->src[th->sources[k]];
        if (ss->durable && ss->ops->flush(ss->cl, th->idx) != 0) {
            eddy_state_stop_worker(rt);
            return EDDY_EIO;
        }
    }
    /* Exactly-once: the records count once the transaction commits
     * (eddy_state_txn_done). */
    for (int i = 0; s->cache_dir && !th->txn && i < th->ntasks; i++)
        cache_commit(s, th->tasks[i], 0);
    eddy_metric_add(s->m_flush_ms, (double)(mono_ms() - t0));
    return 0;
}

/* ---- restore ------------------------------------------------------------------------- */

typedef struct restore {
    eddy_runtime *rt;
    rt_task *t;
    eddy_buf tail; /* records after the last marker: [u32 kl][k][u32 vl|~0][v] */
    uint32_t ntail;
    int found;
    eddy_cl_marker m;
    uint64_t applied, skipped;
    int err;
} restore;

static eddy_ctx *ctx_of(restore *r, uint32_t step)
{
    for (int i = 0; i < r->rt->ninst; i++) {
        eddy_ctx *c = r->t->inst[i];
        if (c && c->sst && c->sst->step_id == step)
            return c;
    }
    return NULL;
}

static int apply(restore *r, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, int tomb)
{
    int kind;
    uint32_t step;
    const uint8_t *key;
    size_t klen;
    if (eddy_cl_key_parse(k, kl, &kind, &step, &key, &klen) != 0)
        return 0;
    eddy_ctx *c = ctx_of(r, step);
    if (!c)
        return 0; /* a step no longer configured, or another input topic's */
    st_ctx *sc = c->sst;
    uint32_t fp = 0;
    int version = 0;
    const uint8_t *pl = NULL;
    size_t plen = 0;
    if (!tomb && eddy_cl_value_parse(v, vl, &fp, &version, &pl, &plen) != 0) {
        r->skipped++;
        return 0;
    }
    if (kind == EDDY_CL_META) {
        if (tomb)
            return 0;
        sc->seen_text.len = 0;
        eddy_buf_put(&sc->seen_text, pl, plen);
        sc->seen_meta = 1;
        sc->mismatch = fp != sc->fp;
        return 0;
    }
    if (!tomb && fp != sc->fp) {
        r->skipped++; /* written by another configuration: never misread */
        return 0;
    }
    int rc = 0;
    const eddy_op_descriptor *d = &c->st->op->d;
    if (kind == EDDY_CL_KEY && sc->mode == ST_KEYED)
        rc = d->state_load(c->state, c, key, klen, version, tomb ? NULL : pl, tomb ? 0 : plen);
    else if (kind == EDDY_CL_HOSTKEY && sc->mode == ST_HOST) {
        if (tomb) {
            st_kv_ent *e = st_kv_find(&sc->kv, key, klen);
            if (e) {
                e->gone = 1;
                e->dirty = 0;
            }
        } else {
            rc = st_kv_set(&sc->kv, key, klen, pl, plen, 0);
        }
    } else if (kind == EDDY_CL_SNAPSHOT && sc->mode == ST_SNAPSHOT && !tomb)
        rc = d->restore(c->state, c, version, pl, plen);
    else if (kind == EDDY_CL_ALERT)
        rc = eddy_state_alerts_load(c, key, klen, version, tomb ? NULL : pl, tomb ? 0 : plen);
    else if (kind == EDDY_CL_TIMERS)
        rc = eddy_state_timers_load(c, pl, plen, tomb);
    if (rc < 0) {
        eddy_log(EDDY_LOG_ERROR, (const char *[]){"pipeline", c->p->name, "step", c->st->name, NULL},
                 "the step refused a state record from the changelog (%s); stopping",
                 eddy_strerror(rc));
        return rc;
    }
    r->applied++;
    return 0;
}

static int apply_tail(restore *r)
{
    const uint8_t *p = r->tail.data, *end = p + r->tail.len;
    while (p && p < end) {
        uint32_t kl, vl;
        memcpy(&kl, p, 4);
        const uint8_t *k = p + 4;
        memcpy(&vl, k + kl, 4);
        const uint8_t *v = k + kl + 4;
        int tomb = vl == UINT32_MAX;
        int rc = apply(r, k, kl, tomb ? NULL : v, tomb ? 0 : vl, tomb);
        if (rc < 0)
            return rc;
        p = v + (tomb ? 0 : vl);
    }
    r->tail.len = 0;
    r->ntail = 0;
    return 0;
}

static int on_record(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
    restore *r = arg;
    st_task *tt = r->t->st;
    int kind;
    uint32_t step;
    const uint8_t *key;
    size_t klen;
    if (eddy_cl_key_parse(k, kl, &kind, &step, &key, &klen) != 0)
        return 0;
    if (kind == EDDY_CL_MARKER) {
        eddy_cl_marker m;
        if (step != tt->marker_id || klen != strlen(tt->topic) ||
            memcmp(key, tt->topic, klen) != 0 || eddy_cl_marker_get(v, vl, &m) != 0)
            return 0;
        /* Everything before a marker belongs to a complete flush. */
        int rc = apply_tail(r);
        r->m = m;
        r->found = 1;
        return rc;
    }
    if (!ctx_of(r, step))
        return 0;
    /* Held until the next marker shows the flush completed. */
    uint32_t k32 = (uint32_t)kl, v32 = v ? (uint32_t)vl : UINT32_MAX;
    if (eddy_buf_put(&r->tail, &k32, 4) || eddy_buf_put(&r->tail, k, kl) ||
        eddy_buf_put(&r->tail, &v32, 4) || (v && vl && eddy_buf_put(&r->tail, v, vl)))
        return EDDY_ENOMEM;
    r->ntail++;
    return 0;
}

/* A changelog record read while restoring: into the local cache too, so
 * that the file becomes the partition's whole history. */
static int on_changelog(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
    restore *r = arg;
    st_task *tt = r->t->st;
    if (tt->cache && eddy_scache_add(tt->cache, k, kl, v, vl) != 0)
        cache_off(tt, "cannot write the file");
    return on_record(arg, k, kl, v, vl);
}

/* Opens the task's cache file and, when it is valid for the changelog as
 * it is now, applies its records (through on_record, as the changelog's
 * would be) and sets *from to the changelog offset it covers. A file that
 * cannot be used is emptied, to be rebuilt from the changelog. 0, or <0
 * when a record was refused or the changelog cannot be asked. */
static int cache_load(eddy_state *s, st_source *ss, restore *r, int64_t *from, uint64_t *nc)
{
    st_task *tt = r->t->st;
    char path[4096], err[512] = "", why[512] = "";
    snprintf(path, sizeof path, "%s/%s/%d-%s.log", s->cache_dir, ss->topic, (int)tt->kpart,
             tt->topic);
    if (!(tt->cache = eddy_scache_open(path, err, sizeof err))) {
        eddy_log(EDDY_LOG_WARN, (const char *[]){"changelog", ss->topic, NULL},
                 "no local state cache for %s[%d]: %s; restoring from the changelog", tt->topic,
                 (int)tt->kpart, err);
        return 0;
    }
    int64_t lo = 0, hi = 0, x = 0;
    uint64_t recs = 0;
    int rc = ss->ops->offsets(ss->cl, tt->kpart, &lo, &hi);
    if (rc != 0)
        return rc;
    int ok = eddy_scache_check(tt->cache, &x, &recs, why, sizeof why);
    if (ok && (x > hi || x < lo)) {
        snprintf(why, sizeof why, "it covers the changelog up to offset %lld, but the "
                 "changelog partition holds offsets %lld to %lld now (was the topic recreated?)",
                 (long long)x, (long long)lo, (long long)hi);
        ok = 0;
    }
    if (!ok) {
        if (strcmp(why, "the file is empty") != 0)
            eddy_log(EDDY_LOG_WARN, (const char *[]){"file", path, NULL},
                     "ignoring the local state cache %s: %s; restoring from the changelog",
                     path, why);
        if (eddy_scache_reset(tt->cache, err, sizeof err) != 0)
            cache_off(tt, err);
        return 0;
    }
    rc = eddy_scache_replay(tt->cache, on_record, r, nc, err, sizeof err);
    if (rc != 0 && err[0]) {
        cache_off(tt, err); /* I/O: what was applied stands; the changelog follows */
        rc = 0;
    }
    *from = x;
    tt->cache_x = x;
    return rc;
}

/* After reading: a step whose last meta record differs from its config. */
static int check_mismatch(restore *r, eddy_state *s, const char *changelog)
{
    for (int i = 0; i < r->rt->ninst; i++) {
        eddy_ctx *c = r->t->inst[i];
        if (!c || !c->sst)
            continue;
        st_ctx *sc = c->sst;
        if (sc->mode == ST_ALERTS)
            continue; /* no options of its own to mismatch */
        if (!sc->mismatch && !(r->skipped && !sc->seen_meta))
            continue;
        char diff[512];
        if (sc->seen_meta)
            eddy_cl_opts_diff((const char *)sc->seen_text.data, sc->seen_text.len,
                              (const char *)sc->text.data, sc->text.len, diff, sizeof diff);
        else
            snprintf(diff, sizeof diff, "another configuration");
        char where[300];
        snprintf(where, sizeof where, "%s[%d]", changelog, (int)r->t->st->kpart);
        if (s->discard) {
            eddy_log(EDDY_LOG_WARN, (const char *[]){"pipeline", c->p->name, "step", c->st->name, NULL},
                     "pipeline %s, step %s: the state in %s was written with %s; discarded "
                     "(state.on_mismatch: discard): the step starts empty",
                     c->p->name, c->st->name, where, diff);
            continue;
        }
        eddy_log(EDDY_LOG_ERROR, (const char *[]){"pipeline", c->p->name, "step", c->st->name, NULL},
                 "pipeline %s, step %s: the state in %s was written with %s; it cannot be read "
                 "with this config (state.on_mismatch: discard drops it, or use another "
                 "consumer group or changelog topic)",
                 c->p->name, c->st->name, where, diff);
        return EDDY_ECONFIG;
    }
    return 0;
}

static void set_restoring(eddy_state *s, int delta, const char *what)
{
    pthread_mutex_lock(&s->mu);
    s->nrestoring += delta;
    if (what)
        snprintf(s->restoring, sizeof s->restoring, "%s", what);
    pthread_mutex_unlock(&s->mu);
}

int64_t eddy_state_assigned(rt_thread *th, int si, int32_t vpart,
                            rt_task *(*make_task)(rt_thread *, int, int32_t))
{
    eddy_runtime *rt = th->rt;
    eddy_state *s = rt->state;
    rt_source *src = &rt->sources[si];
    rt_task *t = make_task(th, si, vpart);
    if (!t) {
        eddy_log(EDDY_LOG_ERROR, (const char *[]){"source", src->name, NULL},
                 "out of memory creating a partition task; stopping the worker");
        eddy_state_stop_worker(rt);
        return -1;
    }
    if (t->st)
        return -1; /* already restored: keep reading where the group is */
    int32_t kp = 0;
    const char *topic = src->ops->partition_topic(src->self, vpart, &kp);
    st_task *tt = calloc(1, sizeof *tt);
    if (!tt || !topic || !(tt->topic = strdup(topic))) {
        free(tt);
        eddy_state_stop_worker(rt);
        return -1;
    }
    tt->kpart = kp;
    tt->marker_id = eddy_cl_fnv(topic, strlen(topic), EDDY_CL_FNV_INIT);
    tt->flushed_offset = -1;
    tt->flushed_wm = EDDY_TS_NONE;
    tt->cache_x = -1;
    tt->s = s;
    t->st = tt;
    for (int i = 0; i < rt->npipelines; i++) {
        rt_pipeline *p = &rt->pipelines[i];
        if (p->root_source != rt->sources[si].origin)
            continue;
        for (int k = 0; k < p->nsteps; k++) {
            eddy_ctx *c = t->inst[p->base + k];
            /* A step without state of its own (ensemble, filter, ...) may
             * still raise alerts: their noise-control state is kept. */
            int mode = op_mode(p->steps[k].op);
            if (!c)
                continue;
            if (!mode)
                mode = ST_ALERTS;
            st_ctx *sc = st_ctx_get(c);
            if (!sc) {
                eddy_state_stop_worker(rt);
                return -1;
            }
            const eddy_op_descriptor *d = &p->steps[k].op->d;
            sc->mode = mode;
            sc->step_id = eddy_cl_step_id(topic, p->name, p->steps[k].name);
            sc->text.len = 0;
            /* Alert state alone does not depend on the step's options (a
             * filter's condition may change freely): no meta record, and a
             * fingerprint of the operator only. */
            if (mode != ST_ALERTS)
                eddy_cl_opts_text(d->options, p->steps[k].opts, &sc->text);
            else
                sc->meta_written = 1;
            sc->fp = eddy_cl_fingerprint(d->name, d->version, (const char *)sc->text.data,
                                         sc->text.len);
        }
    }
    st_source *ss = &s->src[si];
    char what[256], part[16];
    snprintf(part, sizeof part, "%d", (int)kp);
    snprintf(what, sizeof what, "source %s, partition %s[%d] (changelog %s)", src->name, topic,
             (int)kp, ss->topic);
    set_restoring(s, 1, what);
    int64_t t0 = mono_ms();
    restore r = {.rt = rt, .t = t};
    uint64_t n = 0, nc = 0;
    int64_t from = 0, end = 0;
    int cached = s->cache_dir && ss->ops->offsets && ss->ops->position;
    int rc = cached ? cache_load(s, ss, &r, &from, &nc) : 0;
    if (rc == 0 && tt->cache) {
        int64_t f;
        uint64_t k;
        ss->ops->position(ss->cl, kp, &f, &k); /* count this task's writes from here on */
    }
    if (rc == 0)
        rc = ss->ops->read(ss->cl, kp, from, s->restore_timeout, on_changelog, &r, &n, &end);
    if (rc == 0 && tt->cache) {
        if (end > tt->cache_x)
            tt->cache_x = end;
        eddy_scache_mark(tt->cache);
    }
    if (rc == 0 && r.ntail)
        eddy_log(EDDY_LOG_WARN, (const char *[]){"source", src->name, "partition", part, NULL},
                 "dropped %u changelog record(s) written after the last complete commit (an "
                 "interrupted flush); the input is read again from that commit",
                 r.ntail);
    eddy_buf_free(&r.tail);
    if (rc == 0)
        rc = check_mismatch(&r, s, ss->topic);
    int64_t ms = mono_ms() - t0;
    eddy_metric_add(s->m_restored, (double)n);
    eddy_metric_add(s->m_restored_cache, (double)nc);
    eddy_metric_add(s->m_restore_ms, (double)ms);
    set_restoring(s, -1, NULL);
    if (rc != 0) {
        eddy_state_stop_worker(rt);
        return -1;
    }
    int64_t start = -1;
    if (r.found && r.m.last_offset >= 0) {
        t->last_offset = r.m.last_offset;
        t->max_ts = r.m.max_ts;
        t->watermark = r.m.watermark;
        tt->seq = r.m.seq;
        tt->flushed_offset = r.m.last_offset;
        tt->flushed_wm = r.m.watermark;
        start = r.m.last_offset + 1;
    }
    for (int i = 0; i < rt->ninst; i++) {
        eddy_ctx *c = t->inst[i];
        if (!c || !c->sst)
            continue;
        c->sst->active = 1;
        eddy_state_alerts_restored(c);
        const eddy_op_descriptor *d = &c->st->op->d;
        if (c->sst->mode == ST_KEYED && d->state_loaded &&
            d->state_loaded(c->state, c, t->watermark) < 0) {
            eddy_log(EDDY_LOG_ERROR, (const char *[]){"pipeline", c->p->name, "step", c->st->name, NULL},
                     "the step could not finish restoring its state; stopping");
            eddy_state_stop_worker(rt);
            return -1;
        }
    }
    char msg[64];
    snprintf(msg, sizeof msg, "%lld", (long long)start);
    const char *lab[] = {"source", src->name, "partition", part, "changelog", ss->topic,
                         "start_offset", start >= 0 ? msg : "committed", NULL};
    if (cached)
        eddy_log(EDDY_LOG_INFO, lab,
                 "state restored: %llu record(s) from the local cache and %llu changelog "
                 "record(s) from offset %lld, %llu applied, in %lld ms",
                 (unsigned long long)nc, (unsigned long long)n, (long long)from,
                 (unsigned long long)r.applied, (long long)ms);
    else
        eddy_log(EDDY_LOG_INFO, lab,
                 "state restored: %llu changelog record(s), %llu applied, in %lld ms",
                 (unsigned long long)n, (unsigned long long)r.applied, (long long)ms);
    return start;
}
