/* Exactly-once (processing.guarantee: exactly_once): the runtime's side.
 *
 * Each processing thread opens one transaction handle from the family of
 * its first source that offers one (eddy_txn_ops; Kafka's in
 * connectors/kafka/kafka_txn.c). Its commit replaces step 4 of the
 * at-least-once protocol (engine/state/state.h): after the non-Kafka
 * sinks flushed and the durable state was written (into the transaction),
 * the input offsets of the thread's tasks join the transaction and it
 * commits. An aborted transaction (abortable error, or a lost assignment)
 * rewinds the thread: its tasks are dropped and every partition restored
 * from the changelog and re-read from its last committed offset, so state
 * and input go back together.
 *
 * The transactional id is `<worker.name>-<instance>-t<thread>`. It must be
 * stable across restarts (a restart then aborts its predecessor's open
 * transaction at once, instead of read_committed readers waiting out
 * transaction.timeout.ms) and unique among live workers (two live
 * producers with one id fence each other). processing.instance sets it;
 * by default it is `<hostname>-<slot>`, the slot being the lowest number
 * whose lock file (`$TMPDIR/eddy-<worker.name>.<slot>.lock`, flock) no
 * live eddy holds: workers started side by side on one host get 0, 1, 2
 * ..., and a restarted worker takes back the slot its dead predecessor
 * held (the kernel drops a dead process's locks). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "engine/obs/log.h"
#include "engine/state/state_int.h"

#define EOS_SLOTS 256

static void safe_name(const char *in, char *out, size_t len)
{
    size_t n = 0;
    for (; *in && n + 1 < len; in++)
        out[n++] = (char)((*in >= 'a' && *in <= 'z') || (*in >= 'A' && *in <= 'Z') ||
                                  (*in >= '0' && *in <= '9') || *in == '-' || *in == '_' ||
                                  *in == '.'
                              ? *in
                              : '_');
    out[n] = '\0';
}

int eddy_eos_start(eddy_runtime *rt, char *err, size_t errlen)
{
    if (!rt->eos)
        return 0;
    /* A transaction stays open for a whole commit interval; the broker
     * aborts one older than transaction.timeout.ms (10 s unless set). */
    int64_t every = eddy_flush_interval_ms(rt);
    if (every > 5000)
        eddy_log(EDDY_LOG_WARN, NULL,
                 "exactly_once with worker.flush_interval %lld ms: each transaction stays open "
                 "that long, and the broker aborts one older than transaction.timeout.ms (10 s "
                 "unless set in kafka.properties); read_committed readers also wait that long "
                 "for output (100ms-1s is usual)", (long long)every);
    const char *set = rt->processing_opts ? eddy_opts_str(rt->processing_opts, "instance") : NULL;
    if (set && *set) {
        snprintf(rt->instance, sizeof rt->instance, "%s", set);
        return 0;
    }
    char host[64] = "host", name[96], hs[64];
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    safe_name(eddy_opts_str(rt->worker, "name"), name, sizeof name);
    safe_name(host, hs, sizeof hs);
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    for (int slot = 0; slot < EOS_SLOTS; slot++) {
        char path[512];
        snprintf(path, sizeof path, "%s/eddy-%s.%d.lock", dir, name, slot);
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
            eddy_errf(err, errlen, "exactly_once: cannot open the instance lock %s: %s (set "
                      "processing.instance, or TMPDIR to a writable directory)", path,
                      strerror(errno));
            return EDDY_EIO;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            rt->instance_lock = fd + 1;
            snprintf(rt->instance, sizeof rt->instance, "%s-%d", hs, slot);
            return 0;
        }
        close(fd);
    }
    eddy_errf(err, errlen, "exactly_once: %d workers named %s already run on this host; set "
              "processing.instance", EOS_SLOTS, name);
    return EDDY_EIO;
}

void eddy_eos_free(eddy_runtime *rt)
{
    if (rt->instance_lock > 0)
        close(rt->instance_lock - 1);
    rt->instance_lock = 0;
}

