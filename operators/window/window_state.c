/* Pools, slots and the close queue of the window operator. */
#include <string.h>

#include "operators/window/window.h"

int eddy_wpool_init(wpool *p, size_t item, uint32_t shift)
{
    memset(p, 0, sizeof *p);
    p->item = (item + 7) & ~(size_t)7;
    p->shift = shift;
    p->free_head = W_NIL;
    return 0;
}

void eddy_wpool_free(const eddy_host *h, wpool *p)
{
    for (uint32_t i = 0; i < p->nchunks; i++)
        h->free(p->chunks[i]);
    h->free(p->chunks);
    /* Item size and chunk shift stay: the pool can be used again. */
    size_t item = p->item;
    uint32_t shift = p->shift;
    memset(p, 0, sizeof *p);
    p->item = item;
    p->shift = shift;
    p->free_head = W_NIL;
}

/* The free list is threaded through the first 4 bytes of free items. */
uint32_t eddy_wpool_get(const eddy_host *h, wpool *p)
{
    uint32_t i = p->free_head;
    if (i != W_NIL) {
        memcpy(&p->free_head, eddy_wpool_at(p, i), sizeof(uint32_t));
        p->used++;
        return i;
    }
    if (p->hwm == p->cap) {
        if (p->nchunks >= (W_NIL >> p->shift) - 1)
            return W_NIL;
        uint8_t **c = h->realloc(p->chunks, sizeof *c * (p->nchunks + 1));
        if (!c)
            return W_NIL;
        p->chunks = c;
        uint8_t *mem = h->alloc(p->item << p->shift);
        if (!mem)
            return W_NIL;
        /* Zeroed once, so a never-used item reads as free with generation 0. */
        memset(mem, 0, p->item << p->shift);
        p->chunks[p->nchunks++] = mem;
        p->cap += 1u << p->shift;
    }
    p->used++;
    return p->hwm++;
}

void eddy_wpool_put(wpool *p, uint32_t i)
{
    memcpy(eddy_wpool_at(p, i), &p->free_head, sizeof(uint32_t));
    p->free_head = i;
    p->used--;
}

size_t eddy_wpool_bytes(const wpool *p)
{
    return (size_t)p->cap * p->item + sizeof(uint8_t *) * p->nchunks;
}

/* ---- slots ---------------------------------------------------------------- */

void eddy_window_slot_init_states(window *w, wslot *s)
{
    for (uint32_t a = 0; a < w->nagg; a++)
        eddy_agg_init(w->agg[a].spec, wstate(w, s, a));
}

uint32_t eddy_window_slot_new(window *w, int64_t start, int64_t end)
{
    uint32_t i = eddy_wpool_get(w->h, &w->slots);
    if (i == W_NIL)
        return W_NIL;
    wslot *s = WSLOT(w, i);
    s->start = start;
    s->end = end;
    s->count = 0;
    s->next = W_NIL;
    s->flags = 0;
    eddy_window_slot_init_states(w, s);
    return i;
}

void eddy_window_slot_free(window *w, uint32_t s)
{
    eddy_wpool_put(&w->slots, s);
}

static const eddy_value w_null_value;

void eddy_window_slot_add(window *w, wslot *s, int64_t ts)
{
    uint32_t bad = 0;
    for (uint32_t a = 0; a < w->nagg; a++) {
        const wagg *g = &w->agg[a];
        const eddy_value *v = g->field == W_NIL ? &w_null_value : w->vals[g->field];
        if (eddy_agg_add(g->spec, (uint8_t *)s + g->off, v ? v : &w_null_value, ts) < 0)
            bad++;
    }
    s->count++;
    if (bad)
        w->h->metric_add(w->m_bad, bad);
}

void eddy_window_count_bad(window *w, int64_t ts)
{
    if (w->loading || !w->probe)
        return;
    /* The probe is a real state that keeps absorbing values; it is reset
     * now and then so that no counter inside it can overflow. */
    if (w->probe_adds++ % (1u << 20) == 0)
        eddy_window_slot_init_states(w, (wslot *)w->probe);
    uint32_t bad = 0;
    for (uint32_t a = 0; a < w->nagg; a++) {
        const wagg *g = &w->agg[a];
        if (g->field != W_NIL && w->vals[g->field] &&
            eddy_agg_add(g->spec, w->probe + g->off, w->vals[g->field], ts) < 0)
            bad++;
    }
    if (bad)
        w->h->metric_add(w->m_bad, bad);
}

