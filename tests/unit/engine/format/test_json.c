/* JSON codec: decoding, every malformed-input reason and offset, encoding,
 * round trips. */
#include <math.h>
#include <stdlib.h>

#include "tests/unit/engine/format/fmt_util.h"

static eddy_codec *json_codec(uint32_t max_depth)
{
    eddy_codec_conf conf = {.format = EDDY_FMT_JSON, .max_depth = max_depth};
    return codec_of(&conf);
}

static int decode(eddy_codec *c, eddy_batch *b, eddy_record **r, const char *s)
{
    *r = eddy_batch_append(b);
    return eddy_codec_decode(c, b, *r, s, strlen(s));
}

static void test_basic(eddy_codec *c, eddy_batch *b)
{
    eddy_record *r;
    const char *s = " {\"user_id\":\"u1\", \"amount\": 12.5, \"count\":3,\"ok\":true,"
                    "\"bad\":false, \"none\":null, \"neg\":-42, \"exp\":1e2, \"frac\":-0.25e-1} \n\t";
    CHECK(decode(c, b, &r, s) == 0);
    CHECK(r->nfields == 9);
    CHECK(!(r->flags & EDDY_REC_ERROR));
    CHECK(vstr_eq(fget(r, "user_id"), "u1"));
    CHECK(fget(r, "user_id")->u.s[2] == '\0');
    CHECK(fget(r, "amount")->type == EDDY_DOUBLE && fget(r, "amount")->u.d == 12.5);
    CHECK(fget(r, "count")->type == EDDY_INT && fget(r, "count")->u.i == 3);
    CHECK(fget(r, "ok")->type == EDDY_BOOL && fget(r, "ok")->u.b == 1);
    CHECK(fget(r, "bad")->type == EDDY_BOOL && fget(r, "bad")->u.b == 0);
    CHECK(fget(r, "none")->type == EDDY_NULL);
    CHECK(fget(r, "neg")->type == EDDY_INT && fget(r, "neg")->u.i == -42);
    CHECK(fget(r, "exp")->type == EDDY_DOUBLE && fget(r, "exp")->u.d == 100.0);
    CHECK(fget(r, "frac")->type == EDDY_DOUBLE && fget(r, "frac")->u.d == -0.025);
    /* Field order is the payload's. */
    CHECK_STR(eddy_sym_name(r->fields[0].name), "user_id");
    CHECK_STR(eddy_sym_name(r->fields[8].name), "frac");

    CHECK(decode(c, b, &r, "{}") == 0 && r->nfields == 0);
    CHECK(decode(c, b, &r, "{\"e\":{},\"a\":[]}") == 0);
    CHECK(fget(r, "e")->type == EDDY_MAP && fget(r, "e")->len == 0);
    CHECK(fget(r, "a")->type == EDDY_ARRAY && fget(r, "a")->len == 0);
}

static void test_nested(eddy_codec *c, eddy_batch *b)
{
    eddy_record *r;
    CHECK(decode(c, b, &r, "{\"a\":{\"b\":[1,2.5,{\"c\":\"d\"},[true,null]],\"e\":\"f\"}}") == 0);
    const eddy_value *a = fget(r, "a");
    CHECK(a && a->type == EDDY_MAP && a->len == 2);
    const eddy_value *arr = mget(a, "b");
    CHECK(arr && arr->type == EDDY_ARRAY && arr->len == 4);
    if (arr && arr->len == 4) {
        CHECK(arr->u.items[0].type == EDDY_INT && arr->u.items[0].u.i == 1);
        CHECK(arr->u.items[1].type == EDDY_DOUBLE && arr->u.items[1].u.d == 2.5);
        CHECK(vstr_eq(mget(&arr->u.items[2], "c"), "d"));
        CHECK(arr->u.items[3].type == EDDY_ARRAY && arr->u.items[3].len == 2);
        CHECK(arr->u.items[3].u.items[1].type == EDDY_NULL);
    }
    CHECK(vstr_eq(mget(a, "e"), "f"));
}

