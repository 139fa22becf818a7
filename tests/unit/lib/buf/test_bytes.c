/* lib/buf/bytes.h: the exact bytes every writer produces (little-endian on
 * any host), the bounded reader, and the field codec for plain structs. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "lib/buf/bytes.h"
#include "tests/unit/test.h"

#define BYTES(...) ((const uint8_t[]){__VA_ARGS__})
#define SAME(buf, ...)                                                              \
    ((buf).len == sizeof(BYTES(__VA_ARGS__)) &&                                    \
     memcmp((buf).data, BYTES(__VA_ARGS__), sizeof(BYTES(__VA_ARGS__))) == 0)

static void test_writers(void)
{
    eddy_buf b = {0};
    CHECK(eddy_put_u8(&b, 0xab) == 0);
    CHECK(SAME(b, 0xab));
    eddy_buf_reset(&b);
    CHECK(eddy_put_u16(&b, 0x1234) == 0);
    CHECK(SAME(b, 0x34, 0x12));
    eddy_buf_reset(&b);
    CHECK(eddy_put_u32(&b, 0x01020304u) == 0);
    CHECK(SAME(b, 0x04, 0x03, 0x02, 0x01));
    eddy_buf_reset(&b);
    CHECK(eddy_put_u64(&b, 0x0102030405060708ull) == 0);
    CHECK(SAME(b, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01));
    eddy_buf_reset(&b);
    CHECK(eddy_put_i64(&b, -2) == 0);
    CHECK(SAME(b, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff));
    eddy_buf_reset(&b);
    CHECK(eddy_put_f64(&b, 1.0) == 0); /* 0x3ff0000000000000 */
    CHECK(SAME(b, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f));
    eddy_buf_reset(&b);
    CHECK(eddy_put_f64(&b, -0.0) == 0);
    CHECK(SAME(b, 0, 0, 0, 0, 0, 0, 0, 0x80));
    eddy_buf_reset(&b);
    CHECK(eddy_put_cstr(&b, "ab") == 0);
    CHECK(SAME(b, 2, 0, 0, 0, 'a', 'b'));
    eddy_buf_reset(&b);
    CHECK(eddy_put_str(&b, "", 0) == 0);
    CHECK(SAME(b, 0, 0, 0, 0));

    uint8_t x[8];
    eddy_le16_store(x, 0xbeef);
    CHECK(x[0] == 0xef && x[1] == 0xbe && eddy_le16(x) == 0xbeef);
    eddy_le32_store(x, 0xdeadbeefu);
    CHECK(x[0] == 0xef && x[3] == 0xde && eddy_le32(x) == 0xdeadbeefu);
    eddy_le64_store(x, 0x8000000000000001ull);
    CHECK(x[0] == 1 && x[7] == 0x80 && eddy_le64(x) == 0x8000000000000001ull);
    eddy_buf_free(&b);
}

static void test_reader(void)
{
    eddy_buf b = {0};
    CHECK(!(eddy_put_u8(&b, 7) || eddy_put_u16(&b, 65535) || eddy_put_u32(&b, 123456789u) ||
            eddy_put_u64(&b, UINT64_MAX - 1) || eddy_put_i64(&b, INT64_MIN) ||
            eddy_put_f64(&b, -2.5) || eddy_put_f64(&b, NAN) || eddy_put_cstr(&b, "key")));
    eddy_rd r = eddy_rd_of(b.data, b.len);
    CHECK(eddy_get_u8(&r) == 7);
    CHECK(eddy_get_u16(&r) == 65535);
    CHECK(eddy_get_u32(&r) == 123456789u);
    CHECK(eddy_get_u64(&r) == UINT64_MAX - 1);
    CHECK(eddy_get_i64(&r) == INT64_MIN);
    CHECK(eddy_get_f64(&r) == -2.5);
    CHECK(isnan(eddy_get_f64(&r)));
    CHECK(eddy_get_str_is(&r, "key"));
    CHECK(r.err == 0 && r.left == 0);

    /* Past the end: err is set, every read answers 0 / NULL, nothing moves. */
    CHECK(eddy_get_u32(&r) == 0 && r.err == 1);
    r = eddy_rd_of(b.data, 3);
    CHECK(eddy_get_u8(&r) == 7);
    CHECK(eddy_get_u32(&r) == 0 && r.err);
    CHECK(eddy_get_u16(&r) == 0);     /* 2 bytes were left, but err sticks */
    CHECK(eddy_take(&r, 0) == NULL);
    CHECK(r.left == 2);

    /* A string longer than what is left. */
    static const uint8_t bad[] = {9, 0, 0, 0, 'a', 'b'};
    r = eddy_rd_of(bad, sizeof bad);
    uint32_t n;
    CHECK(eddy_get_str(&r, &n) == NULL && n == 9 && r.err);
    r = eddy_rd_of(bad + 4, 2);
    CHECK(!eddy_get_str_is(&r, "ab") && r.err); /* "ab" read as a length: too short */
    eddy_buf_free(&b);
}

typedef struct {
    uint32_t a, b;
    double d;
    uint16_t h[4];
    uint8_t c[8];
} mixed;
#define MIXED_SHAPE "44" "8" "2222" "11111111"

static void test_fields(void)
{
    mixed m = {.a = 0x01020304u, .b = 5, .d = 1.0, .h = {0x0a0b, 1, 2, 3}, .c = {9}};
    eddy_buf b = {0};
    CHECK(eddy_put_fields(&b, &m, sizeof m, MIXED_SHAPE) == 0);
    CHECK(SAME(b, 0x04, 0x03, 0x02, 0x01, 5, 0, 0, 0, /* a, b */
               0, 0, 0, 0, 0, 0, 0xf0, 0x3f,           /* d */
               0x0b, 0x0a, 1, 0, 2, 0, 3, 0,           /* h */
               9, 0, 0, 0, 0, 0, 0, 0));               /* c */
    mixed back;
    memset(&back, 0xff, sizeof back);
    CHECK(eddy_load_fields(&back, b.data, b.len, MIXED_SHAPE) == 0);
    CHECK(memcmp(&back, &m, sizeof m) == 0);

    /* A shape repeats over arrays. */
    eddy_buf_reset(&b);
    const uint32_t arr[2] = {1, 0x100};
    CHECK(eddy_put_fields(&b, arr, sizeof arr, "4") == 0);
    CHECK(SAME(b, 1, 0, 0, 0, 0, 1, 0, 0));
    CHECK(eddy_put_fields(&b, arr, 0, "8") == 0 && b.len == 8);

    /* A shape that does not tile the bytes is a bug, and said so. */
    CHECK(eddy_put_fields(&b, &m, sizeof m, "4448") == -2);
    CHECK(eddy_put_fields(&b, &m, sizeof m, "3") == -2);
    CHECK(eddy_put_fields(&b, &m, sizeof m, "") == -2);
    CHECK(eddy_load_fields(&back, b.data, 6, "4") == -2);
    CHECK(b.len == 8);
    eddy_buf_free(&b);
}

int main(void)
{
    test_writers();
    test_reader();
    test_fields();
    return test_report();
}
