/* The pipeline graph: what eddy_runtime_build (graph.c) makes of a config,
 * and what the lifecycle (runtime.c) and the dispatch (exec.c, host.c, worker
 * threads) run. Sources feed pipelines; a pipeline's steps form a tree from
 * its input, each step ending in sinks and side outputs; a pipeline may read
 * another one's output stream in process (the bus: `subscribers`).
 *
 * Ownership: the runtime owns every struct here (names, options, sinks,
 * connector sections' state) and frees it in eddy_runtime_free; nodes
 * (`node`) point into the cfg, which stays the caller's. Built on the main
 * thread; afterwards the graph is read-only except for the fields marked as
 * run state (atomics, counters behind their mutex). See runtime.h for the
 * threads. */
#ifndef EDDY_GRAPH_H
#define EDDY_GRAPH_H
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
#include "engine/runtime.h"

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
    eddy_alert_merge *alert_merge; /* one alert per key across partitions */
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
    /* worker.threads > 1 and a source whose instances split its input
     * (eddy_source_ops.parallel: Kafka, one consumer of the group per
     * thread): the runtime adds instances at start, appended to sources[];
     * each reads a share of the partitions on its own thread. origin: the
     * configured source an instance serves (pipelines name that index);
     * instance: 0 for the configured one. Instances share its options,
     * name, pipelines, metrics and dead-letter sink (owned by origin). */
    int origin;
    int instance;
    _Atomic int idle; /* an instance holding no partition (set by its thread) */
    _Atomic int ended;
    struct eddy_runtime *rt;
    eddy_connector_env env;
    char where[96];
    const eddy_cnode *node;
    eddy_metric *m_in, *m_err, *m_dead, *m_paused;
} rt_source;

enum { TS_MS = 0, TS_S, TS_US, TS_NS, TS_ISO8601 };

/* A connector family's top-level sections (engine/connector.h) and the
 * state its parse() returned. */
typedef struct rt_section {
    const eddy_conn_sections *def;
    void *state;
} rt_section;

struct eddy_runtime {
    eddy_cfg *cfg;
    eddy_opts *worker, *admin, *log;
    eddy_connector_env sink_env; /* what sinks get at open */
    rt_section *sections; /* connector-owned top-level sections (`kafka:`, `topics:`) */
    int nsections;
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
    eddy_opts *processing_opts;  /* `processing:` (engine/state/state_eos.c) */
    bool eos;                    /* processing.guarantee: exactly_once */
    bool plugins_missing;        /* a worker.plugin_dirs entry failed to load */
    char instance[160];          /* this worker's stable name for transactional ids */
    int instance_lock;           /* fd + 1 of the lock that keeps `instance` ours; 0: none */
    struct eddy_state *state;    /* durable state; NULL when no source is durable */
};

/* Builds the graph from a loaded config: options, operators (plugins loaded
 * from worker.plugin_dirs), references. Errors go to cfg; returns NULL if
 * there were any. validate: also create and destroy every operator once, so
 * option semantics (e.g. expressions) are checked, without opening any
 * connector. */
eddy_runtime *eddy_runtime_build(eddy_cfg *cfg, bool validate);

#endif
