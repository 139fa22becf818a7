/* Feast key and value bytes (see feast.h for the layout). */
#include "lib/store/feast.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/batch.h" /* eddy_type_name */
#include "engine/core/error.h"
#include "lib/store/store_int.h"

/* MurmurHash3 x86_32, as the mmh3 Python package computes it. */
uint32_t eddy_mmh3_32(const void *data, size_t len, uint32_t seed)
{
    const uint8_t *p = data;
    const uint32_t c1 = 0xcc9e2d51, c2 = 0x1b873593;
    uint32_t h = seed;
    size_t nblocks = len / 4;
    for (size_t i = 0; i < nblocks; i++) {
        uint32_t k = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
                     (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
        k *= c1;
        k = (k << 15) | (k >> 17);
        k *= c2;
        h ^= k;
        h = (h << 13) | (h >> 19);
        h = h * 5 + 0xe6546b64;
    }
    const uint8_t *tail = p + nblocks * 4;
    uint32_t k = 0;
    switch (len & 3) {
    case 3:
        k ^= (uint32_t)tail[2] << 16;
        /* fall through */
    case 2:
        k ^= (uint32_t)tail[1] << 8;
        /* fall through */
    case 1:
        k ^= tail[0];
        k *= c1;
        k = (k << 15) | (k >> 17);
        k *= c2;
        h ^= k;
    }
    h ^= (uint32_t)len;
    h ^= h >> 16;
    h *= 0x85ebca6b;
    h ^= h >> 13;
    h *= 0xc2b2ae35;
    h ^= h >> 16;
    return h;
}

void eddy_feast_field(const char *view, const char *feature, uint8_t out[4])
{
    size_t vl = strlen(view), fl = strlen(feature);
    char stack[256], *s = vl + fl + 1 <= sizeof stack ? stack : malloc(vl + fl + 1);
    uint32_t h = 0;
    if (s) {
        memcpy(s, view, vl);
        s[vl] = ':';
        memcpy(s + vl + 1, feature, fl);
        h = eddy_mmh3_32(s, vl + fl + 1, 0);
        if (s != stack)
            free(s);
    }
    out[0] = (uint8_t)h;
    out[1] = (uint8_t)(h >> 8);
    out[2] = (uint8_t)(h >> 16);
    out[3] = (uint8_t)(h >> 24);
}

static int put_u32le(eddy_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    return eddy_buf_put(b, x, 4);
}

static int put_varint(eddy_buf *b, uint64_t v)
{
    uint8_t x[10];
    size_t n = 0;
    do {
        x[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            x[n] |= 0x80;
        n++;
    } while (v);
    return eddy_buf_put(b, x, n);
}

/* Feast ValueType numbers used in keys. */
#define VT_STRING 2
#define VT_INT64 4

static int entity_value(eddy_buf *b, const char *key, const eddy_value *v, eddy_entity_type type,
                        char *err, size_t errlen)
{
    char tmp[32];
    if (type == EDDY_ENTITY_STRING) {
        const char *s = tmp;
        size_t len;
        if (v->type == EDDY_STRING) {
            s = v->u.s;
            len = v->len;
        } else if (v->type == EDDY_INT) {
            len = (size_t)snprintf(tmp, sizeof tmp, "%" PRId64, v->u.i);
        } else {
            snprintf(err, errlen, "entity field '%s' is %s; entity_type string takes strings and "
                     "ints", key, eddy_type_name(v->type));
            return EDDY_ETYPE;
        }
        int rc = put_u32le(b, VT_STRING) | put_u32le(b, (uint32_t)len) | eddy_buf_put(b, s, len);
        return rc ? EDDY_ENOMEM : 0;
    }
    int64_t i;
    if (v->type == EDDY_INT) {
        i = v->u.i;
    } else if (v->type == EDDY_DOUBLE && v->u.d == floor(v->u.d) && fabs(v->u.d) < 9.2e18) {
        i = (int64_t)v->u.d;
    } else if (v->type == EDDY_STRING && v->len > 0 && v->len < sizeof tmp) {
        memcpy(tmp, v->u.s, v->len);
        tmp[v->len] = '\0';
        char *end;
        errno = 0;
        i = strtoll(tmp, &end, 10);
        if (*end || errno) {
            snprintf(err, errlen, "entity field '%s' is \"%s\", not an int64 (entity_type int64)",
                     key, tmp);
            return EDDY_ETYPE;
        }
    } else {
        snprintf(err, errlen, "entity field '%s' is %s, not an int64 (entity_type int64)", key,
                 eddy_type_name(v->type));
        return EDDY_ETYPE;
    }
    uint64_t u = (uint64_t)i;
    uint8_t x[8];
    for (int k = 0; k < 8; k++)
        x[k] = (uint8_t)(u >> (8 * k));
    int rc = put_u32le(b, VT_INT64) | put_u32le(b, 8) | eddy_buf_put(b, x, 8);
    return rc ? EDDY_ENOMEM : 0;
}

int eddy_feast_redis_key(eddy_buf *out, const char *project, const char *const *join_keys,
                         const eddy_value *vals, uint32_t n, eddy_entity_type type, char *err,
                         size_t errlen)
{
    uint32_t order[EDDY_STORE_MAX_KEYS];
    if (n > EDDY_STORE_MAX_KEYS)
        return EDDY_EINVAL;
    /* Feast sorts (name, value) pairs by name; names are unique. */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t j = i;
        while (j > 0 && strcmp(join_keys[order[j - 1]], join_keys[i]) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    int rc = put_u32le(out, n);
    for (uint32_t i = 0; i < n; i++) {
        const char *k = join_keys[order[i]];
        size_t kl = strlen(k);
        rc |= put_u32le(out, VT_STRING) | put_u32le(out, (uint32_t)kl) | eddy_buf_put(out, k, kl);
    }
    if (rc)
        return EDDY_ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        rc = entity_value(out, join_keys[order[i]], &vals[order[i]], type, err, errlen);
        if (rc != 0)
            return rc;
    }
    return eddy_buf_puts(out, project) ? EDDY_ENOMEM : 0;
}

int eddy_feast_value(eddy_buf *out, const eddy_value *v)
{
    uint8_t d[9];
    eddy_buf json = {0};
    int rc;
    switch (v->type) {
    case EDDY_INT:
        return put_varint(out, 4 << 3 | 0) | put_varint(out, (uint64_t)v->u.i);
    case EDDY_DOUBLE: {
        uint64_t u;
        memcpy(&u, &v->u.d, 8);
        d[0] = 5 << 3 | 1;
        for (int k = 0; k < 8; k++)
            d[1 + k] = (uint8_t)(u >> (8 * k));
        return eddy_buf_put(out, d, 9);
    }
    case EDDY_BOOL:
        return put_varint(out, 7 << 3 | 0) | put_varint(out, v->u.b ? 1 : 0);
    case EDDY_STRING:
        return put_varint(out, 2 << 3 | 2) | put_varint(out, v->len) |
               eddy_buf_put(out, v->u.s, v->len);
    case EDDY_BYTES:
        return put_varint(out, 1 << 3 | 2) | put_varint(out, v->len) |
               eddy_buf_put(out, v->u.bytes, v->len);
    case EDDY_ARRAY:
    case EDDY_MAP:
        rc = eddy_store_value_json(&json, v);
        rc |= put_varint(out, 32 << 3 | 2) | put_varint(out, json.len) |
              eddy_buf_put(out, json.data, json.len);
        eddy_buf_free(&json);
        return rc;
    default:
        return 0; /* empty Value: Feast reads None */
    }
}

int eddy_feast_timestamp(eddy_buf *out, int64_t ms)
{
    /* Timestamp normalises nanos into [0, 1e9): floor the seconds. */
    int64_t sec = ms / 1000, rem = ms % 1000;
    if (rem < 0) {
        sec--;
        rem += 1000;
    }
    int rc = 0;
    if (sec != 0)
        rc |= put_varint(out, 1 << 3 | 0) | put_varint(out, (uint64_t)sec);
    if (rem != 0)
        rc |= put_varint(out, 2 << 3 | 0) | put_varint(out, (uint64_t)(rem * 1000000));
    return rc;
}

static int get_varint(const uint8_t *p, size_t len, size_t *i, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 70 && *i < len; shift += 7) {
        uint8_t c = p[(*i)++];
        x |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

/* Skips one field's payload of the given wire type. */
static int skip_field(const uint8_t *p, size_t len, size_t *i, unsigned wire)
{
    uint64_t v;
    switch (wire) {
    case 0:
        return get_varint(p, len, i, &v);
    case 1:
        *i += 8;
        return *i <= len ? 0 : -1;
    case 2:
        if (get_varint(p, len, i, &v) != 0 || v > len - *i)
            return -1;
        *i += v;
        return 0;
    case 5:
        *i += 4;
        return *i <= len ? 0 : -1;
    default:
        return -1;
    }
}

int eddy_feast_timestamp_decode(const uint8_t *p, size_t len, int64_t *ms)
{
    int64_t sec = 0, nanos = 0;
    size_t i = 0;
    while (i < len) {
        uint64_t tag, v;
        if (get_varint(p, len, &i, &tag) != 0)
            return -1;
        if ((tag & 7) == 0 && (tag >> 3) <= 2) {
            if (get_varint(p, len, &i, &v) != 0)
                return -1;
            if ((tag >> 3) == 1)
                sec = (int64_t)v;
            else if ((tag >> 3) == 2)
                nanos = (int32_t)v;
        } else if (skip_field(p, len, &i, (unsigned)(tag & 7)) != 0) {
            return -1;
        }
    }
    *ms = sec * 1000 + nanos / 1000000;
    return 0;
}

int eddy_feast_value_json(eddy_buf *out, const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint64_t tag, v;
        if (get_varint(p, len, &i, &tag) != 0)
            break;
        unsigned field = (unsigned)(tag >> 3), wire = (unsigned)(tag & 7);
        if (wire == 0 && (field == 3 || field == 4 || field == 7 || field == 8)) {
            if (get_varint(p, len, &i, &v) != 0)
                break;
            if (field == 7)
                return eddy_buf_puts(out, v ? "true" : "false");
            if (field == 3)
                return eddy_buf_printf(out, "%d", (int32_t)v);
            return eddy_buf_printf(out, "%" PRId64, (int64_t)v);
        }
        if (wire == 1 && field == 5 && i + 8 <= len) {
            uint64_t u = 0;
            for (int k = 0; k < 8; k++)
                u |= (uint64_t)p[i + k] << (8 * k);
            eddy_value d = {.type = EDDY_DOUBLE};
            memcpy(&d.u.d, &u, 8);
            return eddy_store_value_json(out, &d);
        }
        if (wire == 5 && field == 6 && i + 4 <= len) {
            uint32_t u = 0;
            for (int k = 0; k < 4; k++)
                u |= (uint32_t)p[i + k] << (8 * k);
            float f;
            memcpy(&f, &u, 4);
            eddy_value d = {.type = EDDY_DOUBLE, .u.d = f};
            return eddy_store_value_json(out, &d);
        }
        if (wire == 2 && (field == 1 || field == 2 || field == 32)) {
            if (get_varint(p, len, &i, &v) != 0 || v > len - i)
                break;
            if (field == 32)
                return eddy_buf_put(out, p + i, v); /* JSON we (or Feast) wrote */
            return eddy_buf_json_str(out, (const char *)p + i, v);
        }
        if (skip_field(p, len, &i, wire) != 0)
            break;
    }
    return eddy_buf_puts(out, "null");
}
