/* Feature store: the latest feature values of each entity, written by the
 * `feature_store` sink, read at prediction time by models (and by the admin
 * route / CLI through eddy_store_get).
 *
 * One store handle serves one feature view. Two backends:
 *  - redis: an online store on a Redis server (hiredis). Writes are queued,
 *    batched into EVALSHA calls of a Lua script and pipelined by a writer
 *    thread; the script keeps the newest event time per entity atomically on
 *    the server. Layout `eddy` (documented below) or `feast` (Feast 0.67's
 *    Redis online store layout, read by Feast's own get_online_features).
 *  - embedded: a SQLite database in WAL mode, no server (see embedded.c for
 *    why SQLite and not LMDB, measured in benchmarks/store).
 *
 * Semantics, both backends: a row replaces the stored one only when its
 * event time is >= the stored event time (older windows, replays and
 * out-of-order results never win); ttl counts from the write (like Redis
 * PEXPIRE); an expired row is absent on read and may be replaced by any row.
 *
 * Layout `eddy` on Redis: one hash per entity, key "<prefix>:<view>:<entity>"
 * (prefix defaults to "eddy"), one field per feature holding its value as
 * text (ints in decimal, doubles in the shortest text that reads back exact, bools
 * true/false, strings as is, arrays/maps as JSON; a null feature has no
 * field), plus field "_ts" = event time in ms since the epoch. A newer write
 * replaces the whole hash. Multi-field entities join their values with '|'.
 *
 * Layout `feast` (Feast 0.67, entity_key_serialization_version 3): key =
 * serialize_entity_key(join keys sorted, values) + project; hash fields
 * mmh3_32("<view>:<feature>") as 4 little-endian bytes -> ValueProto bytes,
 * and "_ts:<view>" -> google.protobuf.Timestamp bytes (see feast.h).
 *
 * Threads: put, flush and pending are called from one thread (the sink's
 * processing thread). get and ready may be called from any other thread at
 * the same time (the admin HTTP thread): they use their own connection and
 * lock. open and close run on one thread with no other call in progress.
 *
 * Errors: functions return 0 or a negative EDDY_E* code; setup errors also
 * fill err (what, where, why). */
#ifndef EDDY_STORE_H
#define EDDY_STORE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf/buf.h"
#include "include/eddy/operator.h"

typedef struct eddy_store eddy_store;

typedef enum eddy_store_kind { EDDY_STORE_EMBEDDED = 0, EDDY_STORE_REDIS = 1 } eddy_store_kind;
typedef enum eddy_store_layout { EDDY_LAYOUT_EDDY = 0, EDDY_LAYOUT_FEAST = 1 } eddy_store_layout;
typedef enum eddy_entity_type { EDDY_ENTITY_STRING = 0, EDDY_ENTITY_INT64 = 1 } eddy_entity_type;

#define EDDY_STORE_MAX_KEYS 8 /* fields forming one entity key */

/* Everything a store needs. Strings are copied by open; NULL/0 = default. */
typedef struct eddy_store_conf {
    eddy_store_kind kind;
    eddy_store_layout layout;
    const char *view;                              /* feature view name (required) */
    const char *project;                           /* feast: Feast project (required) */
    const char *join_keys[EDDY_STORE_MAX_KEYS];    /* entity field names (feast: join keys) */
    uint32_t njoin_keys;
    eddy_entity_type entity_type;                  /* feast: join key value type */
    const char *const *features;                   /* feast: names read back by get */
    uint32_t nfeatures;
    int64_t ttl_ms;                                /* 0 = never expires */
    /* redis */
    const char *host;                              /* default 127.0.0.1 */
    int port;                                      /* default 6379 */
    const char *password;                          /* AUTH, may be NULL */
    const char *username;                          /* ACL user, may be NULL */
    int db;
    const char *key_prefix;                        /* layout eddy, default "eddy" */
    uint32_t batch_size;                           /* rows per EVALSHA, default 1024 */
    uint32_t max_pending;                          /* rows held before put blocks, default 100000 */
    int64_t connect_timeout_ms;                    /* default 2000 */
    int64_t timeout_ms;                            /* per command round trip, default 5000 */
    int64_t flush_timeout_ms;                      /* default 30000 */
    int64_t backoff_max_ms;                        /* reconnect backoff cap, default 5000 */
    /* embedded */
    const char *path;                              /* SQLite database file */
    int64_t purge_interval_ms;                     /* default 60000 */
    char scratch_[1024]; /* eddy_store_conf_from_opts: split names, parsed url */
    const char *feature_ptrs_[256];
} eddy_store_conf;

