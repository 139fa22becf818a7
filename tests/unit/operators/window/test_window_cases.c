/* The window operator on small, hand-written streams: emission counts of
 * final/update/both, min_interval, max_keys and key_ttl eviction, session
 * merges, derived fields with prev, processing time, several key fields,
 * snapshot -> restore continuing identically, and configuration errors. */
#include "engine/format/codec.h"
#include "tests/unit/operators/window/whost.h"

static const char *const key_user[] = {"user"};
static const char *const agg_k[] = {"n", "spend"};
static const char *const agg_v[] = {"count()", "sum(amount)"};

static void base_conf(tconf *c, const char *type)
{
    memset(c, 0, sizeof *c);
    conf_set(c, "type", type);
    conf_list(c, "key", key_user, 1);
    conf_map(c, "aggregate", agg_k, agg_v, 2);
}

static void ev(eddy_batch *b, const char *user, int64_t ts, int64_t amount)
{
    eddy_record *r = eddy_batch_append(b);
    r->ts = ts;
    eddy_value v = eddy_batch_string(b, user, strlen(user));
    eddy_record_set(b, r, S("user"), &v);
    v = eddy_v_int(amount);
    eddy_record_set(b, r, S("amount"), &v);
}

/* Runs one batch of (user, ts, amount) triples. */
static void feed(void *st, eddy_ctx *ctx, const char *u1, int64_t t1, int64_t a1, const char *u2,
                 int64_t t2, int64_t a2)
{
    eddy_batch *b = eddy_batch_new(4, 0);
    ev(b, u1, t1, a1);
    if (u2)
        ev(b, u2, t2, a2);
    CHECK(eddy_op_window.process(st, ctx, b) == EDDY_CONSUMED);
    eddy_batch_destroy(b);
}

static uint32_t nres(const eddy_ctx *ctx) { return ctx->res ? ctx->res->n : 0; }
static const eddy_record *res(const eddy_ctx *ctx, uint32_t i) { return &ctx->res->recs[i]; }
static int is_final(const eddy_record *r)
{
    const eddy_value *v = eddy_record_get(r, S("final"));
    return v && v->type == EDDY_BOOL && v->u.b;
}

static void *make(eddy_ctx *ctx, tconf *c)
{
    char err[256];
    void *st = wcreate(ctx, c, err, sizeof err);
    CHECK_MSG(st != NULL, "%s", err);
    return st;
}

static void test_emit_modes(void)
{
    static const char *const modes[] = {"final", "update", "both"};
    static const uint32_t want[] = {1, 2, 3};
    for (int m = 0; m < 3; m++) {
        tconf c;
        base_conf(&c, "tumbling");
        conf_set(&c, "size", "100");
        conf_set(&c, "emit", modes[m]);
        eddy_ctx ctx;
        void *st = make(&ctx, &c);
        feed(st, &ctx, "a", 10, 1, "a", 20, 2); /* batch 1 changes [0, 100) */
        feed(st, &ctx, "a", 30, 4, NULL, 0, 0); /* batch 2 changes it again */
        eddy_op_window.on_watermark(st, &ctx, 100);
        CHECK_MSG(nres(&ctx) == want[m], "%s: %u results", modes[m], nres(&ctx));
        const eddy_record *last = res(&ctx, nres(&ctx) - 1);
        CHECK(iget(last, "spend", 0) == 7 && iget(last, "count", 0) == 3);
        if (m > 0) {
            CHECK(iget(res(&ctx, 0), "spend", 0) == 3 && !is_final(res(&ctx, 0)));
            CHECK(is_final(last) == (m == 2));
        } else {
            CHECK(eddy_record_get(last, S("final")) == NULL);
        }
        wfree(st, &ctx);
    }
    /* min_interval: the second change is held back, then emitted at close */
    tconf c;
    base_conf(&c, "tumbling");
    conf_set(&c, "size", "100");
    conf_set(&c, "emit", "update");
    conf_set(&c, "min_interval", "1000");
    eddy_ctx ctx;
    void *st = make(&ctx, &c);
    g_now = 5000;
    feed(st, &ctx, "a", 10, 1, NULL, 0, 0);
    g_now = 5500;
    feed(st, &ctx, "a", 20, 2, NULL, 0, 0);
    CHECK(nres(&ctx) == 1);
    eddy_op_window.on_watermark(st, &ctx, 100);
    CHECK(nres(&ctx) == 2);
    CHECK(nres(&ctx) == 2 && iget(res(&ctx, 1), "spend", 0) == 3 && is_final(res(&ctx, 1)));
    wfree(st, &ctx);
}

