/* msgpack decoding, byte by byte: every type code of the spec (including
 * non-minimal encodings that other writers produce), the truncation of each
 * header, which error wins when a payload has several, and declared counts
 * that the payload cannot hold (no allocation for them). */
#include <stdlib.h>

#include "tests/unit/engine/format/fmt_util.h"

/* Decodes {"v": <val>} and returns the value of v (NULL on failure). */
static const eddy_value *dec_v(eddy_codec *c, eddy_batch *b, const char *val, size_t n)
{
    uint8_t buf[512];
    if (n + 3 > sizeof buf)
        return NULL;
    memcpy(buf, "\x81\xa1v", 3);
    memcpy(buf + 3, val, n);
    eddy_record *r = eddy_batch_append(b);
    int rc = eddy_codec_decode(c, b, r, buf, n + 3);
    CHECK_MSG(rc == 0, "decode of value 0x%02x: %s", (uint8_t)val[0],
              r->err_reason ? r->err_reason : "");
    return rc == 0 && r->nfields == 1 ? fget(r, "v") : NULL;
}

#define V(lit) dec_v(c, b, lit, sizeof lit - 1)

static int is_int(const eddy_value *v, int64_t want)
{
    return v && v->type == EDDY_INT && v->u.i == want;
}

static int is_double(const eddy_value *v, double want)
{
    return v && v->type == EDDY_DOUBLE && v->u.d == want;
}

static int is_raw(const eddy_value *v, int type, const char *want, uint32_t n)
{
    return v && v->type == type && v->len == n && memcmp(v->u.s, want, n) == 0 &&
           v->u.s[n] == '\0';
}

static void test_scalars(eddy_codec *c, eddy_batch *b)
{
    CHECK(is_int(V("\x00"), 0));
    CHECK(is_int(V("\x7f"), 127));
    CHECK(is_int(V("\xe0"), -32));
    CHECK(is_int(V("\xff"), -1));
    CHECK(is_int(V("\xcc\xff"), 255));
    CHECK(is_int(V("\xcd\xff\xfe"), 65534));
    CHECK(is_int(V("\xce\xff\xff\xff\xff"), 4294967295ll));
    CHECK(is_int(V("\xcf\x7f\xff\xff\xff\xff\xff\xff\xff"), INT64_MAX));
    /* Above INT64_MAX: a double, as the msgpack-c based decoder gave. */
    CHECK(is_double(V("\xcf\x80\x00\x00\x00\x00\x00\x00\x00"), 9223372036854775808.0));
    CHECK(is_double(V("\xcf\xff\xff\xff\xff\xff\xff\xff\xff"), 18446744073709551615.0));
    CHECK(is_int(V("\xd0\x80"), -128));
    CHECK(is_int(V("\xd0\x7f"), 127));
    CHECK(is_int(V("\xd1\x80\x00"), -32768));
    CHECK(is_int(V("\xd2\x80\x00\x00\x00"), INT32_MIN));
    CHECK(is_int(V("\xd2\x00\x01\x00\x00"), 65536));
    CHECK(is_int(V("\xd3\x80\x00\x00\x00\x00\x00\x00\x00"), INT64_MIN));
    CHECK(is_int(V("\xd3\xff\xff\xff\xff\xff\xff\xff\xfe"), -2));
    CHECK(is_double(V("\xca\xbf\xc0\x00\x00"), -1.5));
    CHECK(is_double(V("\xcb\x40\x09\x21\xfb\x54\x44\x2d\x18"), 3.141592653589793));
    const eddy_value *v = V("\xc0");
    CHECK(v && v->type == EDDY_NULL);
    v = V("\xc2");
    CHECK(v && v->type == EDDY_BOOL && !v->u.b);
    v = V("\xc3");
    CHECK(v && v->type == EDDY_BOOL && v->u.b);
}

