/* JSON output of values and records.
 *
 * Doubles: see double_encode.c (shortest of %.15g/%.16g/%.17g that reads
 * back to the same bits, always looking like a double; NaN and infinities
 * become null). Bytes become a base64 string. Strings are escaped as
 * eddy_buf_json_str does: ", \, \n, \r, \t and \u00XX for the other control
 * bytes; every other byte as is.
 *
 * Why a cursor instead of eddy_buf_put per piece: the first version (a
 * bounds check and maybe a grow per piece, snprintf + strtod per double,
 * byte-by-byte escaping) encoded the 10-field bench records at 0.76 M/s.
 * Here each value checks the room left with one compare, digits and safe
 * string runs (8 bytes at a time) are stored directly, and doubles skip
 * printf and strtod: the same bytes at 3.2-3.6 M/s (benchmarks/RESULTS.md,
 * "Encode").
 * tests/unit/engine/format/test_json_encode.c keeps the first version and compares
 * outputs. */
#include <stdio.h>
#include <string.h>

#include "engine/core/error.h"
#include "engine/format/format_int.h"
#include "engine/core/sym.h"

int eddy_json_put_double(eddy_buf *out, double d)
{
    char tmp[EDDY_DTOA_MAX];
    size_t n = eddy_json_dtoa(tmp, d);
    return n ? eddy_buf_put(out, tmp, n) : -1;
}

static const char digits2[] = "0001020304050607080910111213141516171819"
                              "2021222324252627282930313233343536373839"
                              "4041424344454647484950515253545556575859"
                              "6061626364656667686970717273747576777879"
                              "8081828384858687888990919293949596979899";

/* Needs 20 bytes of room. */
static inline uint8_t *put_int(uint8_t *o, int64_t v)
{
    uint64_t u = (uint64_t)v;
    if (v < 0) {
        *o++ = '-';
        u = (uint64_t)0 - u;
    }
    unsigned n = 1;
    for (uint64_t t = u; t >= 10; t /= 10)
        n++;
    uint8_t *e = o + n, *p = e;
    while (u >= 100) {
        unsigned r = (unsigned)(u % 100);
        u /= 100;
        p -= 2;
        memcpy(p, digits2 + 2 * r, 2);
    }
    if (u >= 10)
        memcpy(p - 2, digits2 + 2 * u, 2);
    else
        p[-1] = (uint8_t)('0' + u);
    return e;
}

/* 0: copied as is; else the letter after the backslash ('u': \u00XX). */
static const uint8_t esc_tab[256] = {
    ['\0'] = 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 't', 'n', 'u', 'u', 'r', 'u', 'u',
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
    ['"'] = '"', ['\\'] = '\\',
};

/* Nonzero when one of the 8 bytes of x is < 0x20, '"' or '\\'. */
static inline uint64_t needs_escape(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
    return (((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b)) & high;
}

static int put_str(eddy_fmt_out *w, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    /* Escapes are rare: room for the plain case now, more at each escape. */
    if (eddy_fmt_room(w, len + 2) != 0)
        return -1;
    const uint8_t *p = (const uint8_t *)s, *e = p + len;
    uint8_t *o = w->o;
    *o++ = '"';
    for (;;) {
        while (e - p >= 8) {
            uint64_t x;
            memcpy(&x, p, 8);
            if (needs_escape(x))
                break;
            memcpy(o, &x, 8);
            o += 8;
            p += 8;
        }
        while (p < e && !esc_tab[*p])
            *o++ = *p++;
        if (p == e)
            break;
        w->o = o;
        if (eddy_fmt_room(w, (size_t)(e - p) + 6) != 0)
            return -1;
        o = w->o;
        uint8_t c = *p++, k = esc_tab[c];
        *o++ = '\\';
        *o++ = k;
        if (k == 'u') {
            memcpy(o, "00", 2);
            o[2] = (uint8_t)hex[c >> 4];
            o[3] = (uint8_t)hex[c & 15];
            o += 4;
        }
    }
    *o++ = '"';
    w->o = o;
    return 0;
}

static uint8_t *put_base64(uint8_t *o, const uint8_t *p, size_t len)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        o[0] = (uint8_t)tab[v >> 18];
        o[1] = (uint8_t)tab[(v >> 12) & 63];
        o[2] = (uint8_t)tab[(v >> 6) & 63];
        o[3] = (uint8_t)tab[v & 63];
        o += 4;
    }
    if (i < len) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);
        o[0] = (uint8_t)tab[v >> 18];
        o[1] = (uint8_t)tab[(v >> 12) & 63];
        o[2] = i + 1 < len ? (uint8_t)tab[(v >> 6) & 63] : '=';
        o[3] = '=';
        o += 4;
    }
    return o;
}

int eddy_buf_base64(eddy_buf *out, const uint8_t *p, size_t len)
{
    size_t need = (len + 2) / 3 * 4;
    if (out->cap - out->len < need && eddy_buf_grow(out, need) != 0)
        return -1;
    if (need)
        out->len = (size_t)(put_base64(out->data + out->len, p, len) - out->data);
    return 0;
}

static int value_json(eddy_fmt_out *w, const eddy_value *v, unsigned depth);

/* Keys are strings by contract; anything else is written as its JSON text
 * inside a string rather than producing invalid JSON. */
