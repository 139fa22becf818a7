/* Commits that do not stop the processing thread.
 *
 * The at-least-once rule: an input offset is committed only once every
 * output derived from the records before it is acknowledged. The simple
 * way (flush_sinks in exec.c) waits at every worker.flush_interval until
 * the sinks have nothing in flight, and the thread processes nothing
 * meanwhile: every record that arrives then waits too, which shows in the
 * tail of the event-to-output latency.
 *
 * Here, at each interval the thread takes a checkpoint instead: each sink
 * that can (eddy_sink_ops.mark) hands back a token covering everything
 * written so far, the offsets reached are noted, and the thread carries
 * on. Once every token is acknowledged (eddy_sink_ops.acked, looked at on
 * every turn of the thread's loop) the noted offsets are committed. One
 * checkpoint is in flight per thread; a sink without mark is flushed as
 * before. A lost output fails the checkpoint, and the worker stops
 * without committing, as a failed flush does.
 *
 * Used only when nothing else must be made durable at the same point:
 * exactly-once (the transaction commits outputs, state and offsets
 * together) and durable state (state records must match the offsets) take
 * the blocking path. */
#include <stdlib.h>
#include <string.h>

#include "engine/exec.h"
#include "engine/obs/log.h"

struct ckpt_off {
    int source;
    int32_t partition;
    int64_t offset;
};

int eddy_ckpt_usable(const rt_thread *th)
{
    if (th->txn || th->need_rewind)
        return 0;
    for (int i = 0; i < th->ntasks; i++)
        if (th->tasks[i]->st)
            return 0;
    return 1;
}

static void fail(rt_thread *th, rt_sink *s, const char *why)
{
    eddy_log(EDDY_LOG_ERROR, (const char *[]){"sink", s->name, NULL},
             "%s, stopping the worker without committing", why);
    atomic_store(&th->rt->failed, 1);
    atomic_store(&th->rt->stopping, 1);
    th->ck.active = 0;
}

static void commit(rt_thread *th)
{
    eddy_runtime *rt = th->rt;
    for (int k = 0; k < th->ck.noffs; k++) {
        struct ckpt_off *o = &th->ck.offs[k];
        /* Only partitions this thread still owns, and only forward: a
         * revoked partition was committed when it was revoked. */
        for (int i = 0; i < th->ntasks; i++) {
            rt_task *t = th->tasks[i];
            if (t->source != o->source || t->partition != o->partition)
                continue;
            rt_source *src = &rt->sources[t->source];
            if (o->offset > t->committed && src->ops->commit &&
                src->ops->commit(src->self, t->partition, o->offset) == 0)
                t->committed = o->offset;
            break;
        }
    }
    th->ck.active = 0;
}

void eddy_ckpt_poll(rt_thread *th)
{
    if (!th->ck.active)
        return;
    eddy_runtime *rt = th->rt;
    for (int i = 0; i < rt->nsinks; i++) {
        if (!th->ck.marked[i])
            continue;
        rt_sink *s = rt->sinks[i];
        pthread_mutex_lock(&s->mu);
        int r = s->ops->acked(s->self, th->ck.tokens[i]);
        pthread_mutex_unlock(&s->mu);
        if (r < 0) {
            fail(th, s, "an output was not delivered");
            return;
        }
        if (r == 0)
            return; /* still in flight: looked at again on the next turn */
        th->ck.marked[i] = 0;
    }
    commit(th);
}

static struct ckpt_off *off_room(rt_thread *th)
{
    if (th->ck.noffs == th->ck.cap) {
        int cap = th->ck.cap ? th->ck.cap * 2 : 16;
        struct ckpt_off *o = realloc(th->ck.offs, sizeof *o * (size_t)cap);
        if (!o)
            return NULL;
        th->ck.offs = o;
        th->ck.cap = cap;
    }
    return &th->ck.offs[th->ck.noffs++];
}

/* Returns 0 when a checkpoint is in flight (or nothing needed one), <0 if
 * the caller must flush the blocking way instead. */
int eddy_ckpt_start(rt_thread *th)
{
    eddy_runtime *rt = th->rt;
    if (th->ck.active) {
        eddy_ckpt_poll(th);
        return 0; /* one at a time: the next starts once this one is done */
    }
    if (!th->ck.tokens) {
        th->ck.tokens = calloc((size_t)(rt->nsinks ? rt->nsinks : 1), sizeof *th->ck.tokens);
        th->ck.marked = calloc((size_t)(rt->nsinks ? rt->nsinks : 1), 1);
        if (!th->ck.tokens || !th->ck.marked)
            return -1;
    }
    eddy_exec_flush_dead_letters(th);
    if (atomic_load(&rt->failed))
        return 0;
    memset(th->ck.marked, 0, (size_t)rt->nsinks);
    for (int i = 0; i < rt->nsinks; i++) {
        rt_sink *s = rt->sinks[i];
        if (!s->ops->flush)
            continue; /* acknowledges on write */
        int rc = -1;
        pthread_mutex_lock(&s->mu);
        if (s->ops->mark && s->ops->acked)
            rc = s->ops->mark(s->self, &th->ck.tokens[i]);
        if (rc != 0) {
            /* No tokens (another sink type, or this one has too many
             * checkpoints in flight): flushed now, as before. */
            rc = s->ops->flush(s->self);
            pthread_mutex_unlock(&s->mu);
            if (rc == 0)
                continue;
            if (rc == EDDY_EAGAIN) {
                eddy_exec_sink_held(s); /* no commit this time */
                return 0;
            }
            fail(th, s, "sink flush failed");
            return 0;
        }
        pthread_mutex_unlock(&s->mu);
        th->ck.marked[i] = 1;
    }
    th->ck.noffs = 0;
    for (int i = 0; i < th->ntasks; i++) {
        rt_task *t = th->tasks[i];
        if (t->last_offset < 0 || t->last_offset == t->committed)
            continue;
        struct ckpt_off *o = off_room(th);
        if (!o)
            return -1;
        o->source = t->source;
        o->partition = t->partition;
        o->offset = t->last_offset;
    }
    th->ck.active = 1;
    eddy_ckpt_poll(th);
    return 0;
}

/* Everything was flushed and committed the blocking way. */
void eddy_ckpt_drop(rt_thread *th)
{
    th->ck.active = 0;
    if (th->ck.marked)
        memset(th->ck.marked, 0, (size_t)th->rt->nsinks);
}

void eddy_ckpt_free(rt_thread *th)
{
    free(th->ck.tokens);
    free(th->ck.marked);
    free(th->ck.offs);
    memset(&th->ck, 0, sizeof th->ck);
}
