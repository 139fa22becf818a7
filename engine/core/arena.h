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

/* A position to return to: what was allocated after it can be given back
 * (a decoder giving up on a record must not leave the batch's memory full
 * for the steps after it). */
typedef struct eddy_arena_mark {
    eddy_arena_chunk *head;
    size_t pos, used;
} eddy_arena_mark;

/* With a limit below chunk_size, chunks are cut to fit the limit. */
void eddy_arena_init(eddy_arena *a, size_t chunk_size, size_t limit);
/* 16-byte aligned; NULL when the limit is reached or malloc fails. */
void *eddy_arena_alloc(eddy_arena *a, size_t size);
char *eddy_arena_strdup(eddy_arena *a, const char *s, size_t len);
eddy_arena_mark eddy_arena_get_mark(const eddy_arena *a);
/* Forgets what was allocated since the mark (chunks begun since go to the
 * free list). The mark must come from this arena since its last reset. */
void eddy_arena_rollback(eddy_arena *a, eddy_arena_mark m);
/* Forget all allocations; keep up to one chunk's worth of memory per chunk. */
void eddy_arena_reset(eddy_arena *a);
void eddy_arena_free(eddy_arena *a);

#endif
