/* Sources and sinks. A connector is a table of functions plus an option
 * table (the same eddy_option rows operators use). The file, generator and
 * console connectors live in connectors/; Kafka slots in the same way, and
 * brings its top-level sections (`kafka:`, `topics:`) through
 * eddy_conn_sections. Connectors include this header; the engine includes
 * nothing from connectors/.
 *
 * Threads: open/close run on the main thread at start/stop; poll, write and
 * flush run on the processing thread that owns the source or sink.
 * Ownership: the connector owns its `self`; batches passed to write() belong
 * to the runtime and are valid only during the call. */
#ifndef EDDY_CONNECTOR_H
#define EDDY_CONNECTOR_H
#include <stdbool.h>
#include <stdint.h>

#include "engine/core/batch.h"
#include "engine/config/config.h"
#include "include/eddy/operator.h"
#include "engine/obs/metrics.h"

/* What the engine tells a connector at open. Valid until close. A NULL env
 * (unit tests) means: no kafka section, no metrics, no callbacks. */
typedef struct eddy_connector_env {
    const char *worker;       /* worker.name */
    /* The top-level `kafka:` section (always parsed, defaults filled). Set
     * by the Kafka connectors' own sections hook (bind, below); the engine
     * never reads it. */
    const eddy_opts *kafka;
    eddy_metrics *metrics;    /* register connector metrics here */
    /* Source -> runtime, called on the processing thread from inside poll():
     * partitions assigned to this worker, and partitions about to be taken
     * away (the runtime flushes sinks and commits their offsets before
     * revoked returns, then drops their tasks). */
    void (*assigned)(void *arg, int32_t partition);
    void (*revoked)(void *arg, int32_t partition);
    void *arg;
    /* Optional, takes the place of `assigned` when set: the runtime may
     * restore the partition's state first, and answers the offset to start
     * reading at (-1: the group's committed offset). */
    int64_t (*assigned_at)(void *arg, int32_t partition);
    /* Optional, takes the place of `revoked` for a partition the group took
     * away without asking (a session timeout): another worker may already
     * own it, so nothing of it may be flushed or committed any more. */
    void (*lost)(void *arg, int32_t partition);
} eddy_connector_env;

/* Top-level config sections owned by a family of connectors, so that the
 * engine parses and checks them without knowing what they hold: the Kafka
 * source and sink share `kafka:` (brokers, client settings) and `topics:`
 * (declared topics, checked at start-up). A source or sink type points at
 * its family's descriptor; the engine runs each distinct descriptor once, in
 * registry order (sources, then sinks), on the main thread:
 *  - eddy_runtime_build (also `eddy validate`): its keys are accepted at the
 *    top level, and parse() reads them;
 *  - eddy_runtime_start, before any connector opens: start(), then bind();
 *  - eddy_runtime_free: free().
 * Tools that need a section without a graph (`eddy topics`) call the
 * connector's own functions instead. */
typedef struct eddy_conn_sections {
    const char *const *keys; /* top-level keys it owns, NULL-terminated */
    /* Reads its keys under root (a mapping; each key may be absent), errors
     * to cfg with file:line:col (the build then fails). Returns the family's
     * state, owned by the runtime; NULL only with an error in cfg. */
    void *(*parse)(eddy_cfg *cfg, const eddy_cnode *root);
    /* Optional: the start-up check (e.g. declared topics exist). It logs
     * what it finds; <0 with err stops the worker. */
    int (*start)(void *state, char *err, size_t errlen);
    /* Optional: fills the family's fields of the env every connector gets
     * at open (env->kafka). */
    void (*bind)(void *state, eddy_connector_env *env);
    void (*free)(void *state); /* NULL state allowed */
} eddy_conn_sections;

/* Durable state's changelog (engine/state): a compacted log, partitioned
 * like its source, that the runtime writes a source's operator state to
 * before committing offsets and reads back when a partition is assigned.
 * The Kafka source implements it (connectors/kafka/kafka_changelog.c). */
typedef int (*eddy_changelog_fn)(void *arg, const void *key, size_t klen, const void *val,
                                 size_t vlen); /* val NULL: tombstone; <0 stops the read */
