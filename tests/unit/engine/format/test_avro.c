/* Avro codec: plain and Confluent framing, schema loading, defaults,
 * malformed payloads with reasons and offsets, round trips, and the
 * avro_value.h conversions. */
#include <stdlib.h>

#include "tests/unit/engine/format/fmt_util.h"
#include "engine/format/avro_value.h"

#define SMALL FMT_DATA_DIR "/small.avsc"
#define EVENT FMT_DATA_DIR "/event.avsc"

static const eddy_schema_ref g_refs[] = {{1, SMALL}, {2, EVENT}};

static eddy_codec *plain(const char *schema)
{
    eddy_codec_conf conf = {.format = EDDY_FMT_AVRO, .avro_schema = schema};
    return codec_of(&conf);
}

static eddy_codec *confluent(int32_t write_id)
{
    eddy_codec_conf conf = {.format = EDDY_FMT_AVRO, .confluent = 1, .schemas = g_refs,
                            .nschemas = 2, .write_schema_id = write_id};
    return codec_of(&conf);
}

static void test_config_errors(void)
{
    char err[512];
    eddy_codec *c = NULL;
    eddy_codec_conf conf = {.format = EDDY_FMT_AVRO};
    CHECK(eddy_codec_new(&conf, &c, err, sizeof err) == EDDY_ECONFIG && !c);
    CHECK_CONTAINS(err, "avro_schema");
    conf.avro_schema = FMT_DATA_DIR "/missing.avsc";
    CHECK(eddy_codec_new(&conf, &c, err, sizeof err) == EDDY_EIO);
    CHECK_CONTAINS(err, "schema file " FMT_DATA_DIR "/missing.avsc: No such file");
    conf.avro_schema = FMT_DATA_DIR "/not_record.avsc";
    CHECK(eddy_codec_new(&conf, &c, err, sizeof err) == EDDY_ECONFIG);
    CHECK_CONTAINS(err, "top-level schema must be a record, not array");
    conf.avro_schema = FMT_DATA_DIR "/broken.avsc";
    CHECK(eddy_codec_new(&conf, &c, err, sizeof err) == EDDY_ECONFIG);
    CHECK_CONTAINS(err, "broken.avsc: ");
    eddy_schema_ref dup[] = {{3, SMALL}, {3, EVENT}};
    eddy_codec_conf conf2 = {.format = EDDY_FMT_AVRO, .confluent = 1, .schemas = dup, .nschemas = 2};
    CHECK(eddy_codec_new(&conf2, &c, err, sizeof err) == EDDY_ECONFIG);
    CHECK_CONTAINS(err, "schema id 3 is listed twice");
}

static void test_plain(eddy_batch *b)
{
    eddy_codec *c = plain(SMALL);
    eddy_record *r = eddy_batch_append(b);
    CHECK(eddy_codec_decode(c, b, r, "\x04hi\x0a", 4) == 0);
    CHECK(r->nfields == 2);
    CHECK(vstr_eq(fget(r, "name"), "hi") && fget(r, "name")->type == EDDY_STRING);
    CHECK(fget(r, "n")->type == EDDY_INT && fget(r, "n")->u.i == 5);
    r = eddy_batch_append(b);
    CHECK(eddy_codec_decode(c, b, r, "\x00\x01", 2) == 0);
    CHECK(vstr_eq(fget(r, "name"), "") && fget(r, "n")->u.i == -1);

    EXPECT_FAIL(c, b, "", 0, "empty payload", 0);
    EXPECT_FAIL(c, b, "\x04h", 2,
                "truncated input: string of 2 bytes, only 1 remain in field \"name\" at byte 0", 0);
    EXPECT_FAIL(c, b, "\x03hi\x0a", 4, "negative string length -2 in field \"name\" at byte 0", 0);
    EXPECT_FAIL(c, b, "\x04hi", 3, "truncated input: long runs past the end of the data in field \"n\" at byte 3", 3);
    EXPECT_FAIL(c, b, "\x04hi\x0a\x00", 5, "1 trailing bytes after the record at byte 4", 4);
    EXPECT_FAIL(c, b, "\x04hi\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 14,
                "varint longer than 10 bytes in field \"n\" at byte 3", 3);
    EXPECT_FAIL(c, b, "\x04hi\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 13,
                "long: varint does not fit in 64 bits", 3);
    EXPECT_FAIL(c, b, "\x04\xff\xfe\x0a", 4, "invalid UTF-8 in string in field \"name\" at byte 1", 1);
    EXPECT_FAIL(c, b, "\xfe\xff\xff\xff\x0f", 5, "truncated input: string of 2147483647 bytes", 0);
    eddy_codec_destroy(c);
}