/* Evicted keys' close-queue entries do not pile up until their window
 * would close (issue 14: 10 M keys through a 1 h window with max_keys 1 M
 * grew the state 195 -> 572 MB). */
static void test_eviction_heap(void)
{
    tconf c;
    base_conf(&c, "tumbling");
    conf_set(&c, "size", "3600000");
    conf_set(&c, "max_keys", "1000");
    eddy_ctx ctx;
    void *st = make(&ctx, &c);
    char u[32];
    double after_warmup = 0;
    for (int i = 0; i < 400; i++) {
        eddy_batch *b = eddy_batch_new(1000, 0);
        for (int j = 0; j < 1000; j++) {
            snprintf(u, sizeof u, "k%d", i * 1000 + j);
            ev(b, u, 1000 + i, 1);
        }
        CHECK(eddy_op_window.process(st, &ctx, b) == EDDY_CONSUMED);
        eddy_batch_destroy(b);
        if (ctx.res)
            eddy_batch_reset(ctx.res); /* the early results of evicted keys */
        if (i == 9)
            after_warmup = metric(&ctx, "window_state_bytes");
    }
    double end = metric(&ctx, "window_state_bytes");
    CHECK_MSG(metric(&ctx, "window_evicted_keys_max_keys_total") == 399000, "%g evictions",
              metric(&ctx, "window_evicted_keys_max_keys_total"));
    CHECK_MSG(after_warmup > 0 && end < 2 * after_warmup,
              "window state grew from %.0f bytes (10,000 keys seen) to %.0f (400,000 seen, "
              "1,000 held)", after_warmup, end);
    wfree(st, &ctx);
}

static void test_eviction(void)
{
    tconf c;
    base_conf(&c, "tumbling");
    conf_set(&c, "size", "1000");
    conf_set(&c, "max_keys", "2");
    eddy_ctx ctx;
    void *st = make(&ctx, &c);
    feed(st, &ctx, "a", 1, 1, "b", 2, 2);
    feed(st, &ctx, "a", 3, 10, NULL, 0, 0); /* b is now the least recently updated */
    feed(st, &ctx, "c", 4, 3, NULL, 0, 0);
    CHECK(metric(&ctx, "window_evicted_keys_max_keys_total") == 1);
    CHECK(nres(&ctx) == 1);
    char u[8] = "";
    CHECK(nres(&ctx) == 1 && sget(res(&ctx, 0), "user", u, sizeof u) && strcmp(u, "b") == 0);
    CHECK_CONTAINS(ctx.last_log, "max_keys (2) reached");
    eddy_op_window.on_watermark(st, &ctx, EDDY_WATERMARK_END);
    CHECK(nres(&ctx) == 3);
    wfree(st, &ctx);

    base_conf(&c, "tumbling");
    conf_set(&c, "size", "1000");
    conf_set(&c, "key_ttl", "50");
    st = make(&ctx, &c);
    feed(st, &ctx, "a", 0, 1, "b", 100, 2);
    eddy_op_window.on_watermark(st, &ctx, 60); /* a idle since 0: 0 + 50 <= 60 */
    CHECK(metric(&ctx, "window_evicted_keys_ttl_total") == 1);
    CHECK(nres(&ctx) == 1 && iget(res(&ctx, 0), "spend", 0) == 1);
    CHECK(metric(&ctx, "window_keys") == 1);
    CHECK(metric(&ctx, "window_state_bytes") > 0);
    eddy_op_window.on_watermark(st, &ctx, EDDY_WATERMARK_END);
    CHECK(nres(&ctx) == 2 && metric(&ctx, "window_evicted_keys_ttl_total") == 1);
    wfree(st, &ctx);
}

