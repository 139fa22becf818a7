/* msgpack codec: decoding every type, malformed input reasons and offsets,
 * encoding and round trips. */
#include <msgpack.h>
#include <stdlib.h>

#include "tests/unit/engine/format/fmt_util.h"

static void pstr(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str(pk, strlen(s));
    msgpack_pack_str_body(pk, s, strlen(s));
}

static void test_decode(eddy_codec *c, eddy_batch *b)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 12);
    pstr(&pk, "user_id"); pstr(&pk, "u1");
    pstr(&pk, "count"); msgpack_pack_uint64(&pk, 300);
    pstr(&pk, "neg"); msgpack_pack_int64(&pk, INT64_MIN);
    pstr(&pk, "big"); msgpack_pack_uint64(&pk, UINT64_MAX);
    pstr(&pk, "amount"); msgpack_pack_double(&pk, 12.5);
    pstr(&pk, "f32"); msgpack_pack_float(&pk, 0.25f);
    pstr(&pk, "ok"); msgpack_pack_true(&pk);
    pstr(&pk, "none"); msgpack_pack_nil(&pk);
    pstr(&pk, "bin"); msgpack_pack_bin(&pk, 3); msgpack_pack_bin_body(&pk, "\x00\x01\x02", 3);
    pstr(&pk, "ext"); msgpack_pack_ext(&pk, 2, 5); msgpack_pack_ext_body(&pk, "\xaa\xbb", 2);
    pstr(&pk, "arr"); msgpack_pack_array(&pk, 2); msgpack_pack_int(&pk, 1); pstr(&pk, "x");
    pstr(&pk, "map"); msgpack_pack_map(&pk, 2);
    pstr(&pk, "k"); msgpack_pack_array(&pk, 0);
    pstr(&pk, "caf\xc3\xa9"); msgpack_pack_map(&pk, 0);
    eddy_record *r = eddy_batch_append(b);
    CHECK(eddy_codec_decode(c, b, r, sb.data, sb.size) == 0);
    CHECK(r->nfields == 12);
    CHECK(vstr_eq(fget(r, "user_id"), "u1") && fget(r, "user_id")->type == EDDY_STRING);
    CHECK(fget(r, "count")->type == EDDY_INT && fget(r, "count")->u.i == 300);
    CHECK(fget(r, "neg")->type == EDDY_INT && fget(r, "neg")->u.i == INT64_MIN);
    CHECK(fget(r, "big")->type == EDDY_DOUBLE && fget(r, "big")->u.d == 18446744073709551615.0);
    CHECK(fget(r, "amount")->type == EDDY_DOUBLE && fget(r, "amount")->u.d == 12.5);
    CHECK(fget(r, "f32")->type == EDDY_DOUBLE && fget(r, "f32")->u.d == 0.25);
    CHECK(fget(r, "ok")->type == EDDY_BOOL && fget(r, "ok")->u.b);
    CHECK(fget(r, "none")->type == EDDY_NULL);
    const eddy_value *bin = fget(r, "bin");
    CHECK(bin->type == EDDY_BYTES && bin->len == 3 && memcmp(bin->u.bytes, "\0\1\2", 3) == 0);
    const eddy_value *ext = fget(r, "ext");
    CHECK(ext->type == EDDY_BYTES && ext->len == 2 && memcmp(ext->u.bytes, "\xaa\xbb", 2) == 0);
    const eddy_value *arr = fget(r, "arr");
    CHECK(arr->type == EDDY_ARRAY && arr->len == 2 && arr->u.items[0].u.i == 1 &&
          vstr_eq(&arr->u.items[1], "x"));
    const eddy_value *m = fget(r, "map");
    CHECK(m->type == EDDY_MAP && m->len == 2);
    CHECK(mget(m, "k") && mget(m, "k")->type == EDDY_ARRAY);
    CHECK(mget(m, "caf\xc3\xa9") && mget(m, "caf\xc3\xa9")->type == EDDY_MAP);

    /* Duplicate keys are an error (the last won silently before). */
    msgpack_sbuffer_clear(&sb);
    msgpack_pack_map(&pk, 3);
    pstr(&pk, "a"); msgpack_pack_int(&pk, 1);
    pstr(&pk, "b"); msgpack_pack_int(&pk, 2);
    pstr(&pk, "a"); msgpack_pack_int(&pk, 3);
    r = eddy_batch_append(b);
    CHECK(eddy_codec_decode(c, b, r, sb.data, sb.size) == EDDY_EPARSE);
    CHECK_STR(r->err_reason, "duplicate field name \"a\" at byte 7");
    msgpack_sbuffer_destroy(&sb);
}

