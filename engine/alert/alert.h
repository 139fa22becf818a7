/* Alerts: noise control, the alert record and JSON, and the recent-alerts
 * ring served on /v1/alerts.
 *
 * Operators report checks through host->alert (include/eddy/operator.h);
 * the host keeps one eddy_alert_state per operator instance (single
 * thread) and decides, per alert key, whether a check fires, resolves or
 * is suppressed. Time in the state machine is the check's event time, so a
 * replay of the same stream gives the same alerts.
 *
 * Owner: the operator instance (eddy_ctx) owns its state; the runtime owns
 * the ring. */
#ifndef EDDY_ALERT_H
#define EDDY_ALERT_H
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/core/batch.h"
#include "lib/buf/buf.h"
#include "include/eddy/operator.h"

/* The step's `alerts:` section (eddy_alert_policy_options). */
typedef struct eddy_alert_policy {
    bool enabled;             /* false: the step's checks raise no alerts */
    uint32_t min_consecutive; /* breached checks in a row before firing */
    uint32_t resolve_after;   /* clear checks in a row before resolving */
    bool resolve;             /* send `resolved` events */
    int64_t cooldown_ms;      /* min event time between two firings of a key */
    uint32_t rate_limit;      /* firings per key per rate_window; 0 = no limit */
    int64_t rate_window_ms;
    int severity;             /* -1: the operator's; else eddy_severity */
    uint32_t max_keys;        /* alert keys tracked per operator instance */
    bool log;                 /* also log each alert */
    bool per_partition;       /* no merge across partitions (alert_merge.c) */
} eddy_alert_policy;

extern const eddy_option eddy_alert_policy_options[];
struct eddy_opts;
void eddy_alert_policy_defaults(eddy_alert_policy *p);
/* From parsed options (NULL: defaults). */
void eddy_alert_policy_from_opts(eddy_alert_policy *p, const struct eddy_opts *o);

typedef enum {
    EDDY_ALERT_NONE = 0,       /* nothing to send */
    EDDY_ALERT_FIRING = 1,
    EDDY_ALERT_RESOLVED = 2,
    EDDY_ALERT_SUPPRESSED = 3, /* a firing held back by cooldown or rate limit */
} eddy_alert_outcome;

typedef enum {
    EDDY_SUPPRESS_NONE = 0,
    EDDY_SUPPRESS_COOLDOWN = 1,
    EDDY_SUPPRESS_RATE_LIMIT = 2,
} eddy_alert_suppress;

typedef struct eddy_alert_state eddy_alert_state;

eddy_alert_state *eddy_alert_state_new(const eddy_alert_policy *p);
void eddy_alert_state_free(eddy_alert_state *s);
/* One check for the alert key `akey` (any bytes). *id gets the alert's id
 * (the same for a firing and the resolve that ends it), *why the reason
 * of a suppression. EDDY_ENOMEM only if a new key cannot be tracked. */
int eddy_alert_check(eddy_alert_state *s, const char *akey, size_t klen, int breach,
                     int64_t time_ms, uint64_t *id, eddy_alert_suppress *why);
/* eddy_alert_check, with what the cross-partition merge needs: a clear
 * that ends a firing answers EDDY_ALERT_RESOLVED even with `resolve:
 * false` (the caller then sends nothing), and *firing says whether the key
 * is firing after the check. */
int eddy_alert_check_ex(eddy_alert_state *s, const char *akey, size_t klen, int breach,
                        int64_t time_ms, uint64_t *id, eddy_alert_suppress *why, int *firing);
/* eddy_alert_check_ex (which, like it, refuses an empty akey with
 * EDDY_EINVAL: that key holds the id counter), and *sev: the severity the key's alert was sent
 * with (eddy_alert_state_sent) for a key firing after the check and for
 * the check that resolves it; -1 when not known (not sent yet, or state
 * restored from version 1). A breach above it is an escalation; one at or
 * below it needs nothing (not even the step's merge table, which an
 * anomaly detector would otherwise lock on every flagged record). */
int eddy_alert_check_sev(eddy_alert_state *s, const char *akey, size_t klen, int breach,
                         int64_t time_ms, uint64_t *id, eddy_alert_suppress *why, int *firing,
                         int *sev);
/* The firing key `akey`'s alert went out (or was joined, engine/alert/
 * alert_merge.c) as `id` at severity `sev`: its resolve and its durable
 * state carry that id, and the severity is kept when it is the highest. */
void eddy_alert_state_sent(eddy_alert_state *s, const char *akey, size_t klen, uint64_t id,
                           int sev);
/* Calls fn for every firing key with its id and sent severity (-1: not
 * known); a restored instance joins the step's open alerts with them:
 * engine/state/state_alerts.c. */
void eddy_alert_state_each_firing(eddy_alert_state *s,
                                  void (*fn)(void *arg, const char *akey, size_t klen,
                                             uint64_t id, int sev),
                                  void *arg);
