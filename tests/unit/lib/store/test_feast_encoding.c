/* Feast layout bytes against fixtures made by Feast's own Python code
 * (tests/fixtures/store/gen_fixtures.py -> tests/fixtures/store/feast_fixtures.txt), plus the
 * decoders eddy_store_get uses, and the text/JSON value forms. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/batch.h"
#include "engine/core/error.h"
#include "lib/store/feast.h"
#include "lib/store/store_int.h"
#include "tests/unit/test.h"

static char names[64][64];
static char hexes[64][256];
static int nfix;

static void load(const char *path)
{
    FILE *f = fopen(path, "r");
    CHECK_MSG(f != NULL, "cannot open %s", path);
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f) && nfix < 64) {
        if (line[0] == '#')
            continue;
        if (sscanf(line, "%63s %255s", names[nfix], hexes[nfix]) == 2)
            nfix++;
    }
    fclose(f);
}

static const char *fixture(const char *name)
{
    for (int i = 0; i < nfix; i++)
        if (strcmp(names[i], name) == 0)
            return strcmp(hexes[i], "-") == 0 ? "" : hexes[i];
    CHECK_MSG(0, "fixture %s missing", name);
    return "?";
}

static const char *hex(const eddy_buf *b)
{
    static char out[512];
    out[0] = '\0';
    for (size_t i = 0; i < b->len && 2 * i + 2 < sizeof out; i++)
        snprintf(out + 2 * i, 3, "%02x", b->data[i]);
    return out;
}

static void check_key(const char *name, const char *const *keys, const eddy_value *vals,
                      uint32_t n, eddy_entity_type type)
{
    eddy_buf b = {0};
    char err[200];
    CHECK(eddy_feast_redis_key(&b, "eddy_demo", keys, vals, n, type, err, sizeof err) == 0);
    CHECK_STR(hex(&b), fixture(name));
    eddy_buf_free(&b);
}

static void check_field(const char *name, const char *view, const char *feature)
{
    uint8_t h[4];
    eddy_feast_field(view, feature, h);
    eddy_buf b = {.data = h, .len = 4, .cap = 4};
    CHECK_STR(hex(&b), fixture(name));
}

static void check_value(const char *name, eddy_value v)
{
    eddy_buf b = {0};
    CHECK(eddy_feast_value(&b, &v) == 0);
    CHECK_STR(hex(&b), fixture(name));
    eddy_buf_free(&b);
}

static void check_ts(const char *name, int64_t ms)
{
    eddy_buf b = {0};
    CHECK(eddy_feast_timestamp(&b, ms) == 0);
    CHECK_STR(hex(&b), fixture(name));
    int64_t back = -1;
    CHECK(eddy_feast_timestamp_decode(b.data, b.len, &back) == 0);
    CHECK(back == ms);
    eddy_buf_free(&b);
}

static const char *value_json(eddy_value v)
{
    static char out[128];
    eddy_buf p = {0}, j = {0};
    eddy_feast_value(&p, &v);
    eddy_feast_value_json(&j, p.data, p.len);
    snprintf(out, sizeof out, "%.*s", (int)j.len, (const char *)j.data);
    eddy_buf_free(&p);
    eddy_buf_free(&j);
    return out;
}

static const char *text_json(const char *s)
{
    static char out[128];
    eddy_buf j = {0};
    eddy_store_text_json(&j, s, strlen(s));
    snprintf(out, sizeof out, "%.*s", (int)j.len, (const char *)j.data);
    eddy_buf_free(&j);
    return out;
}

static const char *text_of(eddy_value v)
{
    static char out[128];
    eddy_buf t = {0};
    eddy_store_value_text(&t, &v);
    snprintf(out, sizeof out, "%.*s", (int)t.len, (const char *)t.data);
    eddy_buf_free(&t);
    return out;
}

int main(void)
{
    load(FIXTURES);
    CHECK(nfix >= 20);

    const char *uid[] = {"user_id"};
    eddy_value s42 = eddy_v_str("u42", 3), i12345 = eddy_v_int(12345);
    check_key("key_string", uid, &s42, 1, EDDY_ENTITY_STRING);
    check_key("key_int", uid, &i12345, 1, EDDY_ENTITY_INT64);
    /* conversions to the declared type give the same bytes */
    eddy_value str12345 = eddy_v_str("12345", 5), neg = eddy_v_int(-7);
    check_key("key_int", uid, &str12345, 1, EDDY_ENTITY_INT64);
    check_key("key_int_neg", uid, &neg, 1, EDDY_ENTITY_INT64);
    const char *two[] = {"user_id", "merchant"};
    eddy_value tv[] = {eddy_v_str("u1", 2), eddy_v_str("m2", 2)};
    check_key("key_multi", two, tv, 2, EDDY_ENTITY_STRING);

    /* a value that cannot be an int64 key is a clear error, not bytes */
    eddy_buf b = {0};
    char err[200] = "";
    eddy_value bad = eddy_v_str("u42", 3);
    CHECK(eddy_feast_redis_key(&b, "p", uid, &bad, 1, EDDY_ENTITY_INT64, err, sizeof err) ==
          EDDY_ETYPE);
    CHECK_CONTAINS(err, "user_id");
    CHECK_CONTAINS(err, "int64");
    eddy_buf_free(&b);

    check_field("field_spend", "user_spend", "spend");
    check_field("field_n", "user_spend", "n");
    check_field("field_unicode", "vue", "caf\xc3\xa9");
    check_field("field_long", "a_rather_long_feature_view_name", "p95_amount_over_5m");

    check_value("value_int", eddy_v_int(42));
    check_value("value_int_zero", eddy_v_int(0));
    check_value("value_int_neg", eddy_v_int(-3));
    check_value("value_double", eddy_v_double(3.25));
    check_value("value_double_frac", eddy_v_double(0.1));
    check_value("value_bool_true", eddy_v_bool(1));
    check_value("value_bool_false", eddy_v_bool(0));
    check_value("value_string", eddy_v_str("h\xc3\xa9llo", 6));
    eddy_value bytes = {.type = EDDY_BYTES, .len = 3, .u.bytes = (const uint8_t *)"\x00\x01\xff"};
    check_value("value_bytes", bytes);
    eddy_value items[] = {eddy_v_int(1), eddy_v_int(2)};
    eddy_value arr = {.type = EDDY_ARRAY, .len = 2, .u.items = items};
    check_value("value_json", arr);
    check_value("value_null", eddy_v_null());

    check_ts("ts_ms", 1700000000123);
    check_ts("ts_whole", 1700000000000);
    check_ts("ts_epoch", 0);
    check_ts("ts_sub_second", 250);
    int64_t ms = 0;
    CHECK(eddy_feast_timestamp_decode((const uint8_t *)"\x08", 1, &ms) < 0); /* truncated */

    /* Value bytes back to JSON (what get answers for the feast layout) */
    CHECK_STR(value_json(eddy_v_int(-3)), "-3");
    CHECK_STR(value_json(eddy_v_double(0.1)), "0.1");
    CHECK_STR(value_json(eddy_v_bool(1)), "true");
    CHECK_STR(value_json(eddy_v_str("a\"b", 3)), "\"a\\\"b\"");
    CHECK_STR(value_json(eddy_v_null()), "null");
    CHECK_STR(value_json(arr), "[1,2]");

    /* eddy layout text and its JSON rendering */
    CHECK_STR(text_of(eddy_v_double(0.1)), "0.1");
    CHECK_STR(text_of(eddy_v_double(1.0 / 3)), "0.3333333333333333");
    CHECK_STR(text_of(eddy_v_int(-12)), "-12");
    CHECK_STR(text_of(eddy_v_bool(0)), "false");
    CHECK_STR(text_json("12.5"), "12.5");
    CHECK_STR(text_json("-3e5"), "-3e5");
    CHECK_STR(text_json("007"), "\"007\"");
    CHECK_STR(text_json("0x10"), "\"0x10\"");
    CHECK_STR(text_json("nan"), "null");
    CHECK_STR(text_json("grocer"), "\"grocer\"");
    CHECK_STR(text_json("true"), "true");

    /* mmh3 reference vectors (seed 0 and 1) */
    CHECK(eddy_mmh3_32("", 0, 0) == 0);
    CHECK(eddy_mmh3_32("", 0, 1) == 0x514E28B7);
    CHECK(eddy_mmh3_32("hello", 5, 0) == 0x248bfa47);
    return test_report();
}
