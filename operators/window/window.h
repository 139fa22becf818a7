/* The `window` operator: windowing and aggregation in one step.
 *
 * Layout of the state (all of it owned by one instance, i.e. one step of one
 * source partition; keys are partitioned by the source partition, so a
 * "global" window is global per partition task):
 *
 *  - keys: fixed-size entries in chunks (stable addresses, no realloc of
 *    live entries), found through an open-addressing table of 64-bit cells
 *    (32-bit hash tag + index), kept in a doubly linked LRU list;
 *  - window slots: fixed-size blocks in chunks with a free list, one per open
 *    window (tumbling), pane (hopping), session, count window, or previous
 *    window kept for `prev.<agg>` in derive; each slot is a small header
 *    followed by the aggregate states (eddy_agg_state_size each);
 *  - a min-heap of (close time, key): at most one live entry per key, for
 *    the key's earliest window to close; stale entries are skipped;
 *  - sliding windows keep each key's events (wslide) instead of slots.
 *
 * Nothing here allocates per record once chunks, the table and the heap
 * have grown to the working set. */
#ifndef EDDY_OPS_WINDOW_H
#define EDDY_OPS_WINDOW_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "include/eddy/operator.h"
#include "lib/agg/agg.h"
#include "lib/buf/buf.h"
#include "lib/expr/expr.h"

extern const eddy_op_descriptor eddy_op_window;

#define W_NIL UINT32_MAX
#define W_NONE INT64_MIN
#define W_NEVER INT64_MAX
/* Keys up to this many encoded bytes live inside the key entry. */
#define W_KEY_INLINE 16
/* Longest encoded key accepted (longer: the record is rejected). */
#define W_KEY_MAX 4096
/* Records per result batch before it is passed on. */
#define W_OUT_BATCH 1024

typedef enum wtype { W_TUMBLING, W_HOPPING, W_SLIDING, W_SESSION, W_COUNT } wtype;
enum { W_EMIT_FINAL = 1, W_EMIT_UPDATE = 2, W_EMIT_BOTH = 3 };

/* slot flags */
#define WS_DIRTY 0x1u /* changed since its last update was emitted */
/* key flags */
#define WK_DIRTY 0x1u   /* in the dirty list */
#define WK_USED 0x2u    /* allocated (free entries have it clear) */
#define WK_HEAPKEY 0x4u /* key bytes are in `heap`, not inline */
#define WK_SDIRTY 0x8u  /* changed since the last state_flush (durability, not emission) */
#define WK_QSEEN 0x20u  /* transient, heap_compact: the key's live entry was kept */
#define WK_PERSIST 0x10u /* the changelog holds a value for it: freeing it writes a tombstone */

typedef struct wslot {
    int64_t start, end; /* [start, end) in ms */
    int64_t count;      /* events */
    uint32_t next;      /* next slot of the same key, by start */
    uint32_t flags;
    /* aggregate states follow (w->agg[i].off from the slot start) */
} wslot;

typedef struct wslide wslide;

/* 80 bytes: a key's share of the state budget (256 bytes per key-window
 * for a handful of scalar aggregates) matters at millions of keys. The hash
 * is not kept: the rare table moves recompute it from the key bytes. */
typedef struct wkey {
    int64_t last_ts;   /* operator time of the last event (key_ttl) */
    int64_t queued_at; /* close time of the key's live heap entry, W_NEVER if none */
    int64_t last_emit; /* wall clock of the last update (min_interval) */
    union {
        int64_t next_end; /* hopping: end of the next window to close, W_NONE if none */
        wslide *slide;    /* sliding: the key's events */
    } u;
    uint32_t lru_prev, lru_next; /* lru_next links the free list too */
    uint32_t head;               /* first open slot (by start), W_NIL */
    uint32_t hint;               /* the slot last added to (W_NIL when unlinked) */
    uint32_t prev;               /* previous final window (derive prev.*), W_NIL */
    uint32_t gen;                /* bumped on free: stale heap/dirty entries */
    uint16_t klen;
    uint8_t flags;
    uint8_t pad_;
    union {
        uint8_t in[W_KEY_INLINE];
        uint8_t *heap;
    } k;
} wkey;