static void test_sessions(void)
{
    tconf c;
    base_conf(&c, "session");
    conf_set(&c, "gap", "10");
    eddy_ctx ctx;
    void *st = make(&ctx, &c);
    feed(st, &ctx, "a", 0, 1, "a", 16, 2); /* [0, 10) and [16, 26) */
    feed(st, &ctx, "a", 9, 4, NULL, 0, 0); /* [9, 19) bridges them */
    eddy_op_window.on_watermark(st, &ctx, 26);
    CHECK(nres(&ctx) == 1);
    const eddy_record *r = nres(&ctx) ? res(&ctx, 0) : NULL;
    CHECK(r && iget(r, "window_start", -1) == 0 && iget(r, "window_end", -1) == 26 &&
          iget(r, "spend", 0) == 7 && iget(r, "count", 0) == 3);
    /* exactly gap apart: a new session */
    feed(st, &ctx, "a", 100, 1, "a", 110, 1);
    eddy_op_window.on_watermark(st, &ctx, EDDY_WATERMARK_END);
    CHECK(nres(&ctx) == 3);
    wfree(st, &ctx);
}

static void test_derive_prev_and_keys(void)
{
    static const char *const keys2[] = {"user", "country"};
    static const char *const dk[] = {"avg_ticket", "change", "label"};
    static const char *const dv[] = {"spend / n", "spend - prev.spend", "'w:' + user"};
    tconf c;
    memset(&c, 0, sizeof c);
    conf_set(&c, "type", "tumbling");
    conf_set(&c, "size", "100");
    conf_list(&c, "key", keys2, 2);
    conf_map(&c, "aggregate", agg_k, agg_v, 2);
    conf_map(&c, "derive", dk, dv, 3);
    eddy_ctx ctx;
    void *st = make(&ctx, &c);
    eddy_batch *b = eddy_batch_new(4, 0);
    ev(b, "a", 10, 10);
    ev(b, "a", 150, 30);
    ev(b, "a", 160, 6);
    for (uint32_t i = 0; i < b->n; i++) {
        eddy_value v = eddy_v_str("DE", 2);
        eddy_record_set(b, &b->recs[i], S("country"), &v);
    }
    eddy_op_window.process(st, &ctx, b);
    eddy_batch_destroy(b);
    eddy_op_window.on_watermark(st, &ctx, EDDY_WATERMARK_END);
    CHECK(nres(&ctx) == 2);
    if (nres(&ctx) == 2) {
        const eddy_record *r0 = res(&ctx, 0), *r1 = res(&ctx, 1);
        double x;
        CHECK(!nget(r0, "change", &x));
        CHECK(nget(r1, "change", &x) && x == 26);
        CHECK(nget(r1, "avg_ticket", &x) && x == 18);
        char s[16];
        CHECK(sget(r1, "label", s, sizeof s) && strcmp(s, "w:a") == 0);
        CHECK(sget(r1, "country", s, sizeof s) && strcmp(s, "DE") == 0);
        CHECK(eddy_record_get(r1, S("prev")) == NULL);
        CHECK(r1->key.type == EDDY_ARRAY && r1->key.len == 2);
        CHECK(r1->ts == 199);
    }
    wfree(st, &ctx);
}

