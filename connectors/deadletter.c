#include "connectors/deadletter.h"

#include <msgpack.h>
#include <string.h>

bool eddy_utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if ((c & 0xE0) == 0xC0)
            n = 1, cp = c & 0x1F;
        else if ((c & 0xF0) == 0xE0)
            n = 2, cp = c & 0x0F;
        else if ((c & 0xF8) == 0xF0)
            n = 3, cp = c & 0x07;
        else
            return false;
        if (i + n >= len) /* continuation bytes missing */
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        /* Overlong forms, surrogates and beyond U+10FFFF are not UTF-8. */
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

int eddy_base64_put(eddy_buf *out, const uint8_t *s, size_t len)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (eddy_buf_grow(out, (len + 2) / 3 * 4) != 0)
        return -1;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        char q[4] = {tab[v >> 18], tab[(v >> 12) & 63], tab[(v >> 6) & 63], tab[v & 63]};
        eddy_buf_put(out, q, 4);
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        char q[4] = {tab[v >> 18], tab[(v >> 12) & 63], '=', '='};
        eddy_buf_put(out, q, 4);
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        char q[4] = {tab[v >> 18], tab[(v >> 12) & 63], tab[(v >> 6) & 63], '='};
        eddy_buf_put(out, q, 4);
    }
    return 0;
}

static int json_opt_str(eddy_buf *out, const char *s)
{
    return s ? eddy_buf_json_str(out, s, strlen(s)) : eddy_buf_puts(out, "null");
}

int eddy_deadletter_json(const eddy_record *r, eddy_buf *out)
{
    int rc = 0;
    rc |= eddy_buf_puts(out, "{\"error\":");
    rc |= json_opt_str(out, r->err_reason ? r->err_reason : "unknown error");
    rc |= eddy_buf_puts(out, ",\"step\":");
    rc |= json_opt_str(out, r->err_step);
    rc |= eddy_buf_puts(out, ",\"source\":{\"topic\":");
    rc |= json_opt_str(out, r->topic);
    rc |= eddy_buf_printf(out, ",\"partition\":%d,\"offset\":%lld},\"error_offset\":%llu,",
                          (int)r->partition, (long long)r->offset,
                          (unsigned long long)r->err_offset);
    if (!r->raw) {
        rc |= eddy_buf_puts(out, "\"raw\":null}");
    } else if (eddy_utf8_valid(r->raw, r->raw_len)) {
        rc |= eddy_buf_puts(out, "\"raw\":");
        rc |= eddy_buf_json_str(out, (const char *)r->raw, r->raw_len);
        rc |= eddy_buf_putc(out, '}');
    } else {
        rc |= eddy_buf_puts(out, "\"raw_base64\":\"");
        rc |= eddy_base64_put(out, r->raw, r->raw_len);
        rc |= eddy_buf_puts(out, "\"}");
    }
    return rc ? -1 : 0;
}

static int mp_write(void *data, const char *buf, size_t len)
{
    return eddy_buf_put(data, buf, len);
}

static int mp_str(msgpack_packer *pk, const char *s, size_t len)
{
    return msgpack_pack_str(pk, len) | msgpack_pack_str_body(pk, s, len);
}

static int mp_cstr(msgpack_packer *pk, const char *s)
{
    return s ? mp_str(pk, s, strlen(s)) : msgpack_pack_nil(pk);
}

int eddy_deadletter_msgpack(const eddy_record *r, eddy_buf *out)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, mp_write);
    int rc = msgpack_pack_map(&pk, 5);
    rc |= mp_str(&pk, "error", 5) | mp_cstr(&pk, r->err_reason ? r->err_reason : "unknown error");
    rc |= mp_str(&pk, "step", 4) | mp_cstr(&pk, r->err_step);
    rc |= mp_str(&pk, "source", 6) | msgpack_pack_map(&pk, 3);
    rc |= mp_str(&pk, "topic", 5) | mp_cstr(&pk, r->topic);
    rc |= mp_str(&pk, "partition", 9) | msgpack_pack_int32(&pk, r->partition);
    rc |= mp_str(&pk, "offset", 6) | msgpack_pack_int64(&pk, r->offset);
    rc |= mp_str(&pk, "error_offset", 12) | msgpack_pack_uint64(&pk, r->err_offset);
    if (!r->raw) {
        rc |= mp_str(&pk, "raw", 3) | msgpack_pack_nil(&pk);
    } else if (eddy_utf8_valid(r->raw, r->raw_len)) {
        rc |= mp_str(&pk, "raw", 3) | mp_str(&pk, (const char *)r->raw, r->raw_len);
    } else {
        eddy_buf b64 = {0};
        if (eddy_base64_put(&b64, r->raw, r->raw_len) != 0) {
            eddy_buf_free(&b64);
            return -1;
        }
        rc |= mp_str(&pk, "raw_base64", 10) | mp_str(&pk, (const char *)b64.data, b64.len);
        eddy_buf_free(&b64);
    }
    return rc ? -1 : 0;
}
