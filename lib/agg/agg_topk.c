/* topk(x, k): space-saving (Metwally, Agrawal, El Abbadi, 2005) with
 * cap = 4k counters, found through a small linear-probing index; a min-heap
 * of counters by count gives the one to evict in O(log cap).
 *
 * Guarantee, with N values added: each reported count overestimates the
 * true count by at most err <= N / cap, and every value whose true count
 * exceeds N / cap is in the summary. Merging follows the mergeable-summaries
 * rule (Agarwal et al., 2012): a value missing from a full summary is
 * credited that summary's minimum count, then the cap largest counters are
 * kept, so the bound becomes (N1 + N2) / cap.
 *
 * Values are compared by value: 5 and 5.0 are one value, true is 1. Strings
 * keep their first 64 bytes (cut at a UTF-8 boundary) and are told apart by
 * length and a 64-bit hash of the whole string; the result shows the kept
 * prefix. */
#include <stdlib.h>

#include "lib/agg/agg_int.h"

typedef struct tk_counter {
    uint64_t count, err;
    agg_item item;
} tk_counter;

typedef struct tk_st {
    uint64_t total;
    uint32_t n, pad_;
    /* uint16_t index[isize] (counter + 1, 0 = empty); uint16_t heap[cap]
     * (counters, smallest count first); uint16_t pos[cap] (of each counter in
     * heap); tk_counter[cap] */
} tk_st;

static inline uint16_t *tk_index(tk_st *x) { return (uint16_t *)(void *)(x + 1); }
static inline uint16_t *tk_heap(const eddy_agg_spec *s, tk_st *x)
{
    return tk_index(x) + s->isize;
}
static inline uint16_t *tk_pos(const eddy_agg_spec *s, tk_st *x)
{
    return tk_index(x) + s->isize + s->cap;
}
static inline tk_counter *tk_ctr(const eddy_agg_spec *s, tk_st *x)
{
    return (tk_counter *)(void *)(tk_index(x) + s->isize + 2 * (size_t)s->cap);
}
/* The same, for reading a const state. */
#define TK_INDEX(x) tk_index((tk_st *)(uintptr_t)(x))
#define TK_CTR(s, x) tk_ctr(s, (tk_st *)(uintptr_t)(x))
#define TK_HEAP(s, x) tk_heap(s, (tk_st *)(uintptr_t)(x))

static size_t tk_size(const eddy_agg_spec *s)
{
    return sizeof(tk_st) + ((size_t)s->isize + 2 * (size_t)s->cap) * 2 +
           (size_t)s->cap * sizeof(tk_counter);
}
static void tk_init(const eddy_agg_spec *s, void *st) { memset(st, 0, tk_size(s)); }

static int tk_find(const eddy_agg_spec *s, const tk_st *x, const agg_item *it)
{
    const uint16_t *idx = TK_INDEX(x);
    const tk_counter *c = TK_CTR(s, x);
    uint32_t mask = s->isize - 1;
    for (uint32_t i = (uint32_t)it->hash & mask; idx[i]; i = (i + 1) & mask)
        if (agg_item_equal(&c[idx[i] - 1].item, it))
            return idx[i] - 1;
    return -1;
}

static void idx_insert(const eddy_agg_spec *s, tk_st *x, uint32_t ci)
{
    uint16_t *idx = tk_index(x);
    uint32_t mask = s->isize - 1;
    uint32_t i = (uint32_t)tk_ctr(s, x)[ci].item.hash & mask;
    while (idx[i])
        i = (i + 1) & mask;
    idx[i] = (uint16_t)(ci + 1);
}

/* Linear-probing delete by shifting later entries back, so lookups never
 * need tombstones. */
static void idx_remove(const eddy_agg_spec *s, tk_st *x, uint32_t ci)
{
    uint16_t *idx = tk_index(x);
    const tk_counter *c = tk_ctr(s, x);
    uint32_t mask = s->isize - 1;
    uint32_t i = (uint32_t)c[ci].item.hash & mask;
    while (idx[i] != ci + 1)
        i = (i + 1) & mask;
    for (;;) {
        uint32_t j = i;
        for (;;) {
            j = (j + 1) & mask;
            if (idx[j] == 0) {
                idx[i] = 0;
                return;
            }
            uint32_t k = (uint32_t)c[idx[j] - 1].item.hash & mask;
            bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
            if (!stays)
                break;
        }
        idx[i] = idx[j];
        i = j;
    }
}

