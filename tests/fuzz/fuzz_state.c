/* libFuzzer: the readers of durable state, which get bytes back from a
 * Kafka changelog or a local cache file that may be damaged or foreign:
 *   - the changelog record format (engine/state/changelog.c);
 *   - the local cache file (engine/state/cache.c: trailer check, replay);
 *   - every built-in operator's restore / state_load (windows, anomaly
 *     and drift detectors): a restored instance then processes records,
 *     closes windows and writes its state again, so restored garbage that
 *     breaks a later step is found too;
 *   - the host's alert noise-control state (engine/alert/alert_state.c),
 *     kept beside every alerting step's state: loaded, checked, flushed,
 *     and what it flushes must load again.
 * A refusal (<0) is fine; a crash, a hang or a sanitizer report is not.
 *
 * Input: byte 0 >> 1 picks the target (0 changelog, 1 cache file, else an
 * operator of the table below or the alert state, one past it; for the
 * cache file, bit 0 keeps the checksum as it is). For an operator the rest is a sequence of
 * records `u8 version | u8 key length | key | u16 LE data length | data`
 * (version 0: a tombstone) given to state_load in order, or, for an
 * operator with restore and byte 0 odd, `u8 version | snapshot`. */
#include <zlib.h>

#include "engine/alert/alert.h"
#include "engine/config/config.h"
#include "engine/config/options.h"
#include "engine/core/sym.h"
#include "engine/state/cache.h"
#include "engine/state/changelog.h"
#include "operators/anomaly/anomaly_op.h"
#include "operators/drift/concept.h"
#include "operators/drift/dist.h"
#include "operators/window/window.h"
#include "tests/fuzz/fuzz.h"

extern const eddy_host eddy_host_table;

struct eddy_ctx {
    eddy_batch *out; /* emitted batches are dropped at once */
    int64_t wm;
};

#define AGGS                                                                              \
    "aggregate: {n: count(), s: sum(x), m: mean(x), lo: min(x), hi: max(x), "            \
    "v: variance(x), sd: stddev(x), f: first(user), l: last(x), e: 'ewma(x, 0.5)', "      \
    "r: rate(), d: distinct(user), q: 'quantile(x, 0.5)', t: 'topk(user, 3)', "           \
    "h: 'histogram(x, 0, 100, 10)'}\n"

static const struct {
    const eddy_op_descriptor *d;
    const char *yaml;
} ops[] = {
    {&eddy_op_window, "type: tumbling\nsize: 1h\nkey: [user]\n" AGGS},
    {&eddy_op_window, "type: hopping\nsize: 1h\nslide: 20m\nkey: [user]\n" AGGS},
    {&eddy_op_window, "type: sliding\nsize: 10m\nkey: [user]\n" AGGS},
    {&eddy_op_window, "type: session\ngap: 10m\nkey: [user]\n" AGGS},
    {&eddy_op_window, "type: count\ncount: 3\nkey: [user]\n" AGGS},
    {&eddy_op_zscore, "field: x\nkey: [user]\n"},
    {&eddy_op_robust_zscore, "field: x\nkey: [user]\n"},
    {&eddy_op_ewma_chart, "field: x\nkey: [user]\n"},
    {&eddy_op_spot, "field: x\nkey: [user]\n"},
    {&eddy_op_dspot, "field: x\nkey: [user]\n"},
    {&eddy_op_nab_detector, "field: x\nkey: [user]\n"},
    {&eddy_op_half_space_trees, "fields: [x, y]\nkey: [user]\n"},
    {&eddy_op_ensemble, "scores: [x, y]\nkey: [user]\nthreshold: 0.9\n"},
    {&eddy_op_page_hinkley, "field: x\nkey: [user]\n"},
    {&eddy_op_ddm, "field: x\nkey: [user]\n"},
    {&eddy_op_eddm, "field: x\nkey: [user]\n"},
    {&eddy_op_hddm_a, "field: x\nkey: [user]\n"},
    {&eddy_op_hddm_w, "field: x\nkey: [user]\n"},
    {&eddy_op_adwin, "field: x\nkey: [user]\n"},
    {&eddy_op_kswin, "field: x\nkey: [user]\n"},
    {&eddy_op_cusum, "field: x\nkey: [user]\n"},
    {&eddy_op_distribution_drift,
     "fields: [x]\ncategorical: [user]\nwindow_size: 30\nsample_size: 16\n"},
};
#define NOPS (sizeof ops / sizeof ops[0])
static eddy_opts *opts[NOPS];

/* ---- host: the engine's table, with what needs a running task replaced -- */

