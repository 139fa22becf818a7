/* Portable bytes: the one way eddy writes numbers into serialised state
 * (aggregate states, operator snapshots, detector snapshots) and reads them
 * back. Little-endian whatever the host, so a snapshot taken on one machine
 * restores on any other; on little-endian hosts these are plain copies.
 *
 * Writers append to an eddy_buf and answer 0 or -1 (out of memory). The
 * reader never reads past the end: a short or corrupt input sets err and
 * every later read answers 0 / NULL, so a parser checks err once at the end
 * instead of after every field. */
#ifndef EDDY_BYTES_H
#define EDDY_BYTES_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/buf/buf.h"

/* ---- fixed-width values at a pointer ---------------------------------- */

static inline uint16_t eddy_le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t eddy_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t eddy_le64(const uint8_t *p)
{
    return (uint64_t)eddy_le32(p) | (uint64_t)eddy_le32(p + 4) << 32;
}
static inline void eddy_le16_store(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void eddy_le32_store(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void eddy_le64_store(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- writers ------------------------------------------------------------ */

static inline int eddy_put_u8(eddy_buf *b, uint8_t v) { return eddy_buf_putc(b, (char)v); }
static inline int eddy_put_u16(eddy_buf *b, uint16_t v)
{
    uint8_t x[2];
    eddy_le16_store(x, v);
    return eddy_buf_put(b, x, 2);
}
static inline int eddy_put_u32(eddy_buf *b, uint32_t v)
{
    uint8_t x[4];
    eddy_le32_store(x, v);
    return eddy_buf_put(b, x, 4);
}
static inline int eddy_put_u64(eddy_buf *b, uint64_t v)
{
    uint8_t x[8];
    eddy_le64_store(x, v);
    return eddy_buf_put(b, x, 8);
}
static inline int eddy_put_i64(eddy_buf *b, int64_t v) { return eddy_put_u64(b, (uint64_t)v); }
/* IEEE 754 bits, so NaN payloads and -0.0 survive. */
static inline int eddy_put_f64(eddy_buf *b, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    return eddy_put_u64(b, v);
}
/* u32 length, then the bytes. */
static inline int eddy_put_str(eddy_buf *b, const void *p, size_t n)
{
    return eddy_put_u32(b, (uint32_t)n) || eddy_buf_put(b, p, n);
}
static inline int eddy_put_cstr(eddy_buf *b, const char *s) { return eddy_put_str(b, s, strlen(s)); }

/* ---- bounded reader ----------------------------------------------------- */

typedef struct eddy_rd {
    const uint8_t *p;
    size_t left;
    int err;
} eddy_rd;

static inline eddy_rd eddy_rd_of(const void *p, size_t n) { return (eddy_rd){p, n, 0}; }

/* n raw bytes, or NULL (and err set) when fewer are left. */
static inline const uint8_t *eddy_take(eddy_rd *r, size_t n)
{
    if (r->err || r->left < n) {
        r->err = 1;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    r->left -= n;
    return p;
}
static inline uint8_t eddy_get_u8(eddy_rd *r)
{
    const uint8_t *p = eddy_take(r, 1);
    return p ? p[0] : 0;
}
static inline uint16_t eddy_get_u16(eddy_rd *r)
{
    const uint8_t *p = eddy_take(r, 2);
    return p ? eddy_le16(p) : 0;
}
static inline uint32_t eddy_get_u32(eddy_rd *r)
{
    const uint8_t *p = eddy_take(r, 4);
    return p ? eddy_le32(p) : 0;
}
static inline uint64_t eddy_get_u64(eddy_rd *r)
{
    const uint8_t *p = eddy_take(r, 8);
    return p ? eddy_le64(p) : 0;
}
static inline int64_t eddy_get_i64(eddy_rd *r) { return (int64_t)eddy_get_u64(r); }
static inline double eddy_get_f64(eddy_rd *r)
{
    uint64_t v = eddy_get_u64(r);
    double d;
    memcpy(&d, &v, 8);
    return d;
}
/* A u32-length string: its bytes (in the input, not copied) and *n. */
static inline const uint8_t *eddy_get_str(eddy_rd *r, uint32_t *n)
{
    *n = eddy_get_u32(r);
    return eddy_take(r, *n);
}
/* Reads a string and answers whether it is exactly want. */
static inline bool eddy_get_str_is(eddy_rd *r, const char *want)
{
    uint32_t n;
    const uint8_t *p = eddy_get_str(r, &n);
    return p && n == strlen(want) && memcmp(p, want, n) == 0;
}

/* ---- plain structs and arrays ------------------------------------------ */

/* Some state is kept in plain structs and arrays without pointers (the
 * anomaly detectors'), serialised as they lie in memory. `shape` spells
 * their fields' widths in bytes, one digit a field ("1", "2", "4", "8"),
 * repeated over the n bytes: "8" for an array of doubles, "4448" for a
 * struct of three uint32 and a double... Padding is a field of its width.
 * Each field is written little-endian. 0, -1 out of memory, or -2 when the
 * shape does not tile n bytes (a bug in the caller's shape). */
int eddy_put_fields(eddy_buf *b, const void *p, size_t n, const char *shape);
/* The reverse: n bytes at src into dst. 0, or -2 when the shape does not
 * tile n. */
int eddy_load_fields(void *dst, const uint8_t *src, size_t n, const char *shape);

#endif
