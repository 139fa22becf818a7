/* Closing windows (final results), pending updates, and the operator's
 * watermark and timer callbacks. */
#include <string.h>

#include "operators/window/window.h"

/* The key's previous final window, for derive's prev.<agg>. */
void eddy_window_set_prev(window *w, uint32_t k, const wslot *s)
{
    wkey *key = WKEY(w, k);
    if (key->prev == W_NIL) {
        uint32_t p = eddy_wpool_get(w->h, &w->slots);
        if (p == W_NIL)
            return; /* prev.* reads null: better than failing the window */
        key = WKEY(w, k);
        key->prev = p;
    }
    /* States are plain bytes (agg.h), so a copy is a valid state. */
    memcpy(WSLOT(w, key->prev), s, w->slot_size);
    WSLOT(w, key->prev)->next = W_NIL;
}

/* The end of a window: its final result (or, in update mode, the change
 * held back by min_interval), then the slot becomes prev or is freed. */
static void finalize(window *w, uint32_t k, uint32_t si)
{
    wslot *s = WSLOT(w, si);
    if ((w->emit & W_EMIT_FINAL) || (s->flags & WS_DIRTY))
        eddy_window_result(w, k, s, true);
    wkey *key = WKEY(w, k);
    if (w->use_prev) {
        if (key->prev != W_NIL)
            eddy_window_slot_free(w, key->prev);
        key->prev = si;
        s->next = W_NIL;
    } else {
        eddy_window_slot_free(w, si);
    }
}

/* Panes with start in [start, end) merged into w->scratch. */
static bool merge_panes(window *w, uint32_t k, int64_t start, int64_t end, bool *dirty)
{
    wslot *sc = (wslot *)w->scratch;
    sc->start = start;
    sc->end = end;
    sc->count = 0;
    sc->flags = 0;
    sc->next = W_NIL;
    bool any = false;
    for (uint32_t p = WKEY(w, k)->head; p != W_NIL; p = WSLOT(w, p)->next) {
        wslot *ps = WSLOT(w, p);
        if (ps->start >= end)
            break;
        if (ps->start < start)
            continue;
        /* States are plain bytes (agg.h): the first pane is copied rather
         * than merged into an empty state, one merge less per window. */
        if (!any)
            memcpy(wstate(w, sc, 0), wstate(w, ps, 0), w->slot_size - w->agg[0].off);
        else
            for (uint32_t a = 0; a < w->nagg; a++)
                eddy_agg_merge(w->agg[a].spec, wstate(w, sc, a), wstate(w, ps, a));
        sc->count += ps->count;
        if (dirty && (ps->flags & WS_DIRTY))
            *dirty = true;
        any = true;
    }
    if (!any)
        eddy_window_slot_init_states(w, sc);
    sc->start = start;
    sc->end = end;
    return any;
}

static void hop_close(window *w, uint32_t k, int64_t now)
{
    wkey *key = WKEY(w, k);
    while (key->u.next_end != W_NONE && w_closed(w, key->u.next_end, now)) {
        /* w_add saturates: a window end near the smallest time (restored
         * state, found by the state fuzzer) must not overflow. */
        int64_t end = key->u.next_end, start = w_add(end, -w->size);
        bool dirty = false;
        if (merge_panes(w, k, start, end, &dirty)) {
            wslot *sc = (wslot *)w->scratch;
            if ((w->emit & W_EMIT_FINAL) || dirty)
                eddy_window_result(w, k, sc, true);
            if (w->use_prev)
                eddy_window_set_prev(w, k, sc);
        }
        key = WKEY(w, k);
        /* A pane's last window ends at its start + size. */
        while (key->head != W_NIL && WSLOT(w, key->head)->start <= start) {
            uint32_t p = key->head;
            key->head = WSLOT(w, p)->next;
            key->hint = W_NIL;
            eddy_window_slot_free(w, p);
        }
        if (key->head == W_NIL) {
            key->u.next_end = W_NONE;
            break;
        }
        int64_t next = end + w->slide, first = WSLOT(w, key->head)->start;
        /* Windows ending at or before the first pane are empty: skip them. */
        key->u.next_end = first >= next ? first + w->slide : next;
    }
    if (key->u.next_end != W_NONE)
        eddy_window_schedule(w, k, w_add(key->u.next_end, w->grace));
}

void eddy_window_close_key(window *w, uint32_t k, int64_t now)
{
    eddy_window_sdirty(w, k);
    wkey *key = WKEY(w, k);
    switch (w->type) {
    case W_TUMBLING:
    case W_SESSION:
        while (key->head != W_NIL && w_closed(w, WSLOT(w, key->head)->end, now)) {
            uint32_t s = key->head;
            key->head = WSLOT(w, s)->next;
            key->hint = W_NIL;
            finalize(w, k, s);
            key = WKEY(w, k);
        }
        if (key->head != W_NIL)
            eddy_window_schedule(w, k, w_add(WSLOT(w, key->head)->end, w->grace));
        break;
    case W_HOPPING:
        hop_close(w, k, now);
        break;
    case W_SLIDING: {
        eddy_wslide_close(w, k, now);
        int64_t p = eddy_wslide_pending(w, k);
        if (p != W_NONE)
            eddy_window_schedule(w, k, w_add(w_add(p, 1), w->grace));
        break;
    }
    case W_COUNT:
        /* Count windows close on their count; here only when everything
         * closes (end of input, eviction): the partial window is emitted. */
        if (now == W_NEVER && key->head != W_NIL) {
            uint32_t s = key->head;
            key->head = key->hint = W_NIL;
            finalize(w, k, s);
        }
        break;
    }
    eddy_window_key_maybe_free(w, k);
}