uint32_t eddy_alert_state_keys(const eddy_alert_state *s);

/* Durability (engine/state/state_alerts.c): the state of every alert key
 * changed (or forgotten: data NULL) since the last flush, and the
 * instance's id counter under the empty key, each as one record of
 * eddy_alert_state_version(). Changes are tracked from the start (at most
 * one mark per key), so a flush costs the keys changed since the last
 * one. fn answers 0 or <0; on <0 the flush stops and the unwritten changes
 * stay for the next one. */
typedef int (*eddy_alert_write_fn)(void *arg, const void *key, size_t klen, const void *data,
                                   size_t len);
int eddy_alert_state_version(void);
int eddy_alert_state_flush(eddy_alert_state *s, eddy_alert_write_fn fn, void *arg);
/* Applies one record (data NULL: the key is gone). 0, or EDDY_EINVAL when
 * the bytes are short, corrupt or of another version (nothing changed),
 * EDDY_ENOMEM. */
int eddy_alert_state_load(eddy_alert_state *s, const void *key, size_t klen, int version,
                          const void *data, size_t len);
uint64_t eddy_alert_state_evicted(const eddy_alert_state *s);

/* One alert per alert key across a step's partitions (alert_merge.c); owned
 * by the step, shared by the processing threads. `who` is the operator
 * instance (any pointer unique while it lives). */
typedef struct eddy_alert_merge eddy_alert_merge;
eddy_alert_merge *eddy_alert_merge_new(void);
void eddy_alert_merge_free(eddy_alert_merge *m);
/* The instance fired (fresh 1, its own new id `id`) or still breaches
 * (fresh 0). Answers 1 when an alert is to be sent: the first instance to
 * fire, or a severity above the one sent; *out is the alert's id and
 * *out_sev (when not NULL) the highest severity sent for it, either way
 * (the instance takes both with eddy_alert_state_sent). */
int eddy_alert_merge_fire(eddy_alert_merge *m, const char *akey, size_t klen, const void *who,
                          uint64_t id, int sev, int fresh, uint64_t *out, int *out_sev);
/* The instance's alert cleared. Answers 1 when the alert resolves (no
 * other instance firing for the key, or a key the table never saw: *out =
 * id), 0 while others still fire; *out is the id to resolve, *out_sev
 * (when not NULL) the severity it was sent with (-1 for a key the table
 * never saw). */
int eddy_alert_merge_resolve(eddy_alert_merge *m, const char *akey, size_t klen,
                             const void *who, uint64_t id, uint64_t *out, int *out_sev);
/* A restored instance that was firing `akey` under `id` joins its open
 * alert silently (it was sent before the restart): the alert then resolves
 * only when every instance firing it has cleared, restored ones included.
 * A key the table does not know opens under `id`. */
void eddy_alert_merge_join(eddy_alert_merge *m, const char *akey, size_t klen, const void *who,
                           uint64_t id, int sev);
/* The instance is gone: drops it from every open alert, silently. */
void eddy_alert_merge_forget(eddy_alert_merge *m, const void *who);
/* Open alerts (keys with a firing instance). */
uint32_t eddy_alert_merge_open(eddy_alert_merge *m);

/* An alert event with everything the schema holds (configs/schemas/alert.avsc). */
typedef struct eddy_alert_event {
    const eddy_alert *a;
    uint64_t id;
    int firing;   /* 1 firing, 0 resolved */
    int severity; /* after the policy's override */
    const char *worker, *pipeline, *step;
    int32_t partition;
    int64_t emitted_at_ms;
    const char *message; /* a.message or a generated one */
} eddy_alert_event;

const char *eddy_severity_name(int sev);
/* The default human-readable message. */
void eddy_alert_message(const eddy_alert_event *e, char *out, size_t outlen);
/* "pipeline/feature/key": the Kafka key of alerts (partitioning). */
void eddy_alert_kafka_key(const eddy_alert_event *e, eddy_buf *out);
/* One JSON object, no newline. */
int eddy_alert_json(const eddy_alert_event *e, eddy_buf *out);
/* Fills record r of b with the schema's fields (strings copied into b). */
int eddy_alert_record(const eddy_alert_event *e, eddy_batch *b, eddy_record *r);

/* Recent alerts of the whole worker, for /v1/alerts and `eddy alerts tail`. */
typedef struct eddy_alert_ring eddy_alert_ring;
eddy_alert_ring *eddy_alert_ring_new(uint32_t capacity);
void eddy_alert_ring_free(eddy_alert_ring *r);
/* Copies json; returns its sequence number (1, 2, ...). */
uint64_t eddy_alert_ring_push(eddy_alert_ring *r, const char *json, size_t len);
/* {"next":N,"dropped":D,"alerts":[...]} with alerts of sequence > after, at
 * most limit; "dropped" counts those already overwritten. */
int eddy_alert_ring_json(eddy_alert_ring *r, uint64_t after, uint32_t limit, eddy_buf *out);

#endif
