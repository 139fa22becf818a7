/* A sliding window whose key has seen only empty strings keeps no string
 * memory; reading those events back once computed NULL + 0, undefined
 * behaviour that clang's UBSan reports (found by tests/fuzz/fuzz_state.c;
 * gcc's UBSan does not check it). The window must close with its result.
 * Its snapshot wrote those events the same way (the state fuzzer again):
 * a snapshot restored into a fresh instance must close the same windows. */
#include "tests/unit/operators/window/whost.h"

int main(void)
{
    static const char *const key[] = {"user"};
    static const char *const ak[] = {"n", "f", "d"};
    static const char *const av[] = {"count()", "first(user)", "distinct(user)"};
    tconf c;
    memset(&c, 0, sizeof c);
    conf_set(&c, "type", "sliding");
    conf_set(&c, "size", "100");
    conf_list(&c, "key", key, 1);
    conf_map(&c, "aggregate", ak, av, 3);
    eddy_ctx ctx;
    char err[256];
    void *st = wcreate(&ctx, &c, err, sizeof err);
    CHECK_MSG(st != NULL, "%s", err);
    if (!st)
        return test_report();
    eddy_batch *b = eddy_batch_new(4, 0);
    for (int i = 0; i < 3; i++) {
        eddy_record *r = eddy_batch_append(b);
        r->ts = 10 + i;
        eddy_value v = eddy_batch_string(b, "", 0);
        eddy_record_set(b, r, S("user"), &v);
    }
    CHECK(eddy_op_window.process(st, &ctx, b) == EDDY_CONSUMED);
    eddy_batch_destroy(b);
    void *data = NULL;
    size_t len = 0;
    int ver = eddy_op_window.snapshot(st, &ctx, &data, &len);
    CHECK_MSG(ver > 0 && data, "snapshot: %d", ver);
    eddy_ctx rctx;
    void *rst = wcreate(&rctx, &c, err, sizeof err);
    CHECK_MSG(rst && eddy_op_window.restore(rst, &rctx, ver, data, len) == 0,
              "restore of a snapshot of empty strings failed");
    free(data);
    eddy_op_window.on_watermark(st, &ctx, EDDY_WATERMARK_END);
    uint32_t n = ctx.res ? ctx.res->n : 0;
    CHECK_MSG(n > 0, "no window closed");
    if (rst) {
        eddy_op_window.on_watermark(rst, &rctx, EDDY_WATERMARK_END);
        uint32_t rn = rctx.res ? rctx.res->n : 0;
        CHECK_MSG(rn == n, "restored: %u windows closed, the original %u", rn, n);
        wfree(rst, &rctx);
    }
    char f[8] = "?";
    for (uint32_t i = 0; i < n; i++) {
        CHECK(iget(&ctx.res->recs[i], "n", 0) >= 1);
        CHECK(sget(&ctx.res->recs[i], "f", f, sizeof f) && f[0] == '\0');
    }
    wfree(st, &ctx);
    return test_report();
}