static int put_key(eddy_fmt_out *w, const eddy_value *k, unsigned depth)
{
    if (k->type == EDDY_STRING)
        return put_str(w, k->u.s, k->len);
    eddy_buf tmp = {0};
    eddy_fmt_out t;
    int rc = eddy_fmt_out_begin(&t, &tmp);
    if (rc == 0 && (rc = value_json(&t, k, depth)) == 0) {
        eddy_fmt_out_end(&t);
        rc = put_str(w, (const char *)tmp.data, tmp.len);
    }
    eddy_buf_free(&tmp);
    return rc;
}

static int value_json(eddy_fmt_out *w, const eddy_value *v, unsigned depth)
{
    /* Values built by decoders are bounded; this guards hand-built cycles. */
    if (depth > EDDY_FMT_MAX_DEPTH)
        return -1;
    switch (v->type) {
    case EDDY_STRING: return put_str(w, v->u.s, v->len);
    case EDDY_BYTES: {
        size_t need = ((size_t)v->len + 2) / 3 * 4 + 2;
        if (eddy_fmt_room(w, need) != 0)
            return -1;
        *w->o++ = '"';
        w->o = put_base64(w->o, v->u.bytes, v->len);
        *w->o++ = '"';
        return 0;
    }
    case EDDY_ARRAY:
        if (eddy_fmt_room(w, 1) != 0)
            return -1;
        *w->o++ = '[';
        for (uint32_t i = 0; i < v->len; i++) {
            if (i) {
                if (eddy_fmt_room(w, 1) != 0)
                    return -1;
                *w->o++ = ',';
            }
            if (value_json(w, &v->u.items[i], depth + 1) != 0)
                return -1;
        }
        if (eddy_fmt_room(w, 1) != 0)
            return -1;
        *w->o++ = ']';
        return 0;
    case EDDY_MAP:
        if (eddy_fmt_room(w, 1) != 0)
            return -1;
        *w->o++ = '{';
        for (uint32_t i = 0; i < v->len; i++) {
            const eddy_kv *kv = &v->u.kvs[i];
            if (i) {
                if (eddy_fmt_room(w, 1) != 0)
                    return -1;
                *w->o++ = ',';
            }
            if (put_key(w, &kv->key, depth + 1) != 0 || eddy_fmt_room(w, 1) != 0)
                return -1;
            *w->o++ = ':';
            if (value_json(w, &kv->val, depth + 1) != 0)
                return -1;
        }
        if (eddy_fmt_room(w, 1) != 0)
            return -1;
        *w->o++ = '}';
        return 0;
    default: break;
    }
    if (eddy_fmt_room(w, EDDY_DTOA_MAX) != 0)
        return -1;
    switch (v->type) {
    case EDDY_BOOL:
        if (v->u.b) {
            memcpy(w->o, "true", 4);
            w->o += 4;
        } else {
            memcpy(w->o, "false", 5);
            w->o += 5;
        }
        break;
    case EDDY_INT: w->o = put_int(w->o, v->u.i); break;
    case EDDY_DOUBLE: {
        size_t n = eddy_json_dtoa((char *)w->o, v->u.d);
        if (!n)
            return -1;
        w->o += n;
        break;
    }
    default: /* EDDY_NULL, and any type this encoder does not know */
        memcpy(w->o, "null", 4);
        w->o += 4;
    }
    return 0;
}

int eddy_value_to_json(const eddy_value *v, eddy_buf *out)
{
    size_t mark = out->len;
    eddy_fmt_out w;
    if (eddy_fmt_out_begin(&w, out) != 0 || value_json(&w, v, 0) != 0) {
        out->len = mark;
        return EDDY_ENOMEM;
    }
    eddy_fmt_out_end(&w);
    return 0;
}

int eddy_record_to_json(const eddy_record *r, eddy_buf *out)
{
    size_t mark = out->len;
    eddy_fmt_out w;
    if (eddy_fmt_out_begin(&w, out) != 0 || eddy_fmt_room(&w, 2) != 0)
        goto fail;
    *w.o++ = '{';
    for (uint32_t i = 0; i < r->nfields; i++) {
        const eddy_field *f = &r->fields[i];
        size_t n;
        const char *name = eddy_fmt_sym(f->name, &n);
        if (i) {
            if (eddy_fmt_room(&w, 1) != 0)
                goto fail;
            *w.o++ = ',';
        }
        if (put_str(&w, name, n) != 0 || eddy_fmt_room(&w, 1) != 0)
            goto fail;
        *w.o++ = ':';
        if (value_json(&w, &f->v, 1) != 0)
            goto fail;
    }
    if (eddy_fmt_room(&w, 1) != 0)
        goto fail;
    *w.o++ = '}';
    eddy_fmt_out_end(&w);
    return 0;
fail:
    out->len = mark;
    return EDDY_ENOMEM;
}

int eddy_json_encode(eddy_codec *c, const eddy_record *r, eddy_buf *out, char *err, size_t errlen)
{
    (void)c;
    int rc = eddy_record_to_json(r, out);
    if (rc != 0)
        snprintf(err, errlen, "out of memory while encoding JSON (or values nested deeper than %u)",
                 EDDY_FMT_MAX_DEPTH);
    return rc;
}
