#include "engine/core/arena.h"

#include <stdlib.h>
#include <string.h>

struct eddy_arena_chunk {
    eddy_arena_chunk *next;
    size_t size; /* usable bytes after the header */
    size_t pos;
    _Alignas(16) unsigned char data[];
};

void eddy_arena_init(eddy_arena *a, size_t chunk_size, size_t limit)
{
    memset(a, 0, sizeof *a);
    a->chunk_size = chunk_size ? chunk_size : 64 * 1024;
    a->limit = limit;
}

static eddy_arena_chunk *chunk_new(eddy_arena *a, size_t need)
{
    /* Reuse a kept chunk when it is big enough: after the first batches the
     * arena stops allocating at all. */
    eddy_arena_chunk **pp = &a->free;
    while (*pp) {
        if ((*pp)->size >= need) {
            eddy_arena_chunk *c = *pp;
            *pp = c->next;
            c->pos = 0;
            return c;
        }
        pp = &(*pp)->next;
    }
    size_t size = need > a->chunk_size ? need : a->chunk_size;
    if (a->limit && a->held + size > a->limit && a->free) {
        /* Kept chunks too small for this need count against the limit
         * while holding nothing: give them back before refusing. */
        while (a->free) {
            eddy_arena_chunk *c = a->free;
            a->free = c->next;
            a->held -= c->size;
            free(c);
        }
    }
    if (a->limit && a->held + size > a->limit) {
        /* A limit below the chunk size (worker.batch_memory: 64KiB) or
         * nearly reached: a smaller chunk, as long as `need` fits. */
        if (a->held + need > a->limit)
            return NULL;
        size = a->limit - a->held;
    }
    eddy_arena_chunk *c = malloc(sizeof *c + size);
    if (!c)
        return NULL;
    c->size = size;
    c->pos = 0;
    a->held += size;
    return c;
}

void *eddy_arena_alloc(eddy_arena *a, size_t size)
{
    size = (size + 15u) & ~(size_t)15u;
    eddy_arena_chunk *c = a->head;
    if (!c || c->size - c->pos < size) {
        c = chunk_new(a, size);
        if (!c)
            return NULL;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->pos;
    c->pos += size;
    a->used += size;
    return p;
}

char *eddy_arena_strdup(eddy_arena *a, const char *s, size_t len)
{
    char *p = eddy_arena_alloc(a, len + 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

eddy_arena_mark eddy_arena_get_mark(const eddy_arena *a)
{
    eddy_arena_mark m = {a->head, a->head ? a->head->pos : 0, a->used};
    return m;
}

void eddy_arena_rollback(eddy_arena *a, eddy_arena_mark m)
{
    while (a->head && a->head != m.head) {
        eddy_arena_chunk *c = a->head;
        a->head = c->next;
        c->pos = 0;
        c->next = a->free;
        a->free = c;
    }
    if (a->head)
        a->head->pos = m.pos;
    a->used = m.used;
}

void eddy_arena_reset(eddy_arena *a)
{
    eddy_arena_chunk *c = a->head;
    while (c) {
        eddy_arena_chunk *next = c->next;
        c->pos = 0;
        c->next = a->free;
        a->free = c;
        c = next;
    }
    a->head = NULL;
    a->used = 0;
}

void eddy_arena_free(eddy_arena *a)
{
    eddy_arena_reset(a);
    eddy_arena_chunk *c = a->free;
    while (c) {
        eddy_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->free = NULL;
    a->held = 0;
}