static void test_raw(eddy_codec *c, eddy_batch *b)
{
    CHECK(is_raw(V("\xa0"), EDDY_STRING, "", 0));
    CHECK(is_raw(V("\xa3" "abc"), EDDY_STRING, "abc", 3));
    CHECK(is_raw(V("\xd9\x03" "abc"), EDDY_STRING, "abc", 3));
    CHECK(is_raw(V("\xda\x00\x03" "abc"), EDDY_STRING, "abc", 3));
    CHECK(is_raw(V("\xdb\x00\x00\x00\x03" "abc"), EDDY_STRING, "abc", 3));
    CHECK(is_raw(V("\xa2\xc3\xa9"), EDDY_STRING, "\xc3\xa9", 2));
    char big[3 + 300];
    memcpy(big, "\xda\x01\x2c", 3);
    memset(big + 3, 'x', 300);
    const eddy_value *v = dec_v(c, b, big, sizeof big);
    CHECK(v && v->type == EDDY_STRING && v->len == 300 && v->u.s[299] == 'x' && !v->u.s[300]);

    CHECK(is_raw(V("\xc4\x02\x00\xff"), EDDY_BYTES, "\x00\xff", 2));
    CHECK(is_raw(V("\xc5\x00\x01\x07"), EDDY_BYTES, "\x07", 1));
    CHECK(is_raw(V("\xc6\x00\x00\x00\x00"), EDDY_BYTES, "", 0));
    CHECK(is_raw(V("\xc4\x01\xff"), EDDY_BYTES, "\xff", 1)); /* bytes need no UTF-8 */

    /* ext: the data without its type byte. */
    CHECK(is_raw(V("\xd4\x05\xaa"), EDDY_BYTES, "\xaa", 1));
    CHECK(is_raw(V("\xd5\x05\xaa\xbb"), EDDY_BYTES, "\xaa\xbb", 2));
    CHECK(is_raw(V("\xd6\xff" "abcd"), EDDY_BYTES, "abcd", 4));
    CHECK(is_raw(V("\xd7\x01" "abcdefgh"), EDDY_BYTES, "abcdefgh", 8));
    CHECK(is_raw(V("\xd8\x01" "abcdefghijklmnop"), EDDY_BYTES, "abcdefghijklmnop", 16));
    CHECK(is_raw(V("\xc7\x03\x05" "abc"), EDDY_BYTES, "abc", 3));
    CHECK(is_raw(V("\xc7\x00\x05"), EDDY_BYTES, "", 0));
    CHECK(is_raw(V("\xc8\x00\x02\x05" "ab"), EDDY_BYTES, "ab", 2));
    CHECK(is_raw(V("\xc9\x00\x00\x00\x01\x05" "z"), EDDY_BYTES, "z", 1));
}

static void test_containers(eddy_codec *c, eddy_batch *b)
{
    const eddy_value *v = V("\x92\x01\xa1x");
    CHECK(v && v->type == EDDY_ARRAY && v->len == 2 && is_int(&v->u.items[0], 1) &&
          is_raw(&v->u.items[1], EDDY_STRING, "x", 1));
    v = V("\xdc\x00\x02\x01\x02");
    CHECK(v && v->type == EDDY_ARRAY && v->len == 2 && is_int(&v->u.items[1], 2));
    v = V("\xdd\x00\x00\x00\x01\xc0");
    CHECK(v && v->type == EDDY_ARRAY && v->len == 1 && v->u.items[0].type == EDDY_NULL);
    v = V("\x90");
    CHECK(v && v->type == EDDY_ARRAY && v->len == 0);
    v = V("\xdc\x00\x00");
    CHECK(v && v->type == EDDY_ARRAY && v->len == 0);

    v = V("\x81\xa1k\x01");
    CHECK(v && v->type == EDDY_MAP && v->len == 1 && is_int(mget(v, "k"), 1));
    v = V("\xde\x00\x01\xd9\x01k\x02");
    CHECK(v && v->type == EDDY_MAP && v->len == 1 && is_int(mget(v, "k"), 2));
    v = V("\xdf\x00\x00\x00\x01\xa1k\x03");
    CHECK(v && v->type == EDDY_MAP && v->len == 1 && is_int(mget(v, "k"), 3));
    v = V("\x80");
    CHECK(v && v->type == EDDY_MAP && v->len == 0);
    /* Nested duplicates are an error; an empty nested key is a key like
     * any other. */
    {
        eddy_record *r = eddy_batch_append(b);
        CHECK(eddy_codec_decode(c, b, r, "\x81\xa1v\x84\xa1k\x01\xa1j\x02\xa1k\x03\xa0\x04", 15) ==
              EDDY_EPARSE);
        CHECK_STR(r->err_reason, "duplicate key \"k\" in a nested map of field \"v\" at byte 10");
    }
    v = V("\x83\xa1k\x01\xa1j\x02\xa0\x04");
    CHECK(v && v->type == EDDY_MAP && v->len == 3);
    CHECK(v && v->len == 3 && is_raw(&v->u.kvs[2].key, EDDY_STRING, "", 0) &&
          is_int(&v->u.kvs[2].val, 4));

    /* Top level as map16 / map32, keys as str8 / str16. */
    eddy_record *r = eddy_batch_append(b);
    CHECK(eddy_codec_decode(c, b, r, "\xde\x00\x02\xd9\x01" "a\x01\xda\x00\x01" "b\x02", 12) == 0);
    CHECK(r->nfields == 2 && is_int(fget(r, "a"), 1) && is_int(fget(r, "b"), 2));
    r = eddy_batch_append(b);
    CHECK(eddy_codec_decode(c, b, r, "\xdf\x00\x00\x00\x01\xdb\x00\x00\x00\x01" "a\x07", 12) == 0);
    CHECK(r->nfields == 1 && is_int(fget(r, "a"), 7));
    r = eddy_batch_append(b);
    CHECK(eddy_codec_decode(c, b, r, "\x80", 1) == 0 && r->nfields == 0);
}

