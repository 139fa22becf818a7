/* The validating pass over Avro binary data. avro-c trusts what it reads: a
 * garbage string length becomes a huge malloc, a garbage array count a loop
 * appending millions of elements, an out-of-range enum index a bad read
 * later. This walk checks every length, count, index and varint against the
 * schema and the bytes actually present, and says where it went wrong, before
 * avro-c sees the payload. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine/format/avro_int.h"
#include "engine/core/error.h"
#include "engine/format/format_int.h"

/* Arrays of zero-byte items (nulls, empty records) cost avro-c memory per
 * item but cost the payload nothing; this bounds them. */
#define ZERO_SIZE_ITEMS_MAX (1u << 20)

typedef struct avc {
    const uint8_t *p;
    size_t len, pos, base;
    uint32_t max_depth;
    const char *field; /* top-level field being read, for messages */
    char *reason;
    size_t reasonlen;
    uint64_t off;
} avc;

static int cfail(avc *c, size_t at, const char *fmt, ...) EDDY_PRINTF(3, 4);
static int cfail(avc *c, size_t at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(c->reason, c->reasonlen, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < c->reasonlen) {
        if (c->field)
            n += snprintf(c->reason + n, c->reasonlen - (size_t)n, " in field \"%s\"", c->field);
        if (n >= 0 && (size_t)n < c->reasonlen)
            snprintf(c->reason + n, c->reasonlen - (size_t)n, " at byte %zu", c->base + at);
    }
    c->off = c->base + at;
    return -1;
}

static int rd_long(avc *c, int64_t *out, const char *what)
{
    size_t at = c->pos;
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (c->pos >= c->len)
            return cfail(c, at, "truncated input: %s runs past the end of the data", what);
        uint8_t b = c->p[c->pos++];
        if (shift == 63 && (b & 0x7e))
            return cfail(c, at, "%s: varint does not fit in 64 bits", what);
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
            return 0;
        }
    }
    return cfail(c, at, "%s: varint longer than 10 bytes", what);
}

static int need(avc *c, size_t at, uint64_t n, const char *what)
{
    if (n > c->len - c->pos)
        return cfail(c, at, "truncated input: %s of %llu bytes, only %zu remain", what,
                     (unsigned long long)n, c->len - c->pos);
    return 0;
}

static int check(avc *c, const eddy_av_node *n, uint32_t depth);

static int check_blocks(avc *c, const eddy_av_node *n, uint32_t depth)
{
    int is_map = n->type == AVRO_MAP;
    const char *what = is_map ? "map block count" : "array block count";
    const eddy_av_node *item = n->kids[0];
    uint64_t total = 0;
    while (1) {
        size_t at = c->pos;
        int64_t count;
        if (rd_long(c, &count, what) != 0)
            return -1;
        if (count == 0)
            return 0;
        if (count < 0) {
            if (count == INT64_MIN)
                return cfail(c, at, "invalid %s %lld", what, (long long)count);
            count = -count;
            int64_t bytes;
            size_t bat = c->pos;
            if (rd_long(c, &bytes, is_map ? "map block size" : "array block size") != 0)
                return -1;
            if (bytes < 0 || (uint64_t)bytes > c->len - c->pos)
                return cfail(c, bat, "invalid block size %lld (%zu bytes remain)", (long long)bytes,
                             c->len - c->pos);
        }
        uint64_t per = is_map ? 1 + item->minsize : item->minsize;
        total += (uint64_t)count;
        if (per && (uint64_t)count > (c->len - c->pos) / per)
            return cfail(c, at, "truncated input: %s %lld needs at least %llu bytes, only %zu remain",
                         what, (long long)count,
                         (unsigned long long)((uint64_t)count > UINT64_MAX / per ? UINT64_MAX
                                                                                  : (uint64_t)count * per),
                         c->len - c->pos);
        if (!per && total > ZERO_SIZE_ITEMS_MAX)
            return cfail(c, at, "%s: more than %u items that take no bytes", what,
                         ZERO_SIZE_ITEMS_MAX);
        for (int64_t i = 0; i < count; i++) {
            if (is_map) {
                size_t kat = c->pos;
                int64_t kl;
                if (rd_long(c, &kl, "map key length") != 0)
                    return -1;
                if (kl < 0)
                    return cfail(c, kat, "negative map key length %lld", (long long)kl);
                if (need(c, kat, (uint64_t)kl, "map key") != 0)
                    return -1;
                size_t ok = eddy_utf8_valid_prefix(c->p + c->pos, (size_t)kl);
                if (ok != (size_t)kl)
                    return cfail(c, c->pos + ok, "invalid UTF-8 in map key");
                c->pos += (size_t)kl;
            }
            if (check(c, item, depth) != 0)
                return -1;
        }
    }
}