static eddy_record *full_event(eddy_batch *b)
{
    eddy_record *r = eddy_batch_append(b);
    static const uint8_t raw[] = {0, 1, 2};
    eddy_value tags[2];
    tags[0] = str_v(b, "a");
    tags[1] = str_v(b, "b");
    eddy_kv *ctr = eddy_batch_alloc(b, sizeof *ctr * 2);
    ctr[0].key = str_v(b, "x");
    ctr[0].val = eddy_v_int(1);
    ctr[1].key = str_v(b, "y");
    ctr[1].val = eddy_v_int(-2);
    eddy_value *tv = eddy_batch_alloc(b, sizeof tags);
    memcpy(tv, tags, sizeof tags);
    eddy_kv *addr = eddy_batch_alloc(b, sizeof *addr * 3);
    addr[0].key = str_v(b, "city");
    addr[0].val = str_v(b, "Lyon");
    addr[1].key = str_v(b, "zip");
    addr[1].val = eddy_v_int(69001);
    addr[2].key = str_v(b, "country");
    addr[2].val = str_v(b, "FR");
    set_field(b, r, "user_id", str_v(b, "u"));
    set_field(b, r, "amount", eddy_v_double(12.5));
    set_field(b, r, "count", eddy_v_int(1));
    set_field(b, r, "small", eddy_v_int(-3));
    set_field(b, r, "ratio", eddy_v_double(0.25));
    set_field(b, r, "ok", eddy_v_bool(1));
    set_field(b, r, "color", str_v(b, "BLUE"));
    set_field(b, r, "note", str_v(b, "hello"));
    set_field(b, r, "raw", (eddy_value){.type = EDDY_BYTES, .len = 3, .u.bytes = raw});
    set_field(b, r, "id16", (eddy_value){.type = EDDY_BYTES, .len = 4, .u.bytes = (const uint8_t *)"wxyz"});
    set_field(b, r, "tags", (eddy_value){.type = EDDY_ARRAY, .len = 2, .u.items = tv});
    set_field(b, r, "counters", (eddy_value){.type = EDDY_MAP, .len = 2, .u.kvs = ctr});
    set_field(b, r, "address", (eddy_value){.type = EDDY_MAP, .len = 3, .u.kvs = addr});
    return r;
}

static void test_roundtrip(eddy_batch *b)
{
    eddy_codec *c = confluent(2);
    eddy_record *r = full_event(b);
    eddy_buf out = {0};
    char err[256] = "";
    CHECK_MSG(eddy_codec_encode(c, r, &out, err, sizeof err) == 0, "%s", err);
    CHECK(out.len > 5 && memcmp(out.data, "\x00\x00\x00\x00\x02", 5) == 0);
    eddy_record *r2 = eddy_batch_append(b);
    r = &b->recs[b->n - 2];
    CHECK(eddy_codec_decode(c, b, r2, out.data, out.len) == 0);
    CHECK(r2->nfields == 13);
    for (uint32_t i = 0; i < r->nfields; i++) {
        const eddy_value *want = &r->fields[i].v, *got = eddy_record_get(r2, r->fields[i].name);
        CHECK_MSG(got && eddy_value_equal(want, got), "field %s", eddy_sym_name(r->fields[i].name));
    }
    CHECK(fget(r2, "color")->type == EDDY_STRING);
    CHECK(fget(r2, "id16")->type == EDDY_BYTES);
    CHECK(fget(r2, "small")->type == EDDY_INT && fget(r2, "small")->u.i == -3);

    /* Byte layout: header 5, user_id 2, amount 8, count 1, small 1, ratio 4,
     * ok 1 -> color at 22, note's branch at 23. */
    uint8_t *p = malloc(out.len);
    memcpy(p, out.data, out.len);
    CHECK(p[22] == 0x04 && p[23] == 0x02);
    p[23] = 0x08;
    EXPECT_FAIL(c, b, p, out.len, "union branch 4 out of range (2 branches) in field \"note\" at byte 23", 23);
    p[23] = 0x02;
    p[22] = 0x10;
    EXPECT_FAIL(c, b, p, out.len, "enum index 8 out of range (3 symbols) in field \"color\" at byte 22", 22);
    p[22] = 0x04;
    p[21] = 0x07;
    EXPECT_FAIL(c, b, p, out.len, "invalid boolean byte 0x07 in field \"ok\" at byte 21", 21);
    p[21] = 0x01;
    for (size_t cut = 5; cut < out.len; cut++) {
        eddy_record *rr = eddy_batch_append(b);
        CHECK(eddy_codec_decode(c, b, rr, p, cut) == EDDY_EPARSE);
        CHECK(rr->err_offset <= cut && rr->err_offset >= 5);
        CHECK_CONTAINS(rr->err_reason, "truncated input");
    }
    free(p);

    /* Confluent framing errors. */
    EXPECT_FAIL(c, b, "\x01\x00\x00\x00\x01\x04hi\x0a", 9,
                "bad magic byte 0x01 (the Confluent wire format starts with 0x00) at byte 0", 0);
    EXPECT_FAIL(c, b, "\x00\x00\x00\x00\x07\x04hi\x0a", 9, "unknown schema id 7 at byte 1", 1);
    EXPECT_FAIL(c, b, "\x00\x00\x00", 3, "truncated Confluent header: 3 of 5 bytes", 3);
    EXPECT_FAIL(c, b, "\x00\x00\x00\x00\x01\x04h", 7, "truncated input: string of 2 bytes, only 1 remain in field \"name\" at byte 5", 5);
    eddy_record *r3 = eddy_batch_append(b);
    CHECK(eddy_codec_decode(c, b, r3, "\x00\x00\x00\x00\x01\x04hi\x0a", 9) == 0);
    CHECK(vstr_eq(fget(r3, "name"), "hi"));
    eddy_buf_free(&out);
    eddy_codec_destroy(c);
}

