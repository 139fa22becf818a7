/* Open addressing over entry pointers (linear probing, power-of-two size,
 * at most half full). Entries are separate allocations so values never move. */
#include "operators/common/keymap.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    uint64_t hash;
    uint32_t klen;
    int dirty; /* in the map's dirty list */
    char *key;
    /* the value follows, aligned */
    max_align_t value[];
} entry;

struct eddy_keymap {
    entry **slots;
    uint32_t cap, n, max;
    size_t vsize;
    void (*free_value)(void *);
    int tracking;
    struct entry **dirty; /* keys changed since the last flush */
    uint32_t ndirty, dirtycap;
};

eddy_keymap *eddy_keymap_new(uint32_t max_keys, size_t value_size, void (*free_value)(void *))
{
    eddy_keymap *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->cap = 16;
    m->slots = calloc(m->cap, sizeof *m->slots);
    if (!m->slots) {
        free(m);
        return NULL;
    }
    m->max = max_keys ? max_keys : 1;
    m->vsize = value_size;
    m->free_value = free_value;
    return m;
}

void eddy_keymap_free(eddy_keymap *m)
{
    if (!m)
        return;
    for (uint32_t i = 0; i < m->cap; i++)
        if (m->slots[i]) {
            if (m->free_value)
                m->free_value(m->slots[i]->value);
            free(m->slots[i]);
        }
    free(m->slots);
    free(m->dirty);
    free(m);
}

uint32_t eddy_keymap_count(const eddy_keymap *m) { return m->n; }

static uint64_t hash(const char *k, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)k[i]) * 1099511628211ULL;
    return h ^ (h >> 29);
}

static int grow(eddy_keymap *m)
{
    uint32_t cap = m->cap * 2;
    entry **s = calloc(cap, sizeof *s);
    if (!s)
        return -1;
    for (uint32_t i = 0; i < m->cap; i++) {
        entry *e = m->slots[i];
        if (!e)
            continue;
        uint32_t j = (uint32_t)e->hash & (cap - 1);
        while (s[j])
            j = (j + 1) & (cap - 1);
        s[j] = e;
    }
    free(m->slots);
    m->slots = s;
    m->cap = cap;
    return 0;
}