static int check(avc *c, const eddy_av_node *n, uint32_t depth)
{
    size_t at = c->pos;
    int64_t v;
    switch (n->type) {
    case AVRO_NULL: return 0;
    case AVRO_BOOLEAN:
        if (need(c, at, 1, "boolean") != 0)
            return -1;
        if (c->p[c->pos] > 1)
            return cfail(c, at, "invalid boolean byte 0x%02x", c->p[c->pos]);
        c->pos++;
        return 0;
    case AVRO_INT32:
        if (rd_long(c, &v, "int") != 0)
            return -1;
        if (c->pos - at > 5)
            return cfail(c, at, "int: varint longer than 5 bytes");
        if (v < INT32_MIN || v > INT32_MAX)
            return cfail(c, at, "int value %lld out of range", (long long)v);
        return 0;
    case AVRO_INT64: return rd_long(c, &v, "long");
    case AVRO_FLOAT:
        if (need(c, at, 4, "float") != 0)
            return -1;
        c->pos += 4;
        return 0;
    case AVRO_DOUBLE:
        if (need(c, at, 8, "double") != 0)
            return -1;
        c->pos += 8;
        return 0;
    case AVRO_STRING:
    case AVRO_BYTES: {
        const char *what = n->type == AVRO_STRING ? "string" : "bytes";
        if (rd_long(c, &v, n->type == AVRO_STRING ? "string length" : "bytes length") != 0)
            return -1;
        if (v < 0)
            return cfail(c, at, "negative %s length %lld", what, (long long)v);
        if (need(c, at, (uint64_t)v, what) != 0)
            return -1;
        if (n->type == AVRO_STRING) {
            size_t ok = eddy_utf8_valid_prefix(c->p + c->pos, (size_t)v);
            if (ok != (size_t)v)
                return cfail(c, c->pos + ok, "invalid UTF-8 in string");
        }
        c->pos += (size_t)v;
        return 0;
    }
    case AVRO_FIXED:
        if (need(c, at, (uint64_t)n->fixed_size, "fixed") != 0)
            return -1;
        c->pos += (size_t)n->fixed_size;
        return 0;
    case AVRO_ENUM:
        if (rd_long(c, &v, "enum index") != 0)
            return -1;
        if (v < 0 || v >= (int64_t)n->n)
            return cfail(c, at, "enum index %lld out of range (%u symbols)", (long long)v, n->n);
        return 0;
    case AVRO_UNION:
        if (rd_long(c, &v, "union branch") != 0)
            return -1;
        if (v < 0 || v >= (int64_t)n->n)
            return cfail(c, at, "union branch %lld out of range (%u branches)", (long long)v, n->n);
        return check(c, n->kids[v], depth);
    case AVRO_ARRAY:
    case AVRO_MAP:
        if (depth + 1 > c->max_depth)
            return cfail(c, at, "nesting deeper than %u levels", c->max_depth);
        return check_blocks(c, n, depth + 1);
    case AVRO_RECORD:
        if (depth + 1 > c->max_depth)
            return cfail(c, at, "nesting deeper than %u levels", c->max_depth);
        for (uint32_t i = 0; i < n->n; i++) {
            if (depth == 0)
                c->field = n->names[i];
            if (check(c, n->kids[i], depth + 1) != 0)
                return -1;
        }
        if (depth == 0)
            c->field = NULL;
        return 0;
    default:
        return cfail(c, at, "unsupported schema type %s", eddy_avro_type_name(n->type));
    }
}

int eddy_avro_check(const eddy_av_node *root, const uint8_t *p, size_t len, size_t base,
                    uint32_t max_depth, char *reason, size_t reasonlen, uint64_t *off)
{
    avc c = {.p = p, .len = len, .base = base, .max_depth = max_depth, .reason = reason,
             .reasonlen = reasonlen};
    if (check(&c, root, 0) != 0) {
        *off = c.off;
        return EDDY_EPARSE;
    }
    if (c.pos < len) {
        cfail(&c, c.pos, "%zu trailing bytes after the record", len - c.pos);
        *off = c.off;
        return EDDY_EPARSE;
    }
    return 0;
}

uint64_t eddy_avro_check_values(const eddy_avro_schema *s, const uint8_t *p, size_t len,
                                uint64_t count, size_t base, uint32_t max_depth, char *reason,
                                size_t reasonlen)
{
    avc c = {.p = p, .len = len, .base = base, .max_depth = max_depth, .reason = reason,
             .reasonlen = reasonlen};
    for (uint64_t i = 0; i < count; i++)
        if (check(&c, s->root, 0) != 0)
            return i;
    if (c.pos < len)
        cfail(&c, c.pos, "%zu trailing bytes after the block's %llu records", len - c.pos,
              (unsigned long long)count);
    return c.pos < len ? count - 1 : count;
}