/* A pool of fixed-size items in chunks of 2^shift items. */
typedef struct wpool {
    uint8_t **chunks;
    uint32_t nchunks, shift;
    size_t item; /* bytes per item */
    uint32_t used, cap, free_head, hwm; /* hwm: items ever handed out */
} wpool;

/* 12 bytes, one per key with an open window. No generation is needed: a
 * stale entry of a freed key whose index was reused matches the new key
 * only if it has the very same close time, and closing that key then is
 * right anyway. */
typedef struct __attribute__((packed)) wheap_ent {
    int64_t at;
    uint32_t key;
} wheap_ent;

typedef struct wagg {
    eddy_sym name;
    eddy_agg_spec *spec;
    uint32_t field; /* index into w->fields, W_NIL for count()/rate() */
    size_t off;     /* of its state in a slot */
} wagg;

typedef struct wderive {
    eddy_sym name;
    eddy_expr *expr;
} wderive;

typedef struct wdirty {
    uint32_t key, gen;
} wdirty;

typedef struct window {
    const eddy_host *h;
    eddy_ctx *ctx;
    /* configuration */
    wtype type;
    int emit;
    bool proc_time;
    int64_t size, slide, gap, grace, min_interval, key_ttl, count;
    uint32_t max_keys, max_events;
    eddy_sym *keyf;
    uint32_t nkeyf;
    wagg *agg;
    uint32_t nagg;
    eddy_sym *fields; /* distinct input fields of the aggregates */
    uint32_t nfields;
    wderive *derive;
    uint32_t nderive;
    bool use_prev; /* some derive reads prev.<agg> */
    size_t slot_size;
    /* symbols of the result records */
    eddy_sym s_start, s_end, s_count, s_final, s_prev, s_late_reason, s_late_end;
    /* state */
    int64_t wm; /* last watermark (event time) */
    wpool keys, slots;
    uint64_t *tab;
    uint32_t tabcap, nkeys;
    uint32_t lru_head, lru_tail; /* head: most recently updated */
    wheap_ent *heap;
    uint32_t nheap, heapcap;
    wdirty *dirty;
    uint32_t ndirty, dirtycap;
    size_t slide_bytes; /* memory of the sliding stores */
    uint8_t *scratch;   /* one slot for merged results (hopping, sliding) */
    uint8_t kbuf[W_KEY_MAX];
    const eddy_value *vals[64]; /* per-event field values, nfields of them */
    eddy_value vtmp[64];        /* values rebuilt from a sliding store */
    uint8_t *probe;             /* a slot that only tells bad values (sliding) */
    uint32_t probe_adds;
    bool loading;               /* restore: do not count values again */
    /* per-batch lookahead (window_process.c) */
    struct wpre *pre;
    uint32_t precap;
    uint8_t *pkeys;
    size_t pkcap;
    /* output */
    eddy_batch *out, *late;
    int err; /* a host failure while emitting: reported by the caller */
    int64_t timer_at; /* processing time: the wall timer set, W_NEVER if none */
    /* metrics */
    eddy_metric *m_late, *m_evict_ttl, *m_evict_max, *m_bytes, *m_bad, *m_keys,
        *m_slide_evict, *m_derive_err;
    uint64_t evict_logged;
    /* durable state (window_durable.c): keys changed since the last
     * state_flush, and the bytes of keys freed since then (u32 len + key) */
    bool durable;
    wdirty *sdirty;
    uint32_t nsdirty, sdirtycap;
    eddy_buf tomb;
} window;

/* ---- window_opts.c -------------------------------------------------------- */
extern const eddy_option eddy_window_options[];