static void test_defaults_and_errors(eddy_batch *b)
{
    eddy_codec *c = plain(EVENT);
    eddy_buf out = {0};
    char err[256] = "";
    eddy_record *r = eddy_batch_append(b);
    set_field(b, r, "user_id", str_v(b, "u"));
    set_field(b, r, "amount", eddy_v_int(3)); /* int widens to double */
    set_field(b, r, "count", eddy_v_int(1));
    set_field(b, r, "ok", eddy_v_bool(0));
    set_field(b, r, "note", eddy_v_null());
    CHECK_MSG(eddy_codec_encode(c, r, &out, err, sizeof err) == 0, "%s", err);
    eddy_record *d = eddy_batch_append(b);
    CHECK(eddy_codec_decode(c, b, d, out.data, out.len) == 0);
    CHECK(fget(d, "amount")->type == EDDY_DOUBLE && fget(d, "amount")->u.d == 3.0);
    CHECK(fget(d, "small")->u.i == 7);
    CHECK(fget(d, "ratio")->u.d == 0.5);
    CHECK(vstr_eq(fget(d, "color"), "GREEN"));
    CHECK(fget(d, "note")->type == EDDY_NULL);
    CHECK(fget(d, "raw")->type == EDDY_BYTES && fget(d, "raw")->len == 0);
    CHECK(vstr_eq(fget(d, "id16"), "abcd"));
    CHECK(fget(d, "tags")->type == EDDY_ARRAY && fget(d, "tags")->len == 0);
    CHECK(fget(d, "counters")->type == EDDY_MAP && fget(d, "counters")->len == 0);
    CHECK(fget(d, "address")->type == EDDY_NULL);

    /* Nested record: a missing field with a default takes it. */
    eddy_kv *addr = eddy_batch_alloc(b, sizeof *addr);
    addr[0].key = str_v(b, "city");
    addr[0].val = str_v(b, "Paris");
    r = &b->recs[b->n - 2];
    set_field(b, r, "address", (eddy_value){.type = EDDY_MAP, .len = 1, .u.kvs = addr});
    out.len = 0;
    CHECK_MSG(eddy_codec_encode(c, r, &out, err, sizeof err) == 0, "%s", err);
    d = eddy_batch_append(b);
    CHECK(eddy_codec_decode(c, b, d, out.data, out.len) == 0);
    const eddy_value *a = fget(d, "address");
    CHECK(a && a->type == EDDY_MAP && vstr_eq(mget(a, "city"), "Paris") &&
          vstr_eq(mget(a, "country"), "FR") && mget(a, "zip")->type == EDDY_NULL);

    /* Errors name the field and the types. */
    r = eddy_batch_append(b);
    set_field(b, r, "amount", eddy_v_double(1));
    out.len = 0;
    CHECK(eddy_codec_encode(c, r, &out, err, sizeof err) == EDDY_ENOTFOUND);
    CHECK_CONTAINS(err, "field \"user_id\": missing, and the schema type string is not nullable");
    set_field(b, r, "user_id", str_v(b, "u"));
    set_field(b, r, "amount", str_v(b, "12"));
    CHECK(eddy_codec_encode(c, r, &out, err, sizeof err) == EDDY_ETYPE);
    CHECK_CONTAINS(err, "field \"amount\": cannot write string as avro double");
    set_field(b, r, "amount", eddy_v_double(1));
    set_field(b, r, "count", eddy_v_int(1));
    set_field(b, r, "ok", eddy_v_bool(1));
    set_field(b, r, "color", str_v(b, "PINK"));
    CHECK(eddy_codec_encode(c, r, &out, err, sizeof err) != 0);
    CHECK_CONTAINS(err, "field \"color\": \"PINK\" is not a symbol of enum Color");
    set_field(b, r, "color", str_v(b, "RED"));
    set_field(b, r, "small", eddy_v_int(5000000000LL));
    CHECK(eddy_codec_encode(c, r, &out, err, sizeof err) == EDDY_ETYPE);
    CHECK_CONTAINS(err, "field \"small\": 5000000000 is out of range for avro int");
    set_field(b, r, "small", eddy_v_int(1));
    set_field(b, r, "ok", eddy_v_null()); /* not nullable, no default */
    CHECK(eddy_codec_encode(c, r, &out, err, sizeof err) == EDDY_ETYPE);
    CHECK_CONTAINS(err, "field \"ok\": is null but the schema type boolean is not nullable");
    set_field(b, r, "ok", eddy_v_bool(1));
    eddy_value bad_tags[1] = {eddy_v_int(3)};
    set_field(b, r, "tags", (eddy_value){.type = EDDY_ARRAY, .len = 1, .u.items = bad_tags});
    CHECK(eddy_codec_encode(c, r, &out, err, sizeof err) == EDDY_ETYPE);
    CHECK_CONTAINS(err, "field \"tags[0]\": cannot write int as avro string");
    set_field(b, r, "tags", (eddy_value){.type = EDDY_ARRAY, .len = 0, .u.items = bad_tags});
    set_field(b, r, "address", eddy_v_int(4));
    CHECK(eddy_codec_encode(c, r, &out, err, sizeof err) == EDDY_ETYPE);
    CHECK_CONTAINS(err, "field \"address\": cannot write int as avro union (no branch accepts it)");
    set_field(b, r, "address", eddy_v_null());
    out.len = 0;
    CHECK_MSG(eddy_codec_encode(c, r, &out, err, sizeof err) == 0, "%s", err);
    eddy_buf_free(&out);
    eddy_codec_destroy(c);

    /* Confluent encoding with an id that has no schema. */
    c = confluent(9);
    CHECK(eddy_codec_encode(c, r, &out, err, sizeof err) == EDDY_ECONFIG);
    CHECK_CONTAINS(err, "no schema for write_schema_id 9");
    eddy_codec_destroy(c);
    eddy_buf_free(&out);
}

