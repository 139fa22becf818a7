/* Bounded categorical counter: an open-addressing table of category ids
 * over a byte pool holding the strings back to back. The pool and the
 * table are sized for `capacity` categories at creation (the pool grows
 * only if strings are long), so a counted category never allocates. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/error.h"
#include "lib/buf/bytes.h"
#include "lib/drift/stats.h"

typedef struct {
    size_t off, len;
    uint64_t hash;
    double w;
} category;

struct eddy_catcount {
    uint32_t cap, n;
    uint32_t mask;   /* table size - 1; the table is at least twice cap */
    uint32_t *table; /* category index + 1; 0 is empty */
    category *cats;
    char *pool;
    size_t pool_len, pool_cap;
    double other;
    uint64_t total;
};

/* FNV-1a over 8-byte words with a final avalanche: cheap for the short
 * labels categorical features carry, and well mixed in the low bits. */
static uint64_t hash_bytes(const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull ^ len;
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0x100000001b3ull;
        s += 8;
        len -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, s, len);
    h = (h ^ w) * 0x100000001b3ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

eddy_catcount *eddy_catcount_new(uint32_t capacity)
{
    if (capacity == 0 || capacity > (1u << 30))
        return NULL;
    eddy_catcount *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    uint32_t size = 16;
    while (size < 2 * (uint64_t)capacity)
        size *= 2;
    c->cap = capacity;
    c->mask = size - 1;
    c->table = calloc(size, sizeof *c->table);
    c->cats = malloc((size_t)capacity * sizeof *c->cats);
    c->pool_cap = (size_t)capacity * 16;
    c->pool = malloc(c->pool_cap);
    if (!c->table || !c->cats || !c->pool) {
        eddy_catcount_free(c);
        return NULL;
    }
    return c;
}

void eddy_catcount_free(eddy_catcount *c)
{
    if (!c)
        return;
    free(c->table);
    free(c->cats);
    free(c->pool);
    free(c);
}

/* The table slot holding the category, or the empty slot where it would go. */
static uint32_t find(const eddy_catcount *c, const char *s, size_t len, uint64_t h)
{
    uint32_t i = (uint32_t)h & c->mask;
    for (;;) {
        uint32_t id = c->table[i];
        if (id == 0)
            return i;
        const category *k = &c->cats[id - 1];
        if (k->hash == h && k->len == len && memcmp(c->pool + k->off, s, len) == 0)
            return i;
        i = (i + 1) & c->mask;
    }
}

void eddy_catcount_add(eddy_catcount *c, const char *s, size_t len, double w)
{
    if (!c || !(w >= 0) || isinf(w) || (!s && len > 0))
        return;
    if (!s)
        s = "";
    c->total++;
    uint64_t h = hash_bytes(s, len);
    uint32_t slot = find(c, s, len, h);
    if (c->table[slot]) {
        c->cats[c->table[slot] - 1].w += w;
        return;
    }
    if (c->n == c->cap) {
        c->other += w;
        return;
    }
    if (len > c->pool_cap - c->pool_len) {
        size_t want = c->pool_cap * 2 > c->pool_len + len ? c->pool_cap * 2 : c->pool_len + len;
        char *p = realloc(c->pool, want);
        if (!p) {
            c->other += w;
            return;
        }
        c->pool = p;
        c->pool_cap = want;
    }
    memcpy(c->pool + c->pool_len, s, len);
    c->cats[c->n] = (category){.off = c->pool_len, .len = len, .hash = h, .w = w};
    c->pool_len += len;
    c->table[slot] = ++c->n;
}

void eddy_catcount_clear(eddy_catcount *c)
{
    for (uint32_t i = 0; i < c->n; i++)
        c->cats[i].w = 0;
    c->other = 0;
    c->total = 0;
}

int eddy_catcount_put(const eddy_catcount *c, eddy_buf *b)
{
    if (eddy_put_u32(b, c->cap) || eddy_put_u32(b, c->n) || eddy_put_f64(b, c->other) ||
        eddy_put_u64(b, c->total))
        return -1;
    for (uint32_t i = 0; i < c->n; i++)
        if (eddy_put_str(b, c->pool + c->cats[i].off, c->cats[i].len) ||
            eddy_put_f64(b, c->cats[i].w))
            return -1;
    return 0;
}