/* One feature value. name is NUL-terminated; v as in records (strings need
 * not be NUL-terminated). */
typedef struct eddy_store_feature {
    const char *name;
    eddy_value v;
} eddy_store_feature;

/* One row: the features of one entity from one window. The entity string
 * is the join key values joined by '|' (one value: the value itself);
 * entity_vals holds the typed values (feast layout) and may be NULL for the
 * eddy layout and the embedded store. Borrowed for the call only. */
typedef struct eddy_store_row {
    const char *entity;
    uint32_t entity_len;
    const eddy_value *entity_vals; /* njoin_keys values in join_keys order */
    const eddy_store_feature *features;
    uint32_t nfeatures;
    int64_t event_ts; /* ms since the epoch */
} eddy_store_row;

/* Conf from options parsed against eddy_store_options (the sink's table:
 * store, url, host, port, path, layout, view, entity, ttl, ...). Strings
 * point into opts and conf (valid while both live). 0 or <0 with err. */
int eddy_store_conf_from_opts(const eddy_opts *opts, eddy_store_conf *conf, char *err,
                              size_t errlen);
extern const eddy_option eddy_store_options[];

/* Opens the store (redis: starts the writer thread and connects in the
 * background; an unreachable server is not an error here, it makes the
 * store not ready). Owner: caller, free with eddy_store_close. */
int eddy_store_open(const eddy_store_conf *conf, eddy_store **out, char *err, size_t errlen);
/* Flushes for up to flush_timeout, then stops; rows still held are lost
 * (and logged with their count). NULL is fine. */
void eddy_store_close(eddy_store *s);

/* Queues (redis) or writes (embedded) n rows. Copies what it keeps. Blocks
 * while max_pending rows are already held (backpressure) unless the store is
 * closing. Invalid rows (feast: entity value not of entity_type) fail the
 * whole call with EDDY_ETYPE and a reason in err, nothing queued. */
int eddy_store_put(eddy_store *s, const eddy_store_row *rows, uint32_t n, char *err,
                   size_t errlen);
/* Waits until every row put so far is acknowledged: 0, or EDDY_EAGAIN after
 * flush_timeout (rows still held, will be retried), or EDDY_EIO if rows
 * were rejected by the server (logged). */
int eddy_store_flush(eddy_store *s);
/* Rows put but not acknowledged; *high_water (may be NULL) = the depth at
 * which the caller should pause its sources (half of max_pending). */
int64_t eddy_store_pending(eddy_store *s, int64_t *high_water);
/* true when the store accepts and acknowledges writes; otherwise why is
 * "store not ready: <reason>". Any thread. */
bool eddy_store_ready(eddy_store *s, char *why, size_t len);

/* Reads one entity of `view`: appends
 * {"view":..,"entity":..,"event_time":<ms>,"age_ms":<ms>,"features":{..}}
 * to json_out and returns 0; EDDY_ENOTFOUND when the view is not this
 * store's, the entity is absent or expired; <0 on errors (EDDY_EIO when the
 * server is unreachable). Any thread. */
int eddy_store_get(eddy_store *s, const char *view, const char *entity, eddy_buf *json_out);

const char *eddy_store_view(const eddy_store *s);
/* Appends a value's text as the eddy layout stores it (and as entity
 * strings are built). 0 or -1 (memory). */
int eddy_store_value_text(eddy_buf *out, const eddy_value *v);
/* Wall-clock ms since the epoch: the clock TTLs and age_ms are measured by. */
int64_t eddy_store_now_ms(void);

/* Counters since open (any thread): rows acknowledged as written, rows the
 * store kept its newer value for (stale), rows rejected by the server and
 * lost (failed, logged), and reconnects. */
typedef struct eddy_store_stats {
    uint64_t written, stale, failed, reconnects;
} eddy_store_stats;
void eddy_store_get_stats(eddy_store *s, eddy_store_stats *out);

/* Process-wide list of open stores, for the admin route: the sink registers
 * its store after open and unregisters before close. eddy_stores_get finds
 * the store of `view` (EDDY_ENOTFOUND if none) and reads under the list's
 * lock, so a store cannot close under a reader. eddy_stores_ready: false
 * with the first store's reason when any registered store is not ready. */
void eddy_store_register(eddy_store *s);
void eddy_store_unregister(eddy_store *s);
int eddy_stores_get(const char *view, const char *entity, eddy_buf *json_out);
bool eddy_stores_ready(char *why, size_t len);

#endif