void eddy_window_advance(window *w, int64_t now)
{
    uint32_t k;
    while ((k = eddy_window_heap_pop(w, now)) != W_NIL)
        eddy_window_close_key(w, k, now);
    if (now == W_NEVER && w->type == W_COUNT)
        for (uint32_t i = 0; i < w->keys.hwm; i++)
            if (WKEY(w, i)->flags & WK_USED)
                eddy_window_close_key(w, i, now);
    eddy_window_expire(w, now);
}

/* ---- updates ------------------------------------------------------------------ */

int eddy_window_mark_dirty(window *w, uint32_t k)
{
    wkey *key = WKEY(w, k);
    if (key->flags & WK_DIRTY)
        return 0;
    if (w->ndirty == w->dirtycap) {
        uint32_t cap = w->dirtycap ? w->dirtycap * 2 : 256;
        wdirty *d = w->h->realloc(w->dirty, sizeof *d * cap);
        if (!d)
            return -1;
        w->dirty = d;
        w->dirtycap = cap;
    }
    key->flags |= WK_DIRTY;
    w->dirty[w->ndirty++] = (wdirty){k, key->gen};
    return 0;
}

static void hop_updates(window *w, uint32_t k)
{
    wkey *key = WKEY(w, k);
    int64_t lo = W_NEVER, hi = W_NONE;
    for (uint32_t p = key->head; p != W_NIL; p = WSLOT(w, p)->next) {
        wslot *ps = WSLOT(w, p);
        if (!(ps->flags & WS_DIRTY))
            continue;
        ps->flags &= ~WS_DIRTY;
        if (ps->start < lo)
            lo = ps->start;
        if (ps->start > hi)
            hi = ps->start;
    }
    if (hi == W_NONE)
        return;
    /* The open windows holding a changed pane. */
    int64_t e = lo + w->slide;
    if (key->u.next_end != W_NONE && e < key->u.next_end)
        e = key->u.next_end;
    for (; e <= hi + w->size; e += w->slide)
        if (merge_panes(w, k, e - w->size, e, NULL))
            eddy_window_result(w, k, (wslot *)w->scratch, false);
}

static void key_updates(window *w, uint32_t k)
{
    wkey *key = WKEY(w, k);
    switch (w->type) {
    case W_HOPPING:
        hop_updates(w, k);
        break;
    case W_SLIDING:
        if (eddy_wslide_count(w, k)) {
            eddy_wslide_window(w, k, eddy_wslide_max_ts(w, k));
            eddy_window_result(w, k, (wslot *)w->scratch, false);
        }
        break;
    default:
        for (uint32_t s = key->head; s != W_NIL; s = WSLOT(w, s)->next) {
            wslot *ws = WSLOT(w, s);
            if (ws->flags & WS_DIRTY) {
                ws->flags &= ~WS_DIRTY;
                eddy_window_result(w, k, ws, false);
            }
        }
        break;
    }
}

void eddy_window_updates(window *w)
{
    if (!w->ndirty)
        return;
    int64_t now = w->min_interval > 0 ? w->h->now_ms() : 0;
    uint32_t keep = 0;
    for (uint32_t i = 0; i < w->ndirty; i++) {
        wdirty d = w->dirty[i];
        wkey *key = WKEY(w, d.key);
        if (!(key->flags & WK_USED) || key->gen != d.gen || !(key->flags & WK_DIRTY))
            continue;
        if (w->min_interval > 0 && key->last_emit != W_NONE &&
            now - key->last_emit < w->min_interval) {
            w->dirty[keep++] = d; /* held back: tried again after a later batch */
            continue;
        }
        key->flags &= ~WK_DIRTY;
        key->last_emit = now;
        key_updates(w, d.key);
    }
    w->ndirty = keep;
}

/* ---- callbacks ------------------------------------------------------------------ */

static void after_call(window *w)
{
    if (w->proc_time) {
        int64_t at = eddy_window_heap_min(w);
        if (at != w->timer_at) {
            if (at == W_NEVER)
                w->h->timer_cancel(w->ctx, 1);
            else
                w->h->timer_set(w->ctx, 1, at, 0);
            w->timer_at = at;
        }
    }
    w->h->metric_set(w->m_bytes, (double)eddy_window_state_bytes(w));
    w->h->metric_set(w->m_keys, (double)w->nkeys);
    eddy_window_flush(w);
}

int eddy_window_after_batch(window *w)
{
    if (w->emit & W_EMIT_UPDATE)
        eddy_window_updates(w);
    if (w->proc_time)
        eddy_window_advance(w, w->h->now_ms());
    after_call(w);
    int rc = w->err;
    w->err = 0;
    return rc;
}

int eddy_window_on_watermark(void *state, eddy_ctx *ctx, int64_t wm)
{
    window *w = state;
    w->ctx = ctx;
    if (w->proc_time) {
        if (wm != EDDY_WATERMARK_END)
            return 0;
        eddy_window_advance(w, W_NEVER);
    } else {
        if (w->wm != W_NONE && wm <= w->wm)
            return 0;
        w->wm = wm;
        eddy_window_advance(w, wm == EDDY_WATERMARK_END ? W_NEVER : wm);
    }
    after_call(w);
    int rc = w->err;
    w->err = 0;
    return rc < 0 ? rc : 0;
}

int eddy_window_on_timer(void *state, eddy_ctx *ctx, uint64_t id, int64_t at)
{
    window *w = state;
    w->ctx = ctx;
    w->timer_at = W_NEVER; /* fired timers are removed by the host */
    if (w->proc_time)
        eddy_window_advance(w, w->h->now_ms());
    after_call(w);
    int rc = w->err;
    w->err = 0;
    return rc < 0 ? rc : 0;
}
