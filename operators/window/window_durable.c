/* Durable per-key state of the window operator (plugin ABI 1.2): which keys
 * changed since the last commit, and their records for the changelog.
 *
 * Two dirty notions live side by side: WK_DIRTY (window_close.c) drives
 * update *emission* and is cleared when an update goes out; WK_SDIRTY here
 * drives *durability* and is cleared only by state_flush, which the host
 * calls just before it commits the input offsets. A commit therefore costs
 * the keys changed since the previous one, never the whole state.
 *
 * A key's record is the snapshot's per-key encoding (window_snap.c put_key/
 * get_key). A freed key (window closed, evicted) becomes a tombstone when
 * the changelog may hold a value for it (WK_PERSIST); its bytes are copied
 * at free time because the entry and its index are reused. Tracking starts
 * at state_loaded, so a window without durable state pays nothing. */
#include <string.h>

#include "operators/window/window.h"

void eddy_window_sdirty(window *w, uint32_t k)
{
    wkey *key = WKEY(w, k);
    if (!w->durable || (key->flags & WK_SDIRTY))
        return;
    if (w->nsdirty == w->sdirtycap) {
        uint32_t cap = w->sdirtycap ? w->sdirtycap * 2 : 256;
        wdirty *d = w->h->realloc(w->sdirty, sizeof *d * cap);
        if (!d) {
            w->err = EDDY_EXPR_ENOMEM; /* reported by the caller; nothing is committed */
            return;
        }
        w->sdirty = d;
        w->sdirtycap = cap;
    }
    key->flags |= WK_SDIRTY;
    w->sdirty[w->nsdirty++] = (wdirty){k, key->gen};
}

void eddy_window_stomb(window *w, uint32_t k)
{
    const wkey *key = WKEY(w, k);
    if (!w->durable || w->loading || !(key->flags & WK_PERSIST))
        return;
    uint32_t n = key->klen;
    if (eddy_buf_put(&w->tomb, &n, 4) != 0 || eddy_buf_put(&w->tomb, wkey_bytes(key), n) != 0)
        w->err = EDDY_EXPR_ENOMEM;
}

void eddy_window_durable_free(window *w)
{
    w->h->free(w->sdirty);
    w->sdirty = NULL;
    w->nsdirty = w->sdirtycap = 0;
    eddy_buf_free(&w->tomb);
}

int eddy_window_state_flush(void *state, eddy_ctx *ctx)
{
    window *w = state;
    const eddy_host *h = w->h;
    w->ctx = ctx;
    if (w->err) {
        int rc = w->err;
        w->err = 0;
        return rc;
    }
    /* Tombstones first: a key freed and made again since the last flush
     * then ends with its new value. */
    int version = eddy_window_snap_version();
    for (size_t o = 0; o + 4 <= w->tomb.len;) {
        uint32_t n;
        memcpy(&n, w->tomb.data + o, 4);
        /* The ABI asks for the encoding version (> 0) on tombstones too;
         * 0 here was found by the state fuzzer (tests/fuzz/corpus/state/
         * regress-window-tombstone-version). */
        int rc = h->state_write(ctx, w->tomb.data + o + 4, n, version, NULL, 0);
        if (rc < 0)
            return rc;
        o += 4 + (size_t)n;
    }
    w->tomb.len = 0;
    eddy_buf b = {0};
    for (uint32_t i = 0; i < w->nsdirty; i++) {
        wdirty d = w->sdirty[i];
        wkey *key = WKEY(w, d.key);
        if (!(key->flags & WK_USED) || key->gen != d.gen || !(key->flags & WK_SDIRTY))
            continue;
        b.len = 0;
        if (eddy_window_put_key(w, &b, d.key) != 0) {
            eddy_buf_free(&b);
            return EDDY_EXPR_ENOMEM;
        }
        key = WKEY(w, d.key);
        int rc = h->state_write(ctx, wkey_bytes(key), key->klen, version, b.data, b.len);
        if (rc < 0) {
            /* Keep this and the later keys dirty for the next attempt. */
            memmove(w->sdirty, w->sdirty + i, sizeof *w->sdirty * (w->nsdirty - i));
            w->nsdirty -= i;
            eddy_buf_free(&b);
            return rc;
        }
        key->flags = (uint8_t)((key->flags & ~WK_SDIRTY) | WK_PERSIST);
    }
    w->nsdirty = 0;
    eddy_buf_free(&b);
    return 0;
}

int eddy_window_state_load(void *state, eddy_ctx *ctx, const void *kb, size_t klen, int version,
                           const void *data, size_t len)
{
    window *w = state;
    const eddy_host *h = w->h;
    w->ctx = ctx;
    if (klen > W_KEY_MAX)
        return EDDY_EXPR_EINVAL;
    if (data && version != eddy_window_snap_version()) {
        h->log(ctx, EDDY_LOG_ERROR, "window: state version %d is not supported (this build reads %d)",
               version, eddy_window_snap_version());
        return EDDY_EXPR_EINVAL;
    }
    /* A later record of a key replaces the earlier one. */
    memcpy(w->kbuf, kb, klen);
    uint32_t k = eddy_window_key_find(w, (uint32_t)klen, eddy_window_hash(w->kbuf, klen));
    w->loading = true;
    if (k != W_NIL)
        eddy_window_key_free(w, k);
    int rc = 0;
    if (data) {
        k = eddy_window_get_key(w, data, len);
        if (k == W_NIL) {
            h->log(ctx, EDDY_LOG_ERROR, "window: a key's state record is malformed or truncated");
            rc = EDDY_EXPR_EINVAL;
        } else {
            WKEY(w, k)->flags |= WK_PERSIST;
        }
    }
    w->loading = false;
    return rc;
}

int eddy_window_state_loaded(void *state, eddy_ctx *ctx, int64_t watermark)
{
    window *w = state;
    const eddy_host *h = w->h;
    w->ctx = ctx;
    w->durable = true;
    if (!w->proc_time && watermark != INT64_MIN && (w->wm == W_NONE || watermark > w->wm))
        w->wm = watermark;
    if (w->proc_time) {
        int64_t at = eddy_window_heap_min(w);
        if (at != W_NEVER) {
            h->timer_set(ctx, 1, at, 0);
            w->timer_at = at;
        }
    }
    h->metric_set(w->m_keys, (double)w->nkeys);
    eddy_window_flush(w); /* results of keys evicted by a smaller max_keys */
    int rc = w->err;
    w->err = 0;
    return rc < 0 ? rc : 0;
}
