/* Snapshots of every open window, as versioned bytes (little endian):
 *
 *   "EWIN" u32 version(1)
 *   u8 type, i64 size, slide, gap, count      -- the shape: must match on restore
 *   u32 naggs, per aggregate: str name, str kind
 *   u32 nkeyf, per key field: str name
 *   i64 watermark
 *   u32 nkeys, per key from least to most recently updated:
 *     str key bytes, i64 last_ts, last_emit, next_end, u8 dirty
 *     u8 has_prev [slot]; u32 nslots [slot...]; sliding: the event store
 *   slot: i64 start, end, count, u32 flags, per aggregate: str state
 *   str: u32 length + bytes
 *
 * Aggregate states go through eddy_agg_serialize, which versions them too. */
#include <stdio.h>
#include <string.h>

#include "lib/buf/bytes.h"

#include "operators/window/window.h"

#define SNAP_VERSION 1


static int put_slot(const window *w, eddy_buf *b, const wslot *s)
{
    if (eddy_put_i64(b, s->start) || eddy_put_i64(b, s->end) || eddy_put_i64(b, s->count) ||
        eddy_put_u32(b, s->flags))
        return -1;
    for (uint32_t a = 0; a < w->nagg; a++) {
        size_t mark = b->len;
        if (eddy_put_u32(b, 0) ||
            eddy_agg_serialize(w->agg[a].spec, (const uint8_t *)s + w->agg[a].off, b) != 0)
            return -1;
        uint32_t len = (uint32_t)(b->len - mark - 4);
        eddy_le32_store(b->data + mark, len);
    }
    return 0;
}

static int put_shape(const window *w, eddy_buf *b)
{
    const eddy_host *h = w->h;
    if (eddy_buf_put(b, "EWIN", 4) || eddy_put_u32(b, SNAP_VERSION) || eddy_buf_putc(b, (char)w->type) ||
        eddy_put_i64(b, w->size) || eddy_put_i64(b, w->slide) || eddy_put_i64(b, w->gap) ||
        eddy_put_i64(b, w->count) || eddy_put_u32(b, w->nagg))
        return -1;
    for (uint32_t a = 0; a < w->nagg; a++)
        if (eddy_put_cstr(b, h->sym_name(w->agg[a].name)) || eddy_put_cstr(b, eddy_agg_kind(w->agg[a].spec)))
            return -1;
    if (eddy_put_u32(b, w->nkeyf))
        return -1;
    for (uint32_t i = 0; i < w->nkeyf; i++)
        if (eddy_put_cstr(b, h->sym_name(w->keyf[i])))
            return -1;
    return 0;
}

static int put_key(const window *w, eddy_buf *b, uint32_t k)
{
    const wkey *key = WKEY(w, k);
    uint32_t nslots = 0;
    for (uint32_t s = key->head; s != W_NIL; s = WSLOT(w, s)->next)
        nslots++;
    if (eddy_put_str(b, wkey_bytes(key), key->klen) || eddy_put_i64(b, key->last_ts) ||
        eddy_put_i64(b, key->last_emit) ||
        eddy_put_i64(b, w->type == W_HOPPING ? key->u.next_end : 0) ||
        eddy_buf_putc(b, (char)((key->flags & WK_DIRTY) != 0)) ||
        eddy_buf_putc(b, (char)(key->prev != W_NIL)))
        return -1;
    if (key->prev != W_NIL && put_slot(w, b, WSLOT(w, key->prev)))
        return -1;
    if (eddy_put_u32(b, nslots))
        return -1;
    for (uint32_t s = key->head; s != W_NIL; s = WSLOT(w, s)->next)
        if (put_slot(w, b, WSLOT(w, s)))
            return -1;
    return w->type == W_SLIDING ? eddy_wslide_save(w, k, b) : 0;
}