void *eddy_keymap_get(eddy_keymap *m, const char *k, size_t n, int *created)
{
    uint64_t h = hash(k, n);
    uint32_t i = (uint32_t)h & (m->cap - 1);
    *created = 0;
    for (entry *e; (e = m->slots[i]) != NULL; i = (i + 1) & (m->cap - 1))
        if (e->hash == h && e->klen == n && memcmp(e->key, k, n) == 0)
            return e->value;
    if (m->n >= m->max)
        return NULL;
    if ((m->n + 1) * 2 > m->cap) {
        if (grow(m) != 0)
            return NULL;
        i = (uint32_t)h & (m->cap - 1);
        while (m->slots[i])
            i = (i + 1) & (m->cap - 1);
    }
    size_t vs = (m->vsize + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    entry *e = calloc(1, sizeof *e + vs + n + 1);
    if (!e)
        return NULL;
    e->hash = h;
    e->klen = (uint32_t)n;
    e->key = (char *)e->value + vs;
    memcpy(e->key, k, n);
    m->slots[i] = e;
    m->n++;
    *created = 1;
    return e->value;
}

void eddy_keymap_each(eddy_keymap *m, void (*fn)(const char *, size_t, void *, void *), void *arg)
{
    for (uint32_t i = 0; i < m->cap; i++)
        if (m->slots[i])
            fn(m->slots[i]->key, m->slots[i]->klen, m->slots[i]->value, arg);
}

static size_t put(char *buf, size_t cap, size_t at, const char *s, size_t n)
{
    if (at + 1 >= cap)
        return at;
    if (n > cap - 1 - at)
        n = cap - 1 - at;
    memcpy(buf + at, s, n);
    return at + n;
}

size_t eddy_key_render(const eddy_host *h, const eddy_record *r, const eddy_sym *fields,
                       uint32_t nf, char *buf, size_t cap)
{
    size_t at = 0;
    for (uint32_t i = 0; i < nf; i++) {
        if (i)
            at = put(buf, cap, at, "|", 1);
        const eddy_value *v = h->record_get(r, fields[i]);
        char tmp[40];
        int tl = 0;
        if (!v)
            continue;
        switch (v->type) {
        case EDDY_STRING:
        case EDDY_BYTES:
            at = put(buf, cap, at, v->u.s, v->len);
            continue;
        case EDDY_INT:
            tl = snprintf(tmp, sizeof tmp, "%" PRId64, v->u.i);
            break;
        case EDDY_DOUBLE:
            tl = snprintf(tmp, sizeof tmp, "%.17g", v->u.d);
            break;
        case EDDY_BOOL:
            tl = snprintf(tmp, sizeof tmp, "%s", v->u.b ? "true" : "false");
            break;
        default:
            continue;
        }
        at = put(buf, cap, at, tmp, (size_t)tl);
    }
    buf[at] = '\0';
    return at;
}

int eddy_value_finite(const eddy_value *v, double *x)
{
    return eddy_v_number(v, x) && isfinite(*x);
}

void *eddy_keymap_record(eddy_keymap *m, const eddy_host *h, const eddy_record *r,
                         const eddy_sym *fields, uint32_t n, char *kbuf, size_t cap,
                         int *created)
{
    size_t kl = eddy_key_render(h, r, fields, n, kbuf, cap);
    return eddy_keymap_get(m, kbuf, kl, created);
}

/* ---- durability: the dirty list --------------------------------------------- */

static entry *entry_of(void *value)
{
    return (entry *)((char *)value - offsetof(entry, value));
}

void eddy_keymap_track(eddy_keymap *m) { m->tracking = 1; }

uint32_t eddy_keymap_ndirty(const eddy_keymap *m) { return m->ndirty; }

int eddy_keymap_mark(eddy_keymap *m, void *value)
{
    entry *e = entry_of(value);
    if (!m->tracking || e->dirty)
        return 0;
    if (m->ndirty == m->dirtycap) {
        uint32_t cap = m->dirtycap ? m->dirtycap * 2 : 64;
        entry **d = realloc(m->dirty, sizeof *d * cap);
        if (!d)
            return -1;
        m->dirty = d;
        m->dirtycap = cap;
    }
    e->dirty = 1;
    m->dirty[m->ndirty++] = e;
    return 0;
}

typedef struct state_flush_arg {
    const eddy_host *h;
    eddy_ctx *ctx;
    int version;
    eddy_keymap_put_fn put;
    eddy_buf b;
} state_flush_arg;

static int write_state(const char *key, size_t n, void *v, void *arg)
{
    state_flush_arg *fa = arg;
    fa->b.len = 0;
    if (fa->put(&fa->b, v) != 0)
        return -1;
    return fa->h->state_write(fa->ctx, key, n, fa->version, fa->b.data, fa->b.len);
}

int eddy_keymap_state_flush(eddy_keymap *m, const eddy_host *h, eddy_ctx *ctx, void *global,
                            int *gdirty, int version, eddy_keymap_put_fn encode)
{
    state_flush_arg fa = {h, ctx, version, encode, {0}};
    int rc = 0;
    if (m) {
        rc = eddy_keymap_flush_dirty(m, write_state, &fa);
    } else if (*gdirty) {
        rc = write_state("", 0, global, &fa);
        if (rc == 0)
            *gdirty = 0;
    }
    eddy_buf_free(&fa.b);
    return rc < 0 ? rc : 0;
}

int eddy_keymap_flush_dirty(eddy_keymap *m, int (*fn)(const char *, size_t, void *, void *),
                            void *arg)
{
    for (uint32_t i = 0; i < m->ndirty; i++) {
        entry *e = m->dirty[i];
        int rc = fn(e->key, e->klen, e->value, arg);
        if (rc < 0) {
            memmove(m->dirty, m->dirty + i, sizeof *m->dirty * (m->ndirty - i));
            m->ndirty -= i;
            return rc;
        }
        e->dirty = 0;
    }
    m->ndirty = 0;
    return 0;
}
