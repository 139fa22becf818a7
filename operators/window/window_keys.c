/* Group keys: encoding, the open-addressing table, the LRU list and
 * eviction. A key is the tuple of its `key` fields, encoded as
 * [tag][payload] per field so that equal tuples have equal bytes:
 * 0 null/missing, 1 false, 2 true, 3 int (8 bytes), 4 double (8 bytes),
 * 5 string and 6 bytes (u32 length + data). */
#include <stdio.h>
#include <string.h>

#include "operators/window/window.h"

enum { T_NULL, T_FALSE, T_TRUE, T_INT, T_DOUBLE, T_STRING, T_BYTES };

uint64_t eddy_window_hash(const uint8_t *p, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (n * 0xff51afd7ed558ccdull);
    while (n >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        h = (h ^ x) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 31;
        p += 8;
        n -= 8;
    }
    uint64_t x = 0;
    memcpy(&x, p, n);
    h = (h ^ x) * 0x94d049bb133111ebull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 32);
}

int eddy_window_key_encode(window *w, const eddy_record *r, char *why, size_t whylen)
{
    uint8_t *p = w->kbuf;
    size_t n = 0;
    for (uint32_t i = 0; i < w->nkeyf; i++) {
        const eddy_value *v = w->h->record_get(r, w->keyf[i]);
        int type = v ? v->type : EDDY_NULL;
        size_t need = 1 + (type == EDDY_STRING || type == EDDY_BYTES ? 4 + (size_t)v->len : 8);
        if (n + need > W_KEY_MAX) {
            snprintf(why, whylen, "window key is longer than %d bytes", W_KEY_MAX);
            return -1;
        }
        switch (type) {
        case EDDY_NULL: p[n++] = T_NULL; break;
        case EDDY_BOOL: p[n++] = v->u.b ? T_TRUE : T_FALSE; break;
        case EDDY_INT:
            p[n++] = T_INT;
            memcpy(p + n, &v->u.i, 8);
            n += 8;
            break;
        case EDDY_DOUBLE: {
            double d = v->u.d == 0 ? 0.0 : v->u.d; /* -0.0 groups with 0.0 */
            p[n++] = T_DOUBLE;
            memcpy(p + n, &d, 8);
            n += 8;
            break;
        }
        case EDDY_STRING:
        case EDDY_BYTES: {
            p[n++] = type == EDDY_STRING ? T_STRING : T_BYTES;
            uint32_t len = v->len;
            memcpy(p + n, &len, 4);
            if (len)
                memcpy(p + n + 4, type == EDDY_STRING ? (const void *)v->u.s : v->u.bytes, len);
            n += 4 + len;
            break;
        }
        default:
            snprintf(why, whylen,
                     "window key field '%s' is %s; keys must be strings, numbers, booleans or null",
                     w->h->sym_name(w->keyf[i]), type == EDDY_MAP ? "a map" : "an array");
            return -1;
        }
    }
    return (int)n;
}

/* The payload length of the field whose tag is p[o - 1] (o is just past
 * the tag), or -1 when the tag is unknown or the field runs past n: the
 * one reader of the encoding for both walkers below. */
static long field_len(const uint8_t *p, size_t n, size_t o, uint8_t t)
{
    size_t len;
    if (t == T_INT || t == T_DOUBLE) {
        len = 8;
    } else if (t == T_STRING || t == T_BYTES) {
        uint32_t sl;
        if (n - o < 4)
            return -1;
        memcpy(&sl, p + o, 4);
        len = 4 + (size_t)sl;
    } else if (t <= T_TRUE) {
        len = 0;
    } else {
        return -1;
    }
    return len > n - o ? -1 : (long)len;
}

int eddy_window_key_valid(const window *w, const uint8_t *p, size_t n)
{
    size_t o = 0;
    uint32_t i = 0;
    for (; o < n; i++) {
        uint8_t t = p[o++];
        long len = field_len(p, n, o, t);
        if (len < 0)
            return 0;
        o += (size_t)len;
    }
    return i == w->nkeyf;
}

eddy_value eddy_window_key_field(const uint8_t *p, size_t n, uint32_t idx)
{
    eddy_value v = {0};
    size_t o = 0;
    for (uint32_t i = 0; o < n; i++) {
        uint8_t t = p[o++];
        long len = field_len(p, n, o, t);
        if (len < 0)
            return v; /* malformed: eddy_window_key_valid refuses it at restore */
        if (i == idx) {
            switch (t) {
            case T_FALSE: v.type = EDDY_BOOL; v.u.b = 0; break;
            case T_TRUE: v.type = EDDY_BOOL; v.u.b = 1; break;
            case T_INT: v.type = EDDY_INT; memcpy(&v.u.i, p + o, 8); break;
            case T_DOUBLE: v.type = EDDY_DOUBLE; memcpy(&v.u.d, p + o, 8); break;
            case T_STRING:
            case T_BYTES:
                v.type = t == T_STRING ? EDDY_STRING : EDDY_BYTES;
                v.len = (uint32_t)(len - 4);
                v.u.s = (const char *)p + o + 4;
                break;
            default: break;
            }
            return v;
        }
        o += (size_t)len;
    }
    return v;
}

