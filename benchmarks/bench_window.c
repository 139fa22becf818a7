/* Window throughput on one thread, in memory: msgpack payloads generated
 * before timing are decoded into batches of 1024 records (engine/format/codec.h)
 * and passed through the window operator, as the runtime does; the
 * watermark (max event time - 1 s) is passed after every batch. Results
 * are counted and dropped.
 *
 * usage: bench_window [events (default 6000000)] [quantile spec]
 *
 * Runs, each over the same stream (100,000 keys drawn uniformly, events
 * spread evenly over 12 minutes of event time, so about 10 events per key
 * and minute). The first 6 minutes warm up (the state grows to its working
 * size: chunks allocated, pages faulted in); only the last 6 are timed:
 *   decode only                                     (the baseline)
 *   tumbling 1m: count, sum, mean, stddev, p95      (events/s, bytes per key-window)
 *   hopping 5m/1m: the same aggregates              (events/s, bytes per key and pane)
 *   tumbling 1m: count, sum, mean, stddev only      (bytes per key-window, scalar aggregates)
 *   hopping 5m/1m: count, sum, mean, stddev only
 * The p95 is "quantile(amount, 0.95, 0.01, 512)" unless given: DDSketch with
 * 1 % relative error and 512 buckets (256 per sign), which covers the
 * amounts' range; the default 2048 buckets costs 8 KiB per key-window.
 * Times are the thread's CPU time (CLOCK_THREAD_CPUTIME_ID). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "engine/core/batch.h"
#include "engine/format/codec.h"
#include "operators/window/window.h"
#include "engine/core/sym.h"
#include "tests/unit/testhost.h"

#define KEYS 100000
#define POOL (1u << 20)
#define BATCH 1024
#define MINUTE 60000

/* ---- a minimal host ------------------------------------------------------- */

struct eddy_metric {
    char name[64];
    double v;
};
struct eddy_ctx {
    struct eddy_metric m[16];
    int nm;
    uint64_t results;
    eddy_batch *spare;
};
static void h_log(eddy_ctx *c, eddy_log_level l, const char *fmt, ...) {}
static eddy_batch *h_emit_batch(eddy_ctx *c)
{
    eddy_batch *b = c->spare;
    c->spare = NULL;
    return b ? b : eddy_batch_new(BATCH, 0);
}
static int h_emit(eddy_ctx *c, eddy_batch *b)
{
    c->results += b->n;
    eddy_batch_reset(b);
    if (c->spare)
        eddy_batch_destroy(b);
    else
        c->spare = b;
    return 0;
}
static int h_side(eddy_ctx *c, const char *o, eddy_batch *b) { return h_emit(c, b); }
static int h_reject(eddy_ctx *c, eddy_batch *b, uint32_t i, const char *r) { return 0; }
static eddy_metric *h_metric(eddy_ctx *c, const char *name, const char *help, eddy_metric_kind k)
{
    eddy_metric *m = &c->m[c->nm++];
    snprintf(m->name, sizeof m->name, "%s", name);
    return m;
}
static void h_add(eddy_metric *m, double v) { m->v += v; }
static void h_set(eddy_metric *m, double v) { m->v = v; }
static int64_t h_now(void) { return 0; }

/* The engine's host table (records, batches, symbols) with outputs that
 * only count, so the figures are the operator's own. */
static const eddy_host *bench_host(void)
{
    static eddy_host h;
    if (!h.struct_size) {
        h = testhost_base();
        h.log = h_log;
        h.emit_batch = h_emit_batch;
        h.emit = h_emit;
        h.emit_side = h_side;
        h.reject = h_reject;
        h.now_ms = h_now;
        h.metric = h_metric;
        h.metric_add = h_add;
        h.metric_set = h_set;
    }
    return &h;
}

/* ---- input ------------------------------------------------------------------ */

static uint64_t g_rng = 88172645463325252ull;
static uint64_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

typedef struct payloads {
    uint8_t *data;
    size_t *off, *len;
} payloads;

static void set(eddy_batch *b, eddy_record *r, const char *name, eddy_value v)
{
    eddy_record_set(b, r, eddy_sym_intern(name, strlen(name)), &v);
}