static void test_escapes(eddy_codec *c, eddy_batch *b)
{
    eddy_record *r;
    CHECK(decode(c, b, &r,
                 "{\"s\":\"caf\\u00e9 \\ud83d\\ude00 \\n\\t\\\"\\\\\\/\\b\\f\\r \\u20AC\","
                 "\"k\\u00e9y\":1, \"raw\":\"h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\","
                 "\"nul\":\"a\\u0000b\"}") == 0);
    CHECK(vstr_eq(fget(r, "s"), "caf\xc3\xa9 \xf0\x9f\x98\x80 \n\t\"\\/\b\f\r \xe2\x82\xac"));
    const eddy_value *k = fget(r, "k\xc3\xa9y");
    CHECK(k && k->type == EDDY_INT && k->u.i == 1);
    CHECK(vstr_eq(fget(r, "raw"), "h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
    const eddy_value *nul = fget(r, "nul");
    CHECK(nul && nul->len == 3 && memcmp(nul->u.s, "a\0b", 3) == 0);
}

static void test_numbers(eddy_codec *c, eddy_batch *b)
{
    eddy_record *r;
    CHECK(decode(c, b, &r,
                 "{\"max\":9223372036854775807,\"min\":-9223372036854775808,"
                 "\"over\":9223372036854775808,\"under\":-9223372036854775809,"
                 "\"huge\":123456789012345678901234567890,\"zero\":0,\"nz\":-0,"
                 "\"pi\":3.141592653589793,\"tiny\":5e-324,\"long\":0.1000000000000000055511151231257827}") == 0);
    CHECK(fget(r, "max")->type == EDDY_INT && fget(r, "max")->u.i == INT64_MAX);
    CHECK(fget(r, "min")->type == EDDY_INT && fget(r, "min")->u.i == INT64_MIN);
    CHECK(fget(r, "over")->type == EDDY_DOUBLE && fget(r, "over")->u.d == 9223372036854775808.0);
    CHECK(fget(r, "under")->type == EDDY_DOUBLE && fget(r, "under")->u.d == -9223372036854775809.0);
    CHECK(fget(r, "huge")->type == EDDY_DOUBLE && fget(r, "huge")->u.d == 1.2345678901234568e29);
    CHECK(fget(r, "zero")->type == EDDY_INT && fget(r, "zero")->u.i == 0);
    CHECK(fget(r, "nz")->type == EDDY_INT && fget(r, "nz")->u.i == 0);
    CHECK(fget(r, "pi")->u.d == 3.141592653589793);
    CHECK(fget(r, "tiny")->u.d == 5e-324);
    CHECK(fget(r, "long")->u.d == 0.1);
}

/* Every decimal the decoder reads equals strtod's correctly rounded
 * double: a million random ones of 1-19 significant digits (the lengths
 * of the long double fast path and both sides of it), exponents around
 * the fast paths' limits, and numbers printed from random doubles with
 * 15-17 digits (what producers write). */
static void test_numbers_vs_strtod(eddy_codec *c, eddy_batch *b)
{
    uint64_t st = 0x9e3779b97f4a7c15ull;
    int bad = 0;
    for (int i = 0; i < 1000000 && bad < 5; i++) {
        st ^= st << 13;
        st ^= st >> 7;
        st ^= st << 17;
        char num[64], doc[96];
        if (i % 2) {
            uint64_t bits = st;
            double d;
            memcpy(&d, &bits, sizeof d);
            if (!isfinite(d) || d == 0)
                continue;
            snprintf(num, sizeof num, "%.*g", 15 + (int)(st >> 60) % 3, d);
        } else {
            int digits = 1 + (int)(st % 19);
            uint64_t m = st >> 5;
            char ds[24];
            snprintf(ds, sizeof ds, "%019llu", (unsigned long long)m);
            ds[0] = (char)('1' + (int)(st % 9)); /* JSON has no leading zeros */
            int e = (int)((st >> 40) % 61) - 30 - digits;
            snprintf(num, sizeof num, "%s%.*se%d", (st >> 63) ? "-" : "", digits, ds, e);
        }
        snprintf(doc, sizeof doc, "{\"x\":%s}", num);
        eddy_record *r;
        eddy_batch_reset(b);
        if (decode(c, b, &r, doc) != 0) {
            CHECK_MSG(0, "%s did not decode", num);
            bad++;
            continue;
        }
        const eddy_value *v = fget(r, "x");
        double want = strtod(num, NULL), got = 0;
        if (!v || !eddy_value_number(v, &got) || memcmp(&got, &want, sizeof got) != 0) {
            CHECK_MSG(0, "%s: decoded %.17g, strtod %.17g", num, got, want);
            bad++;
        }
    }
}

/* Duplicate names are errors (issue 14: the last value won silently): at
 * the top level, in a small nested object, and in a large one (hash-checked
 * in linear time). */
static void test_duplicates(eddy_codec *c, eddy_batch *b)
{
    EXPECT_FAIL(c, b, "{\"a\":1,\"b\":2,\"a\":3}", 19,
                "duplicate field name \"a\" (a record's names must be unique: one of the "
                "values would be lost) at byte 13", 13);
    EXPECT_FAIL(c, b, "{\"m\":{\"x\":1,\"x\":\"y\"}}", 21, "duplicate key \"x\" at byte 12", 12);
    char big[8192];
    size_t n = (size_t)snprintf(big, sizeof big, "{\"m\":{");
    for (int i = 0; i < 200; i++)
        n += (size_t)snprintf(big + n, sizeof big - n, "\"k%d\":%d,", i, i);
    n += (size_t)snprintf(big + n, sizeof big - n, "\"k3\":\"last\"}}");
    EXPECT_FAIL(c, b, big, n, "duplicate key \"k3\" in the object starting at byte 5", 5);
    /* Distinct keys in a large object all survive. */
    n = (size_t)snprintf(big, sizeof big, "{\"m\":{");
    for (int i = 0; i < 200; i++)
        n += (size_t)snprintf(big + n, sizeof big - n, "%s\"k%d\":%d", i ? "," : "", i, i);
    n += (size_t)snprintf(big + n, sizeof big - n, "}}");
    eddy_record *r;
    CHECK(decode(c, b, &r, big) == 0);
    const eddy_value *m = fget(r, "m");
    CHECK(m && m->len == 200 && mget(m, "k199") && mget(m, "k199")->u.i == 199);
}

static void test_malformed(eddy_codec *c, eddy_batch *b)
{
    EXPECT_FAIL(c, b, "", 0, "empty payload", 0);
    EXPECT_FAIL(c, b, "  \n", 3, "empty payload", 0);
    EXPECT_FAIL(c, b, "[1,2]", 5, "top level must be an object, found an array at byte 0", 0);
    EXPECT_FAIL(c, b, "\"x\"", 3, "top level must be an object", 0);
    EXPECT_FAIL(c, b, "{\"amount\" 5}", 12,
                "expected ':' after object key \"amount\", found '5' at byte 10", 10);
    EXPECT_FAIL(c, b, "{\"a\":\"abc", 9, "unterminated string starting at byte 5", 5);
    EXPECT_FAIL(c, b, "{\"a\":1e999}", 11, "number out of range", 5);
    EXPECT_FAIL(c, b, "{\"a\":-1e400}", 12, "number out of range", 5);
    EXPECT_FAIL(c, b, "{\"a\":1} x", 9, "trailing data after the top-level object ('x') at byte 8", 8);
    EXPECT_FAIL(c, b, "{\"a\":1}{}", 9, "trailing data", 7);
    EXPECT_FAIL(c, b, "{\"a\":\"\\x\"}", 10, "invalid escape '\\x' in string at byte 6", 6);
    EXPECT_FAIL(c, b, "{\"a\":\"\\u12G4\"}", 14, "invalid \\u escape", 6);
    EXPECT_FAIL(c, b, "{\"a\":\"\\u12\"}", 12, "invalid \\u escape", 6);
    EXPECT_FAIL(c, b, "{\"a\":\"x\\ud800\"}", 15, "lone high surrogate \\uD800", 7);
    EXPECT_FAIL(c, b, "{\"a\":\"\\ud800\\u0041\"}", 20, "lone high surrogate", 6);
    EXPECT_FAIL(c, b, "{\"a\":\"\\udc00\"}", 14, "lone low surrogate \\uDC00", 6);
    EXPECT_FAIL(c, b, "{\"a\":\"x\x01y\"}", 11, "unescaped control character 0x01 in string", 7);
    EXPECT_FAIL(c, b, "{\"a\":\"\xff\"}", 9, "invalid UTF-8 in string at byte 6", 6);
    EXPECT_FAIL(c, b, "{\"a\":\"\xc0\xaf\"}", 10, "invalid UTF-8", 6);        /* overlong */
    EXPECT_FAIL(c, b, "{\"a\":\"\xed\xa0\x80\"}", 11, "invalid UTF-8", 6);    /* surrogate */
    EXPECT_FAIL(c, b, "{\"a\":01}", 8, "leading zero", 5);
    EXPECT_FAIL(c, b, "{\"a\":-}", 7, "expected a digit after '-'", 6);
    EXPECT_FAIL(c, b, "{\"a\":1.}", 8, "expected a digit after '.'", 7);
    EXPECT_FAIL(c, b, "{\"a\":1e+}", 9, "expected a digit in the exponent", 8);
    EXPECT_FAIL(c, b, "{\"a\":+1}", 8, "expected a value, found '+'", 5);
    EXPECT_FAIL(c, b, "{\"a\":tru}", 9, "invalid literal (expected true)", 5);
    EXPECT_FAIL(c, b, "{\"a\":nul", 8, "invalid literal (expected null)", 5);
    EXPECT_FAIL(c, b, "{\"a\":1,}", 8, "expected a string key, found '}'", 7);
    EXPECT_FAIL(c, b, "{\"a\":[1 2]}", 11, "expected ',' or ']' in array, found '2'", 8);
    EXPECT_FAIL(c, b, "{\"a\":1 \"b\":2}", 13,
                "expected ',' or '}' after value of \"a\", found '\"' at byte 7", 7);
    EXPECT_FAIL(c, b, "{\"a\":", 5, "unexpected end of input (expected a value) at byte 5", 5);
    EXPECT_FAIL(c, b, "{\"a\":1", 6, "unexpected end of input inside object", 6);
    EXPECT_FAIL(c, b, "{\"a\":[1,", 8, "unexpected end of input", 8);
    EXPECT_FAIL(c, b, "{a:1}", 5, "expected a string key, found 'a'", 1);
    EXPECT_FAIL(c, b, "{\"\":1}", 6, "empty field name", 1);
    EXPECT_FAIL(c, b, "{\"a\":'x'}", 9, "expected a value, found '''", 5);
    EXPECT_FAIL(c, b, "{\"a\":1}\x00", 8, "trailing data after the top-level object (byte 0x00)", 7);

    /* Partial fields from a failed decode never survive. */
    eddy_record *r = eddy_batch_append(b);
    const char *half = "{\"a\":1,\"b\":\"x\",\"c\":[1,2,}";
    CHECK(eddy_codec_decode(c, b, r, half, strlen(half)) == EDDY_EPARSE);
    CHECK(r->nfields == 0 && fget(r, "a") == NULL);
}

static size_t nest(char *buf, int arrays)
{
    size_t n = (size_t)sprintf(buf, "{\"a\":");
    for (int i = 0; i < arrays; i++)
        buf[n++] = '[';
    for (int i = 0; i < arrays; i++)
        buf[n++] = ']';
    buf[n++] = '}';
    return n;
}

static void test_depth(eddy_batch *b)
{
    eddy_codec *c = json_codec(0);
    char deep[300];
    eddy_record *r = eddy_batch_append(b);
    size_t n = nest(deep, 63);
    CHECK(eddy_codec_decode(c, b, r, deep, n) == 0); /* 64 levels: the limit */
    n = nest(deep, 64);
    EXPECT_FAIL(c, b, deep, n, "nesting deeper than 64 levels at byte 68", 68);
    eddy_codec_destroy(c);

    c = json_codec(2);
    const char *s = "{\"a\":{\"b\":1}}";
    r = eddy_batch_append(b);
    CHECK(eddy_codec_decode(c, b, r, s, strlen(s)) == 0);
    EXPECT_FAIL(c, b, "{\"a\":{\"b\":[]}}", 14, "nesting deeper than 2 levels", 10);
    eddy_codec_destroy(c);

    eddy_codec_conf conf = {.format = EDDY_FMT_JSON, .max_depth = 100000};
    char err[128];
    CHECK(eddy_codec_new(&conf, &c, err, sizeof err) == EDDY_EINVAL);
    CHECK_CONTAINS(err, "max_depth 100000");
}

static void test_encode(eddy_codec *c, eddy_batch *b)
{
    eddy_record *r = eddy_batch_append(b);
    static const uint8_t bytes[] = {1, 2, 3, 0xff};
    eddy_value bv = {.type = EDDY_BYTES, .len = 4, .u.bytes = bytes};
    set_field(b, r, "user_id", str_v(b, "u\"1\n"));
    set_field(b, r, "amount", eddy_v_double(12.5));
    set_field(b, r, "count", eddy_v_int(-3));
    set_field(b, r, "ok", eddy_v_bool(1));
    set_field(b, r, "none", eddy_v_null());
    set_field(b, r, "one", eddy_v_double(1.0));
    set_field(b, r, "tenth", eddy_v_double(0.1));
    set_field(b, r, "third", eddy_v_double(1.0 / 3.0));
    set_field(b, r, "nan", eddy_v_double(NAN));
    set_field(b, r, "inf", eddy_v_double(-INFINITY));
    set_field(b, r, "big", eddy_v_double(1e300));
    set_field(b, r, "bin", bv);
    eddy_buf out = {0};
    char err[128];
    CHECK(eddy_codec_encode(c, r, &out, err, sizeof err) == 0);
    CHECK(eddy_buf_putc(&out, '\0') == 0);
    CHECK_STR((const char *)out.data,
              "{\"user_id\":\"u\\\"1\\n\",\"amount\":12.5,\"count\":-3,\"ok\":true,\"none\":null,"
              "\"one\":1.0,\"tenth\":0.1,\"third\":0.3333333333333333,\"nan\":null,\"inf\":null,"
              "\"big\":1e+300,\"bin\":\"AQID/w==\"}");
    /* Shortest form that round-trips. */
    out.len = 0;
    eddy_value v = eddy_v_double(0.30000000000000004);
    CHECK(eddy_value_to_json(&v, &out) == 0 && eddy_buf_putc(&out, '\0') == 0);
    CHECK_STR((const char *)out.data, "0.30000000000000004");
    out.len = 0;
    v = eddy_v_int(INT64_MIN);
    CHECK(eddy_value_to_json(&v, &out) == 0 && eddy_buf_putc(&out, '\0') == 0);
    CHECK_STR((const char *)out.data, "-9223372036854775808");
    static const uint8_t b1[] = {'M'}, b2[] = {'M', 'a'};
    out.len = 0;
    v = (eddy_value){.type = EDDY_BYTES, .len = 1, .u.bytes = b1};
    CHECK(eddy_value_to_json(&v, &out) == 0);
    v = (eddy_value){.type = EDDY_BYTES, .len = 2, .u.bytes = b2};
    CHECK(eddy_value_to_json(&v, &out) == 0 && eddy_buf_putc(&out, '\0') == 0);
    CHECK_STR((const char *)out.data, "\"TQ==\"\"TWE=\"");
    eddy_buf_free(&out);
}

static void test_roundtrip(eddy_codec *c, eddy_batch *b)
{
    const char *src = "{\"s\":\"caf\\u00e9\\n\\u0001\",\"i\":-9223372036854775808,\"d\":2.0,"
                      "\"e\":6.02214076e23,\"t\":0.1,\"b\":false,\"n\":null,"
                      "\"m\":{\"k\":[1,{\"x\":[]},\"\\ud83d\\ude00\"],\"z\":{}}}";
    eddy_record *r1 = eddy_batch_append(b);
    CHECK(eddy_codec_decode(c, b, r1, src, strlen(src)) == 0);
    eddy_buf out = {0};
    char err[128];
    CHECK(eddy_codec_encode(c, r1, &out, err, sizeof err) == 0);
    eddy_record *r2 = eddy_batch_append(b);
    r1 = &b->recs[b->n - 2];
    CHECK(eddy_codec_decode(c, b, r2, out.data, out.len) == 0);
    CHECK(r1->nfields == r2->nfields && r1->nfields == 8);
    for (uint32_t i = 0; i < r1->nfields && i < r2->nfields; i++) {
        CHECK(r1->fields[i].name == r2->fields[i].name);
        CHECK(r1->fields[i].v.type == r2->fields[i].v.type);
        CHECK_MSG(eddy_value_equal(&r1->fields[i].v, &r2->fields[i].v), "field %s",
                  eddy_sym_name(r1->fields[i].name));
    }
    out.len = 0;
    CHECK(eddy_record_to_json(r2, &out) == 0);
    eddy_buf out2 = {0};
    CHECK(eddy_record_to_json(r1, &out2) == 0);
    CHECK(out.len == out2.len && memcmp(out.data, out2.data, out.len) == 0);
    eddy_buf_free(&out);
    eddy_buf_free(&out2);
}

static void test_arena_limit(void)
{
    /* A full batch says so instead of failing the payload as malformed. */
    eddy_batch *b = eddy_batch_new(4, 300 * 1024);
    eddy_codec *c = json_codec(0);
    char *big = malloc(200 * 1024);
    CHECK(big != NULL);
    if (!big)
        return;
    size_t n = (size_t)sprintf(big, "{\"s\":\"");
    memset(big + n, 'x', 150 * 1024);
    n += 150 * 1024;
    n += (size_t)sprintf(big + n, "\"}");
    eddy_record *r = eddy_batch_append(b);
    CHECK(eddy_codec_decode(c, b, r, big, n) == 0);
    r = eddy_batch_append(b);
    int rc = eddy_codec_decode(c, b, r, big, n);
    CHECK(rc == EDDY_ENOMEM);
    CHECK(r->flags & EDDY_REC_ERROR);
    free(big);
    eddy_codec_destroy(c);
    eddy_batch_destroy(b);
}

int main(void)
{
    CHECK(eddy_format_parse("json") == EDDY_FMT_JSON);
    CHECK(eddy_format_parse("msgpack") == EDDY_FMT_MSGPACK);
    CHECK(eddy_format_parse("avro") == EDDY_FMT_AVRO);
    CHECK(eddy_format_parse("xml") == -1);
    CHECK(eddy_format_parse(NULL) == -1);
    CHECK_STR(eddy_format_name(EDDY_FMT_MSGPACK), "msgpack");
    CHECK_STR(eddy_format_name(EDDY_FMT_AVRO), "avro");
    CHECK_STR(eddy_format_name(EDDY_FMT_JSON), "json");

    eddy_batch *b = eddy_batch_new(0, 0);
    eddy_codec *c = json_codec(0);
    CHECK(eddy_codec_format(c) == EDDY_FMT_JSON);
    test_basic(c, b);
    test_nested(c, b);
    test_escapes(c, b);
    test_numbers(c, b);
    test_numbers_vs_strtod(c, b);
    test_duplicates(c, b);
    test_malformed(c, b);
    test_depth(b);
    test_encode(c, b);
    test_roundtrip(c, b);
    test_arena_limit();
    eddy_codec_destroy(c);
    eddy_batch_destroy(b);
    return test_report();
}
