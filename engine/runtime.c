/* Runtime lifecycle: open connectors, start threads, stop, free, status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/exec.h"
#include "lib/store/store.h"
#include "engine/obs/log.h"
#include "engine/state/state.h"

/* worker.threads N: a source whose instances split its input (Kafka: one
 * consumer of the group each) gets N - 1 more instances, appended to
 * sources[], so that each thread reads a share of its partitions. */
static int add_instances(eddy_runtime *rt, char *err, size_t errlen)
{
    int configured = rt->nsources, extra = 0;
    for (int i = 0; i < configured; i++)
        if (rt->sources[i].ops->parallel && rt->nthreads > 1)
            extra += rt->nthreads - 1;
    if (!extra)
        return 0;
    rt_source *ns = realloc(rt->sources, sizeof *ns * (size_t)(configured + extra));
    if (!ns) {
        eddy_errf(err, errlen, "out of memory");
        return EDDY_ENOMEM;
    }
    rt->sources = ns;
    int n = configured;
    for (int i = 0; i < configured; i++) {
        if (!rt->sources[i].ops->parallel || rt->nthreads < 2)
            continue;
        for (int k = 1; k < rt->nthreads; k++) {
            rt_source *c = &rt->sources[n++];
            memcpy((void *)c, &rt->sources[i], sizeof *c);
            c->origin = i;
            c->instance = k;
            c->self = NULL;
            atomic_store(&c->ended, 0);
            atomic_store(&c->idle, 0);
        }
    }
    rt->nsources = n;
    return 0;
}

int eddy_runtime_start(eddy_runtime *rt, char *err, size_t errlen)
{
    /* Connector sections first (e.g. declared Kafka topics must exist
     * before any Kafka client starts), then what they add to the env. */
    for (int i = 0; i < rt->nsections; i++) {
        const rt_section *sec = &rt->sections[i];
        if (sec->def->start && sec->def->start(sec->state, err, errlen) != 0)
            return EDDY_ECONFIG;
    }
    rt->sink_env.worker = eddy_opts_str(rt->worker, "name");
    rt->sink_env.metrics = rt->metrics;
    for (int i = 0; i < rt->nsections; i++)
        if (rt->sections[i].def->bind)
            rt->sections[i].def->bind(rt->sections[i].state, &rt->sink_env);
    int state_rc = add_instances(rt, err, errlen);
    if (state_rc != 0)
        return state_rc;
    /* Durable state: changelog topics checked before any source opens. */
    state_rc = eddy_state_start(rt, err, errlen);
    if (state_rc != 0)
        return state_rc;
    if ((state_rc = eddy_eos_start(rt, err, errlen)) != 0)
        return state_rc;
    rt->ninst = 0;
    for (int i = 0; i < rt->npipelines; i++) {
        rt->pipelines[i].base = rt->ninst;
        rt->ninst += rt->pipelines[i].nsteps;
    }
    for (int i = 0; i < rt->nsinks; i++) {
        rt_sink *s = rt->sinks[i];
        char e[512] = "";
        if (s->ops->open(s->opts, s->name, &rt->sink_env, &s->self, e, sizeof e) != 0) {
            snprintf(err, errlen, "sink %s (%s): %s", s->name, s->where, e[0] ? e : "cannot open");
            return EDDY_EIO;
        }
    }
    for (int i = 0; i < rt->nsources; i++) {
        rt_source *s = &rt->sources[i];
        char e[512] = "";
        s->rt = rt;
        s->env = rt->sink_env;
        s->env.assigned = eddy_exec_assigned;
        s->env.assigned_at = eddy_exec_assigned_at;
        s->env.lost = eddy_exec_lost;
        s->env.revoked = eddy_exec_revoked;
        s->env.arg = s;
        if (s->ops->open(s->opts, s->name, &s->env, &s->self, e, sizeof e) != 0) {
            snprintf(err, errlen, "source %s (%s): %s", s->name, s->where, e[0] ? e : "cannot open");
            return EDDY_EIO;
        }
    }
    rt->nthreads = rt->nthreads < rt->nsources ? rt->nthreads : rt->nsources;
    if (rt->nthreads < 1)
        rt->nthreads = 1;
    rt->threads = calloc((size_t)rt->nthreads, sizeof *rt->threads);
    if (!rt->threads) {
        snprintf(err, errlen, "out of memory");
        return EDDY_ENOMEM;
    }
    for (int i = 0; i < rt->nthreads; i++) {
        rt_thread *th = &rt->threads[i];
        th->rt = rt;
        th->idx = i;
        th->m_commit_ms = eddy_metrics_get(
            rt->metrics, "eddy_commit_milliseconds_total",
            "Time processing threads spent committing (sink flushes, durable state, offsets or "
            "the transaction), processing nothing meanwhile", EDDY_METRIC_COUNTER, "");
        th->dl = calloc((size_t)(rt->nsinks ? rt->nsinks : 1), sizeof *th->dl);
        th->sources = calloc((size_t)rt->nsources, sizeof *th->sources);
        if (!th->dl || !th->sources) {
            snprintf(err, errlen, "out of memory");
            return EDDY_ENOMEM;
        }
    }
    /* Instance k of a parallel source on thread k; other sources dealt
     * round robin. */
    int next = 0;
    for (int i = 0; i < rt->nsources; i++) {
        rt_source *s = &rt->sources[i];
        int parallel = s->ops->parallel && rt->nthreads > 1;
        rt_thread *th = &rt->threads[parallel ? s->instance % rt->nthreads : next++ % rt->nthreads];
        s->thread = th->idx;
        th->sources[th->nsources++] = i;
    }
    rt->started_at_ms = eddy_now_ms();
    for (int i = 0; i < rt->nthreads; i++) {
        rt_thread *th = &rt->threads[i];
        if (pthread_create(&th->tid, NULL, eddy_exec_thread_main, th) != 0) {
            snprintf(err, errlen, "cannot start processing thread %d", i);
            eddy_runtime_stop(rt);
            return EDDY_EIO;
        }
        th->started = 1;
    }
    atomic_store(&rt->started, 1);
    return 0;
}