/* ---- window_state.c: pools, keys, table, LRU, heap ------------------------ */
int eddy_wpool_init(wpool *p, size_t item, uint32_t shift);
void eddy_wpool_free(const eddy_host *h, wpool *p);
/* W_NIL when out of memory. */
uint32_t eddy_wpool_get(const eddy_host *h, wpool *p);
void eddy_wpool_put(wpool *p, uint32_t i);
size_t eddy_wpool_bytes(const wpool *p);
static inline void *eddy_wpool_at(const wpool *p, uint32_t i)
{
    return p->chunks[i >> p->shift] + (size_t)(i & ((1u << p->shift) - 1)) * p->item;
}
#define WKEY(w, i) ((wkey *)eddy_wpool_at(&(w)->keys, (i)))
#define WSLOT(w, i) ((wslot *)eddy_wpool_at(&(w)->slots, (i)))
static inline void *wstate(const window *w, wslot *s, uint32_t a)
{
    return (uint8_t *)s + w->agg[a].off;
}
static inline const uint8_t *wkey_bytes(const wkey *k)
{
    return k->flags & WK_HEAPKEY ? k->k.heap : k->k.in;
}

uint64_t eddy_window_hash(const uint8_t *p, size_t n);
/* Encodes the key fields of r into w->kbuf: length, or -1 with a reason. */
int eddy_window_key_encode(window *w, const eddy_record *r, char *why, size_t whylen);
/* Decodes field i of an encoded key (strings point into the key bytes). */
eddy_value eddy_window_key_field(const uint8_t *p, size_t n, uint32_t i);
/* 1 when p[0..n) is a well-formed key of the window's key fields (as
 * eddy_window_key_encode writes it): restored key bytes are checked before
 * use (the state fuzzer's string length past the key's end). */
int eddy_window_key_valid(const window *w, const uint8_t *p, size_t n);
/* The key entry for w->kbuf[0..len), created (evicting by max_keys if
 * needed) when new. W_NIL on out of memory. */
uint32_t eddy_window_key_get(window *w, uint32_t len, uint64_t hash, int64_t now);
/* The key entry for w->kbuf[0..len), W_NIL when absent. */
uint32_t eddy_window_key_find(const window *w, uint32_t len, uint64_t hash);
/* Marks a key as updated now (LRU front, last_ts). */
void eddy_window_key_touch(window *w, uint32_t k, int64_t ts);
/* Frees a key with no open windows left. */
void eddy_window_key_free(window *w, uint32_t k);
/* Closes every window of the key (emitting them), then frees it. */
void eddy_window_key_evict(window *w, uint32_t k, const char *reason);
/* Frees the key when it holds nothing worth keeping. */
void eddy_window_key_maybe_free(window *w, uint32_t k);
/* Evicts keys idle for key_ttl at operator time now. */
void eddy_window_expire(window *w, int64_t now);
void eddy_window_state_free(window *w);
size_t eddy_window_state_bytes(const window *w);

/* Schedules the key's next close at `at` (kept if an earlier one is queued). */
int eddy_window_schedule(window *w, uint32_t k, int64_t at);
/* Pops the next due entry (at <= now) that is still live: key index or W_NIL. */
uint32_t eddy_window_heap_pop(window *w, int64_t now);
int64_t eddy_window_heap_min(const window *w);

/* ---- slots ---------------------------------------------------------------- */
/* A fresh slot with initialised aggregate states. W_NIL on out of memory. */
uint32_t eddy_window_slot_new(window *w, int64_t start, int64_t end);
void eddy_window_slot_free(window *w, uint32_t s);
/* Adds one event's values (w->vals) to a slot's aggregates. */
void eddy_window_slot_add(window *w, wslot *s, int64_t ts);
/* Counts the values of w->vals that the aggregates reject (sliding windows,
 * whose events are added to windows later). */
void eddy_window_count_bad(window *w, int64_t ts);
/* Copies s into the key's previous-window slot (derive prev.*). */
void eddy_window_set_prev(window *w, uint32_t k, const wslot *s);
/* dst += src, count and bounds included. */
void eddy_window_slot_merge(window *w, wslot *dst, const wslot *src);
void eddy_window_slot_init_states(window *w, wslot *s);

/* ---- window_close.c --------------------------------------------------------- */
/* Closes what is due at `now` (watermark or wall clock). */
void eddy_window_advance(window *w, int64_t now);
/* Closes the key's windows due at `now`; reschedules it; may free it. */
void eddy_window_close_key(window *w, uint32_t k, int64_t now);
/* Emits pending updates (update / both modes). */
void eddy_window_updates(window *w);
/* Queues a key for an update emission after the batch. */
int eddy_window_mark_dirty(window *w, uint32_t k);
/* End of process(): updates, processing-time closes, gauges, flush. Returns
 * the first host failure (<0) or 0. */
