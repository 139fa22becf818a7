/* Record batches: the engine's data model.
 *
 * A batch holds records of one source partition, in order. All memory a
 * record points to (fields, strings, nested values, raw payload) comes from the
 * batch's arena, so building and dropping records never calls malloc once the
 * arena has warmed up. Owner: the runtime's batch pool hands batches out and
 * takes them back; a batch and everything in it is valid until it is reset.
 */
#ifndef EDDY_BATCH_H
#define EDDY_BATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/core/arena.h"
#include "include/eddy/operator.h"

#define EDDY_REC_ERROR 0x1u   /* decode or validation failed: see err_* */
#define EDDY_REC_DROPPED 0x2u /* removed by an operator; compacted away */
#define EDDY_REC_ALERT 0x4u   /* an alert (engine/alert): stamped with the time of writing */

typedef struct eddy_header {
    const char *name; /* NUL-terminated, arena */
    const uint8_t *val;
    uint32_t len;
} eddy_header;

struct eddy_record {
    eddy_field *fields;
    uint32_t nfields, cap;
    int64_t ts; /* event time, ms since epoch; INT64_MIN = none */
    eddy_value key;
    const char *topic; /* source topic / file / generator name; not owned */
    int32_t partition;
    uint32_t flags;
    int64_t offset;
    eddy_header *headers;
    uint32_t nheaders;
    uint32_t raw_len;
    const uint8_t *raw;     /* original payload (for dead letters); may be NULL */
    const char *err_reason; /* with EDDY_REC_ERROR: why, NUL-terminated */
    const char *err_step;   /* which step said so ("decode", a step name) */
    uint64_t err_offset;    /* byte offset in raw where decoding failed */
};

struct eddy_batch {
    eddy_arena arena;
    eddy_record *recs;
    uint32_t n, cap;
    int32_t partition;
    uint32_t ndropped; /* records flagged DROPPED, not yet compacted */
    int64_t watermark; /* source watermark after this batch (INT64_MIN = none) */
    struct eddy_batch *next_free; /* pool link */
    eddy_arena_mark last; /* the arena before the last append (pop returns to it) */
};

#define EDDY_TS_NONE INT64_MIN

/* Standalone batches (tests, tools). The runtime uses a pool instead.
 * arena_limit bounds the batch's memory (0 = unlimited). */
eddy_batch *eddy_batch_new(uint32_t cap, size_t arena_limit);
void eddy_batch_destroy(eddy_batch *b);
void eddy_batch_reset(eddy_batch *b);

/* A fresh empty record at the end; NULL on memory limit. */
eddy_record *eddy_batch_append(eddy_batch *b);
/* Removes the last record (a decoder giving up on it) and gives back the
 * memory allocated since it was appended. */
void eddy_batch_pop(eddy_batch *b);
void *eddy_batch_alloc(eddy_batch *b, size_t size);
eddy_value eddy_batch_string(eddy_batch *b, const char *s, size_t len);
/* Drops DROPPED records, keeping order. */
void eddy_batch_compact(eddy_batch *b);
/* Shallow copy of every live record into `dst` (strings shared: dst must not
 * outlive src). Used for DAG fan-out. */
int eddy_batch_clone(eddy_batch *dst, const eddy_batch *src);

/* Reserves room for n more fields without growing later. */
int eddy_record_reserve(eddy_batch *b, eddy_record *r, uint32_t n);
/* Appends without checking for an existing field of that name (decoders). */
int eddy_record_push(eddy_batch *b, eddy_record *r, eddy_sym name, eddy_value v);
/* Adds or replaces. */
int eddy_record_set(eddy_batch *b, eddy_record *r, eddy_sym name, const eddy_value *v);
const eddy_value *eddy_record_get(const eddy_record *r, eddy_sym name);
int eddy_record_remove(eddy_record *r, eddy_sym name);
int eddy_record_add_header(eddy_batch *b, eddy_record *r, const char *name, const void *val,
                           uint32_t len);
const eddy_header *eddy_record_header(const eddy_record *r, const char *name);
/* Marks the record as an error. reason is copied into the arena. */
void eddy_record_fail(eddy_batch *b, eddy_record *r, const char *step, uint64_t offset,
                      const char *fmt, ...) EDDY_PRINTF(5, 6);
/* Keeps a copy of the raw payload in the arena (for dead letters). */
int eddy_record_keep_raw(eddy_batch *b, eddy_record *r, const void *raw, size_t len);
/* Deep-copies src into dst (another batch's arena). */
int eddy_record_copy(eddy_batch *db, eddy_record *dst, const eddy_record *src);
/* Deep-copies a value into the batch's arena. */
int eddy_value_copy(eddy_batch *b, eddy_value *dst, const eddy_value *src);

/* Value constructors eddy_v_*: include/eddy/operator.h. */

/* Numeric view of a value: ints, doubles, bools; false otherwise. */
bool eddy_value_number(const eddy_value *v, double *out);
bool eddy_value_equal(const eddy_value *a, const eddy_value *b);
const char *eddy_type_name(int type);

#endif
