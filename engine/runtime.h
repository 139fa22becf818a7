/* The pipeline runtime: the graph built from a config, and its execution.
 *
 * Threads and what each owns (docs/ARCHITECTURE.md has the picture):
 *  - main thread: config, plugin loading, connector open/close, the libevent
 *    loop (signals, admin HTTP, the stop/drain timer);
 *  - processing threads (worker.threads): each owns some sources and, for
 *    every partition they deliver, a task holding one operator instance per
 *    step of every pipeline fed by that source (partition-scoped state), its
 *    batch pool and its timers. Records of one partition are processed in
 *    order by one thread; nothing in a task is shared.
 *  - sinks are shared by threads and guarded by a mutex each.
 *
 * Memory: batches come from a per-thread pool and go back to it after the
 * last step returns; operators own their state; the runtime owns the graph,
 * connectors and instances, and frees them in eddy_runtime_free. */
#ifndef EDDY_RUNTIME_H
#define EDDY_RUNTIME_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/core/batch.h"
#include "engine/config/config.h"
#include "engine/connector.h"
#include "engine/core/error.h"
#include "engine/obs/metrics.h"
#include "engine/config/options.h"
#include "engine/plugin.h"
#include "engine/alert/alert.h"

typedef struct eddy_state eddy_state;

typedef struct rt_sink {
    char *name; /* "<pipeline>.<name>" or "<source>.dead_letter" */
    const eddy_sink_ops *ops;
    eddy_opts *opts;
    void *self;
    pthread_mutex_t mu;
    bool dead_letter;
    int idx; /* position in eddy_runtime.sinks */
    char where[96];
    eddy_metric *m_out, *m_err;
} rt_sink;

typedef struct rt_step {
    char *name;
    const eddy_opdef *op;
    eddy_opts *opts;
    int parent;           /* index of the step it follows; -1 = pipeline input */
    int *children;        /* steps after this one */
    int nchildren;
    int *sinks;           /* indices into pipeline sinks */
    int nsinks;
    char where[96];       /* file:line:col of the step */
    char path[200];       /* "pipelines[0].steps[2].filter", for errors */
    const eddy_cnode *node; /* the operator's options node (owned by the cfg) */
    char **out_names;       /* side outputs (`outputs:`), and their sinks */
    rt_sink **out_sinks;
    int nouts;
    eddy_metric *m_in, *m_out, *m_err;
    /* Alerts: the step's `alerts:` noise controls; alert counters by
     * [severity][firing]; suppressions by reason (cooldown, rate limit). */
    eddy_opts *alert_opts;
    eddy_alert_policy alert_policy;
    eddy_metric *m_alerts[3][2], *m_suppressed[3];
    /* Operator requests through the admin API (host->ctx_requests): names
     * set at first request, counts read by processing threads. */
    pthread_mutex_t req_mu;
    char *req_names[8];
    _Atomic uint64_t req_counts[8];
} rt_step;

typedef struct rt_pipeline {
    char *name;
    int from_source;   /* index, or -1 */
    int from_pipeline; /* index, or -1 */
    int root_source;   /* the source at the start of the chain */
    rt_step *steps;
    int nsteps;
    int output;        /* step whose output is the pipeline's stream; -1 = input */
    int *root_children; /* steps that follow the input */
    int nroot_children;
    int *root_sinks;
    int nroot_sinks;
    rt_sink **sinks;
    int nsinks;
    int *subscribers;  /* pipelines reading this one's output (in-process bus) */
    int nsubscribers;
    rt_sink *dead_letter; /* may be NULL: falls back to the source's */
    int base;             /* offset of this pipeline's steps in a task's instances */
    eddy_metric *m_in, *m_dead;
    eddy_hist *h_latency;
} rt_pipeline;