void eddy_runtime_stop(eddy_runtime *rt)
{
    atomic_store(&rt->stopping, 1);
}

bool eddy_runtime_done(eddy_runtime *rt)
{
    int started = 0;
    for (int i = 0; i < rt->nthreads; i++)
        started += rt->threads && rt->threads[i].started;
    return atomic_load(&rt->threads_done) >= started;
}

const char *eddy_runtime_not_ready(eddy_runtime *rt)
{
    if (!atomic_load(&rt->started))
        return "starting";
    if (atomic_load(&rt->failed))
        return "failed: see the error log";
    if (atomic_load(&rt->stopping))
        return "draining";
    for (int i = 0; i < rt->nsources; i++) {
        rt_source *src = &rt->sources[i];
        if (src->ops->not_ready && src->self && !atomic_load(&src->ended) &&
            src->ops->not_ready(src->self, rt->not_ready, sizeof rt->not_ready))
            return rt->not_ready;
    }
    if (eddy_state_not_ready(rt, rt->not_ready, sizeof rt->not_ready))
        return rt->not_ready;
    /* A feature store that is down or full holds records (backpressure):
     * the worker is alive but not keeping up, so not ready. */
    if (!eddy_stores_ready(rt->not_ready, sizeof rt->not_ready))
        return rt->not_ready;
    return NULL;
}

static void sink_close(rt_sink *s)
{
    if (!s)
        return;
    if (s->self) {
        if (s->ops->flush)
            s->ops->flush(s->self);
        s->ops->close(s->self);
    }
    eddy_opts_free(s->opts);
    pthread_mutex_destroy(&s->mu);
    free(s->name);
    free(s);
}