int eddy_window_after_batch(window *w);
/* The descriptor's callbacks. */
int eddy_window_process(void *state, eddy_ctx *ctx, eddy_batch *b);
int eddy_window_on_watermark(void *state, eddy_ctx *ctx, int64_t wm);
int eddy_window_on_timer(void *state, eddy_ctx *ctx, uint64_t id, int64_t at);

/* ---- window_emit.c ---------------------------------------------------------- */
/* Appends a result record for key k over state s (whose start/end/count
 * describe the window). final: emitted at close. Sets the previous window
 * from it when final and prev is used. */
void eddy_window_result(window *w, uint32_t k, wslot *s, bool final);
/* Copies record r to the late output with the reason. */
void eddy_window_late(window *w, const eddy_record *r, int64_t start, int64_t end);
/* Passes the pending result and late batches on. */
void eddy_window_flush(window *w);

/* ---- window_slide.c --------------------------------------------------------- */
/* Adds one event (w->vals) to the key's sliding store. <0 on out of memory. */
int eddy_wslide_add(window *w, uint32_t k, int64_t ts);
/* Emits the final windows of the key's events due at `now` and prunes. */
void eddy_wslide_close(window *w, uint32_t k, int64_t now);
/* The window over (ts - size, ts] into w->scratch (an initialised slot). */
void eddy_wslide_window(window *w, uint32_t k, int64_t ts);
/* The earliest pending event's time, W_NONE when none. */
int64_t eddy_wslide_pending(const window *w, uint32_t k);
int64_t eddy_wslide_max_ts(const window *w, uint32_t k);
uint32_t eddy_wslide_count(const window *w, uint32_t k);
void eddy_wslide_free(window *w, wslide *s);
int eddy_wslide_save(const window *w, uint32_t k, eddy_buf *out);
/* 0, or <0 for malformed bytes; *used set to the bytes read. */
int eddy_wslide_load(window *w, uint32_t k, const uint8_t *p, size_t n, size_t *used);

/* ---- window_snap.c ---------------------------------------------------------- */
int eddy_window_snapshot(void *state, eddy_ctx *ctx, void **data, size_t *len);
int eddy_window_restore(void *state, eddy_ctx *ctx, int version, const void *data, size_t len);

/* One key's state (the snapshot's per-key record), and back: the key entry
 * filled, or W_NIL for malformed bytes. */
int eddy_window_put_key(const window *w, eddy_buf *b, uint32_t k);
uint32_t eddy_window_get_key(window *w, const void *data, size_t len);
int eddy_window_snap_version(void);

/* ---- window_durable.c: per-key durable state (ABI 1.2) ---------------------- */
/* Records that key k changed since the last state_flush (no-op until the
 * host has called state_loaded). */
void eddy_window_sdirty(window *w, uint32_t k);
/* Key k is being freed: its changelog entry must become a tombstone. */
void eddy_window_stomb(window *w, uint32_t k);
void eddy_window_durable_free(window *w);
int eddy_window_state_flush(void *state, eddy_ctx *ctx);
int eddy_window_state_load(void *state, eddy_ctx *ctx, const void *key, size_t klen, int version,
                           const void *data, size_t len);
int eddy_window_state_loaded(void *state, eddy_ctx *ctx, int64_t watermark);

/* ---- helpers ---------------------------------------------------------------- */
static inline int64_t w_floor(int64_t ts, int64_t unit)
{
    int64_t q = ts / unit;
    if (ts % unit < 0)
        q--;
    return q * unit;
}
static inline int64_t w_add(int64_t a, int64_t b)
{
    int64_t r;
    return __builtin_add_overflow(a, b, &r) ? (b > 0 ? W_NEVER : W_NONE) : r;
}
/* True when a window ending at `end` has closed at watermark `wm`. */
static inline bool w_closed(const window *w, int64_t end, int64_t wm)
{
    return wm != W_NONE && w_add(end, w->grace) <= wm;
}

#endif