static void test_errors(eddy_codec *c, eddy_batch *b)
{
    /* The reserved byte, wherever it stands. */
    EXPECT_FAIL(c, b, "\xc1", 1, "parse error: invalid type byte 0xc1 at byte 0", 0);
    EXPECT_FAIL(c, b, "\x81\xc1\x01", 3, "invalid type byte 0xc1 at byte 1", 1);
    EXPECT_FAIL(c, b, "\x81\xa1v\x93\x01\x02\xc1", 7, "invalid type byte 0xc1 at byte 6", 6);
    EXPECT_FAIL(c, b, "\x81\xa1v\x81\xa1k\xc1", 7, "invalid type byte 0xc1 at byte 6", 6);

    /* Each header cut short: the value that starts there is named. */
    static const struct {
        const char *p;
        size_t n;
    } cut[] = {
        {"\x81\xa1v\xcc", 4},         {"\x81\xa1v\xcd\x01", 5},    {"\x81\xa1v\xce\x01\x02", 6},
        {"\x81\xa1v\xcf\x01", 5},     {"\x81\xa1v\xd0", 4},        {"\x81\xa1v\xd1\x01", 5},
        {"\x81\xa1v\xd2\x01", 5},     {"\x81\xa1v\xd3\x01", 5},    {"\x81\xa1v\xca\x01", 5},
        {"\x81\xa1v\xcb\x01\x02", 6}, {"\x81\xa1v\xa2x", 5},       {"\x81\xa1v\xd9", 4},
        {"\x81\xa1v\xd9\x02x", 6},    {"\x81\xa1v\xda\x00", 5},    {"\x81\xa1v\xdb\x00\x00", 6},
        {"\x81\xa1v\xc4", 4},         {"\x81\xa1v\xc5\x00\x02x", 7}, {"\x81\xa1v\xc6\x00", 5},
        {"\x81\xa1v\xd4\x01", 5},     {"\x81\xa1v\xd5\x01x", 6},   {"\x81\xa1v\xd6\x01", 5},
        {"\x81\xa1v\xd7\x01", 5},     {"\x81\xa1v\xd8\x01", 5},    {"\x81\xa1v\xc7\x01", 5},
        {"\x81\xa1v\xc7\x01\x05", 6}, {"\x81\xa1v\xc8\x00", 5},    {"\x81\xa1v\xc9\x00\x00", 6},
        {"\x81\xa1v\xdc\x00", 5},     {"\x81\xa1v\xdd\x00\x00", 6}, {"\x81\xa1v\xde\x00", 5},
        {"\x81\xa1v\xdf", 4},
    };
    for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++)
        EXPECT_FAIL(c, b, cut[i].p, cut[i].n, "ends inside the value starting at byte 3", 3);
    EXPECT_FAIL(c, b, "\xde\x00", 2, "truncated input: 2-byte payload", 0);
    EXPECT_FAIL(c, b, "\xdf\x00\x00\x00\x01", 5, "truncated input", 5);
    EXPECT_FAIL(c, b, "\x81\xd9\x05" "ab", 5, "truncated input", 1);
    EXPECT_FAIL(c, b, "\x81\xa1v\x92\x01", 5, "truncated input", 5);

    /* Structure is judged first, as when validation ran before conversion. */
    EXPECT_FAIL(c, b, "\x81\xa1\x61\xa2\x41\xff\xc0", 7, "1 trailing bytes", 6);
    EXPECT_FAIL(c, b, "\x92\x01", 2, "truncated input", 2);
    EXPECT_FAIL(c, b, "\x81\x01\xc1", 3, "invalid type byte 0xc1 at byte 2", 2);
    EXPECT_FAIL(c, b, "\x82\xa1\x61\xa1\xff\xa1\x62\xcd", 8, "truncated input", 7);
    EXPECT_FAIL(c, b, "\x2a\x00", 2, "1 trailing bytes", 1);
    /* Semantic errors: the first one, at its byte. */
    EXPECT_FAIL(c, b, "\x81\xa1v\x81\xa1\xff\x01", 7, "invalid UTF-8 in string at byte 5", 5);
    EXPECT_FAIL(c, b, "\x82\xa1\x61\xa1\xff\xa0\x01", 7, "invalid UTF-8 in string at byte 4", 4);
    EXPECT_FAIL(c, b, "\x81\xa1v\x81\xc4\x01k\x01", 8,
                "nested map key in field \"v\" is bin, expected str", 4);
    EXPECT_FAIL(c, b, "\x81\xc0\x01", 3, "map key 0 is nil, expected str at byte 1", 1);
    EXPECT_FAIL(c, b, "\xc3", 1, "top level must be a map, found bool at byte 0", 0);
    EXPECT_FAIL(c, b, "\xd4\x01\x02", 3, "top level must be a map, found ext", 0);
    EXPECT_FAIL(c, b, "\xa1x", 2, "top level must be a map, found str", 0);
}

