/* Internals shared by the files of engine/state (not part of any interface). */
#ifndef EDDY_STATE_INT_H
#define EDDY_STATE_INT_H
#include <librdkafka/rdkafka.h>
#include <pthread.h>

#include "engine/state/changelog.h"
#include "engine/state/state.h"

enum { ST_KEYED = 1, ST_HOST = 2, ST_SNAPSHOT = 3 };
#define EDDY_STATE_MAX_THREADS 64 /* worker.threads' maximum */

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
} st_task;

typedef struct st_source {
    int durable;
    char *group;
    char *topic;       /* changelog */
    rd_kafka_t *restore; /* restore consumer, made on first use */
} st_source;

struct eddy_state {
    eddy_runtime *rt;
    st_source *src;
    /* One changelog producer per processing thread: a thread's flush waits
     * for its own records only (librdkafka's flush waits for a producer's
     * whole queue, which other threads would keep filling). [0] also serves
     * the start-up checks. Made on first use, under mu. */
    rd_kafka_t *prod[EDDY_STATE_MAX_THREADS];
    uint64_t unflushed[EDDY_STATE_MAX_THREADS]; /* each thread's own */
    _Atomic int dr_failed;
    char dr_err[256];
    int discard;               /* state.on_mismatch: discard */
    int64_t restore_timeout;
    pthread_mutex_t mu;        /* guards restoring and prod */
    char restoring[256];
    int nrestoring;
    eddy_metric *m_records, *m_bytes, *m_tombs, *m_restored, *m_restore_ms, *m_flush_ms;
};

/* state.c: the source would be durable (state on, Kafka, a stateful
 * step), and the name of its changelog topic (malloc'd; NULL: no memory). */
bool st_durable_candidate(const eddy_runtime *rt, int source);
char *st_changelog_name(const eddy_runtime *rt, int source);

/* state_kafka.c */
/* Partitions of a topic from metadata: >0, 0 when it does not exist, <0
 * when the brokers did not answer (err says why). */
int st_topic_partitions(rd_kafka_t *rk, const char *topic, char *err, size_t errlen);
int st_kafka_start(eddy_state *s, char *err, size_t errlen);
void st_kafka_free(eddy_state *s);
/* Produces one changelog record (v NULL: tombstone). 0 or <0. */
int st_produce(eddy_state *s, int thread, st_source *src, int32_t part, const void *k,
               size_t kl, const void *v, size_t vl);
/* Waits for every record the thread produced: 0, or <0 with a logged reason. */
int st_producer_flush(eddy_state *s, int thread);
/* Reads changelog partition `part` from its start to its end, calling fn
 * for each record. <0 on error (logged). *n counts the records. */
typedef int (*st_record_fn)(void *arg, const void *k, size_t kl, const void *v, size_t vl);
int st_read_partition(eddy_state *s, st_source *src, int32_t part, st_record_fn fn, void *arg,
                      uint64_t *n);

/* state.c: writes one record of the instance's step to its task's
 * changelog partition (data NULL: tombstone). 0 or <0. */
int eddy_state_write_kind(eddy_ctx *ctx, int kind, const void *key, size_t klen, int version,
                          const void *data, size_t len);

/* state_host.c */
st_kv_ent *st_kv_find(st_kv *kv, const void *k, size_t kl);
int st_kv_set(st_kv *kv, const void *k, size_t kl, const void *v, size_t vl, int dirty);
void st_kv_free(st_kv *kv);
st_ctx *st_ctx_get(eddy_ctx *c); /* made on first use (host-managed keys) */

#endif