int eddy_window_snapshot(void *state, eddy_ctx *ctx, void **data, size_t *len)
{
    window *w = state;
    const eddy_host *h = w->h;
    eddy_buf b = {0};
    int rc = put_shape(w, &b) || eddy_put_i64(&b, w->wm) || eddy_put_u32(&b, w->nkeys);
    for (uint32_t k = w->lru_tail; k != W_NIL && !rc; k = WKEY(w, k)->lru_prev)
        rc = put_key(w, &b, k);
    void *out = rc ? NULL : h->alloc(b.len ? b.len : 1);
    if (!out) {
        eddy_buf_free(&b);
        h->log(ctx, EDDY_LOG_ERROR, "window: out of memory writing a snapshot");
        return EDDY_EXPR_ENOMEM;
    }
    memcpy(out, b.data, b.len);
    *data = out;
    *len = b.len;
    eddy_buf_free(&b);
    return SNAP_VERSION;
}

/* ---- restore ------------------------------------------------------------------ */


static int get_slot(window *w, eddy_rd *r, wslot *s)
{
    s->start = eddy_get_i64(r);
    s->end = eddy_get_i64(r);
    s->count = eddy_get_i64(r);
    s->flags = eddy_get_u32(r);
    s->next = W_NIL;
    for (uint32_t a = 0; a < w->nagg && !r->err; a++) {
        uint32_t n;
        const uint8_t *p = eddy_get_str(r, &n);
        if (!p || eddy_agg_deserialize(w->agg[a].spec, (uint8_t *)s + w->agg[a].off, p, n) != 0)
            r->err = 1;
    }
    return r->err ? -1 : 0;
}

static const char *check_shape(window *w, eddy_rd *r)
{
    const eddy_host *h = w->h;
    const uint8_t *magic = eddy_take(r, 4);
    if (!magic || memcmp(magic, "EWIN", 4) != 0)
        return "not a window snapshot";
    if (eddy_get_u32(r) != SNAP_VERSION)
        return "unknown snapshot layout version";
    if (eddy_get_u8(r) != (uint8_t)w->type || eddy_get_i64(r) != w->size || eddy_get_i64(r) != w->slide ||
        eddy_get_i64(r) != w->gap || eddy_get_i64(r) != w->count)
        return "the window type or size differs from the snapshot's";
    if (eddy_get_u32(r) != w->nagg)
        return "the number of aggregates differs from the snapshot's";
    for (uint32_t a = 0; a < w->nagg; a++)
        if (!eddy_get_str_is(r, h->sym_name(w->agg[a].name)) || !eddy_get_str_is(r, eddy_agg_kind(w->agg[a].spec)))
            return "the aggregates differ from the snapshot's";
    if (eddy_get_u32(r) != w->nkeyf)
        return "the key fields differ from the snapshot's";
    for (uint32_t i = 0; i < w->nkeyf; i++)
        if (!eddy_get_str_is(r, h->sym_name(w->keyf[i])))
            return "the key fields differ from the snapshot's";
    return r->err ? "truncated" : NULL;
}