static void h_log(eddy_ctx *ctx, eddy_log_level level, const char *fmt, ...)
{
    (void)ctx, (void)level, (void)fmt;
}
static eddy_batch *h_emit_batch(eddy_ctx *ctx) { return eddy_batch_new(16, 0); }
static int h_emit(eddy_ctx *ctx, eddy_batch *b)
{
    for (uint32_t i = 0; i < b->n; i++) {
        eddy_buf json = {0};
        FUZZ_CHECK(eddy_record_to_json(&b->recs[i], &json) == 0, "an emitted record");
        eddy_buf_free(&json);
    }
    eddy_batch_destroy(b);
    return 0;
}
static int h_emit_side(eddy_ctx *ctx, const char *output, eddy_batch *b) { return h_emit(ctx, b); }
static int h_reject(eddy_ctx *ctx, eddy_batch *b, uint32_t i, const char *reason)
{
    if (i < b->n && !(b->recs[i].flags & EDDY_REC_DROPPED)) {
        b->recs[i].flags |= EDDY_REC_DROPPED;
        b->ndropped++;
    }
    return 0;
}
static int h_timer_set(eddy_ctx *ctx, uint64_t id, int64_t at, int event_time) { return 0; }
static int h_timer_cancel(eddy_ctx *ctx, uint64_t id) { return 0; }
static int64_t h_now_ms(void) { return 1767225600000LL; }
static eddy_metric *h_metric(eddy_ctx *ctx, const char *n, const char *h, eddy_metric_kind k)
{
    return NULL;
}
static eddy_metric *h_metric_labels(eddy_ctx *ctx, const char *n, const char *h,
                                    eddy_metric_kind k, const char *const *labels,
                                    uint32_t nlabels)
{
    return NULL;
}
static void h_metric_add(eddy_metric *m, double v) { (void)m, (void)v; }
static const char *h_pipeline(const eddy_ctx *ctx) { return "p"; }
static const char *h_step(const eddy_ctx *ctx) { return "s"; }
static int32_t h_partition(const eddy_ctx *ctx) { return 0; }
static int64_t h_watermark(const eddy_ctx *ctx) { return ctx->wm; }
static int h_alert(eddy_ctx *ctx, const struct eddy_alert *a) { return 0; }
static uint64_t h_requests(const eddy_ctx *ctx, const char *what) { return 0; }
static int h_state_write(eddy_ctx *ctx, const void *key, size_t klen, int version,
                         const void *data, size_t len)
{
    FUZZ_CHECK(version > 0, "state_write version %d", version);
    return 0;
}
static int h_state_put(eddy_ctx *ctx, const void *key, size_t klen, const void *v, size_t n)
{
    return 0;
}
static const void *h_state_get(eddy_ctx *ctx, const void *key, size_t klen, size_t *n)
{
    return NULL;
}
static int h_state_del(eddy_ctx *ctx, const void *key, size_t klen) { return 1; }

static const eddy_host *host(void)
{
    static eddy_host h;
    if (!h.struct_size) {
        h = eddy_host_table;
        h.log = h_log;
        h.emit_batch = h_emit_batch;
        h.emit = h_emit;
        h.emit_side = h_emit_side;
        h.reject = h_reject;
        h.timer_set = h_timer_set;
        h.timer_cancel = h_timer_cancel;
        h.now_ms = h_now_ms;
        h.metric = h_metric;
        h.metric_labels = h_metric_labels;
        h.metric_add = h_metric_add;
        h.metric_set = h_metric_add;
        h.ctx_pipeline = h_pipeline;
        h.ctx_step = h_step;
        h.ctx_partition = h_partition;
        h.ctx_watermark = h_watermark;
        h.alert = h_alert;
        h.ctx_requests = h_requests;
        h.state_write = h_state_write;
        h.state_put = h_state_put;
        h.state_get = h_state_get;
        h.state_del = h_state_del;
        h.opt_bool = eddy_opts_bool;
        h.opt_int = eddy_opts_int;
        h.opt_double = eddy_opts_double;
        h.opt_str = eddy_opts_str;
        h.opt_count = eddy_opts_count;
        h.opt_item = eddy_opts_item;
        h.opt_key = eddy_opts_key;
    }
    return &h;
}

static void setup(void)
{
    for (size_t i = 0; i < NOPS; i++) {
        eddy_cfg *cfg = eddy_cfg_load_string("op.yaml", ops[i].yaml, strlen(ops[i].yaml));
        FUZZ_CHECK(cfg && !eddy_cfg_errors(cfg), "op %zu: %s", i,
                   cfg ? eddy_cfg_error(cfg, 0) : "oom");
        opts[i] = eddy_opts_parse(cfg, ops[i].d->options, eddy_cfg_root(cfg), "op", NULL);
        FUZZ_CHECK(opts[i], "%s: %s", ops[i].d->name, eddy_cfg_error(cfg, 0));
        eddy_cfg_free(cfg);
    }
}