static void test_depth(void)
{
    eddy_codec_conf conf = {.format = EDDY_FMT_MSGPACK, .max_depth = 3};
    eddy_codec *c = codec_of(&conf);
    eddy_batch *b = eddy_batch_new(0, 0);
    eddy_record *r = eddy_batch_append(b);
    CHECK(eddy_codec_decode(c, b, r, "\x81\xa1\x61\x91\x91\x01", 6) == 0);
    r = eddy_batch_append(b);
    /* Empty containers open no level. */
    CHECK(eddy_codec_decode(c, b, r, "\x81\xa1\x61\x91\x91\x90", 6) == 0);
    EXPECT_FAIL(c, b, "\x81\xa1\x61\x91\x91\x91\x01", 7, "nesting deeper than 3 levels at byte 5", 5);
    EXPECT_FAIL(c, b, "\x81\xa1\x61\x91\x81\xa1k\x81\xa1j\x01", 11,
                "nesting deeper than 3 levels at byte 7", 7);
    eddy_codec_destroy(c);
    eddy_batch_destroy(b);
}

/* Declared counts the payload cannot hold must not be allocated for, not
 * even nested ones that each fit the bytes left but not together: the
 * batch's memory limit would turn them into "out of memory" instead of the
 * truncation that they are. */
static void test_hostile_counts(void)
{
    eddy_codec_conf conf = {.format = EDDY_FMT_MSGPACK};
    eddy_codec *c = codec_of(&conf);
    eddy_batch *b = eddy_batch_new(0, 1024 * 1024);
    enum { LEVELS = 30, COUNT = 4000 };
    size_t len = 3 + 3 * LEVELS + COUNT;
    uint8_t *p = calloc(1, len);
    memcpy(p, "\x81\xa1v", 3);
    for (size_t i = 0; i < LEVELS; i++)
        memcpy(p + 3 + 3 * i, "\xdc\x0f\xa0", 3); /* array16 of 4000 */
    /* 30 x 4000 slots would be 1.9 MB; the innermost array's 4000 zero
     * bytes leave the 29 around it owed their other items. */
    EXPECT_FAIL(c, b, p, len, "truncated input", len);
    eddy_batch_reset(b);
    /* 4 billion items declared at each of 30 levels. */
    size_t len2 = 3 + 5 * LEVELS + 10;
    memset(p, 0, len);
    memcpy(p, "\x81\xa1v", 3);
    for (size_t i = 0; i < LEVELS; i++)
        memcpy(p + 3 + 5 * i, "\xdd\xff\xff\xff\xff", 5);
    EXPECT_FAIL(c, b, p, len2, "truncated input", len2);
    eddy_batch_reset(b);
    EXPECT_FAIL(c, b, "\xde\xff\xff\xa1\x61\x01", 6, "truncated input", 6);
    EXPECT_FAIL(c, b, "\xdf\xff\xff\xff\xff\xa1\x61\x01", 8, "truncated input", 8);
    EXPECT_FAIL(c, b, "\x81\xa1v\xdf\xff\xff\xff\xff\xa1k\xc1", 11, "invalid type byte", 10);
    free(p);
    eddy_codec_destroy(c);
    eddy_batch_destroy(b);
}

int main(void)
{
    eddy_batch *b = eddy_batch_new(0, 0);
    eddy_codec_conf conf = {.format = EDDY_FMT_MSGPACK};
    eddy_codec *c = codec_of(&conf);
    test_scalars(c, b);
    test_raw(c, b);
    test_containers(c, b);
    test_errors(c, b);
    eddy_codec_destroy(c);
    eddy_batch_destroy(b);
    test_depth();
    test_hostile_counts();
    return test_report();
}