void eddy_runtime_free(eddy_runtime *rt)
{
    if (!rt)
        return;
    atomic_store(&rt->stopping, 1);
    for (int i = 0; i < rt->nthreads && rt->threads; i++) {
        rt_thread *th = &rt->threads[i];
        if (th->started)
            pthread_join(th->tid, NULL);
        for (int k = 0; k < th->ntasks; k++)
            eddy_exec_task_free(rt, th->tasks[k]);
        free(th->tasks);
        while (th->pool) {
            eddy_batch *b = th->pool;
            th->pool = b->next_free;
            eddy_batch_destroy(b);
        }
        for (int k = 0; th->dl && k < rt->nsinks; k++)
            eddy_batch_destroy(th->dl[k]);
        free(th->dl);
        eddy_ckpt_free(th);
        free(th->sources);
    }
    free(rt->threads);
    for (int i = 0; i < rt->nsources; i++) {
        rt_source *s = &rt->sources[i];
        if (s->self)
            s->ops->close(s->self);
        if (s->origin != i)
            continue; /* an instance: the rest is its origin's */
        eddy_opts_free(s->opts);
        free(s->name);
        free(s->pipelines);
    }
    free(rt->sources);
    for (int i = 0; i < rt->nsinks; i++)
        sink_close(rt->sinks[i]);
    free(rt->sinks);
    eddy_state_free(rt);
    eddy_opts_free(rt->state_opts);
    eddy_opts_free(rt->processing_opts);
    eddy_eos_free(rt);
    for (int i = 0; i < rt->npipelines; i++) {
        rt_pipeline *p = &rt->pipelines[i];
        for (int s = 0; s < p->nsteps; s++) {
            eddy_opts_free(p->steps[s].opts);
            eddy_opts_free(p->steps[s].alert_opts);
            for (int k = 0; k < 8; k++)
                free(p->steps[s].req_names[k]);
            pthread_mutex_destroy(&p->steps[s].req_mu);
            eddy_alert_merge_free(p->steps[s].alert_merge);
            free(p->steps[s].name);
            free(p->steps[s].children);
            free(p->steps[s].sinks);
            for (int k = 0; k < p->steps[s].nouts; k++)
                free(p->steps[s].out_names[k]);
            free(p->steps[s].out_names);
            free(p->steps[s].out_sinks);
        }
        free(p->steps);
        free(p->root_children);
        free(p->root_sinks);
        free(p->sinks);
        free(p->subscribers);
        free(p->name);
    }
    free(rt->pipelines);
    eddy_opts_free(rt->worker);
    eddy_opts_free(rt->admin);
    eddy_opts_free(rt->log);
    for (int i = 0; i < rt->nsections; i++)
        rt->sections[i].def->free(rt->sections[i].state);
    free(rt->sections);
    eddy_metrics_free(rt->metrics);
    eddy_alert_ring_free(rt->alerts);
    free(rt);
}

static void json_kv_str(eddy_buf *o, const char *k, const char *v, int comma)
{
    if (comma)
        eddy_buf_putc(o, ',');
    eddy_buf_json_str(o, k, strlen(k));
    eddy_buf_putc(o, ':');
    eddy_buf_json_str(o, v, strlen(v));
}

static void json_kv_num(eddy_buf *o, const char *k, double v)
{
    eddy_buf_printf(o, ",\"%s\":%.0f", k, v);
}

