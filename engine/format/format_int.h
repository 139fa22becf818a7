/* Internals shared by the codecs in engine/format/. Not part of the engine
 * interface: codec.h is. Owner of every struct here: the eddy_codec that
 * embeds it (one thread at a time). */
#ifndef EDDY_FORMAT_INT_H
#define EDDY_FORMAT_INT_H
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "engine/core/batch.h"
#include "lib/buf/buf.h"
#include "engine/format/codec.h"
#include "engine/core/sym.h"

#define EDDY_FMT_DEFAULT_DEPTH EDDY_CODEC_DEFAULT_DEPTH
/* Decoders recurse once per nesting level; this bounds the C stack. */
#define EDDY_FMT_MAX_DEPTH 1024u

/* A growable stack of fixed-size items (fields, values, kvs) collected while
 * a container is open; its length is known only at the closing bracket, when
 * the items move into the arena in one allocation. Reused across records, so
 * it stops allocating once it has seen the largest record. */
typedef struct eddy_scratch {
    uint8_t *data;
    size_t len, cap;
} eddy_scratch;

static inline void *eddy_scratch_push(eddy_scratch *s, size_t size)
{
    if (s->cap - s->len < size) {
        size_t cap = s->cap ? s->cap * 2 : 4096;
        while (cap - s->len < size)
            cap *= 2;
        uint8_t *p = realloc(s->data, cap);
        if (!p)
            return NULL;
        s->data = p;
        s->cap = cap;
    }
    void *p = s->data + s->len;
    s->len += size;
    return p;
}

/* JSON decoder state (json_decode.c). */
typedef struct eddy_json_dec {
    eddy_scratch stack;
    eddy_symcache syms;
    uint32_t max_depth;
} eddy_json_dec;

void eddy_json_dec_init(eddy_json_dec *d, uint32_t max_depth);
void eddy_json_dec_free(eddy_json_dec *d);
/* Fields of the top-level object go into r. 0, or EDDY_EPARSE with the reason
 * and offset in reason and *off (r's fields untouched), or EDDY_ENOMEM. */
int eddy_json_parse(eddy_json_dec *d, eddy_batch *b, eddy_record *r, const uint8_t *p, size_t len,
                    char *reason, size_t reasonlen, uint64_t *off);
int eddy_json_decode(eddy_codec *c, eddy_batch *b, eddy_record *r, const void *buf, size_t len);
int eddy_json_encode(eddy_codec *c, const eddy_record *r, eddy_buf *out, char *err, size_t errlen);

/* msgpack (decoder: msgpack_decode.c; encoder: msgpack_codec.c). */
typedef struct eddy_msgpack_state eddy_msgpack_state;
int eddy_msgpack_new(eddy_msgpack_state **out, uint32_t max_depth, char *err, size_t errlen);
void eddy_msgpack_free(eddy_msgpack_state *s);
int eddy_msgpack_decode(eddy_msgpack_state *s, eddy_batch *b, eddy_record *r, const void *buf,
                        size_t len);
int eddy_msgpack_encode(eddy_msgpack_state *s, const eddy_record *r, eddy_buf *out, char *err,
                        size_t errlen);

/* Avro (avro_codec.c). */
typedef struct eddy_avro_state eddy_avro_state;
int eddy_avro_new(const eddy_codec_conf *conf, uint32_t max_depth, eddy_avro_state **out,
                  char *err, size_t errlen);
void eddy_avro_free(eddy_avro_state *s);
int eddy_avro_decode(eddy_avro_state *s, eddy_batch *b, eddy_record *r, const void *buf,
                     size_t len);
int eddy_avro_encode(eddy_avro_state *s, const eddy_record *r, eddy_buf *out, char *err,
                     size_t errlen);

/* Encoders' output cursor (out_encode.c). Encoders write through o and
 * check the room left with one compare against end; the eddy_buf itself is
 * touched only when it must grow and once at the end (eddy_fmt_out_end), so
 * a reused buffer costs no call per element. */
typedef struct eddy_fmt_out {
    uint8_t *o, *end;
    eddy_buf *buf;
} eddy_fmt_out;

/* Starts appending to b (giving an empty b its first block). 0 or -1. */
int eddy_fmt_out_begin(eddy_fmt_out *w, eddy_buf *b);
/* Makes room for n more bytes at w->o. 0 or -1 (no memory). */
int eddy_fmt_out_grow(eddy_fmt_out *w, size_t n);
static inline int eddy_fmt_room(eddy_fmt_out *w, size_t n)
{
    return (size_t)(w->end - w->o) >= n ? 0 : eddy_fmt_out_grow(w, n);
}
static inline void eddy_fmt_out_end(eddy_fmt_out *w)
{
    w->buf->len = (size_t)(w->o - w->buf->data);
}

/* Name of an interned symbol, as eddy_sym_name/eddy_sym_len give, from a
 * per-thread cache: symbols never change once interned, and the two calls
 * (each taking pthread_once) cost as much as encoding the field itself. */
#define EDDY_FMT_NAME_CACHE 512u
typedef struct eddy_fmt_name {
    const char *p;
    size_t len;
} eddy_fmt_name;
extern _Thread_local eddy_fmt_name eddy_fmt_names[EDDY_FMT_NAME_CACHE];
const char *eddy_fmt_sym_slow(eddy_sym s, size_t *len);
static inline const char *eddy_fmt_sym(eddy_sym s, size_t *len)
{
    if (s < EDDY_FMT_NAME_CACHE && eddy_fmt_names[s].p) {
        *len = eddy_fmt_names[s].len;
        return eddy_fmt_names[s].p;
    }
    return eddy_fmt_sym_slow(s, len);
}

/* JSON text of a double (double_encode.c): the shortest of %.15g, %.16g and
 * %.17g that reads back to the same bits, with ".0" added when it would
 * read as an integer; "null" for NaN and infinities. Writes at most
 * EDDY_DTOA_MAX bytes at o (no NUL); returns how many, 0 on failure. */
#define EDDY_DTOA_MAX 32u
size_t eddy_json_dtoa(char *o, double d);

/* Bytes and JSON text helpers (json_encode.c). */
int eddy_json_put_double(eddy_buf *out, double d);
int eddy_buf_base64(eddy_buf *out, const uint8_t *p, size_t len);
/* Length of the valid UTF-8 prefix of p (== len when all of it is valid). */
size_t eddy_utf8_valid_prefix(const uint8_t *p, size_t len);

/* Marks r failed: keeps the raw payload, drops partial fields. Returns
 * EDDY_EPARSE. */
int eddy_fmt_fail(eddy_batch *b, eddy_record *r, const void *raw, size_t len, uint64_t off,
                  const char *reason);

struct eddy_codec {
    eddy_format format;
    uint32_t max_depth;
    eddy_json_dec json;
    eddy_msgpack_state *mp;
    eddy_avro_state *avro;
};

#endif