typedef struct eddy_changelog_ops {
    /* The source's default changelog topic (malloc'd; NULL: no memory). */
    char *(*default_topic)(const eddy_opts *source_opts, const eddy_connector_env *env,
                           const char *source);
    /* Main thread, before sources open: checks `topic` (a missing one is an
     * error whose sentence says how to create it; the embedded broker gets
     * it created), logs what it found, returns a handle or NULL with err. */
    void *(*open)(const eddy_opts *source_opts, const eddy_connector_env *env, const char *source,
                  const char *topic, const char *config_path, char *err, size_t errlen);
    /* Processing thread `thread` (0..63): queues one record for partition
     * part (val NULL: tombstone). 0, or <0 (logged). */
    int (*write)(void *cl, int thread, int32_t part, const void *key, size_t klen,
                 const void *val, size_t vlen);
    /* Waits until the thread's records are acknowledged: <0 (logged) when
     * any was lost. */
    int (*flush)(void *cl, int thread);
    /* Reads partition part from offset `from` (its start when below it)
     * to its end, calling fn for each record, within timeout_ms. *n counts
     * them; *end is the offset after the end read. 0 or <0 (logged). */
    int (*read)(void *cl, int32_t part, int64_t from, int64_t timeout_ms, eddy_changelog_fn fn,
                void *arg, uint64_t *n, int64_t *end);
    /* Optional (with position: the local cache, state.cache_dir): the
     * partition's first and next offsets now. 0 or <0 (logged). */
    int (*offsets)(void *cl, int32_t part, int64_t *lo, int64_t *hi);
    /* The offset after the last record of partition part this process's
     * writes were acknowledged at (-1: none yet), and the first offset and
     * the count of the records acknowledged since the previous call (so
     * the caller can tell whether anyone else's records lie between).
     * Called by the thread that writes the partition, after its flush or
     * transaction commit. */
    int64_t (*position)(void *cl, int32_t part, int64_t *first, uint64_t *count);
    void (*close)(void *cl);
} eddy_changelog_ops;

/* Exactly-once (processing.guarantee: exactly_once, engine/exec.c): a
 * source family that can commit what a processing thread consumed
 * atomically with everything that thread wrote (Kafka transactions:
 * connectors/kafka/kafka_txn.c). One handle per processing thread, opened
 * and used on that thread only; while it is open, the family's sinks and
 * changelog written from that thread write inside its transaction.
 * Errors: EDDY_EUNSUPPORTED (open: not available here, err says why; the worker
 * runs at-least-once), EDDY_EAGAIN (commit: the transaction was aborted and
 * a new one begun; the thread rewinds its state and input to the last
 * commit), other <0 (fatal, e.g. fenced by a newer instance: err says
 * why; the worker stops without committing). */
typedef struct eddy_txn_ops {
    /* Opens a transactional writer whose id is `id` (stable across
     * restarts of this worker thread: a restart fences the previous
     * instance and aborts its open transaction), begins a transaction. */
    int (*open)(const eddy_connector_env *env, const char *id, void **txn, char *err,
                size_t errlen);
    /* Adds "everything up to and including offset of the source's task
     * partition is processed" to the open transaction. */
    int (*offset)(void *txn, void *source_self, int32_t partition, int64_t offset);
    /* Something was written or an offset moved since the last commit. */
    bool (*dirty)(void *txn);
    /* Commits the open transaction (offsets included) and begins the next. */
    int (*commit)(void *txn, char *err, size_t errlen);
    /* Aborts the open transaction (a lost assignment) and begins the next. */
    int (*abort)(void *txn, char *err, size_t errlen);
    void (*close)(void *txn);
} eddy_txn_ops;