/* ---- table ------------------------------------------------------------------ */

static inline uint64_t cell(uint64_t hash, uint32_t idx)
{
    return (hash & 0xffffffff00000000ull) | ((uint64_t)idx + 1);
}

static uint64_t key_hash(const window *w, uint32_t i)
{
    const wkey *k = WKEY(w, i);
    return eddy_window_hash(wkey_bytes(k), k->klen);
}

static int tab_grow(window *w)
{
    uint32_t cap = w->tabcap ? w->tabcap * 2 : 1024;
    if (cap < w->tabcap)
        return -1;
    uint64_t *t = w->h->alloc(sizeof *t * cap);
    if (!t)
        return -1;
    memset(t, 0, sizeof *t * cap);
    for (uint32_t i = 0; i < w->tabcap; i++) {
        uint64_t c = w->tab[i];
        if (!c)
            continue;
        uint64_t hash = key_hash(w, (uint32_t)c - 1);
        uint32_t pos = (uint32_t)hash & (cap - 1);
        while (t[pos])
            pos = (pos + 1) & (cap - 1);
        t[pos] = c;
    }
    w->h->free(w->tab);
    w->tab = t;
    w->tabcap = cap;
    return 0;
}

static uint32_t tab_find(const window *w, uint32_t len, uint64_t hash, uint32_t *slot)
{
    uint32_t mask = w->tabcap - 1, pos = (uint32_t)hash & mask;
    uint64_t tag = hash & 0xffffffff00000000ull;
    for (;;) {
        uint64_t c = w->tab[pos];
        if (!c)
            break;
        if ((c & 0xffffffff00000000ull) == tag) {
            uint32_t i = (uint32_t)c - 1;
            const wkey *k = WKEY(w, i);
            if (k->klen == len && memcmp(wkey_bytes(k), w->kbuf, len) == 0)
                return i;
        }
        pos = (pos + 1) & mask;
    }
    *slot = pos;
    return W_NIL;
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
static void tab_remove(window *w, uint32_t idx, uint64_t hash)
{
    uint32_t mask = w->tabcap - 1, i = (uint32_t)hash & mask;
    while (w->tab[i] && (uint32_t)w->tab[i] - 1 != idx)
        i = (i + 1) & mask;
    if (!w->tab[i])
        return;
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        uint64_t c = w->tab[j];
        if (!c)
            break;
        uint32_t home = (uint32_t)key_hash(w, (uint32_t)c - 1) & mask;
        /* c may move into hole i when its home is not in (i, j]. */
        bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!between) {
            w->tab[i] = c;
            i = j;
        }
    }
    w->tab[i] = 0;
}

/* ---- LRU ---------------------------------------------------------------------- */

static void lru_unlink(window *w, uint32_t i)
{
    wkey *k = WKEY(w, i);
    if (k->lru_prev != W_NIL)
        WKEY(w, k->lru_prev)->lru_next = k->lru_next;
    else
        w->lru_head = k->lru_next;
    if (k->lru_next != W_NIL)
        WKEY(w, k->lru_next)->lru_prev = k->lru_prev;
    else
        w->lru_tail = k->lru_prev;
}

static void lru_front(window *w, uint32_t i)
{
    wkey *k = WKEY(w, i);
    k->lru_prev = W_NIL;
    k->lru_next = w->lru_head;
    if (w->lru_head != W_NIL)
        WKEY(w, w->lru_head)->lru_prev = i;
    w->lru_head = i;
    if (w->lru_tail == W_NIL)
        w->lru_tail = i;
}

void eddy_window_key_touch(window *w, uint32_t i, int64_t ts)
{
    wkey *k = WKEY(w, i);
    if (ts > k->last_ts)
        k->last_ts = ts;
    eddy_window_sdirty(w, i);
    if (w->lru_head != i) {
        lru_unlink(w, i);
        lru_front(w, i);
    }
}

uint32_t eddy_window_key_find(const window *w, uint32_t len, uint64_t hash)
{
    uint32_t slot;
    return w->tabcap ? tab_find(w, len, hash, &slot) : W_NIL;
}

