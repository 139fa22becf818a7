/* Internals shared by the files of engine/state (not part of any interface). */
#ifndef EDDY_STATE_INT_H
#define EDDY_STATE_INT_H
#include <pthread.h>

#include "engine/state/cache.h"
#include "engine/state/changelog.h"
#include "engine/state/state.h"

typedef struct eddy_state eddy_state;

/* ST_ALERTS: a step with no state of its own, whose alert noise-control
 * state is kept (state_alerts.c). */
enum { ST_KEYED = 1, ST_HOST = 2, ST_SNAPSHOT = 3, ST_ALERTS = 4 };

/* Host-managed keys (state_put): a chained hash table. */
typedef struct st_kv_ent {
    struct st_kv_ent *next;
    uint32_t hash;
    uint8_t dirty; /* changed since the last flush */
    uint8_t gone;  /* deleted: a tombstone is due, then the entry goes */
    uint32_t klen;
    size_t vlen;
    uint8_t *val;
    uint8_t key[];
} st_kv_ent;

typedef struct st_kv {
    st_kv_ent **b;
    uint32_t nb, n;
} st_kv;

/* One stateful operator instance. */
typedef struct st_ctx {
    int mode;
    int active;      /* in a durable task: writes go to the changelog */
    uint32_t step_id;
    uint32_t fp;     /* fingerprint of the step's configuration */
    eddy_buf text;   /* its canonical option text (the meta record) */
    int meta_written;
    /* restore: the latest meta record read, and whether the step's records
     * are being applied */
    eddy_buf seen_text;
    int seen_meta, mismatch;
    uint64_t timers_hash; /* of the host timers last written (0: none) */
    st_kv kv;
} st_ctx;

/* One durable task. */
typedef struct st_task {
    char *topic;      /* input topic */
    int32_t kpart;    /* input (and changelog) Kafka partition */
    uint32_t marker_id;
    uint64_t seq;
    int64_t flushed_offset, flushed_wm;
    uint64_t produced; /* records produced by the flush in progress */
    eddy_buf kb, vb;   /* the record being written (reused) */
    /* The local cache (state.cache_dir; NULL: none): records written since
     * the last flush (at-least-once) or commit (exactly-once), framed, wait
     * in pend until the changelog holds them for good. */
    eddy_scache *cache;
    eddy_buf pend;
    uint64_t npend;
    int64_t cache_x;   /* the changelog offset the file covers */
    eddy_state *s;
} st_task;

typedef struct st_source {
    int durable;
    int shared; /* a source instance's: the configured source's handle and topic */
    char *topic;                   /* changelog */
    const eddy_changelog_ops *ops; /* the source connector's changelog */
    void *cl;                      /* its handle */
} st_source;

struct eddy_state {
    eddy_runtime *rt;
    st_source *src;
    int discard;               /* state.on_mismatch: discard */
    int64_t restore_timeout;
    pthread_mutex_t mu;        /* guards restoring */
    char restoring[256];
    int nrestoring;
    eddy_metric *m_records, *m_bytes, *m_tombs, *m_restored, *m_restore_ms, *m_flush_ms;
    const char *cache_dir;         /* state.cache_dir, NULL: no local cache */
    eddy_metric *m_restored_cache;
};


/* state.c: a failure nothing can recover from stops the worker without
 * committing (exit code 1). */
void eddy_state_stop_worker(eddy_runtime *rt);

/* state.c: writes one record of the instance's step to its task's
 * changelog partition (data NULL: tombstone). 0 or <0. */
int eddy_state_write_kind(eddy_ctx *ctx, int kind, const void *key, size_t klen, int version,
                          const void *data, size_t len);

/* state_alerts.c: the host's alert state of a durable step. 0 or <0. */
int eddy_state_alerts_flush(eddy_ctx *c);
/* state_timers.c: the step's host timers, when they changed. 0 or <0. */
int eddy_state_timers_flush(eddy_ctx *c);
int eddy_state_timers_load(eddy_ctx *c, const uint8_t *p, size_t n, int tomb);
/* Firing alert keys of a restored instance join the step's open alerts. */
void eddy_state_alerts_restored(eddy_ctx *c);
int eddy_state_alerts_load(eddy_ctx *c, const void *key, size_t klen, int version,
                           const void *data, size_t len);

/* state_host.c */
st_kv_ent *st_kv_find(st_kv *kv, const void *k, size_t kl);
int st_kv_set(st_kv *kv, const void *k, size_t kl, const void *v, size_t vl, int dirty);
void st_kv_free(st_kv *kv);
st_ctx *st_ctx_get(eddy_ctx *c); /* made on first use (host-managed keys) */

#endif