typedef struct eddy_source_ops {
    const char *type;    /* "file", "generator", ... (the `type:` key) */
    const char *summary; /* one line for docs */
    const eddy_option *options;

    /* `name` is the source's configured name (used as the records' topic
     * when the connector has none of its own). 0 or <0 with err filled. */
    int (*open)(const eddy_opts *opts, const char *name, const eddy_connector_env *env,
                void **self, char *err, size_t errlen);
    /* Number of partitions this source delivers (fixed for files/generator). */
    int32_t (*partitions)(void *self);
    /* Appends up to `max` records to b, all from one partition (set
     * b->partition and each record's partition/offset/topic). Records that
     * fail to decode are appended too, marked EDDY_REC_ERROR. Returns the
     * count appended (>0), 0 when nothing is available within timeout_ms,
     * EDDY_EEOF when a bounded source is finished, or <0 on a fatal error
     * (reason in err). */
    int (*poll)(void *self, eddy_batch *b, uint32_t max, int timeout_ms, char *err,
                size_t errlen);
    /* Optional: everything up to and including offset is fully processed
     * and every output derived from it acknowledged by its sink. */
    int (*commit)(void *self, int32_t partition, int64_t offset);
    void (*close)(void *self);
    /* Optional: stop / restart delivering records (backpressure). While
     * paused, poll() still runs (it serves group membership) and returns 0. */
    int (*pause)(void *self, int paused);
    /* Optional: the top-level sections this connector's family owns. */
    const eddy_conn_sections *sections;
    /* Optional (durable state): the Kafka topic and partition behind a task
     * partition; NULL when unknown. */
    const char *(*partition_topic)(void *self, int32_t partition, int32_t *kafka_partition);
    /* Optional: where durable state of this source's steps is kept. */
    const eddy_changelog_ops *changelog;
    /* Optional (exactly-once): the family's transactions, and a rewind of
     * every partition the source holds to its last committed position
     * (the runtime has dropped their tasks; each partition goes through
     * env->assigned_at again before it is read). */
    const eddy_txn_ops *txn;
    int (*rewind)(void *self);
    /* Optional: what can be checked without opening the source (a file that
     * is not there), at build time, so `eddy validate` says it too. 0, or
     * <0 with err (without the source's name: the caller adds where). */
    int (*check)(const eddy_opts *opts, char *err, size_t errlen);
    /* Optional: why the source cannot deliver yet (e.g. a Kafka consumer not
     * yet in its group: brokers unreachable), written to buf and returned,
     * or NULL when ready. Called from the main thread (/readyz) while the
     * source is polled elsewhere: it reads only what is safe to share. */
    const char *(*not_ready)(void *self, char *buf, size_t len);
    /* Several instances of the source in one worker split its input
     * between them (Kafka: consumers of one group share the partitions):
     * with worker.threads N the runtime opens one instance per thread. */
    bool parallel;
} eddy_source_ops;

typedef struct eddy_sink_ops {
    const char *type;
    const char *summary;
    const eddy_option *options;

    int (*open)(const eddy_opts *opts, const char *name, const eddy_connector_env *env,
                void **self, char *err, size_t errlen);
    /* Writes every record of b that is not DROPPED. Records flagged
     * EDDY_REC_ERROR reach only dead-letter sinks; they carry err_reason,
     * err_step, source coordinates and raw payload. 0 or <0 with err. */
    int (*write)(void *self, const eddy_batch *b, char *err, size_t errlen);
    /* Waits until everything written is acknowledged (or failed): <0 if
     * any output was lost, so the runtime must not commit source offsets. */
    int (*flush)(void *self);
    void (*close)(void *self);
    /* Optional: outputs written but not yet acknowledged, and the level
     * above which the runtime pauses its sources (resuming below half). */
    int64_t (*pending)(void *self, int64_t *high_water);
    /* Optional, for commits that do not stop the processing thread
     * (engine/checkpoint.c): mark() gives a token covering everything
     * written so far (EDDY_EAGAIN: none now, flush instead); acked() is 1
     * once all of it is acknowledged, 0 while some is in flight, <0 if any
     * of it was lost. Called under the runtime's lock of the sink. */
    int (*mark)(void *self, uint64_t *token);
    int (*acked)(void *self, uint64_t token);
    /* Optional: the top-level sections this connector's family owns. */
    const eddy_conn_sections *sections;
} eddy_sink_ops;

/* Built-in connectors by `type:` (engine/registry.c, over the tables meson
 * generates: engine/registry.h). */
const eddy_source_ops *eddy_source_find(const char *type);
const eddy_sink_ops *eddy_sink_find(const char *type);
const eddy_source_ops *const *eddy_sources_all(void); /* NULL-terminated */
const eddy_sink_ops *const *eddy_sinks_all(void);

#endif