static int get_key(window *w, eddy_rd *r)
{
    uint32_t klen;
    const uint8_t *kb = eddy_get_str(r, &klen);
    if (!kb || klen > W_KEY_MAX || !eddy_window_key_valid(w, kb, klen))
        return -1;
    memcpy(w->kbuf, kb, klen);
    int64_t last_ts = eddy_get_i64(r), last_emit = eddy_get_i64(r), next_end = eddy_get_i64(r);
    uint8_t dirty = eddy_get_u8(r), has_prev = eddy_get_u8(r);
    if (r->err)
        return -1;
    uint32_t k = eddy_window_key_get(w, klen, eddy_window_hash(w->kbuf, klen), last_ts);
    if (k == W_NIL)
        return -1;
    wkey *key = WKEY(w, k);
    key->last_ts = last_ts;
    key->last_emit = last_emit;
    if (w->type == W_HOPPING)
        key->u.next_end = next_end;
    if (has_prev) {
        uint32_t p = eddy_wpool_get(w->h, &w->slots);
        if (p == W_NIL)
            return -1;
        WKEY(w, k)->prev = p;
        if (get_slot(w, r, WSLOT(w, p)) != 0)
            return -1;
    }
    uint32_t nslots = eddy_get_u32(r);
    uint32_t *link = &WKEY(w, k)->head;
    for (uint32_t i = 0; i < nslots && !r->err; i++) {
        uint32_t s = eddy_wpool_get(w->h, &w->slots);
        if (s == W_NIL)
            return -1;
        *link = s;
        WSLOT(w, s)->next = W_NIL;
        if (get_slot(w, r, WSLOT(w, s)) != 0)
            return -1;
        link = &WSLOT(w, s)->next;
    }
    if (w->type == W_SLIDING && !r->err) {
        size_t used = 0;
        if (eddy_wslide_load(w, k, r->p, r->left, &used) != 0)
            return -1;
        eddy_take(r, used);
    }
    if (r->err)
        return -1;
    key = WKEY(w, k);
    int64_t at = W_NEVER;
    if (w->type == W_TUMBLING || w->type == W_SESSION)
        at = key->head != W_NIL ? w_add(WSLOT(w, key->head)->end, w->grace) : W_NEVER;
    else if (w->type == W_HOPPING)
        at = key->u.next_end != W_NONE ? w_add(key->u.next_end, w->grace) : W_NEVER;
    else if (w->type == W_SLIDING && eddy_wslide_pending(w, k) != W_NONE)
        at = w_add(w_add(eddy_wslide_pending(w, k), 1), w->grace);
    if (at != W_NEVER && eddy_window_schedule(w, k, at) != 0)
        return -1;
    if (dirty && eddy_window_mark_dirty(w, k) != 0)
        return -1;
    return 0;
}

int eddy_window_restore(void *state, eddy_ctx *ctx, int version, const void *data, size_t len)
{
    window *w = state;
    const eddy_host *h = w->h;
    w->ctx = ctx;
    if (version != SNAP_VERSION) {
        h->log(ctx, EDDY_LOG_ERROR, "window: snapshot version %d is not supported (this build reads %d)",
               version, SNAP_VERSION);
        return EDDY_EXPR_EINVAL;
    }
    /* Whatever the instance held is replaced. */
    eddy_window_state_free(w);
    eddy_rd r = {data, len, 0};
    const char *why = check_shape(w, &r);
    if (why) {
        h->log(ctx, EDDY_LOG_ERROR, "window: cannot restore the snapshot: %s", why);
        return EDDY_EXPR_EINVAL;
    }
    w->wm = eddy_get_i64(&r);
    uint32_t nkeys = eddy_get_u32(&r);
    w->loading = true;
    int rc = 0;
    for (uint32_t i = 0; i < nkeys && rc == 0; i++)
        rc = get_key(w, &r);
    w->loading = false;
    if (rc != 0 || r.err || r.left) {
        h->log(ctx, EDDY_LOG_ERROR, "window: cannot restore the snapshot: %s",
               rc == 0 && !r.err ? "trailing bytes" : "malformed or truncated key state");
        eddy_window_state_free(w);
        w->wm = W_NONE;
        return EDDY_EXPR_EINVAL;
    }
    eddy_window_flush(w); /* results of keys evicted by a smaller max_keys */
    return 0;
}

/* ---- one key at a time (durable state, window_durable.c) ---------------------- */

int eddy_window_put_key(const window *w, eddy_buf *b, uint32_t k)
{
    return put_key(w, b, k);
}

uint32_t eddy_window_get_key(window *w, const void *data, size_t len)
{
    eddy_rd r = eddy_rd_of(data, len);
    if (get_key(w, &r) != 0 || r.err || r.left)
        return W_NIL;
    /* get_key left the key bytes in kbuf: find the entry it filled. */
    uint32_t klen;
    eddy_rd k = eddy_rd_of(data, len);
    eddy_get_str(&k, &klen);
    return eddy_window_key_find(w, klen, eddy_window_hash(w->kbuf, klen));
}

int eddy_window_snap_version(void)
{
    return SNAP_VERSION;
}
