/* msgpack encoding through msgpack-c's packer. Decoding is eddy's own single
 * pass (msgpack_decode.c), which also owns the codec state. */
#include <msgpack.h>
#include <stdio.h>

#include "error.h"
#include "format_int.h"

static int buf_write(void *data, const char *p, size_t n)
{
    return eddy_buf_put(data, p, n);
}

static int pack(msgpack_packer *pk, const eddy_value *v, unsigned depth)
{
    if (depth > EDDY_FMT_MAX_DEPTH)
        return -1;
    switch (v->type) {
    case EDDY_NULL: return msgpack_pack_nil(pk);
    case EDDY_BOOL: return v->u.b ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    case EDDY_INT: return msgpack_pack_int64(pk, v->u.i);
    case EDDY_DOUBLE: return msgpack_pack_double(pk, v->u.d);
    case EDDY_STRING:
        return msgpack_pack_str(pk, v->len) || msgpack_pack_str_body(pk, v->u.s, v->len);
    case EDDY_BYTES:
        return msgpack_pack_bin(pk, v->len) || msgpack_pack_bin_body(pk, v->u.bytes, v->len);
    case EDDY_ARRAY:
        if (msgpack_pack_array(pk, v->len) != 0)
            return -1;
        for (uint32_t i = 0; i < v->len; i++)
            if (pack(pk, &v->u.items[i], depth + 1) != 0)
                return -1;
        return 0;
    case EDDY_MAP:
        if (msgpack_pack_map(pk, v->len) != 0)
            return -1;
        for (uint32_t i = 0; i < v->len; i++)
            if (pack(pk, &v->u.kvs[i].key, depth + 1) != 0 ||
                pack(pk, &v->u.kvs[i].val, depth + 1) != 0)
                return -1;
        return 0;
    }
    return msgpack_pack_nil(pk);
}

int eddy_msgpack_encode(eddy_msgpack_state *s, const eddy_record *r, eddy_buf *out, char *err,
                        size_t errlen)
{
    (void)s;
    size_t mark = out->len;
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, buf_write);
    int rc = msgpack_pack_map(&pk, r->nfields);
    for (uint32_t i = 0; rc == 0 && i < r->nfields; i++) {
        const eddy_field *f = &r->fields[i];
        size_t n = eddy_sym_len(f->name);
        rc = msgpack_pack_str(&pk, n) || msgpack_pack_str_body(&pk, eddy_sym_name(f->name), n) ||
             pack(&pk, &f->v, 1);
    }
    if (rc != 0) {
        out->len = mark;
        snprintf(err, errlen, "out of memory while encoding msgpack (or values nested deeper than %u)",
                 EDDY_FMT_MAX_DEPTH);
        return EDDY_ENOMEM;
    }
    return 0;
}