static void test_value_api(eddy_batch *b)
{
    char err[256];
    eddy_avro_schema *s = NULL;
    CHECK(eddy_avro_schema_load(EVENT, &s, err, sizeof err) == 0 && s);
    if (!s)
        return;
    avro_value_iface_t *iface = avro_generic_class_from_schema(eddy_avro_schema_get(s));
    avro_value_t v;
    CHECK(avro_generic_value_new(iface, &v) == 0);
    eddy_record *r = full_event(b);
    CHECK_MSG(eddy_record_to_avro(r, &v, err, sizeof err) == 0, "%s", err);
    eddy_record *r2 = eddy_batch_append(b);
    r = &b->recs[b->n - 2];
    CHECK_MSG(eddy_avro_to_record(&v, b, r2, err, sizeof err) == 0, "%s", err);
    CHECK(r2->nfields == 13);
    for (uint32_t i = 0; i < r->nfields; i++) {
        const eddy_value *got = eddy_record_get(r2, r->fields[i].name);
        CHECK_MSG(got && eddy_value_equal(&r->fields[i].v, got), "field %s",
                  eddy_sym_name(r->fields[i].name));
    }
    /* Without the schema's defaults, a missing non-nullable field is an error;
     * with them it is filled. */
    eddy_record *m = eddy_batch_append(b);
    set_field(b, m, "user_id", str_v(b, "u"));
    set_field(b, m, "amount", eddy_v_double(1));
    set_field(b, m, "count", eddy_v_int(1));
    set_field(b, m, "ok", eddy_v_bool(1));
    avro_value_reset(&v);
    CHECK(eddy_record_to_avro(m, &v, err, sizeof err) == EDDY_ENOTFOUND);
    CHECK_CONTAINS(err, "field \"small\": missing");
    avro_value_reset(&v);
    CHECK_MSG(eddy_record_to_avro_with(m, &v, s, err, sizeof err) == 0, "%s", err);
    avro_value_decref(&v);
    avro_value_iface_decref(iface);
    eddy_avro_schema_free(s);
}

int main(void)
{
    eddy_batch *b = eddy_batch_new(0, 0);
    test_config_errors();
    test_plain(b);
    test_roundtrip(b);
    test_defaults_and_errors(b);
    test_value_api(b);
    eddy_batch_destroy(b);
    return test_report();
}