static void heap_swap(uint16_t *heap, uint16_t *pos, uint32_t i, uint32_t j)
{
    uint16_t t = heap[i];
    heap[i] = heap[j];
    heap[j] = t;
    pos[heap[i]] = (uint16_t)i;
    pos[heap[j]] = (uint16_t)j;
}

static void heap_down(const eddy_agg_spec *s, tk_st *x, uint32_t i)
{
    uint16_t *heap = tk_heap(s, x), *pos = tk_pos(s, x);
    const tk_counter *c = tk_ctr(s, x);
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < x->n && c[heap[l]].count < c[heap[m]].count)
            m = l;
        if (r < x->n && c[heap[r]].count < c[heap[m]].count)
            m = r;
        if (m == i)
            return;
        heap_swap(heap, pos, i, m);
        i = m;
    }
}

static void heap_up(const eddy_agg_spec *s, tk_st *x, uint32_t i)
{
    uint16_t *heap = tk_heap(s, x), *pos = tk_pos(s, x);
    const tk_counter *c = tk_ctr(s, x);
    while (i > 0 && c[heap[(i - 1) / 2]].count > c[heap[i]].count) {
        heap_swap(heap, pos, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heapify(const eddy_agg_spec *s, tk_st *x)
{
    uint16_t *heap = tk_heap(s, x), *pos = tk_pos(s, x);
    for (uint32_t i = 0; i < x->n; i++)
        heap[i] = pos[i] = (uint16_t)i;
    for (uint32_t i = x->n / 2; i-- > 0;)
        heap_down(s, x, i);
}

/* The counter with the smallest count. */
static uint32_t tk_argmin(const eddy_agg_spec *s, const tk_st *x) { return TK_HEAP(s, x)[0]; }

/* Puts (it, count, err) in a free counter or in place of the smallest. */
static void tk_place(const eddy_agg_spec *s, tk_st *x, const agg_item *it, uint64_t count,
                     uint64_t err)
{
    tk_counter *c = tk_ctr(s, x);
    if (x->n < s->cap) {
        uint32_t ci = x->n++;
        c[ci].item = *it;
        c[ci].count = count;
        c[ci].err = err;
        idx_insert(s, x, ci);
        tk_heap(s, x)[ci] = (uint16_t)ci;
        tk_pos(s, x)[ci] = (uint16_t)ci;
        heap_up(s, x, ci);
        return;
    }
    /* callers only replace the minimum with a larger count */
    uint32_t ci = tk_argmin(s, x);
    idx_remove(s, x, ci);
    c[ci].item = *it;
    c[ci].count = count;
    c[ci].err = err;
    idx_insert(s, x, ci);
    heap_down(s, x, 0);
}

static int tk_add(const eddy_agg_spec *s, void *st, const eddy_value *v, int64_t ts)
{
    tk_st *x = st;
    agg_item it;
    int rc = agg_item_set(&it, v, true);
    if (rc != 1)
        return rc;
    x->total++;
    int ci = tk_find(s, x, &it);
    if (ci >= 0) {
        tk_ctr(s, x)[ci].count++;
        heap_down(s, x, tk_pos(s, x)[ci]);
    } else if (x->n < s->cap) {
        tk_place(s, x, &it, 1, 0);
    } else {
        uint64_t m = tk_ctr(s, x)[tk_argmin(s, x)].count;
        tk_place(s, x, &it, m + 1, m);
    }
    return 0;
}

static void tk_merge(const eddy_agg_spec *s, void *dst, const void *src)
{
    tk_st *d = dst;
    const tk_st *a = src;
    tk_counter *dc = tk_ctr(s, d);
    const tk_counter *ac = TK_CTR(s, a);
    uint64_t dmin = d->n == s->cap ? dc[tk_argmin(s, d)].count : 0;
    uint64_t amin = a->n == s->cap ? ac[tk_argmin(s, a)].count : 0;
    uint8_t matched[4 * AGG_TOPK_MAX_K] = {0};
    for (uint32_t i = 0; i < d->n; i++) {
        int j = tk_find(s, a, &dc[i].item);
        if (j >= 0) {
            dc[i].count += ac[j].count;
            dc[i].err += ac[j].err;
            matched[j] = 1;
        } else {
            dc[i].count += amin;
            dc[i].err += amin;
        }
    }
    heapify(s, d);
    for (uint32_t j = 0; j < a->n; j++) {
        if (matched[j])
            continue;
        uint64_t count = ac[j].count + dmin, err = ac[j].err + dmin;
        if (d->n == s->cap && count <= dc[tk_argmin(s, d)].count)
            continue;
        tk_place(s, d, &ac[j].item, count, err);
    }
    d->total += a->total;
}

static int cmp_counter(const void *pa, const void *pb)
{
    const tk_counter *a = *(const tk_counter *const *)pa, *b = *(const tk_counter *const *)pb;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    if (a->err != b->err)
        return a->err < b->err ? -1 : 1;
    return (a->item.hash > b->item.hash) - (a->item.hash < b->item.hash);
}

/* An array of {value, count} maps, largest count first. */
static eddy_value tk_result(const eddy_agg_spec *s, const void *st, int64_t w, eddy_batch *b)
{
    const tk_st *x = st;
    const tk_counter *c = TK_CTR(s, x);
    eddy_value out = {0};
    out.type = EDDY_ARRAY;
    if (x->n == 0)
        return out;
    if (!b)
        return eddy_v_null();
    const tk_counter **order = eddy_batch_alloc(b, x->n * sizeof *order);
    uint32_t k = x->n < s->k ? x->n : s->k;
    eddy_value *items = eddy_batch_alloc(b, k * sizeof *items);
    eddy_kv *kvs = eddy_batch_alloc(b, 2 * (size_t)k * sizeof *kvs);
    if (!order || !items || !kvs)
        return eddy_v_null();
    for (uint32_t i = 0; i < x->n; i++)
        order[i] = &c[i];
    qsort(order, x->n, sizeof *order, cmp_counter);
    for (uint32_t i = 0; i < k; i++) {
        kvs[2 * i].key = eddy_v_str("value", 5);
        kvs[2 * i].val = agg_item_value(&order[i]->item, b);
        kvs[2 * i + 1].key = eddy_v_str("count", 5);
        kvs[2 * i + 1].val = eddy_v_int((int64_t)order[i]->count);
        items[i] = (eddy_value){.type = EDDY_MAP, .len = 2, .u.kvs = &kvs[2 * i]};
    }
    out.len = k;
    out.u.items = items;
    return out;
}

static int tk_ser(const eddy_agg_spec *s, const void *st, eddy_buf *out)
{
    const tk_st *x = st;
    const tk_counter *c = TK_CTR(s, x);
    int rc = eddy_put_u32(out, s->cap) | eddy_put_u64(out, x->total) | eddy_put_u32(out, x->n);
    for (uint32_t i = 0; i < x->n; i++)
        rc |= eddy_put_u64(out, c[i].count) | eddy_put_u64(out, c[i].err) |
              agg_item_ser(&c[i].item, out);
    return rc;
}

/* The stored hash must be the value's, or lookups would miss it; cut
 * strings cannot be rehashed and are taken as they are. */
static bool hash_consistent(const agg_item *it)
{
    eddy_value v = {0};
    uint64_t h;
    switch (it->type) {
    case EDDY_INT: v = eddy_v_int(it->u.i); break;
    case EDDY_DOUBLE: v = eddy_v_double(it->u.d); break;
    case EDDY_STRING:
    case EDDY_BYTES:
        if (it->len < it->full_len)
            return true;
        v = eddy_v_str(it->u.s, it->len);
        v.type = it->type;
        break;
    default: return false;
    }
    return agg_hash_value(&v, &h) == 1 && h == it->hash;
}

static int tk_deser(const eddy_agg_spec *s, void *st, eddy_rd *r)
{
    tk_st *x = st;
    uint32_t cap = eddy_get_u32(r);
    uint64_t total = eddy_get_u64(r);
    uint32_t n = eddy_get_u32(r);
    if (r->err || cap != s->cap || n > cap)
        return -1;
    tk_counter *c = tk_ctr(s, x);
    for (uint32_t i = 0; i < n; i++) {
        c[i].count = eddy_get_u64(r);
        c[i].err = eddy_get_u64(r);
        agg_item_deser(&c[i].item, r);
        if (r->err || c[i].count == 0 || c[i].err >= c[i].count || c[i].count > total ||
            !hash_consistent(&c[i].item) || tk_find(s, x, &c[i].item) >= 0)
            return -1;
        x->n = i + 1;
        idx_insert(s, x, i);
    }
    heapify(s, x);
    x->total = total;
    return 0;
}

const agg_ops agg_ops_topk = {"topk", tk_size, tk_init, tk_add, tk_merge,
                              tk_result, tk_ser, tk_deser};