void eddy_eos_thread_open(rt_thread *th)
{
    eddy_runtime *rt = th->rt;
    if (!rt->eos)
        return;
    rt_source *src = NULL;
    for (int k = 0; k < th->nsources && !src; k++)
        if (rt->sources[th->sources[k]].ops->txn)
            src = &rt->sources[th->sources[k]];
    if (!src)
        return; /* no transactional source on this thread: its sources commit as before */
    char id[320], err[768] = "";
    snprintf(id, sizeof id, "%s-%s-t%d", eddy_opts_str(rt->worker, "name"), rt->instance, th->idx);
    int rc = src->ops->txn->open(&src->env, id, &th->txn, err, sizeof err);
    if (rc == EDDY_EUNSUPPORTED) {
        static _Atomic int said; /* one sentence per worker, not per thread */
        if (!atomic_exchange(&said, 1))
            eddy_log(EDDY_LOG_WARN, (const char *[]){"source", src->name, NULL}, "%s", err);
        return;
    }
    if (rc != 0) {
        eddy_log(EDDY_LOG_ERROR, (const char *[]){"source", src->name, NULL},
                 "exactly_once: %s; stopping", err);
        eddy_state_stop_worker(rt);
        return;
    }
    th->txn_ops = src->ops->txn;
}

void eddy_eos_thread_close(rt_thread *th)
{
    if (th->txn)
        th->txn_ops->close(th->txn);
    th->txn = NULL;
}

int eddy_eos_commit(rt_thread *th)
{
    eddy_runtime *rt = th->rt;
    for (int i = 0; i < th->ntasks; i++) {
        rt_task *t = th->tasks[i];
        rt_source *src = &rt->sources[t->source];
        if (src->ops->txn == th->txn_ops && t->last_offset >= 0)
            th->txn_ops->offset(th->txn, src->self, t->partition, t->last_offset);
    }
    char err[768] = "";
    int rc = th->txn_ops->commit(th->txn, err, sizeof err);
    eddy_state_txn_done(th, rc == 0);
    if (rc == 0) {
        for (int i = 0; i < th->ntasks; i++) {
            rt_task *t = th->tasks[i];
            if (rt->sources[t->source].ops->txn == th->txn_ops)
                t->committed = t->last_offset;
        }
        return 0;
    }
    if (rc == EDDY_EAGAIN) {
        eddy_log(EDDY_LOG_WARN, NULL, "%s", err);
        th->need_rewind = 1;
        return 0;
    }
    eddy_log(EDDY_LOG_ERROR, NULL, "exactly_once: %s", err);
    eddy_state_stop_worker(rt);
    return -1;
}

void eddy_eos_abort(rt_thread *th, const char *why)
{
    char err[768] = "";
    eddy_state_txn_done(th, 0);
    if (th->txn_ops->abort(th->txn, err, sizeof err) != 0) {
        eddy_log(EDDY_LOG_ERROR, NULL, "exactly_once: %s; stopping", err);
        eddy_state_stop_worker(th->rt);
        return;
    }
    eddy_log(EDDY_LOG_WARN, NULL, "exactly_once: transaction aborted (%s); the work since the "
             "last commit is done again", why);
    th->need_rewind = 1;
}

void eddy_eos_rewind(rt_thread *th)
{
    eddy_runtime *rt = th->rt;
    th->need_rewind = 0;
    /* Whatever was written since the abort belongs to work being undone. */
    eddy_state_txn_done(th, 0);
    if (th->txn_ops->dirty(th->txn)) {
        char err[768] = "";
        if (th->txn_ops->abort(th->txn, err, sizeof err) != 0) {
            eddy_log(EDDY_LOG_ERROR, NULL, "exactly_once: %s; stopping", err);
            eddy_state_stop_worker(rt);
            return;
        }
    }
    for (int i = 0; i < th->ntasks;) {
        rt_task *t = th->tasks[i];
        if (rt->sources[t->source].ops->txn != th->txn_ops) {
            i++;
            continue;
        }
        eddy_exec_task_free(rt, t);
        th->tasks[i] = th->tasks[--th->ntasks];
    }
    for (int k = 0; k < th->nsources; k++) {
        rt_source *src = &rt->sources[th->sources[k]];
        if (src->ops->txn == th->txn_ops && src->ops->rewind && src->ops->rewind(src->self) != 0) {
            eddy_log(EDDY_LOG_ERROR, (const char *[]){"source", src->name, NULL},
                     "exactly_once: the rewind after an aborted transaction failed; stopping");
            eddy_state_stop_worker(rt);
        }
    }
}
