/* How feature values are rendered: text in the eddy Redis layout (readable
 * by any client without a decoder), JSON in the embedded store and in
 * eddy_store_get answers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/store/store_int.h"

int64_t eddy_store_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Shortest text that reads back as the same double. */
static int put_double(eddy_buf *out, double d)
{
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    return eddy_buf_puts(out, tmp);
}

int eddy_store_value_json(eddy_buf *out, const eddy_value *v)
{
    int rc = 0;
    switch (v->type) {
    case EDDY_BOOL:
        return eddy_buf_puts(out, v->u.b ? "true" : "false");
    case EDDY_INT:
        return eddy_buf_printf(out, "%lld", (long long)v->u.i);
    case EDDY_DOUBLE:
        return isfinite(v->u.d) ? put_double(out, v->u.d) : eddy_buf_puts(out, "null");
    case EDDY_STRING:
        return eddy_buf_json_str(out, v->u.s, v->len);
    case EDDY_BYTES:
        return eddy_buf_json_str(out, (const char *)v->u.bytes, v->len);
    case EDDY_ARRAY:
        rc |= eddy_buf_putc(out, '[');
        for (uint32_t i = 0; i < v->len; i++) {
            if (i)
                rc |= eddy_buf_putc(out, ',');
            rc |= eddy_store_value_json(out, &v->u.items[i]);
        }
        return rc | eddy_buf_putc(out, ']');
    case EDDY_MAP:
        rc |= eddy_buf_putc(out, '{');
        for (uint32_t i = 0; i < v->len; i++) {
            const eddy_kv *kv = &v->u.kvs[i];
            if (i)
                rc |= eddy_buf_putc(out, ',');
            if (kv->key.type == EDDY_STRING)
                rc |= eddy_buf_json_str(out, kv->key.u.s, kv->key.len);
            else
                rc |= eddy_buf_puts(out, "\"\"");
            rc |= eddy_buf_putc(out, ':');
            rc |= eddy_store_value_json(out, &kv->val);
        }
        return rc | eddy_buf_putc(out, '}');
    default:
        return eddy_buf_puts(out, "null");
    }
}

int eddy_store_value_text(eddy_buf *out, const eddy_value *v)
{
    switch (v->type) {
    case EDDY_NULL:
        return 0;
    case EDDY_DOUBLE:
        if (isnan(v->u.d))
            return eddy_buf_puts(out, "nan");
        if (isinf(v->u.d))
            return eddy_buf_puts(out, v->u.d > 0 ? "inf" : "-inf");
        return put_double(out, v->u.d);
    case EDDY_STRING:
        return eddy_buf_put(out, v->u.s, v->len);
    case EDDY_BYTES:
        return eddy_buf_put(out, v->u.bytes, v->len);
    default:
        return eddy_store_value_json(out, v);
    }
}

/* A JSON number exactly as JSON spells it (no leading '+', no hex, no
 * leading zeros, no inf/nan): only then can the text go out bare. */
static bool json_number(const char *s, size_t len)
{
    size_t i = 0;
    if (i < len && s[i] == '-')
        i++;
    if (i == len)
        return false;
    if (s[i] == '0')
        i++;
    else if (s[i] >= '1' && s[i] <= '9')
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
    else
        return false;
    if (i < len && s[i] == '.') {
        size_t d = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return false;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t d = i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return false;
    }
    return i == len;
}

int eddy_store_text_json(eddy_buf *out, const char *s, size_t len)
{
    if (json_number(s, len) || (len == 4 && memcmp(s, "true", 4) == 0) ||
        (len == 5 && memcmp(s, "false", 5) == 0))
        return eddy_buf_put(out, s, len);
    if ((len == 3 && (memcmp(s, "nan", 3) == 0 || memcmp(s, "inf", 3) == 0)) ||
        (len == 4 && memcmp(s, "-inf", 4) == 0))
        return eddy_buf_puts(out, "null");
    return eddy_buf_json_str(out, s, len);
}