int eddy_catcount_get(eddy_catcount *c, eddy_rd *r)
{
    uint32_t cap = eddy_get_u32(r), n = eddy_get_u32(r);
    double other = eddy_get_f64(r);
    uint64_t total = eddy_get_u64(r);
    if (r->err || cap != c->cap || n > cap || !(other >= 0) || isinf(other))
        return EDDY_EINVAL;
    /* Check every category first (a copy of the reader), then rebuild. */
    eddy_rd probe = *r;
    size_t bytes = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t len;
        eddy_get_str(&probe, &len);
        double w = eddy_get_f64(&probe);
        if (probe.err || !(w >= 0) || isinf(w))
            return EDDY_EINVAL;
        bytes += len;
    }
    if (bytes > c->pool_cap) {
        char *p = realloc(c->pool, bytes);
        if (!p)
            return EDDY_ENOMEM;
        c->pool = p;
        c->pool_cap = bytes;
    }
    /* A repeated category is found while rebuilding; check it aside. */
    uint32_t *table = calloc((size_t)c->mask + 1, sizeof *table);
    category *cats = malloc(((size_t)n ? n : 1) * sizeof *cats);
    char *pool = malloc(bytes ? bytes : 1);
    if (!table || !cats || !pool) {
        free(table);
        free(cats);
        free(pool);
        return EDDY_ENOMEM;
    }
    eddy_catcount t = *c;
    t.table = table;
    t.cats = cats;
    t.pool = pool;
    t.pool_len = 0;
    t.n = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t len;
        const uint8_t *s = eddy_get_str(r, &len);
        double w = eddy_get_f64(r);
        uint64_t h = hash_bytes((const char *)s, len);
        uint32_t slot = find(&t, (const char *)s, len, h);
        if (t.table[slot]) {
            free(table);
            free(cats);
            free(pool);
            return EDDY_EINVAL;
        }
        memcpy(t.pool + t.pool_len, s, len);
        t.cats[t.n] = (category){.off = t.pool_len, .len = len, .hash = h, .w = w};
        t.pool_len += len;
        t.table[slot] = ++t.n;
    }
    /* Commit: the counter keeps its own (capacity-sized) arrays. */
    memset(c->table, 0, ((size_t)c->mask + 1) * sizeof *c->table);
    memcpy(c->table, t.table, ((size_t)c->mask + 1) * sizeof *c->table);
    memcpy(c->cats, t.cats, (size_t)n * sizeof *c->cats);
    memcpy(c->pool, t.pool, bytes);
    c->pool_len = bytes;
    c->n = n;
    c->other = other;
    c->total = total;
    free(table);
    free(cats);
    free(pool);
    return 0;
}

uint64_t eddy_catcount_total(const eddy_catcount *c) { return c->total; }
uint32_t eddy_catcount_size(const eddy_catcount *c) { return c->n; }

int eddy_catcount_align(const eddy_catcount *ref, const eddy_catcount *cur, double *ref_out,
                        double *cur_out, size_t kmax, size_t *k)
{
    if (!ref || !cur || !k || (kmax > 0 && (!ref_out || !cur_out)))
        return EDDY_EINVAL;
    /* count first, so a short buffer is refused before anything is written */
    size_t need = ref->n;
    for (uint32_t i = 0; i < cur->n; i++) {
        const category *q = &cur->cats[i];
        if (!ref->table[find(ref, cur->pool + q->off, q->len, q->hash)])
            need++;
    }
    int other = ref->other > 0 || cur->other > 0;
    need += other;
    *k = need;
    if (need > kmax)
        return EDDY_EINVAL;
    size_t o = 0;
    for (uint32_t i = 0; i < ref->n; i++) {
        const category *p = &ref->cats[i];
        uint32_t id = cur->table[find(cur, ref->pool + p->off, p->len, p->hash)];
        ref_out[o] = p->w;
        cur_out[o++] = id ? cur->cats[id - 1].w : 0;
    }
    for (uint32_t i = 0; i < cur->n; i++) {
        const category *q = &cur->cats[i];
        if (!ref->table[find(ref, cur->pool + q->off, q->len, q->hash)]) {
            ref_out[o] = 0;
            cur_out[o++] = q->w;
        }
    }
    if (other) {
        ref_out[o] = ref->other;
        cur_out[o++] = cur->other;
    }
    return 0;
}
