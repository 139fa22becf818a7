/* Durable state: the runtime's side (docs: docs/STATE.md "State and delivery
 * guarantees"; design: changelog.h for the record format).
 *
 * What is durable: every step of a pipeline rooted at a Kafka source whose
 * operator keeps state (EDDY_STATE_KEYED, EDDY_STATE_HOST, or a
 * snapshot/restore pair), when `state.enabled` (the default). Such a source
 * is "durable"; its tasks are made eagerly when a partition is assigned and
 * restored from the changelog before the partition is read.
 *
 * Commit protocol (at-least-once), inside exec.c's flush_sinks:
 *   1. output and dead-letter sinks flush (as before);
 *   2. per durable task: every stateful step writes what changed
 *      (state_flush, host-managed keys, or the whole snapshot), then the
 *      task's position marker {last offset, max event time, watermark};
 *   3. the changelog producer flushes (a failed delivery stops the worker
 *      without committing);
 *   4. the input offsets are committed.
 * With state.cache_dir, after step 3 (exactly-once: after the commit) the
 * records of step 2 are appended to each task's local cache file
 * (cache.h); a restore then replays the file and reads the changelog only
 * from the offset the file covers.
 * Restore applies the changelog of the task's partition up to its last
 * marker (records after it belong to a flush that never completed and are
 * dropped; the replayed input writes them again) and starts reading the
 * input right after the marker's offset, so records whose effects the state
 * already holds are not counted twice.
 *
 * Departures from the design proposal (notes/state-design.md), and why:
 *  - the restore runs inside the assignment callback, before the partition
 *    is handed to the consumer with the marker's offset as its start: no
 *    per-partition pause, no seek, no dropping of prefetched records. The
 *    price: the thread's other partitions wait while one restores, and a
 *    restore must end within max.poll.interval.ms (5 min by default), hence
 *    state.restore_timeout's 4 min default;
 *  - the local cache (state.cache_dir, cache.h) is a file per task, not
 *    the embedded SQLite store: appends in changelog order and one
 *    sequential read are all it needs;
 *  - host timers are not in the marker but a record of their own per
 *    step (state_timers.c), written when they changed;
 *  - exactly-once is state_eos.c's: the same flush, inside a transaction.
 *
 * Threads: flush and restore run on the processing thread that owns the
 * source (restore inside the assignment callback, before the partition is
 * handed to the consumer); the producer is shared (librdkafka is
 * thread-safe); the restore progress text is read by the admin thread under
 * a mutex. Owner: the runtime (rt->state), freed by eddy_state_free after
 * the threads are joined. */
#ifndef EDDY_STATE_H
#define EDDY_STATE_H
#include "engine/exec.h"

extern const eddy_option eddy_state_options[];
extern const eddy_option eddy_processing_options[];

/* worker.flush_interval as given, else its default: 1 s, or 100 ms under
 * exactly_once (each commit is what read_committed consumers wait for). */
int64_t eddy_flush_interval_ms(const eddy_runtime *rt);

/* Parses `state:` and `processing:` into rt->state_opts,
 * rt->processing_opts and rt->eos (errors to cfg). */
void eddy_state_parse(eddy_runtime *rt, eddy_cfg *cfg, const eddy_cnode *root);

/* At start-up, before sources open: decides which sources are durable,
 * names their changelog topics, checks them (missing, too few partitions:
 * a start-up error with the sentence in err), creates the producer. 0 or
 * <0. A runtime without durable sources gets rt->state NULL. */
int eddy_state_start(eddy_runtime *rt, char *err, size_t errlen);
void eddy_state_free(eddy_runtime *rt);
/* The source is durable (its tasks are restored and flushed). */
bool eddy_state_source_durable(const eddy_runtime *rt, int source);

/* A partition of a durable source was assigned: makes its task (through
 * make_task), restores it and answers the input offset to start reading
 * at, or -1 for the group's committed offset. Failures stop the worker
 * (logged) and answer -1. */
int64_t eddy_state_assigned(rt_thread *th, int source, int32_t partition,
                            rt_task *(*make_task)(rt_thread *, int, int32_t));
/* Steps 2 and 3 of the commit protocol for every durable task of the
 * thread. 0, or <0 when nothing may be committed (the worker is stopped
 * when the failure is not retriable). */
int eddy_state_flush(rt_thread *th);
/* Exactly-once: the thread's transaction committed (1: its changelog
 * records go to the local caches) or was aborted (0: they are dropped). */
void eddy_state_txn_done(rt_thread *th, int committed);
/* Frees the state-side parts of a task / an instance (a task's local cache
 * gets its trailer unless the worker failed). */
void eddy_state_task_free(rt_task *t);
void eddy_state_ctx_free(eddy_ctx *c);
/* NULL, or "restoring state: ..." (for /readyz), written into buf. */
const char *eddy_state_not_ready(eddy_runtime *rt, char *buf, size_t len);

/* The source would be durable: state on, its connector has a changelog, a
 * step keeps state. And the name of its changelog topic (state.topics, else
 * the connector's default; malloc'd, NULL: no memory). For `eddy topics`
 * too, on a built runtime whose sections are bound. */
bool eddy_state_source_stateful(const eddy_runtime *rt, int source);
char *eddy_state_changelog_topic(const eddy_runtime *rt, int source);

/* Exactly-once (state_eos.c; processing.guarantee: exactly_once).
 * Main thread, at start: this worker's instance name (processing.instance
 * or a host slot held by a lock file until eddy_eos_free). 0 or <0 with err. */
int eddy_eos_start(eddy_runtime *rt, char *err, size_t errlen);
void eddy_eos_free(eddy_runtime *rt);
/* Processing thread: opens / closes its transaction (th->txn stays NULL
 * when at-least-once, when no source offers transactions, or on the
 * embedded broker, which is logged). */
void eddy_eos_thread_open(rt_thread *th);
void eddy_eos_thread_close(rt_thread *th);
/* The last step of a flush: offsets of the thread's tasks into the
 * transaction, commit. 0 (committed, or aborted: th->need_rewind set), or
 * <0 (fatal: logged, the worker stops). */
int eddy_eos_commit(rt_thread *th);
/* Aborts the open transaction (a lost assignment) and sets need_rewind. */
void eddy_eos_abort(rt_thread *th, const char *why);
/* Drops the thread's transactional tasks and rewinds their sources. Runs
 * outside any rebalance callback, before the next batch. */
void eddy_eos_rewind(rt_thread *th);

/* Host functions of ABI 1.2 (state_host.c). */
int eddy_host_state_write(eddy_ctx *ctx, const void *key, size_t klen, int version,
                          const void *data, size_t len);
int eddy_host_state_put(eddy_ctx *ctx, const void *key, size_t klen, const void *v, size_t n);
const void *eddy_host_state_get(eddy_ctx *ctx, const void *key, size_t klen, size_t *n);
int eddy_host_state_del(eddy_ctx *ctx, const void *key, size_t klen);

#endif
