/* lib/buf/buf.c eddy_buf_json_str: always a valid JSON string literal.
 * Well-formed UTF-8 passes as it is; bytes that are not UTF-8 (a URL's
 * %ff%fe, a truncated or overlong sequence, a surrogate) become \ufffd;
 * control characters, quotes and backslashes are escaped. */
#include <string.h>

#include "lib/buf/buf.h"
#include "tests/unit/test.h"

static void is(const char *in, size_t n, const char *want)
{
    eddy_buf b = {0};
    CHECK(eddy_buf_json_str(&b, in, n) == 0);
    CHECK_MSG(b.len == strlen(want) && memcmp(b.data, want, b.len) == 0, "got %.*s, want %s",
              (int)b.len, (const char *)b.data, want);
    eddy_buf_free(&b);
}

int main(void)
{
    is("plain", 5, "\"plain\"");
    is("a\"b\\c\n\x01", 7, "\"a\\\"b\\\\c\\n\\u0001\"");
    is("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    is("x\xff\xfey", 4, "\"x\\ufffd\\ufffdy\"");           /* %ff%fe */
    is("\xc3", 1, "\"\\ufffd\"");                           /* truncated */
    is("\xc0\xaf", 2, "\"\\ufffd\\ufffd\"");                /* overlong '/' */
    is("\xe0\x80\xaf", 3, "\"\\ufffd\\ufffd\\ufffd\"");     /* overlong */
    is("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"");     /* surrogate U+D800 */
    is("\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* above U+10FFFF */
    is("\xe2\x82", 2, "\"\\ufffd\\ufffd\"");                /* cut short */
    return test_report();
}