/* ---- targets ------------------------------------------------------------- */

static void changelog(const uint8_t *p, size_t n)
{
    int kind, version;
    uint32_t step, fp;
    const uint8_t *k, *payload;
    size_t klen, plen;
    if (eddy_cl_key_parse(p, n, &kind, &step, &k, &klen) == 0)
        FUZZ_CHECK(k >= p && k + klen <= p + n, "key bytes outside the record");
    if (eddy_cl_value_parse(p, n, &fp, &version, &payload, &plen) == 0)
        FUZZ_CHECK(payload >= p && payload + plen <= p + n, "payload outside the record");
    eddy_cl_marker m;
    (void)eddy_cl_marker_get(p, n, &m);
    char diff[256];
    size_t half = n / 2;
    eddy_cl_opts_diff((const char *)p, half, (const char *)p + half, n - half, diff, sizeof diff);
    FUZZ_CHECK(memchr(diff, '\0', sizeof diff), "diff not terminated");
}

static int count_rec(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
    (*(uint64_t *)arg)++;
    return 0;
}

/* fix_crc: the trailer's checksum is made to match the body (header 12
 * bytes, trailer 36, crc32 last), so that mutated records get past it to
 * the record parser; without it the checksum's refusal is tested. */
static void cache_file(const uint8_t *p, size_t n, int fix_crc)
{
    static char path[300];
    if (!path[0]) {
        const char *dir = getenv("TMPDIR");
        snprintf(path, sizeof path, "%s/eddy-fuzz-cache-%d/0-in.log",
                 dir && *dir ? dir : "/tmp", (int)getpid());
    }
    char err[512] = "";
    eddy_scache *c = eddy_scache_open(path, err, sizeof err);
    FUZZ_CHECK(c, "open: %s", err);
    /* Open locked it; the input replaces what the file held. */
    uint8_t *copy = malloc(n ? n : 1);
    memcpy(copy, p, n);
    if (fix_crc && n >= 12 + 36) {
        uint32_t crc = (uint32_t)crc32_z(0, copy + 12, n - 12 - 36);
        for (int i = 0; i < 4; i++)
            copy[n - 4 + i] = (uint8_t)(crc >> (8 * i));
    }
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f && fwrite(copy, 1, n, f) == n && fclose(f) == 0, "writing %s", path);
    free(copy);
    int64_t x;
    uint64_t records, seen = 0, replayed = 0;
    char why[256] = "";
    if (eddy_scache_check(c, &x, &records, why, sizeof why) == 1) {
        if (eddy_scache_replay(c, count_rec, &seen, &replayed, err, sizeof err) == 0)
            FUZZ_CHECK(seen == replayed, "replay saw %llu, said %llu", (unsigned long long)seen,
                       (unsigned long long)replayed);
    } else {
        FUZZ_CHECK(why[0], "a file refused without a reason");
    }
    eddy_scache_close(c);
}

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static eddy_batch *records(void)
{
    static const char *const users[] = {"u0", "u1", "", "u0"};
    eddy_batch *b = eddy_batch_new(8, 0);
    for (int i = 0; i < 4; i++) {
        eddy_record *r = eddy_batch_append(b);
        r->ts = 1767225600000LL + i * 700000LL;
        eddy_value v = eddy_batch_string(b, users[i], strlen(users[i]));
        eddy_record_set(b, r, eddy_sym_intern("user", 4), &v);
        v = eddy_v_double(i == 2 ? 1e300 : 10.0 * i - 5);
        eddy_record_set(b, r, eddy_sym_intern("x", 1), &v);
        v = eddy_v_double(0.25 * i);
        eddy_record_set(b, r, eddy_sym_intern("y", 1), &v);
    }
    return b;
}

/* One record of the input's sequence `u8 version | u8 key length | key |
 * u16 LE data length | data` (version 0: a tombstone, data NULL); short
 * data is cut to what is left. 0 at the end. */
typedef struct {
    int version;
    const uint8_t *key, *data;
    size_t klen, dlen;
} srec;

static int next_rec(const uint8_t **pp, size_t *np, srec *r)
{
    const uint8_t *p = *pp;
    size_t n = *np;
    if (n < 2 || (size_t)p[1] > n - 2)
        return 0;
    r->version = p[0];
    r->klen = p[1];
    p += 2, n -= 2;
    r->key = p;
    p += r->klen, n -= r->klen;
    r->dlen = n >= 2 ? le16(p) : 0;
    p += n >= 2 ? 2 : n, n -= n >= 2 ? 2 : n;
    if (r->dlen > n)
        r->dlen = n;
    r->data = r->version ? p : NULL;
    *pp = p + r->dlen, *np = n - r->dlen;
    return 1;
}