uint32_t eddy_window_key_get(window *w, uint32_t len, uint64_t hash, int64_t now)
{
    uint32_t slot = 0;
    if (w->tabcap) {
        uint32_t i = tab_find(w, len, hash, &slot);
        if (i != W_NIL)
            return i;
    }
    if (w->nkeys >= w->max_keys && w->lru_tail != W_NIL)
        eddy_window_key_evict(w, w->lru_tail, "max_keys");
    if ((uint64_t)(w->nkeys + 1) * 10 > (uint64_t)w->tabcap * 7) {
        if (tab_grow(w) != 0)
            return W_NIL;
    }
    /* Eviction or growth moved cells: probe again for the free cell. */
    (void)tab_find(w, len, hash, &slot);
    uint32_t i = eddy_wpool_get(w->h, &w->keys);
    if (i == W_NIL)
        return W_NIL;
    wkey *k = WKEY(w, i);
    uint32_t gen = k->gen;
    memset(k, 0, sizeof *k);
    k->gen = gen;
    if (len > W_KEY_INLINE) {
        if (!(k->k.heap = w->h->alloc(len))) {
            eddy_wpool_put(&w->keys, i);
            return W_NIL;
        }
        k->flags |= WK_HEAPKEY;
        memcpy(k->k.heap, w->kbuf, len);
    } else {
        memcpy(k->k.in, w->kbuf, len);
    }
    k->flags |= WK_USED;
    k->klen = (uint16_t)len;
    k->last_ts = now;
    k->queued_at = W_NEVER;
    k->last_emit = W_NONE;
    k->head = k->prev = k->hint = W_NIL;
    if (w->type == W_HOPPING)
        k->u.next_end = W_NONE;
    else
        k->u.slide = NULL;
    w->tab[slot] = cell(hash, i);
    w->nkeys++;
    lru_front(w, i);
    return i;
}

void eddy_window_key_free(window *w, uint32_t i)
{
    eddy_window_stomb(w, i);
    wkey *k = WKEY(w, i);
    tab_remove(w, i, key_hash(w, i));
    lru_unlink(w, i);
    for (uint32_t s = k->head; s != W_NIL;) {
        uint32_t next = WSLOT(w, s)->next;
        eddy_window_slot_free(w, s);
        s = next;
    }
    if (k->prev != W_NIL)
        eddy_window_slot_free(w, k->prev);
    if (k->flags & WK_HEAPKEY)
        w->h->free(k->k.heap);
    if (w->type == W_SLIDING && k->u.slide)
        eddy_wslide_free(w, k->u.slide);
    k->flags = 0;
    k->gen++;
    w->nkeys--;
    eddy_wpool_put(&w->keys, i);
}

void eddy_window_key_maybe_free(window *w, uint32_t i)
{
    wkey *k = WKEY(w, i);
    if (k->head != W_NIL || (w->use_prev && k->prev != W_NIL))
        return;
    if (w->type == W_SLIDING && k->u.slide && eddy_wslide_count(w, i))
        return;
    eddy_window_key_free(w, i);
}

void eddy_window_key_evict(window *w, uint32_t i, const char *reason)
{
    bool ttl = strcmp(reason, "key_ttl") == 0;
    w->h->metric_add(ttl ? w->m_evict_ttl : w->m_evict_max, 1);
    if (w->evict_logged++ % 100000 == 0)
        w->h->log(w->ctx, EDDY_LOG_WARN,
                  ttl ? "window: evicting keys idle for key_ttl (%lldms); their open windows are "
                        "emitted early (%llu eviction(s) so far)"
                      : "window: max_keys (%lld) reached: evicting the least recently updated "
                        "keys; their open windows are emitted early (%llu eviction(s) so far)",
                  ttl ? (long long)w->key_ttl : (long long)w->max_keys,
                  (unsigned long long)w->evict_logged);
    /* Closing at W_NEVER emits everything; a key with nothing left is freed
     * by close_key itself, so check before freeing it again. */
    uint32_t gen = WKEY(w, i)->gen;
    eddy_window_close_key(w, i, W_NEVER);
    wkey *k = WKEY(w, i);
    if ((k->flags & WK_USED) && k->gen == gen)
        eddy_window_key_free(w, i);
}

void eddy_window_expire(window *w, int64_t now)
{
    if (w->key_ttl <= 0 || now == W_NONE || now == W_NEVER)
        return;
    while (w->lru_tail != W_NIL && w_add(WKEY(w, w->lru_tail)->last_ts, w->key_ttl) <= now)
        eddy_window_key_evict(w, w->lru_tail, "key_ttl");
}

void eddy_window_state_free(window *w)
{
    const eddy_host *h = w->h;
    for (uint32_t i = 0; i < w->keys.hwm; i++) {
        wkey *k = WKEY(w, i);
        if (!(k->flags & WK_USED))
            continue;
        if (k->flags & WK_HEAPKEY)
            h->free(k->k.heap);
        if (w->type == W_SLIDING && k->u.slide)
            eddy_wslide_free(w, k->u.slide);
    }
    eddy_wpool_free(h, &w->keys);
    eddy_wpool_free(h, &w->slots);
    h->free(w->tab);
    h->free(w->heap);
    h->free(w->dirty);
    w->tab = NULL;
    w->heap = NULL;
    w->dirty = NULL;
    w->tabcap = w->nkeys = w->nheap = w->heapcap = w->ndirty = w->dirtycap = 0;
    w->nsdirty = 0; /* entries of freed keys */
    w->lru_head = w->lru_tail = W_NIL;
    w->slide_bytes = 0;
}
