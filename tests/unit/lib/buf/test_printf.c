/* eddy_buf_printf on a buffer that has no memory yet (data NULL): it once
 * computed NULL + 0, undefined behaviour that clang's UBSan reports (found
 * by tests/fuzz/fuzz_admin.c through GET /v1/alerts; gcc's UBSan does not
 * check it). Then appending after existing text, and a long text that grows
 * the buffer. */
#include <string.h>

#include "lib/buf/buf.h"
#include "tests/unit/test.h"

int main(void)
{
    eddy_buf b = {0};
    CHECK(eddy_buf_printf(&b, "{\"n\":%d}", 42) == 0);
    CHECK(b.len == 8 && memcmp(b.data, "{\"n\":42}", 8) == 0);
    CHECK(eddy_buf_printf(&b, "%s", "") == 0 && b.len == 8);
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK(eddy_buf_printf(&b, "%s!", big) == 0);
    CHECK(b.len == 8 + sizeof big && b.data[b.len - 1] == '!');
    eddy_buf_free(&b);
    eddy_buf e = {0};
    CHECK(eddy_buf_printf(&e, "%s", "") == 0 && e.len == 0);
    eddy_buf_free(&e);
    return test_report();
}
