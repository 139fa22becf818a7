/* process(): assigns each event to its window(s) of its key, or to the late
 * output when every window it belongs to has closed. */
#include <stdio.h>
#include <string.h>

#include "operators/window/window.h"

/* The slot of [start, end) in the key's list (sorted by start), created if
 * missing. W_NIL on out of memory. */
static uint32_t slot_at(window *w, uint32_t k, int64_t start, int64_t end)
{
    /* Most events go to the window (pane) the key's previous event went to:
     * checking it first saves walking the list, a cache miss per slot. */
    uint32_t hint = WKEY(w, k)->hint;
    if (hint != W_NIL && WSLOT(w, hint)->start == start)
        return hint;
    uint32_t *link = &WKEY(w, k)->head;
    while (*link != W_NIL && WSLOT(w, *link)->start < start)
        link = &WSLOT(w, *link)->next;
    if (*link != W_NIL && WSLOT(w, *link)->start == start)
        return *link;
    /* Getting a slot may add a chunk: links into slots stay valid (chunks
     * never move), links into keys too (same). */
    uint32_t s = eddy_window_slot_new(w, start, end);
    if (s == W_NIL)
        return W_NIL;
    WSLOT(w, s)->next = *link;
    *link = s;
    return s;
}

/* Adds the record at ts to key k's slot [start, end), made if need be. */
static int add_to_slot(window *w, uint32_t k, int64_t ts, int64_t start, int64_t end)
{
    uint32_t s = slot_at(w, k, start, end);
    if (s == W_NIL)
        return -1;
    WKEY(w, k)->hint = s;
    wslot *ws = WSLOT(w, s);
    eddy_window_slot_add(w, ws, ts);
    ws->flags |= WS_DIRTY;
    return 0;
}

static int add_tumbling(window *w, uint32_t k, int64_t ts, int64_t start)
{
    if (add_to_slot(w, k, ts, start, start + w->size) != 0)
        return -1;
    return eddy_window_schedule(w, k, w_add(WSLOT(w, WKEY(w, k)->head)->end, w->grace));
}

static int add_hopping(window *w, uint32_t k, int64_t ts, int64_t pane)
{
    if (add_to_slot(w, k, ts, pane, pane + w->slide) != 0)
        return -1;
    /* The first window holding this pane that is still open. */
    int64_t e = pane + w->slide;
    if (w->wm != W_NONE && w_closed(w, e, w->wm)) {
        int64_t open = w_floor(w->wm - w->grace, w->slide) + w->slide;
        if (open > e)
            e = open;
    }
    wkey *key = WKEY(w, k);
    if (key->u.next_end == W_NONE || e < key->u.next_end)
        key->u.next_end = e;
    return eddy_window_schedule(w, k, w_add(key->u.next_end, w->grace));
}

/* The first session of the key overlapping [ts, ts + gap), with every
 * other overlapping session merged into it; W_NIL if none. */
static uint32_t session_find(window *w, uint32_t k, int64_t ts)
{
    int64_t end = w_add(ts, w->gap);
    uint32_t first = W_NIL;
    uint32_t *link = &WKEY(w, k)->head;
    while (*link != W_NIL) {
        uint32_t s = *link;
        wslot *ws = WSLOT(w, s);
        if (ws->start >= end)
            break;
        if (ts < ws->end) {
            if (first == W_NIL) {
                first = s;
            } else {
                /* The event bridges two sessions: they become one. */
                wslot *fs = WSLOT(w, first);
                eddy_window_slot_merge(w, fs, ws);
                fs->flags |= ws->flags & WS_DIRTY;
                *link = ws->next;
                WKEY(w, k)->hint = W_NIL;
                eddy_window_slot_free(w, s);
                continue;
            }
        }
        link = &ws->next;
    }
    return first;
}

static int add_session(window *w, uint32_t k, int64_t ts, uint32_t s)
{
    int64_t end = w_add(ts, w->gap);
    if (s == W_NIL && (s = slot_at(w, k, ts, end)) == W_NIL)
        return -1;
    wslot *ws = WSLOT(w, s);
    if (ts < ws->start)
        ws->start = ts;
    if (end > ws->end)
        ws->end = end;
    eddy_window_slot_add(w, ws, ts);
    ws->flags |= WS_DIRTY;
    return eddy_window_schedule(w, k, w_add(WSLOT(w, WKEY(w, k)->head)->end, w->grace));
}