static void test_count_and_reject(void)
{
    tconf c;
    base_conf(&c, "count");
    conf_set(&c, "count", "3");
    eddy_ctx ctx;
    void *st = make(&ctx, &c);
    for (int i = 0; i < 7; i++)
        feed(st, &ctx, "a", 100 - i, i, NULL, 0, 0);
    CHECK(nres(&ctx) == 2);
    CHECK(nres(&ctx) >= 1 && iget(res(&ctx, 0), "window_start", 0) == 98 &&
          iget(res(&ctx, 0), "window_end", 0) == 101);
    eddy_op_window.on_watermark(st, &ctx, EDDY_WATERMARK_END);
    CHECK(nres(&ctx) == 3 && iget(res(&ctx, 2), "count", 0) == 1);
    /* a key field holding a map is refused with a reason */
    eddy_batch *b = eddy_batch_new(2, 0);
    ev(b, "a", 1, 1);
    eddy_kv kv = {eddy_v_str("x", 1), eddy_v_int(1)};
    eddy_value m = {.type = EDDY_MAP, .len = 1, .u.kvs = &kv};
    eddy_record_set(b, &b->recs[0], S("user"), &m);
    eddy_op_window.process(st, &ctx, b);
    eddy_batch_destroy(b);
    CHECK(ctx.nrej == 1);
    CHECK_CONTAINS(ctx.rej_reason, "window key field 'user' is a map");
    wfree(st, &ctx);
}

static void test_processing_time(void)
{
    tconf c;
    base_conf(&c, "tumbling");
    conf_set(&c, "size", "1000");
    conf_set(&c, "time", "processing");
    eddy_ctx ctx;
    void *st = make(&ctx, &c);
    g_now = 10500;
    feed(st, &ctx, "a", 1, 5, "b", 999999999, 6); /* record times are ignored */
    CHECK(ctx.timer_at == 11000);
    CHECK(eddy_op_window.on_watermark(st, &ctx, 50000000) == 0);
    CHECK(nres(&ctx) == 0);
    g_now = 11000;
    ctx.timer_at = INT64_MAX; /* the host removes a timer as it fires */
    eddy_op_window.on_timer(st, &ctx, 1, 11000);
    CHECK(nres(&ctx) == 2);
    CHECK(nres(&ctx) == 2 && iget(res(&ctx, 0), "window_start", 0) == 10000);
    CHECK(ctx.timer_at == INT64_MAX);
    feed(st, &ctx, "a", 1, 5, NULL, 0, 0);
    CHECK(ctx.timer_at == 12000);
    wfree(st, &ctx);
}

/* Two instances fed the same stream, one moved through a snapshot halfway:
 * after every call both have emitted the same records (the order among
 * windows closing at the same instant is not specified, so each call's
 * output is compared sorted). */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void json_step(const eddy_batch *b, uint32_t *since, eddy_buf *out)
{
    uint32_t n = b ? b->n : 0, k = 0;
    char **lines = calloc(n - *since + 1, sizeof *lines);
    for (uint32_t i = *since; i < n; i++) {
        eddy_buf j = {0};
        eddy_record_to_json(&b->recs[i], &j);
        eddy_buf_printf(&j, " ts=%lld", (long long)b->recs[i].ts);
        eddy_buf_putc(&j, '\0');
        lines[k++] = (char *)j.data;
    }
    qsort(lines, k, sizeof *lines, cmp_str);
    for (uint32_t i = 0; i < k; i++) {
        eddy_buf_printf(out, "%s\n", lines[i]);
        free(lines[i]);
    }
    free(lines);
    *since = n;
}

typedef struct seen {
    uint32_t res, late;
    eddy_buf out;
} seen;

static void step(const eddy_ctx *ctx, seen *s)
{
    json_step(ctx->res, &s->res, &s->out);
    json_step(ctx->late, &s->late, &s->out);
    eddy_buf_puts(&s->out, "--\n");
}