typedef struct rt_source {
    char *name;
    const eddy_source_ops *ops;
    eddy_opts *opts;
    void *self;
    eddy_sym key_field;
    eddy_sym ts_field;
    int ts_unit; /* TS_MS, ... */
    int64_t max_out_of_order;
    int64_t idle_timeout; /* ms; 0 = watermarks only move with events */
    rt_sink *dead_letter;
    int *pipelines; /* pipelines reading this source directly */
    int npipelines;
    int thread;
    _Atomic int ended;
    struct eddy_runtime *rt;
    eddy_connector_env env;
    char where[96];
    const eddy_cnode *node;
    eddy_metric *m_in, *m_err, *m_dead, *m_paused;
} rt_source;

enum { TS_MS = 0, TS_S, TS_US, TS_NS, TS_ISO8601 };

typedef struct eddy_runtime {
    eddy_cfg *cfg;
    eddy_opts *worker, *admin, *log, *kafka;
    eddy_connector_env sink_env; /* what sinks get at open */
    struct eddy_topics *topics;  /* declared Kafka topics (may be empty) */
    rt_source *sources;
    int nsources;
    rt_pipeline *pipelines;
    int npipelines;
    rt_sink **sinks; /* every sink, for flush/close */
    int nsinks;
    int ninst; /* operator instances per task (all steps of all pipelines) */
    eddy_metrics *metrics;
    struct rt_thread *threads;
    int nthreads;
    _Atomic int stopping;    /* drain requested */
    _Atomic int threads_done;
    _Atomic int failed;      /* a fatal error stopped a thread */
    _Atomic int started;
    int64_t started_at_ms;
    uint32_t batch_size;
    size_t batch_memory;
    eddy_alert_ring *alerts; /* recent alerts, /v1/alerts */
    char not_ready[320];     /* eddy_runtime_not_ready's reason (main thread) */
    eddy_opts *state_opts;       /* `state:` (engine/state) */
    struct eddy_state *state;    /* durable state; NULL when no source is durable */
} eddy_runtime;

/* Builds the graph from a loaded config: options, operators (plugins loaded
 * from worker.plugin_dirs), references. Errors go to cfg; returns NULL if
 * there were any. validate: also create and destroy every operator once, so
 * option semantics (e.g. expressions) are checked, without opening any
 * connector. */
eddy_runtime *eddy_runtime_build(eddy_cfg *cfg, bool validate);
/* Opens connectors and starts processing threads. 0 or <0 (logged). */
int eddy_runtime_start(eddy_runtime *rt, char *err, size_t errlen);
/* Asks threads to drain: finish the batch in hand, flush, stop. */
void eddy_runtime_stop(eddy_runtime *rt);
/* True when every thread has finished (drained, or all sources ended). */
bool eddy_runtime_done(eddy_runtime *rt);
/* Joins threads, flushes and closes sinks and sources, frees everything
 * (the cfg stays the caller's). */
void eddy_runtime_free(eddy_runtime *rt);
/* JSON status of every pipeline (/v1/pipelines). */
int eddy_runtime_status_json(eddy_runtime *rt, eddy_buf *out);
/* NULL when ready; else why not (/readyz). */
const char *eddy_runtime_not_ready(eddy_runtime *rt);
/* Counts an operator request (admin POST .../steps/{step}/{what}): 0, or
 * EDDY_ENOTFOUND-like <0 when no such pipeline/step, EDDY_EINVAL when the
 * step already tracks 8 other request names. */
int eddy_runtime_request(eddy_runtime *rt, const char *pipeline, const char *step,
                         const char *what);

/* Option tables of the engine's own sections (for describe and docs). */
extern const eddy_option eddy_worker_options[];
extern const eddy_option eddy_admin_options[];
extern const eddy_option eddy_log_options[];
extern const eddy_option eddy_source_common_options[];
extern const eddy_option eddy_timestamp_options[];
extern const eddy_option eddy_watermark_options[];
extern const eddy_option eddy_pipeline_options[];
extern const eddy_option eddy_kafka_options[];

#endif