static int add_count(window *w, uint32_t k, int64_t ts)
{
    wkey *key = WKEY(w, k);
    if (key->head == W_NIL) {
        uint32_t s = eddy_window_slot_new(w, ts, w_add(ts, 1));
        if (s == W_NIL)
            return -1;
        WKEY(w, k)->head = s;
    }
    uint32_t s = WKEY(w, k)->head;
    wslot *ws = WSLOT(w, s);
    if (ts < ws->start)
        ws->start = ts;
    if (w_add(ts, 1) > ws->end)
        ws->end = w_add(ts, 1);
    eddy_window_slot_add(w, ws, ts);
    ws->flags |= WS_DIRTY;
    /* A full window closes at once, through the same path as any close
     * (W_NEVER: the count window's close condition is its count). */
    if (ws->count >= w->count)
        eddy_window_close_key(w, k, W_NEVER);
    return 0;
}

/* 1: late (sent to the late output), 0: not late, with *start and *end of the
 * window the event missed. Sessions are checked after the key lookup. */
static int late_window(const window *w, int64_t ts, int64_t *start, int64_t *end)
{
    switch (w->type) {
    case W_TUMBLING:
        *start = w_floor(ts, w->size);
        *end = *start + w->size;
        break;
    case W_HOPPING: /* the last window holding the event */
        *start = w_floor(ts, w->slide);
        *end = *start + w->size;
        break;
    case W_SLIDING: /* the event's own window (ts - size, ts] */
        *end = w_add(ts, 1);
        *start = *end - w->size;
        break;
    case W_SESSION:
        *start = ts;
        *end = w_add(ts, w->gap);
        break;
    case W_COUNT:
        return 0;
    }
    return w_closed(w, *end, w->wm);
}

/* The batch is read twice: first every key is encoded and hashed and its
 * table cell prefetched; then, while record i is processed, the key entry
 * of record i + 8 and the window slot of record i + 4 are prefetched. Over
 * many keys each of those is a cache miss; overlapped, they cost far less. */
typedef struct wpre {
    uint64_t hash;
    uint32_t off;
    int32_t len; /* -1: the key could not be encoded */
} wpre;

#define AHEAD_KEY 8
#define AHEAD_SLOT 4

static int prepare(window *w, eddy_batch *b, uint32_t n)
{
    const eddy_host *h = w->h;
    if (n > w->precap) {
        wpre *p = h->realloc(w->pre, sizeof *p * n);
        if (!p)
            return -1;
        w->pre = p;
        w->precap = n;
    }
    size_t used = 0;
    char why[256];
    for (uint32_t i = 0; i < n; i++) {
        int len = eddy_window_key_encode(w, h->batch_get(b, i), why, sizeof why);
        w->pre[i].len = len;
        if (len < 0)
            continue;
        if (used + (size_t)len > w->pkcap) {
            size_t cap = (used + (size_t)len) * 2;
            uint8_t *k = h->realloc(w->pkeys, cap ? cap : 64);
            if (!k)
                return -1;
            w->pkeys = k;
            w->pkcap = cap;
        }
        if (len) /* global windows: empty keys */
            memcpy(w->pkeys + used, w->kbuf, (size_t)len);
        w->pre[i].off = (uint32_t)used;
        w->pre[i].hash = eddy_window_hash(w->kbuf, (size_t)len);
        used += (size_t)len;
        if (w->tabcap)
            __builtin_prefetch(&w->tab[w->pre[i].hash & (w->tabcap - 1)]);
    }
    return 0;
}

/* The key entry the record's first table cell points to, if any (a guess:
 * only used to prefetch). */
static const wkey *guess_key(const window *w, const wpre *p)
{
    if (!w->tabcap || p->len < 0)
        return NULL;
    uint64_t c = w->tab[p->hash & (w->tabcap - 1)];
    if (!c || (c >> 32) != (p->hash >> 32) || (uint32_t)c - 1 >= w->keys.hwm)
        return NULL;
    return WKEY(w, (uint32_t)c - 1);
}