static void test_snapshot_continues(void)
{
    static const char *const types[] = {"tumbling", "hopping", "sliding", "session", "count"};
    static const char *const ak[] = {"n", "spend", "p50", "d", "top"};
    static const char *const av[] = {"count()", "sum(amount)", "quantile(amount, 0.5)",
                                     "distinct(user)", "topk(amount, 2)"};
    static const char *const dk[] = {"change"};
    static const char *const dv[] = {"spend - prev.spend"};
    for (int t = 0; t < 5; t++) {
        tconf c;
        memset(&c, 0, sizeof c);
        conf_set(&c, "type", types[t]);
        if (t < 3)
            conf_set(&c, "size", "100");
        if (t == 1)
            conf_set(&c, "slide", "20");
        if (t == 3)
            conf_set(&c, "gap", "30");
        if (t == 4)
            conf_set(&c, "count", "4");
        conf_set(&c, "emit", "both");
        conf_list(&c, "key", key_user, 1);
        conf_map(&c, "aggregate", ak, av, 5);
        conf_map(&c, "derive", dk, dv, 1);
        eddy_ctx a, b, tmp; /* tmp keeps the restored instance's metrics */
        void *sa = make(&a, &c), *sb = make(&b, &c);
        uint64_t x = 12345;
        int64_t wm = 0;
        seen sa_seen = {0}, sb_seen = {0};
        for (int batch = 0; batch < 60; batch++) {
            if (batch == 30) {
                void *data;
                size_t len;
                int ver = eddy_op_window.snapshot(sb, &b, &data, &len);
                CHECK(ver == 1);
                void *fresh = make(&tmp, &c);
                CHECK(eddy_op_window.restore(fresh, &b, ver, data, len) == 0);
                free(data);
                eddy_op_window.destroy(sb);
                sb = fresh;
            }
            eddy_batch *ba = eddy_batch_new(8, 0), *bb = eddy_batch_new(8, 0);
            for (int i = 0; i < 5; i++) {
                x = x * 6364136223846793005ull + 1442695040888963407ull;
                char u[4] = {'k', (char)('a' + (x >> 60) % 4), 0, 0};
                int64_t ts = batch * 20 + (int64_t)((x >> 40) % 40);
                if ((x >> 8) % 10 == 0)
                    ts -= 150; /* late for most window types */
                ev(ba, u, ts, (int64_t)((x >> 20) % 100));
                ev(bb, u, ts, (int64_t)((x >> 20) % 100));
            }
            eddy_op_window.process(sa, &a, ba);
            eddy_op_window.process(sb, &b, bb);
            step(&a, &sa_seen);
            step(&b, &sb_seen);
            eddy_batch_destroy(ba);
            eddy_batch_destroy(bb);
            wm = batch * 20 - 10;
            eddy_op_window.on_watermark(sa, &a, wm);
            eddy_op_window.on_watermark(sb, &b, wm);
            step(&a, &sa_seen);
            step(&b, &sb_seen);
        }
        eddy_op_window.on_watermark(sa, &a, EDDY_WATERMARK_END);
        eddy_op_window.on_watermark(sb, &b, EDDY_WATERMARK_END);
        step(&a, &sa_seen);
        step(&b, &sb_seen);
        eddy_buf *ja = &sa_seen.out, *jb = &sb_seen.out;
        CHECK_MSG(a.res && (t == 4 || a.late) && ja->len == jb->len && memcmp(ja->data, jb->data, ja->len) == 0,
                  "%s: outputs differ after restore (%zu vs %zu bytes)", types[t], ja->len, jb->len);
        eddy_buf_free(ja);
        eddy_buf_free(jb);
        wfree(sa, &a);
        wfree(sb, &b);
    }
    /* a snapshot does not restore into a differently shaped window */
    tconf c1, c2;
    base_conf(&c1, "tumbling");
    conf_set(&c1, "size", "100");
    base_conf(&c2, "tumbling");
    conf_set(&c2, "size", "200");
    eddy_ctx a, b;
    void *sa = make(&a, &c1), *sb = make(&b, &c2);
    feed(sa, &a, "a", 1, 1, NULL, 0, 0);
    void *data;
    size_t len;
    int ver = eddy_op_window.snapshot(sa, &a, &data, &len);
    CHECK(eddy_op_window.restore(sb, &b, ver, data, len) < 0);
    CHECK_CONTAINS(b.last_log, "type or size differs");
    CHECK(eddy_op_window.restore(sb, &b, ver, data, len / 2) < 0);
    CHECK(eddy_op_window.restore(sb, &b, 99, data, len) < 0);
    /* Restored key bytes are checked: a key whose string length runs past
     * the key's end (the state fuzzer's heap overflow when the window
     * closed and copied the key field out) is refused at restore. */
    eddy_ctx k;
    void *sk = make(&k, &c1);
    static const uint8_t enc[] = {5, 1, 0, 0, 0, 'a'}; /* T_STRING, length 1, "a" */
    uint8_t *d = data, *at = NULL;
    for (size_t i = 0; i + sizeof enc <= len && !at; i++)
        if (memcmp(d + i, enc, sizeof enc) == 0)
            at = d + i;
    CHECK_MSG(at != NULL, "the key's bytes are not in the snapshot");
    if (at) {
        at[1] = 0xff; /* the string now claims 255 bytes */
        CHECK_MSG(eddy_op_window.restore(sk, &k, ver, data, len) < 0,
                  "a key whose string runs past its end was restored");
    }
    free(data);
    wfree(sa, &a);
    wfree(sb, &b);
    wfree(sk, &k);
}

