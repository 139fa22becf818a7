/* Hashing values by value, and scalars kept inline in a state slot. */
#include "lib/agg/agg_int.h"

#define SEED_NUM 0x243f6a8885a308d3ull
#define SEED_DBL 0x13198a2e03707344ull
#define SEED_STR 0xa4093822299f31d0ull
#define SEED_BYT 0x082efa98ec4e6c89ull

static inline uint64_t fmix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ull;
    k ^= k >> 33;
    return k;
}

static inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

/* Eight bytes per round, then a full avalanche: HyperLogLog reads the top
 * bits for the register and the rest for the rank, so every input bit must
 * reach every output bit. */
static uint64_t hash_bytes(const void *data, size_t n, uint64_t seed)
{
    const uint8_t *p = data;
    uint64_t h = seed ^ ((uint64_t)n * 0x9e3779b97f4a7c15ull);
    while (n >= 8) {
        uint64_t k = eddy_le64(p); /* the same hash on every host: it is in states */
        k *= 0x87c37b91114253d5ull;
        k = rotl(k, 31);
        k *= 0x4cf5ad432745937full;
        h ^= k;
        h = rotl(h, 27) * 5 + 0x52dce729;
        p += 8;
        n -= 8;
    }
    uint64_t k = 0;
    for (size_t i = 0; i < n; i++)
        k |= (uint64_t)p[i] << (8 * i);
    k *= 0x87c37b91114253d5ull;
    k = rotl(k, 31);
    k *= 0x4cf5ad432745937full;
    h ^= k;
    return fmix64(h);
}

/* Integral doubles in int64 range count as that int, so 5 and 5.0 are one
 * value; -0.0 is 0; every NaN is one value. */
static bool double_as_int(double d, int64_t *i)
{
    if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 && d == floor(d)) {
        *i = (int64_t)d;
        return true;
    }
    return false;
}

static uint64_t hash_double(double d)
{
    uint64_t bits;
    if (isnan(d))
        d = NAN;
    memcpy(&bits, &d, 8);
    return fmix64(bits ^ SEED_DBL);
}

int agg_hash_value(const eddy_value *v, uint64_t *h)
{
    if (!v)
        return 0;
    int64_t i;
    switch (v->type) {
    case EDDY_NULL: return 0;
    case EDDY_BOOL: *h = fmix64((uint64_t)(v->u.b ? 1 : 0) ^ SEED_NUM); return 1;
    case EDDY_INT: *h = fmix64((uint64_t)v->u.i ^ SEED_NUM); return 1;
    case EDDY_DOUBLE:
        *h = double_as_int(v->u.d, &i) ? fmix64((uint64_t)i ^ SEED_NUM) : hash_double(v->u.d);
        return 1;
    case EDDY_STRING: *h = hash_bytes(v->u.s, v->len, SEED_STR); return 1;
    case EDDY_BYTES: *h = hash_bytes(v->u.bytes, v->len, SEED_BYT); return 1;
    default: return -1;
    }
}

/* Longest prefix of s (at most max bytes) that does not split a UTF-8
 * sequence. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    return n;
}

int agg_item_set(agg_item *it, const eddy_value *v, bool by_value)
{
    uint64_t h = 0;
    if (!v || v->type == EDDY_NULL)
        return 0;
    if (v->type > EDDY_BYTES)
        return -1;
    if (by_value)
        agg_hash_value(v, &h);
    memset(it, 0, sizeof *it);
    it->hash = h;
    switch (v->type) {
    case EDDY_BOOL:
        it->type = by_value ? EDDY_INT : EDDY_BOOL;
        it->u.i = v->u.b ? 1 : 0;
        break;
    case EDDY_INT:
        it->type = EDDY_INT;
        it->u.i = v->u.i;
        break;
    case EDDY_DOUBLE:
        if (by_value && double_as_int(v->u.d, &it->u.i)) {
            it->type = EDDY_INT;
        } else {
            it->type = EDDY_DOUBLE;
            it->u.d = isnan(v->u.d) ? NAN : v->u.d;
        }
        break;
    default: { /* string or bytes */
        size_t n = v->type == EDDY_STRING ? utf8_cut(v->u.s, v->len, AGG_INLINE)
                                          : (v->len < AGG_INLINE ? v->len : AGG_INLINE);
        it->type = v->type;
        it->len = (uint8_t)n;
        it->full_len = v->len;
        if (n)
            memcpy(it->u.s, v->u.s, n);
        break;
    }
    }
    return 1;
}

bool agg_item_equal(const agg_item *a, const agg_item *b)
{
    if (a->type != b->type || a->hash != b->hash)
        return false;
    switch (a->type) {
    case EDDY_INT:
    case EDDY_BOOL: return a->u.i == b->u.i;
    case EDDY_DOUBLE: return memcmp(&a->u.d, &b->u.d, 8) == 0;
    default:
        return a->full_len == b->full_len && a->len == b->len &&
               memcmp(a->u.s, b->u.s, a->len) == 0;
    }
}

eddy_value agg_item_value(const agg_item *it, eddy_batch *b)
{
    switch (it->type) {
    case EDDY_INT: return eddy_v_int(it->u.i);
    case EDDY_DOUBLE: return eddy_v_double(it->u.d);
    case EDDY_BOOL: return eddy_v_bool(it->u.i != 0);
    case EDDY_STRING:
    case EDDY_BYTES: {
        if (!b)
            return eddy_v_null();
        eddy_value v = eddy_batch_string(b, it->u.s, it->len);
        if (v.type != EDDY_STRING)
            return eddy_v_null();
        v.type = it->type;
        return v;
    }
    default: return eddy_v_null();
    }
}

int agg_item_ser(const agg_item *it, eddy_buf *out)
{
    int rc = eddy_put_u8(out, it->type) | eddy_put_u8(out, it->len) |
             eddy_put_u32(out, it->full_len) | eddy_put_u64(out, it->hash);
    if (it->type == EDDY_STRING || it->type == EDDY_BYTES)
        rc |= eddy_buf_put(out, it->u.s, it->len);
    else
        rc |= eddy_put_u64(out, (uint64_t)it->u.i);
    return rc ? -1 : 0;
}

void agg_item_deser(agg_item *it, eddy_rd *r)
{
    memset(it, 0, sizeof *it);
    it->type = eddy_get_u8(r);
    it->len = eddy_get_u8(r);
    it->full_len = eddy_get_u32(r);
    it->hash = eddy_get_u64(r);
    switch (it->type) {
    case EDDY_INT:
    case EDDY_DOUBLE:
    case EDDY_BOOL:
        it->u.i = (int64_t)eddy_get_u64(r);
        if (it->type == EDDY_BOOL && (uint64_t)it->u.i > 1)
            r->err = 1;
        if (it->len || it->full_len)
            r->err = 1;
        break;
    case EDDY_STRING:
    case EDDY_BYTES: {
        /* a cut string lost at most 3 bytes to the UTF-8 boundary */
        unsigned min_cut = it->type == EDDY_STRING ? AGG_INLINE - 3 : AGG_INLINE;
        if (it->len > AGG_INLINE || it->len > it->full_len ||
            (it->len < it->full_len && it->len < min_cut)) {
            r->err = 1;
            break;
        }
        const uint8_t *p = eddy_take(r, it->len);
        if (p && it->len)
            memcpy(it->u.s, p, it->len);
        break;
    }
    default: r->err = 1;
    }
}