void eddy_window_slot_merge(window *w, wslot *dst, const wslot *src)
{
    for (uint32_t a = 0; a < w->nagg; a++)
        eddy_agg_merge(w->agg[a].spec, (uint8_t *)dst + w->agg[a].off,
                       (const uint8_t *)src + w->agg[a].off);
    dst->count += src->count;
    if (src->start < dst->start)
        dst->start = src->start;
    if (src->end > dst->end)
        dst->end = src->end;
}

/* ---- close queue: a binary min-heap on `at` -------------------------------- */

static void sift_down(window *w, uint32_t i)
{
    wheap_ent e = w->heap[i];
    uint32_t n = w->nheap;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && w->heap[c + 1].at < w->heap[c].at)
            c++;
        if (w->heap[c].at >= e.at)
            break;
        w->heap[i] = w->heap[c];
        i = c;
    }
    w->heap[i] = e;
}

/* Entries are deleted lazily (an evicted or closed key, a superseded time),
 * so the heap can hold many dead entries: 10 M keys through a 1 h window
 * with max_keys 1 M left 9 M evicted keys' entries waiting for their hour
 * (window state 195 -> 572 MB). When dead entries could outnumber live ones
 * (at most one per used key), they are dropped and the heap rebuilt: O(n)
 * after n pushes, so O(1) per push. */
static void heap_compact(window *w)
{
    uint32_t out = 0;
    for (uint32_t i = 0; i < w->nheap; i++) {
        wheap_ent e = w->heap[i];
        wkey *k = WKEY(w, e.key);
        /* A freed key's slot reused by a new key with the same close time
         * (every key of a tumbling window shares it) makes the old entry
         * look live too: one entry per key is kept. */
        if ((k->flags & WK_USED) && k->queued_at == e.at && !(k->flags & WK_QSEEN)) {
            k->flags |= WK_QSEEN;
            w->heap[out++] = e;
        }
    }
    for (uint32_t i = 0; i < out; i++)
        WKEY(w, w->heap[i].key)->flags &= ~WK_QSEEN;
    w->nheap = out;
    for (uint32_t i = out / 2; i-- > 0;)
        sift_down(w, i);
    /* Give back most of the memory of a heap that shrank a lot. */
    if (w->heapcap > 4096 && out < w->heapcap / 4) {
        uint32_t cap = out * 2 > 1024 ? out * 2 : 1024;
        wheap_ent *h = w->h->realloc(w->heap, sizeof *h * cap);
        if (h) {
            w->heap = h;
            w->heapcap = cap;
        }
    }
}

int eddy_window_schedule(window *w, uint32_t k, int64_t at)
{
    wkey *key = WKEY(w, k);
    if (at >= key->queued_at)
        return 0;
    if (w->nheap == w->heapcap && w->nheap >= 2 * w->nkeys + 1024)
        heap_compact(w);
    if (w->nheap == w->heapcap) {
        uint32_t cap = w->heapcap ? w->heapcap * 2 : 1024;
        wheap_ent *h = w->h->realloc(w->heap, sizeof *h * cap);
        if (!h)
            return -1;
        w->heap = h;
        w->heapcap = cap;
    }
    key->queued_at = at;
    uint32_t i = w->nheap++;
    wheap_ent e = {at, k};
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (w->heap[p].at <= at)
            break;
        w->heap[i] = w->heap[p];
        i = p;
    }
    w->heap[i] = e;
    return 0;
}

static void heap_pop_top(window *w)
{
    w->heap[0] = w->heap[--w->nheap];
    if (w->nheap)
        sift_down(w, 0);
}

uint32_t eddy_window_heap_pop(window *w, int64_t now)
{
    while (w->nheap && w->heap[0].at <= now) {
        wheap_ent e = w->heap[0];
        heap_pop_top(w);
        wkey *k = WKEY(w, e.key);
        /* A freed key, or an entry superseded by an earlier one. */
        if (!(k->flags & WK_USED) || k->queued_at != e.at)
            continue;
        k->queued_at = W_NEVER;
        return e.key;
    }
    return W_NIL;
}

int64_t eddy_window_heap_min(const window *w)
{
    return w->nheap ? w->heap[0].at : W_NEVER;
}

size_t eddy_window_state_bytes(const window *w)
{
    return eddy_wpool_bytes(&w->keys) + eddy_wpool_bytes(&w->slots) +
           (size_t)w->tabcap * sizeof *w->tab + (size_t)w->heapcap * sizeof *w->heap +
           (size_t)w->dirtycap * sizeof *w->dirty + w->slide_bytes + w->slot_size;
}