static void config_error(const char *what, void (*fill)(tconf *), const char *want)
{
    tconf c;
    memset(&c, 0, sizeof c);
    fill(&c);
    eddy_ctx ctx;
    char err[256];
    void *st = wcreate(&ctx, &c, err, sizeof err);
    CHECK_MSG(st == NULL, "%s: accepted", what);
    CHECK_CONTAINS(err, want);
    if (st)
        eddy_op_window.destroy(st);
}

static void c_no_size(tconf *c) { base_conf(c, "tumbling"); }
static void c_hop_multiple(tconf *c)
{
    base_conf(c, "hopping");
    conf_set(c, "size", "100");
    conf_set(c, "slide", "30");
}
static void c_slide_tumbling(tconf *c)
{
    base_conf(c, "tumbling");
    conf_set(c, "size", "100");
    conf_set(c, "slide", "30");
}
static void c_no_gap(tconf *c) { base_conf(c, "session"); }
static void c_clash(tconf *c)
{
    static const char *const k[] = {"count"}, *const v[] = {"count()"};
    memset(c, 0, sizeof *c);
    conf_set(c, "size", "100");
    conf_map(c, "aggregate", k, v, 1);
}
static void c_bad_agg(tconf *c)
{
    static const char *const k[] = {"p"}, *const v[] = {"quantile(amount, 2)"};
    memset(c, 0, sizeof *c);
    conf_set(c, "size", "100");
    conf_map(c, "aggregate", k, v, 1);
}
static void c_bad_derive(tconf *c)
{
    static const char *const k[] = {"x"}, *const v[] = {"spend +"};
    base_conf(c, "tumbling");
    conf_set(c, "size", "100");
    conf_map(c, "derive", k, v, 1);
}


static void test_config_errors(void)
{
    config_error("no size", c_no_size, "tumbling windows need `size`");
    config_error("hopping multiple", c_hop_multiple, "must be a multiple of slide");
    config_error("slide on tumbling", c_slide_tumbling, "`slide` applies to hopping windows only");
    config_error("no gap", c_no_gap, "session windows need `gap`");
    config_error("name clash", c_clash, "aggregate.count: the name clashes with a built-in");
    config_error("bad aggregate", c_bad_agg, "aggregate.p: ");
    config_error("bad derive", c_bad_derive, "derive.x: expr:");
}

int main(void)
{
    test_emit_modes();
    test_eviction();
    test_eviction_heap();
    test_sessions();
    test_derive_prev_and_keys();
    test_count_and_reject();
    test_processing_time();
    test_snapshot_continues();
    test_config_errors();
    return test_report();
}
