/* Execution internals shared by exec.c (dispatch), host.c (the host table)
 * and worker threads. Not part of any public interface. */
#ifndef EDDY_EXEC_H
#define EDDY_EXEC_H
#include "engine/graph.h"

typedef struct rt_timer {
    uint64_t id;
    int64_t at;
    int event_time;
} rt_timer;

typedef struct rt_task rt_task;
typedef struct rt_thread rt_thread;

/* One operator instance: a step of a pipeline for one partition. */
struct eddy_ctx {
    eddy_runtime *rt;
    rt_thread *th;  /* NULL for a validation probe */
    rt_task *task;  /* NULL for a validation probe */
    rt_pipeline *p;
    rt_step *st;
    int step;
    int32_t partition;
    void *state;
    rt_timer *timers;
    uint32_t ntimers, cap;
    eddy_batch *cur; /* the batch being processed (for reject) */
    eddy_alert_state *alerts; /* noise-control state, made at the first alert */
    struct st_ctx *sst;       /* durable state (engine/state), NULL when none */
};

struct rt_task {
    int source;
    int32_t partition;
    eddy_ctx **inst; /* [pipeline][step] flattened: inst[p->base + s] */
    int64_t max_ts;
    int64_t watermark;
    int64_t last_offset;
    int64_t committed; /* last offset handed to the source's commit */
    int64_t last_arrival; /* wall clock of the last record (idle_timeout) */
    struct st_task *st;   /* durable state (engine/state), NULL when not durable */
};

struct rt_thread {
    eddy_runtime *rt;
    int idx;
    pthread_t tid;
    int started;
    int *sources;
    int nsources;
    rt_task **tasks;
    int ntasks;
    eddy_batch *pool;    /* free batches */
    int pool_size;
    eddy_batch **dl;     /* pending dead letters, one batch per sink in rt->sinks */
    int64_t last_flush_ms;
    int paused;          /* sources paused because a sink fell behind */
    char err[512];
    /* Exactly-once (engine/state/state_eos.c): the thread's transaction,
     * opened by the family of its first source that has one; NULL when
     * at-least-once. need_rewind: the transaction was aborted, so state
     * and input go back to the last commit before anything else runs. */
    const eddy_txn_ops *txn_ops;
    void *txn;
    int need_rewind;
    /* eddy_commit_milliseconds_total: time this thread spent committing
     * (sink flushes, state flush, offset commit or transaction), during
     * which it processes nothing: the off-CPU share a faster commit path
     * would win back. */
    eddy_metric *m_commit_ms;
    double commit_ms; /* the same, this thread's, for its summary at exit */
    /* The checkpoint in flight (engine/checkpoint.c): sink tokens by
     * rt->sinks index where marked, and the offsets they cover. */
    struct {
        int active;
        uint64_t *tokens;
        unsigned char *marked;
        struct ckpt_off *offs;
        int noffs, cap;
    } ck;
};

/* engine/checkpoint.c: commits that do not stop the thread. */
int eddy_ckpt_usable(const rt_thread *th);
int eddy_ckpt_start(rt_thread *th);
void eddy_ckpt_poll(rt_thread *th);
void eddy_ckpt_drop(rt_thread *th);
void eddy_ckpt_free(rt_thread *th);
void eddy_exec_flush_dead_letters(rt_thread *th);
/* Logs (at most every 10 s per thread) that a sink holds its output for
 * later, so offsets wait. */
void eddy_exec_sink_held(const rt_sink *s);

extern const eddy_host eddy_host_table;

/* Creates and destroys one instance of the step's operator. */
int eddy_exec_probe_operator(eddy_runtime *rt, rt_pipeline *p, rt_step *st, char *err, size_t errlen);

eddy_batch *eddy_exec_batch_get(rt_thread *th);
void eddy_exec_batch_put(rt_thread *th, eddy_batch *b);
/* Runs b through everything after `step` (-1: the pipeline input). Takes b. */
void eddy_exec_after(rt_thread *th, rt_task *t, rt_pipeline *p, int step, eddy_batch *b);
/* Sends a copy of record i of b to the dead-letter output for pipeline p
 * (or the source's), marked with the reason and step. */
void eddy_exec_dead_letter(rt_thread *th, rt_pipeline *p, rt_source *src, const eddy_batch *b,
                           uint32_t i, const char *step, const char *reason);
void eddy_exec_task_free(eddy_runtime *rt, rt_task *t);
/* Rebalance callbacks of eddy_connector_env (arg: the rt_source). */
void eddy_exec_assigned(void *arg, int32_t partition);
int64_t eddy_exec_assigned_at(void *arg, int32_t partition);
void eddy_exec_lost(void *arg, int32_t partition);
void eddy_exec_revoked(void *arg, int32_t partition);
/* Writes b to the step's side output `output` (counted and logged when the
 * step has none). Does not take b. */
int eddy_exec_side(rt_thread *th, rt_pipeline *p, rt_step *st, const char *output,
                   const eddy_batch *b);
/* The processing thread's main function. */
void *eddy_exec_thread_main(void *arg);
int64_t eddy_now_ms(void);

#endif