static void prefetch(const window *w, uint32_t i, uint32_t n)
{
    const wkey *k;
    if (i + AHEAD_KEY < n && (k = guess_key(w, &w->pre[i + AHEAD_KEY])))
        __builtin_prefetch(k);
    if (i + AHEAD_SLOT < n && (k = guess_key(w, &w->pre[i + AHEAD_SLOT]))) {
        uint32_t s = k->hint != W_NIL ? k->hint : k->head;
        if (s != W_NIL && s < w->slots.hwm) {
            const uint8_t *p = eddy_wpool_at(&w->slots, s);
            size_t span = w->slot_size < 256 ? w->slot_size : 256;
            for (size_t o = 0; o < span; o += 64)
                __builtin_prefetch(p + o, 1);
        }
    }
}

int eddy_window_process(void *state, eddy_ctx *ctx, eddy_batch *b)
{
    window *w = state;
    const eddy_host *h = w->h;
    w->ctx = ctx;
    uint32_t n = h->batch_count(b);
    int64_t wall = w->proc_time ? h->now_ms() : 0;
    int rc = EDDY_CONSUMED;
    char why[256];
    if (prepare(w, b, n) != 0) {
        h->log(ctx, EDDY_LOG_ERROR, "window: out of memory for a batch of %u records", n);
        return EDDY_EXPR_ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        prefetch(w, i, n);
        eddy_record *r = h->batch_get(b, i);
        int64_t ts = w->proc_time ? wall : h->record_time(r);
        if (ts == W_NONE) {
            h->reject(ctx, b, i, "window: the record has no event time");
            continue;
        }
        int len = w->pre[i].len;
        if (len < 0) {
            (void)eddy_window_key_encode(w, r, why, sizeof why); /* for the reason */
            h->reject(ctx, b, i, why);
            continue;
        }
        if (len)
            memcpy(w->kbuf, w->pkeys + w->pre[i].off, (size_t)len);
        uint64_t hash = w->pre[i].hash;
        int64_t start = 0, end = 0;
        int late = w->proc_time ? 0 : late_window(w, ts, &start, &end);
        for (uint32_t f = 0; f < w->nfields; f++)
            w->vals[f] = h->record_get(r, w->fields[f]);
        uint32_t k;
        uint32_t session = W_NIL;
        if (w->type == W_SESSION && late) {
            /* Late on its own, but an open session it falls into takes it. */
            k = eddy_window_key_find(w, (uint32_t)len, hash);
            if (k != W_NIL)
                session = session_find(w, k, ts);
            if (session == W_NIL) {
                eddy_window_late(w, r, start, end);
                continue;
            }
        } else if (late) {
            eddy_window_late(w, r, start, end);
            continue;
        } else {
            k = eddy_window_key_get(w, (uint32_t)len, hash, ts);
            if (k == W_NIL)
                goto oom;
            if (w->type == W_SESSION)
                session = session_find(w, k, ts);
        }
        eddy_window_key_touch(w, k, ts);
        int e = 0;
        switch (w->type) {
        case W_TUMBLING: e = add_tumbling(w, k, ts, w_floor(ts, w->size)); break;
        case W_HOPPING: e = add_hopping(w, k, ts, w_floor(ts, w->slide)); break;
        case W_SLIDING:
            e = eddy_wslide_add(w, k, ts);
            if (e == 0)
                e = eddy_window_schedule(w, k, w_add(w_add(ts, 1), w->grace));
            break;
        case W_SESSION: e = add_session(w, k, ts, session); break;
        case W_COUNT: e = add_count(w, k, ts); break;
        }
        if (e != 0)
            goto oom;
        if ((w->emit & W_EMIT_UPDATE) && (WKEY(w, k)->flags & WK_USED) &&
            eddy_window_mark_dirty(w, k) != 0)
            goto oom;
        continue;
    oom:
        h->log(ctx, EDDY_LOG_ERROR, "window: out of memory for the window state (%u keys)",
               w->nkeys);
        rc = EDDY_EXPR_ENOMEM;
        break;
    }
    int e = eddy_window_after_batch(w);
    return rc < 0 ? rc : e < 0 ? e : rc;
}
