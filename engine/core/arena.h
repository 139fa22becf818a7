/* Bump allocator in chunks. Records of a batch live in its arena, so the hot
 * path never calls malloc: reset() keeps the chunks for the next batch.
 * Owner: whoever embeds the arena (a batch, a codec); not thread-safe. */
#ifndef EDDY_ARENA_H
#define EDDY_ARENA_H
#include <stddef.h>
#include <stdint.h>

typedef struct eddy_arena_chunk eddy_arena_chunk;

typedef struct eddy_arena {
    eddy_arena_chunk *head;   /* chunk being filled */
    eddy_arena_chunk *free;   /* chunks kept after reset */
    size_t chunk_size;        /* default size of a new chunk */
    size_t limit;             /* max bytes held; 0 = unlimited */
    size_t held;              /* bytes in chunks (used + free lists) */
    size_t used;              /* bytes handed out since reset */
} eddy_arena;

void eddy_arena_init(eddy_arena *a, size_t chunk_size, size_t limit);
/* 16-byte aligned; NULL when the limit is reached or malloc fails. */
void *eddy_arena_alloc(eddy_arena *a, size_t size);
char *eddy_arena_strdup(eddy_arena *a, const char *s, size_t len);
/* Forget all allocations; keep up to one chunk's worth of memory per chunk. */
void eddy_arena_reset(eddy_arena *a);
void eddy_arena_free(eddy_arena *a);

#endif
