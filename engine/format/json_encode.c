/* JSON output of values and records.
 *
 * Doubles use the shortest of %.15g/%.16g/%.17g that reads back to the same
 * bits, and always look like a double ("1.0", not "1") so that a round trip
 * through JSON keeps EDDY_DOUBLE apart from EDDY_INT. NaN and infinities have
 * no JSON spelling: they become null. Bytes become a base64 string. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "format_int.h"
#include "sym.h"

int eddy_json_put_double(eddy_buf *out, double d)
{
    if (!isfinite(d))
        return eddy_buf_put(out, "null", 4);
    char tmp[40];
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (prec == 17 || strtod(tmp, NULL) == d)
            break;
    }
    if (n <= 0 || (size_t)n >= sizeof tmp)
        return -1;
    if (!strpbrk(tmp, ".eEn")) {
        tmp[n++] = '.';
        tmp[n++] = '0';
    }
    return eddy_buf_put(out, tmp, (size_t)n);
}

static int put_int(eddy_buf *out, int64_t v)
{
    char tmp[24];
    char *e = tmp + sizeof tmp, *p = e;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    return eddy_buf_put(out, p, (size_t)(e - p));
}

int eddy_buf_base64(eddy_buf *out, const uint8_t *p, size_t len)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t need = (len + 2) / 3 * 4;
    if (out->cap - out->len < need && eddy_buf_grow(out, need) != 0)
        return -1;
    char *o = (char *)out->data + out->len;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t w = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = tab[w >> 18];
        *o++ = tab[(w >> 12) & 63];
        *o++ = tab[(w >> 6) & 63];
        *o++ = tab[w & 63];
    }
    if (i < len) {
        uint32_t w = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);
        *o++ = tab[w >> 18];
        *o++ = tab[(w >> 12) & 63];
        *o++ = i + 1 < len ? tab[(w >> 6) & 63] : '=';
        *o++ = '=';
    }
    out->len += need;
    return 0;
}

static int value_json(const eddy_value *v, eddy_buf *out, unsigned depth)
{
    /* Values built by decoders are bounded; this guards hand-built cycles. */
    if (depth > EDDY_FMT_MAX_DEPTH)
        return -1;
    switch (v->type) {
    case EDDY_NULL: return eddy_buf_put(out, "null", 4);
    case EDDY_BOOL: return v->u.b ? eddy_buf_put(out, "true", 4) : eddy_buf_put(out, "false", 5);
    case EDDY_INT: return put_int(out, v->u.i);
    case EDDY_DOUBLE: return eddy_json_put_double(out, v->u.d);
    case EDDY_STRING: return eddy_buf_json_str(out, v->u.s, v->len);
    case EDDY_BYTES:
        if (eddy_buf_putc(out, '"') != 0 || eddy_buf_base64(out, v->u.bytes, v->len) != 0)
            return -1;
        return eddy_buf_putc(out, '"');
    case EDDY_ARRAY:
        if (eddy_buf_putc(out, '[') != 0)
            return -1;
        for (uint32_t i = 0; i < v->len; i++) {
            if ((i && eddy_buf_putc(out, ',') != 0) || value_json(&v->u.items[i], out, depth + 1) != 0)
                return -1;
        }
        return eddy_buf_putc(out, ']');
    case EDDY_MAP:
        if (eddy_buf_putc(out, '{') != 0)
            return -1;
        for (uint32_t i = 0; i < v->len; i++) {
            const eddy_kv *kv = &v->u.kvs[i];
            if (i && eddy_buf_putc(out, ',') != 0)
                return -1;
            /* Keys are strings by contract; anything else is written as its
             * JSON text inside a string rather than producing invalid JSON. */
            if (kv->key.type == EDDY_STRING) {
                if (eddy_buf_json_str(out, kv->key.u.s, kv->key.len) != 0)
                    return -1;
            } else {
                eddy_buf tmp = {0};
                int rc = value_json(&kv->key, &tmp, depth + 1);
                if (rc == 0)
                    rc = eddy_buf_json_str(out, (const char *)tmp.data, tmp.len);
                eddy_buf_free(&tmp);
                if (rc != 0)
                    return -1;
            }
            if (eddy_buf_putc(out, ':') != 0 || value_json(&kv->val, out, depth + 1) != 0)
                return -1;
        }
        return eddy_buf_putc(out, '}');
    }
    return eddy_buf_put(out, "null", 4);
}

int eddy_value_to_json(const eddy_value *v, eddy_buf *out)
{
    size_t mark = out->len;
    if (value_json(v, out, 0) != 0) {
        out->len = mark;
        return EDDY_ENOMEM;
    }
    return 0;
}

int eddy_record_to_json(const eddy_record *r, eddy_buf *out)
{
    size_t mark = out->len;
    if (eddy_buf_putc(out, '{') != 0)
        goto fail;
    for (uint32_t i = 0; i < r->nfields; i++) {
        const eddy_field *f = &r->fields[i];
        if (i && eddy_buf_putc(out, ',') != 0)
            goto fail;
        if (eddy_buf_json_str(out, eddy_sym_name(f->name), eddy_sym_len(f->name)) != 0 ||
            eddy_buf_putc(out, ':') != 0 || value_json(&f->v, out, 1) != 0)
            goto fail;
    }
    if (eddy_buf_putc(out, '}') != 0)
        goto fail;
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