static int build(eddy_codec *c, payloads *p)
{
    static const char *const merchants[] = {"grocer", "travel", "games", "casino", "fuel"};
    eddy_buf out = {0};
    eddy_batch *b = eddy_batch_new(BATCH, 0);
    p->off = malloc(sizeof *p->off * POOL);
    p->len = malloc(sizeof *p->len * POOL);
    if (!b || !p->off || !p->len)
        return -1;
    for (uint32_t i = 0; i < POOL; i++) {
        eddy_batch_reset(b);
        eddy_record *r = eddy_batch_append(b);
        char user[32];
        int n = snprintf(user, sizeof user, "user-%06llu", (unsigned long long)(rnd() % KEYS));
        const char *m = merchants[rnd() % 5];
        set(b, r, "user_id", eddy_batch_string(b, user, (size_t)n));
        set(b, r, "amount", eddy_v_double((double)(rnd() % 100000) / 100.0 + 1.0));
        set(b, r, "merchant", eddy_batch_string(b, m, strlen(m)));
        set(b, r, "ts", eddy_v_int(1767225600000));
        char err[256];
        p->off[i] = out.len;
        if (eddy_codec_encode(c, r, &out, err, sizeof err) != 0) {
            fprintf(stderr, "encode: %s\n", err);
            return -1;
        }
        p->len[i] = out.len - p->off[i];
    }
    p->data = out.data;
    eddy_batch_destroy(b);
    return 0;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- one run -------------------------------------------------------------------- */

typedef struct stats {
    double secs;
    uint64_t results;
    double bytes_per_slot, bytes_per_key;
} stats;

static const char *const key_user[] = {"user_id"};

/* op NULL: decode only. */
static int run(eddy_codec *c, const payloads *p, uint64_t events, tconf *conf, stats *st)
{
    eddy_ctx ctx = {0};
    char err[256];
    void *w = NULL;
    if (conf && !(w = eddy_op_window.create(bench_host(), &ctx, (const eddy_opts *)(const void *)conf,
                                            err, sizeof err))) {
        fprintf(stderr, "window: %s\n", err);
        return -1;
    }
    eddy_batch *b = eddy_batch_new(BATCH, 0);
    const int64_t t0 = 1767225600000;
    int64_t max_ts = t0, wm = INT64_MIN;
    double peak_ratio = 0, peak_key = 0, start = 0;
    uint64_t results0 = 0;
    int timing = 0;
    for (uint64_t i = 0; i < 2 * events;) {
        if (!timing && i >= events) { /* warmed up */
            timing = 1;
            start = cpu_now();
            results0 = ctx.results;
        }
        eddy_batch_reset(b);
        for (uint32_t k = 0; k < BATCH && i < 2 * events; k++, i++) {
            uint32_t x = (uint32_t)(i % POOL);
            eddy_record *r = eddy_batch_append(b);
            eddy_codec_decode(c, b, r, p->data + p->off[x], p->len[x]);
            /* event time spread evenly over the span (the source would take
             * it from the ts field) */
            r->ts = t0 + (int64_t)(i * 6 * MINUTE / events);
            max_ts = r->ts;
        }
        if (!w)
            continue;
        eddy_op_window.process(w, &ctx, b);
        if (max_ts - 1000 > wm) {
            wm = max_ts - 1000;
            eddy_op_window.on_watermark(w, &ctx, wm);
        }
        /* state per open slot, sampled halfway through each minute */
        window *ws = w;
        if (i > events && (max_ts - t0) % MINUTE > MINUTE / 2 && ws->slots.used) {
            double bytes = (double)eddy_window_state_bytes(ws);
            double r1 = bytes / ws->slots.used, r2 = ws->nkeys ? bytes / ws->nkeys : 0;
            if (r1 > peak_ratio)
                peak_ratio = r1;
            if (r2 > peak_key)
                peak_key = r2;
        }
    }
    if (w)
        eddy_op_window.on_watermark(w, &ctx, EDDY_WATERMARK_END);
    st->secs = cpu_now() - start;

    st->results = ctx.results - results0;
    st->bytes_per_slot = peak_ratio;
    st->bytes_per_key = peak_key;
    if (w)
        eddy_op_window.destroy(w);
    eddy_batch_destroy(b);
    eddy_batch_destroy(ctx.spare);
    return 0;
}

static void conf_window(tconf *c, const char *type, const char *size, const char *slide,
                        const char *const *ak, const char *const *av, uint32_t na)
{
    memset(c, 0, sizeof *c);
    c->o[c->n++] = (topt){"type", type, NULL, NULL, 0};
    c->o[c->n++] = (topt){"size", size, NULL, NULL, 0};
    if (slide)
        c->o[c->n++] = (topt){"slide", slide, NULL, NULL, 0};
    c->o[c->n++] = (topt){"key", "", NULL, key_user, 1};
    c->o[c->n++] = (topt){"aggregate", "", ak, av, na};
}

int main(int argc, char **argv)
{
    uint64_t events = argc > 1 ? strtoull(argv[1], NULL, 10) : 6000000;
    const char *q = argc > 2 ? argv[2] : "quantile(amount, 0.95, 0.01, 512)";
    eddy_codec_conf cc = {.format = EDDY_FMT_MSGPACK};
    eddy_codec *c;
    char err[256];
    if (eddy_codec_new(&cc, &c, err, sizeof err) != 0) {
        fprintf(stderr, "codec: %s\n", err);
        return 1;
    }
    payloads p = {0};
    if (build(c, &p) != 0)
        return 1;
    const char *ak[] = {"n", "spend", "avg", "sd", "p95"};
    const char *av[] = {"count()", "sum(amount)", "mean(amount)", "stddev(amount)", q};
    printf("events timed: %llu (after as many to warm up), keys: %d, p95: %s\n",
           (unsigned long long)events, KEYS, q);
    stats s0, s1, s2, s3;
    tconf conf;
    if (run(c, &p, events, NULL, &s0) != 0)
        return 1;
    printf("%-44s %6.2f M events/s  %6.0f ns/event\n", "decode only (baseline)",
           events / s0.secs / 1e6, s0.secs * 1e9 / events);
    conf_window(&conf, "tumbling", "60000", NULL, ak, av, 5);
    if (run(c, &p, events, &conf, &s1) != 0)
        return 1;
    printf("%-44s %6.2f M events/s  %6.0f ns/event  %llu results  %.0f B/key-window\n",
           "decode + tumbling 1m (count,sum,mean,sd,p95)", events / s1.secs / 1e6,
           s1.secs * 1e9 / events, (unsigned long long)s1.results, s1.bytes_per_slot);
    conf_window(&conf, "hopping", "300000", "60000", ak, av, 5);
    if (run(c, &p, events, &conf, &s2) != 0)
        return 1;
    printf("%-44s %6.2f M events/s  %6.0f ns/event  %llu results  %.0f B/key-pane  %.0f B/key"
           "  (%.2fx tumbling's time)\n",
           "decode + hopping 5m/1m (same aggregates)", events / s2.secs / 1e6,
           s2.secs * 1e9 / events, (unsigned long long)s2.results, s2.bytes_per_slot,
           s2.bytes_per_key, s2.secs / s1.secs);
    conf_window(&conf, "tumbling", "60000", NULL, ak, av, 4);
    if (run(c, &p, events, &conf, &s3) != 0)
        return 1;
    printf("%-44s %6.2f M events/s  %6.0f ns/event  %llu results  %.0f B/key-window\n",
           "decode + tumbling 1m (count,sum,mean,sd)", events / s3.secs / 1e6,
           s3.secs * 1e9 / events, (unsigned long long)s3.results, s3.bytes_per_slot);
    stats s4;
    conf_window(&conf, "hopping", "300000", "60000", ak, av, 4);
    if (run(c, &p, events, &conf, &s4) != 0)
        return 1;
    printf("%-44s %6.2f M events/s  %6.0f ns/event  %llu results  %.0f B/key-pane  %.0f B/key"
           "  (%.2fx tumbling's time)\n",
           "decode + hopping 5m/1m (count,sum,mean,sd)", events / s4.secs / 1e6,
           s4.secs * 1e9 / events, (unsigned long long)s4.results, s4.bytes_per_slot,
           s4.bytes_per_key, s4.secs / s3.secs);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS: %ld MiB\n", ru.ru_maxrss / 1024);
    free(p.data);
    free(p.off);
    free(p.len);
    eddy_codec_destroy(c);
    return 0;
}