int eddy_runtime_status_json(eddy_runtime *rt, eddy_buf *o)
{
    const char *nr = eddy_runtime_not_ready(rt);
    eddy_buf_puts(o, "{");
    json_kv_str(o, "worker", eddy_opts_str(rt->worker, "name"), 0);
    json_kv_str(o, "state", nr ? nr : "running", 1);
    eddy_buf_printf(o, ",\"uptime_ms\":%lld", (long long)(eddy_now_ms() - rt->started_at_ms));
    eddy_buf_puts(o, ",\"sources\":[");
    for (int i = 0; i < rt->nsources; i++) {
        rt_source *s = &rt->sources[i];
        if (s->origin != i)
            continue; /* instances share their source's counters */
        eddy_buf_puts(o, i ? ",{" : "{");
        json_kv_str(o, "name", s->name, 0);
        json_kv_str(o, "type", s->ops->type, 1);
        json_kv_str(o, "state", atomic_load(&s->ended) ? "ended" : "reading", 1);
        json_kv_num(o, "records", eddy_metric_value(s->m_in));
        json_kv_num(o, "errors", eddy_metric_value(s->m_err));
        json_kv_num(o, "dead_letters", eddy_metric_value(s->m_dead));
        eddy_buf_putc(o, '}');
    }
    eddy_buf_puts(o, "],\"pipelines\":[");
    for (int i = 0; i < rt->npipelines; i++) {
        rt_pipeline *p = &rt->pipelines[i];
        eddy_buf_puts(o, i ? ",{" : "{");
        json_kv_str(o, "name", p->name, 0);
        json_kv_str(o, "from", p->from_source >= 0 ? rt->sources[p->from_source].name
                                                   : rt->pipelines[p->from_pipeline].name, 1);
        json_kv_str(o, "state", nr ? nr : "running", 1);
        json_kv_num(o, "records_in", eddy_metric_value(p->m_in));
        json_kv_num(o, "dead_letters", eddy_metric_value(p->m_dead));
        eddy_buf_puts(o, ",\"steps\":[");
        for (int s = 0; s < p->nsteps; s++) {
            rt_step *st = &p->steps[s];
            eddy_buf_puts(o, s ? ",{" : "{");
            json_kv_str(o, "name", st->name, 0);
            json_kv_str(o, "operator", st->op->d.name, 1);
            json_kv_str(o, "after", st->parent < 0 ? "input" : p->steps[st->parent].name, 1);
            json_kv_num(o, "records_in", eddy_metric_value(st->m_in));
            json_kv_num(o, "records_out", eddy_metric_value(st->m_out));
            json_kv_num(o, "errors", eddy_metric_value(st->m_err));
            eddy_buf_putc(o, '}');
        }
        eddy_buf_puts(o, "],\"sinks\":[");
        for (int s = 0; s < p->nsinks; s++) {
            rt_sink *k = p->sinks[s];
            eddy_buf_puts(o, s ? ",{" : "{");
            json_kv_str(o, "name", k ? k->name : "", 0);
            json_kv_str(o, "type", k ? k->ops->type : "", 1);
            json_kv_num(o, "records", k ? eddy_metric_value(k->m_out) : 0);
            json_kv_num(o, "errors", k ? eddy_metric_value(k->m_err) : 0);
            eddy_buf_putc(o, '}');
        }
        eddy_buf_puts(o, "]}");
    }
    return eddy_buf_puts(o, "]}");
}

/* The operator lists `what` in its descriptor's requests (ABI 1.3). */
static bool op_accepts(const eddy_opdef *op, const char *what)
{
    for (const char *const *r = op->d.requests; r && *r; r++)
        if (strcmp(*r, what) == 0)
            return true;
    return false;
}

int eddy_runtime_request(eddy_runtime *rt, const char *pipeline, const char *step,
                         const char *what, bool *pipeline_found, const eddy_opdef **op)
{
    *pipeline_found = false;
    *op = NULL;
    for (int i = 0; i < rt->npipelines; i++) {
        rt_pipeline *p = &rt->pipelines[i];
        if (strcmp(p->name, pipeline) != 0)
            continue;
        *pipeline_found = true;
        for (int s = 0; s < p->nsteps; s++) {
            rt_step *st = &p->steps[s];
            if (strcmp(st->name, step) != 0)
                continue;
            *op = st->op;
            if (st->op->declares_requests && !op_accepts(st->op, what))
                return EDDY_EUNSUPPORTED;
            int rc = EDDY_ELIMIT;
            pthread_mutex_lock(&st->req_mu);
            for (int k = 0; k < 8; k++) {
                if (!st->req_names[k]) {
                    st->req_names[k] = strdup(what);
                    if (!st->req_names[k]) {
                        rc = EDDY_ENOMEM;
                        break;
                    }
                }
                if (strcmp(st->req_names[k], what) == 0) {
                    atomic_fetch_add(&st->req_counts[k], 1);
                    rc = st->op->declares_requests ? 0 : 1;
                    break;
                }
            }
            pthread_mutex_unlock(&st->req_mu);
            return rc;
        }
    }
    return EDDY_ENOTFOUND;
}
