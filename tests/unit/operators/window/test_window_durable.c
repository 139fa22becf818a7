/* Durable window state is incremental (issue 12): a commit writes the keys
 * changed since the previous one, not the whole state. 100,000 keys in an
 * open window, then 1 % of them change: the second flush writes 1,000
 * records, the third (nothing changed) none; closing the windows writes a
 * tombstone per key, and a fresh instance loaded from the compacted
 * changelog carries the same counts. */
#include <stdio.h>
#include <string.h>

#include "tests/unit/operators/window/whost.h"

#define NKEYS 100000

static void feed_keys(void *st, eddy_ctx *ctx, int from, int to, int step, int64_t ts)
{
    eddy_batch *b = eddy_batch_new(1024, 0);
    for (int k = from; k < to; k += step) {
        char user[32];
        int n = snprintf(user, sizeof user, "u%d", k);
        eddy_record *r = eddy_batch_append(b);
        r->ts = ts;
        eddy_value v = eddy_batch_string(b, user, (size_t)n);
        eddy_record_set(b, r, S("user"), &v);
        v = eddy_v_int(1);
        eddy_record_set(b, r, S("amount"), &v);
        if (b->n == 1024) {
            CHECK(eddy_op_window.process(st, ctx, b) == EDDY_CONSUMED);
            eddy_batch_reset(b);
        }
    }
    if (b->n)
        CHECK(eddy_op_window.process(st, ctx, b) == EDDY_CONSUMED);
    eddy_batch_destroy(b);
}

static size_t tombstones(void)
{
    size_t n = 0;
    for (size_t i = 0; i < g_ncl; i++)
        n += g_cl[i].val == NULL;
    return n;
}

int main(void)
{
    static const char *const key_user[] = {"user"};
    static const char *const agg_k[] = {"n"};
    static const char *const agg_v[] = {"count()"};
    tconf c;
    memset(&c, 0, sizeof c);
    conf_set(&c, "type", "tumbling");
    conf_set(&c, "size", "3600000"); /* 1 h in ms */
    conf_set(&c, "max_keys", "1000000");
    conf_list(&c, "key", key_user, 1);
    conf_map(&c, "aggregate", agg_k, agg_v, 2 - 1);
    eddy_ctx ctx = {0};
    char err[256];
    void *st = wcreate(&ctx, &c, err, sizeof err);
    CHECK_MSG(st != NULL, "%s", err);
    if (!st)
        return test_report();
    CHECK(eddy_op_window.state_loaded(st, &ctx, INT64_MIN) == 0);

    feed_keys(st, &ctx, 0, NKEYS, 1, 1000);
    wcl_clear();
    CHECK(eddy_op_window.state_flush(st, &ctx) == 0);
    CHECK_MSG(g_ncl == NKEYS, "first flush: %zu records, expected %d (every new key)", g_ncl, NKEYS);

    feed_keys(st, &ctx, 0, NKEYS, 100, 2000); /* 1 % of the keys change */
    wcl_clear();
    CHECK(eddy_op_window.state_flush(st, &ctx) == 0);
    CHECK_MSG(g_ncl == NKEYS / 100, "after 1 %% of the keys changed: %zu records, expected %d",
              g_ncl, NKEYS / 100);

    wcl_clear();
    CHECK(eddy_op_window.state_flush(st, &ctx) == 0);
    CHECK_MSG(g_ncl == 0, "nothing changed: %zu records, expected 0", g_ncl);

    /* Compacted changelog so far = the first flush's keys with the second's
     * newer values: rebuild it and load a fresh instance from it. */
    wcl_clear();
    void *st0 = wcreate(&ctx, &c, err, sizeof err);
    CHECK(eddy_op_window.state_loaded(st0, &ctx, INT64_MIN) == 0);
    feed_keys(st0, &ctx, 0, NKEYS, 1, 1000);
    feed_keys(st0, &ctx, 0, NKEYS, 100, 2000);
    CHECK(eddy_op_window.state_flush(st0, &ctx) == 0);
    void *st2 = wcreate(&ctx, &c, err, sizeof err);
    size_t loaded = 0;
    for (size_t i = 0; i < g_ncl; i++)
        if (g_cl[i].val) {
            CHECK(eddy_op_window.state_load(st2, &ctx, g_cl[i].key, g_cl[i].klen, g_cl[i].version,
                                            g_cl[i].val, g_cl[i].vlen) == 0);
            loaded++;
        }
    CHECK(eddy_op_window.state_loaded(st2, &ctx, INT64_MIN) == 0);
    CHECK_MSG(loaded == NKEYS, "loaded %zu keys, expected %d", loaded, NKEYS);
    eddy_op_window.destroy(st0);

    /* The end of input closes every window: each key's result is its count
     * (2 for every 100th key, else 1), and the flush writes a tombstone per
     * key, so the compacted changelog ends empty. */
    eddy_batch_destroy(ctx.res);
    ctx.res = NULL;
    CHECK(eddy_op_window.on_watermark(st2, &ctx, EDDY_WATERMARK_END) >= 0);
    uint32_t twos = 0, n = ctx.res ? ctx.res->n : 0, named = 0;
    for (uint32_t i = 0; i < n; i++) {
        char user[32];
        double x;
        twos += iget(&ctx.res->recs[i], "n", 0) == 2;
        named += sget(&ctx.res->recs[i], "user", user, sizeof user) && nget(&ctx.res->recs[i], "n", &x);
    }
    CHECK_MSG(named == n, "%u of %u results carry user and n", named, n);
    CHECK_MSG(n == NKEYS && twos == NKEYS / 100, "restored instance emitted %u windows, %u with n=2",
              n, twos);
    wcl_clear();
    CHECK(eddy_op_window.state_flush(st2, &ctx) == 0);
    CHECK_MSG(tombstones() == NKEYS, "after the windows closed: %zu tombstones of %zu records",
              tombstones(), g_ncl);
    eddy_op_window.destroy(st);
    wfree(st2, &ctx);
    wcl_clear();
    return test_report();
}