static int reload(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
    int rc = eddy_alert_state_load(arg, k, kl, eddy_alert_state_version(), v, vl);
    FUZZ_CHECK(rc == 0, "a flushed alert record (key %zu bytes, %zu bytes) did not load: %d",
               kl, vl, rc);
    return 0;
}

/* The same record sequence as an operator's state_load, into the alert
 * state; then every loaded key is checked (a breach, a clear), and what
 * the flush writes must load into a fresh state. */
static void alert_state(const uint8_t *p, size_t n)
{
    eddy_alert_policy pol;
    eddy_alert_policy_defaults(&pol);
    pol.max_keys = 8; /* eviction and tombstones too */
    pol.min_consecutive = 2;
    pol.cooldown_ms = 1000;
    pol.rate_limit = 3;
    pol.rate_window_ms = 60000;
    eddy_alert_state *s = eddy_alert_state_new(&pol), *t = eddy_alert_state_new(&pol);
    FUZZ_CHECK(s && t, "alert state: out of memory");
    const uint8_t *keys[32];
    size_t klens[32], nk = 0;
    srec r;
    while (next_rec(&p, &n, &r)) {
        /* version 0: a tombstone */
        (void)eddy_alert_state_load(s, r.key, r.klen, r.version, r.data, r.dlen);
        if (nk < 32)
            keys[nk] = r.key, klens[nk++] = r.klen;
    }
    for (size_t i = 0; i < nk; i++) {
        uint64_t id;
        eddy_alert_suppress why;
        int firing, sev;
        for (int b = 1; b >= 0; b--) {
            int rc = eddy_alert_check_sev(s, (const char *)keys[i], klens[i], b,
                                          1767225600000LL + (int64_t)i * 1000, &id, &why,
                                          &firing, &sev);
            FUZZ_CHECK(rc >= EDDY_ALERT_NONE || rc == EDDY_ENOMEM || (rc == EDDY_EINVAL && !klens[i]),
                       "alert check: %d", rc);
            FUZZ_CHECK(sev >= -1 && sev <= 254, "sent severity %d", sev);
            if (firing)
                eddy_alert_state_sent(s, (const char *)keys[i], klens[i], id, (int)(i % 3));
        }
    }
    FUZZ_CHECK(eddy_alert_state_flush(s, reload, t) == 0, "alert flush failed");
    FUZZ_CHECK(eddy_alert_state_keys(s) <= pol.max_keys, "%u keys over max_keys",
               eddy_alert_state_keys(s));
    eddy_alert_state_free(s);
    eddy_alert_state_free(t);
}

static void operator(size_t which, int whole, const uint8_t *p, size_t n)
{
    const eddy_op_descriptor *d = ops[which].d;
    const eddy_host *h = host();
    eddy_ctx ctx = {.wm = INT64_MIN};
    char err[256] = "";
    void *st = d->create(h, &ctx, opts[which], err, sizeof err);
    FUZZ_CHECK(st, "%s: %s", d->name, err);
    int rc = 0;
    if (whole && d->restore) {
        if (n >= 1)
            rc = d->restore(st, &ctx, p[0], p + 1, n - 1);
    } else if (d->state_load) {
        srec r;
        while (rc == 0 && next_rec(&p, &n, &r))
            rc = d->state_load(st, &ctx, r.key, r.klen, r.version, r.data, r.dlen);
    }
    /* A refused restore stops the task: the instance is only destroyed. */
    if (rc == 0 && d->state_loaded)
        rc = d->state_loaded(st, &ctx, INT64_MIN);
    if (rc == 0) {
        eddy_batch *b = records();
        rc = d->process(st, &ctx, b);
        eddy_batch_destroy(b);
        ctx.wm = 1767225600000LL + 2 * 3600000LL;
        if (d->on_watermark)
            d->on_watermark(st, &ctx, ctx.wm);
        if (d->state_flush)
            d->state_flush(st, &ctx);
        if (d->snapshot) {
            void *snap = NULL;
            size_t len = 0;
            if (d->snapshot(st, &ctx, &snap, &len) > 0)
                h->free(snap);
        }
        if (d->on_watermark)
            d->on_watermark(st, &ctx, EDDY_WATERMARK_END);
    }
    d->destroy(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!opts[0])
        setup();
    if (size < 1)
        return 0;
    size_t target = data[0] >> 1;
    if (target == 0)
        changelog(data + 1, size - 1);
    else if (target == 1)
        cache_file(data + 1, size - 1, !(data[0] & 1));
    else if ((target - 2) % (NOPS + 1) == NOPS)
        alert_state(data + 1, size - 1);
    else
        operator((target - 2) % (NOPS + 1), data[0] & 1, data + 1, size - 1);
    return 0;
}