static void test_malformed(eddy_codec *c, eddy_batch *b)
{
    EXPECT_FAIL(c, b, "", 0, "empty payload", 0);
    /* {"a": "xyz"} cut inside the string. */
    EXPECT_FAIL(c, b, "\x81\xa1\x61\xa3xy", 6,
                "truncated input: 6-byte payload ends inside the value starting at byte 3", 3);
    /* map of 2 declared, one given */
    EXPECT_FAIL(c, b, "\x82\xa1\x61\x01", 4, "truncated input", 4);
    /* array32 claiming 4 billion items: no giant allocation */
    EXPECT_FAIL(c, b, "\x81\xa1\x61\xdd\xff\xff\xff\xff\x01", 9, "truncated input", 9);
    EXPECT_FAIL(c, b, "\x81\xa1\x61\xc1", 4, "parse error: invalid type byte 0xc1 at byte 3", 3);
    EXPECT_FAIL(c, b, "\x92\x01\x02", 3, "top level must be a map, found array at byte 0", 0);
    EXPECT_FAIL(c, b, "\x2a", 1, "top level must be a map, found int", 0);
    EXPECT_FAIL(c, b, "\x82\xa1\x61\x01\x05\x02", 6, "map key 1 is int, expected str at byte 4", 4);
    EXPECT_FAIL(c, b, "\x81\xa1\x61\x01\xc0\xc0", 6, "2 trailing bytes after the top-level value at byte 4",
                4);
    /* The offset is the key itself (byte 7); the msgpack-c based decoder
     * could only name the field value holding it (byte 6). */
    EXPECT_FAIL(c, b, "\x82\xa1\x61\x01\xa1\x62\x81\x07\x08", 9,
                "nested map key in field \"b\" is int, expected str", 7);
    EXPECT_FAIL(c, b, "\x81\xa1\x61\xa2\x41\xff", 6, "invalid UTF-8 in string at byte 5", 5);
    EXPECT_FAIL(c, b, "\x81\xa2\xc3\x28\x01", 5, "invalid UTF-8 in string at byte 2", 2);
    EXPECT_FAIL(c, b, "\x81\xa0\x01", 3, "empty field name", 1);

    /* Nesting: msgpack-c's unpacker stops at 32 levels. */
    uint8_t deep[64];
    size_t n = 0;
    deep[n++] = 0x81;
    deep[n++] = 0xa1;
    deep[n++] = 'a';
    for (int i = 0; i < 31; i++)
        deep[n++] = 0x91;
    deep[n++] = 0x01;
    eddy_record *r = eddy_batch_append(b);
    CHECK(eddy_codec_decode(c, b, r, deep, n) == 0); /* 32 levels */
    n = 0;
    deep[n++] = 0x81;
    deep[n++] = 0xa1;
    deep[n++] = 'a';
    for (int i = 0; i < 32; i++)
        deep[n++] = 0x91;
    deep[n++] = 0x01;
    EXPECT_FAIL(c, b, deep, n, "nesting deeper than 32 levels at byte 34", 34);
}

static void test_roundtrip(eddy_codec *c, eddy_batch *b)
{
    eddy_record *r = eddy_batch_append(b);
    static const uint8_t bytes[] = {0, 1, 2, 0xff};
    eddy_value items[3] = {eddy_v_int(1), eddy_v_double(-0.5), eddy_v_null()};
    items[2] = str_v(b, "caf\xc3\xa9");
    eddy_kv kvs[2];
    kvs[0].key = str_v(b, "x");
    kvs[0].val = (eddy_value){.type = EDDY_ARRAY, .len = 3, .u.items = items};
    kvs[1].key = str_v(b, "y");
    kvs[1].val = eddy_v_bool(0);
    set_field(b, r, "user_id", str_v(b, "u1"));
    set_field(b, r, "amount", eddy_v_double(1e-300));
    set_field(b, r, "count", eddy_v_int(INT64_MAX));
    set_field(b, r, "small", eddy_v_int(-1));
    set_field(b, r, "ok", eddy_v_bool(1));
    set_field(b, r, "none", eddy_v_null());
    set_field(b, r, "bin", (eddy_value){.type = EDDY_BYTES, .len = 4, .u.bytes = bytes});
    set_field(b, r, "nested", (eddy_value){.type = EDDY_MAP, .len = 2, .u.kvs = kvs});
    eddy_buf out = {0};
    char err[128];
    CHECK(eddy_codec_encode(c, r, &out, err, sizeof err) == 0);
    eddy_record *r2 = eddy_batch_append(b);
    r = &b->recs[b->n - 2];
    CHECK(eddy_codec_decode(c, b, r2, out.data, out.len) == 0);
    CHECK(r2->nfields == r->nfields);
    for (uint32_t i = 0; i < r->nfields && i < r2->nfields; i++) {
        CHECK(r->fields[i].name == r2->fields[i].name);
        CHECK(r->fields[i].v.type == r2->fields[i].v.type);
        CHECK_MSG(eddy_value_equal(&r->fields[i].v, &r2->fields[i].v), "field %s",
                  eddy_sym_name(r->fields[i].name));
    }
    /* And msgpack-c reads what we wrote. */
    msgpack_zone z;
    msgpack_zone_init(&z, 2048);
    msgpack_object o;
    size_t off = 0;
    CHECK(msgpack_unpack((const char *)out.data, out.len, &off, &z, &o) == MSGPACK_UNPACK_SUCCESS);
    CHECK(o.type == MSGPACK_OBJECT_MAP && o.via.map.size == 8);
    msgpack_zone_destroy(&z);
    eddy_buf_free(&out);
}

int main(void)
{
    eddy_batch *b = eddy_batch_new(0, 0);
    eddy_codec_conf conf = {.format = EDDY_FMT_MSGPACK};
    eddy_codec *c = codec_of(&conf);
    CHECK(eddy_codec_format(c) == EDDY_FMT_MSGPACK);
    test_decode(c, b);
    test_malformed(c, b);
    test_roundtrip(c, b);
    eddy_codec_destroy(c);
    eddy_batch_destroy(b);
    return test_report();
}
