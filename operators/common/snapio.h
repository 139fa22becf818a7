/* Little helpers for operator snapshots (versioned bytes in an eddy_buf,
 * this machine's byte order) and for reading them back without ever
 * reading past the end: a short or corrupt snapshot sets `err` and every
 * later read answers 0 / NULL, so a restore checks err once at the end. */
#ifndef EDDY_SNAPIO_H
#define EDDY_SNAPIO_H
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "lib/buf/buf.h"

static inline int snap_put(eddy_buf *b, const void *p, size_t n) { return eddy_buf_put(b, p, n); }
static inline int snap_put_u32(eddy_buf *b, uint32_t v) { return snap_put(b, &v, 4); }
static inline int snap_put_u64(eddy_buf *b, uint64_t v) { return snap_put(b, &v, 8); }
static inline int snap_put_i64(eddy_buf *b, int64_t v) { return snap_put(b, &v, 8); }
/* u32 length + bytes */
static inline int snap_put_str(eddy_buf *b, const void *p, size_t n)
{
    return snap_put_u32(b, (uint32_t)n) || snap_put(b, p, n);
}
static inline int snap_put_cstr(eddy_buf *b, const char *s) { return snap_put_str(b, s, strlen(s)); }

typedef struct snap_rd {
    const uint8_t *p;
    size_t left;
    int err;
} snap_rd;

static inline const uint8_t *snap_take(snap_rd *r, size_t n)
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
static inline uint8_t snap_get_u8(snap_rd *r)
{
    const uint8_t *p = snap_take(r, 1);
    return p ? *p : 0;
}
static inline uint32_t snap_get_u32(snap_rd *r)
{
    uint32_t v = 0;
    const uint8_t *p = snap_take(r, 4);
    if (p)
        memcpy(&v, p, 4);
    return v;
}
static inline uint64_t snap_get_u64(snap_rd *r)
{
    uint64_t v = 0;
    const uint8_t *p = snap_take(r, 8);
    if (p)
        memcpy(&v, p, 8);
    return v;
}
static inline int64_t snap_get_i64(snap_rd *r) { return (int64_t)snap_get_u64(r); }
static inline const uint8_t *snap_get_str(snap_rd *r, uint32_t *n)
{
    *n = snap_get_u32(r);
    return snap_take(r, *n);
}
static inline bool snap_str_is(snap_rd *r, const char *want)
{
    uint32_t n;
    const uint8_t *p = snap_get_str(r, &n);
    return p && n == strlen(want) && memcmp(p, want, n) == 0;
}

#endif
