/* Durable per-key state (ABI 1.2) of the concept-drift and anomaly
 * operators, driven through their descriptors with a host whose
 * state_write keeps a compacted changelog (the last record of each key, as
 * Kafka compaction would):
 *  - half a keyed stream, commits every batch, then restore into a fresh
 *    instance and feed the rest to both: every output field equal;
 *  - incremental: a commit after records of one key writes one record;
 *  - a corrupt, short or foreign record is refused, never misread. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/config/options.h"
#include "engine/core/batch.h"
#include "engine/core/sym.h"
#include "operators/anomaly/anomaly_op.h"
#include "operators/drift/concept.h"
#include "operators/drift/dist.h"
#include "tests/unit/test.h"
#include "tests/unit/testhost.h"

struct eddy_ctx {
    char last_log[512];
    int writes; /* state_write calls */
};

#define MAXK 64
typedef struct clrec {
    char key[64];
    size_t klen;
    int version;
    uint8_t *data; /* NULL: tombstone */
    size_t len;
} clrec;
static clrec cl[MAXK];
static int ncl;

static void cl_clear(void)
{
    for (int i = 0; i < ncl; i++) {
        free(cl[i].data);
        cl[i].data = NULL;
    }
    ncl = 0;
}

static int h_state_write(eddy_ctx *ctx, const void *key, size_t klen, int version,
                         const void *data, size_t len)
{
    ctx->writes++;
    int i = 0;
    while (i < ncl && !(cl[i].klen == klen && memcmp(cl[i].key, key, klen) == 0))
        i++;
    if (i == ncl) {
        if (ncl == MAXK || klen > sizeof cl[0].key)
            return -1;
        ncl++;
        memcpy(cl[i].key, key, klen);
        cl[i].klen = klen;
    }
    free(cl[i].data);
    cl[i].data = data ? malloc(len ? len : 1) : NULL;
    if (data)
        memcpy(cl[i].data, data, len);
    cl[i].len = len;
    cl[i].version = version;
    return 0;
}

static void h_log(eddy_ctx *ctx, eddy_log_level level, const char *fmt, ...)
{
    (void)level;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->last_log, sizeof ctx->last_log, fmt, ap);
    va_end(ap);
}
static eddy_metric *h_metric(eddy_ctx *c, const char *n, const char *h, eddy_metric_kind k)
{
    (void)c, (void)n, (void)h, (void)k;
    return NULL;
}
static void h_metric_add(eddy_metric *m, double v) { (void)m, (void)v; }
static const char *h_step(const eddy_ctx *ctx) { (void)ctx; return "det"; }
static int o_bool(const eddy_opts *o, const char *n) { return eddy_opts_bool(o, n); }

static const eddy_host *host(void)
{
    static eddy_host h;
    if (!h.struct_size) {
        h = eddy_host_table;
        h.log = h_log;
        h.metric = h_metric;
        h.metric_add = h_metric_add;
        h.metric_set = h_metric_add;
        h.metric_labels = NULL;
        h.alert = NULL;
        h.ctx_step = h_step;
        h.state_write = h_state_write;
        h.opt_bool = o_bool;
        h.opt_int = eddy_opts_int;
        h.opt_double = eddy_opts_double;
        h.opt_str = eddy_opts_str;
        h.opt_count = eddy_opts_count;
        h.opt_item = eddy_opts_item;
        h.opt_key = eddy_opts_key;
    }
    return &h;
}

static eddy_sym S(const char *name) { return eddy_sym_intern(name, strlen(name)); }

typedef struct inst {
    const eddy_op_descriptor *d;
    eddy_opts *o;
    void *st;
    eddy_ctx ctx;
} inst;

static int make(inst *in, const eddy_op_descriptor *d, const char *const *pairs, size_t n)
{
    char err[256] = "";
    memset(in, 0, sizeof *in);
    in->d = d;
    in->o = eddy_opts_from_pairs(d->options, pairs, n, err, sizeof err);
    in->st = in->o ? d->create(host(), &in->ctx, in->o, err, sizeof err) : NULL;
    CHECK_MSG(in->st != NULL, "%s: %s", d->name, err);
    return in->st ? 0 : -1;
}

static void drop(inst *in)
{
    if (in->st)
        in->d->destroy(in->st);
    eddy_opts_free(in->o);
}

static uint64_t rng;
static double urand(void)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng >> 11) / 9007199254740992.0;
}

/* Five users, each with its level; shifts after 3000; spikes. Only user
 * `only` when only >= 0. */
static eddy_batch *stream(uint32_t from, uint32_t n, int only)
{
    static const char *const users[] = {"u0", "u1", "u2", "u3", "u4"};
    eddy_batch *b = eddy_batch_new(n, 0);
    for (uint32_t i = from; i < from + n; i++) {
        int u = only >= 0 ? only : (int)(i % 5);
        double x = 10.0 * (u + 1) + (i > 3000 ? 8.0 + 4.0 * (u % 2 ? 1 : -1) : 0.0) +
                   (urand() - 0.5) * 2.0 + (i % 131 == 0 ? 30.0 : 0.0);
        eddy_record *r = eddy_batch_append(b);
        r->ts = 1767225600000LL + (int64_t)i * 1000;
        eddy_value v = eddy_batch_string(b, users[u], 2);
        eddy_record_set(b, r, S("user"), &v);
        v = eddy_v_double(x);
        eddy_record_set(b, r, S("x"), &v);
    }
    return b;
}

static eddy_batch *copy(const eddy_batch *a)
{
    eddy_batch *b = eddy_batch_new(a->n, 0);
    for (uint32_t k = 0; k < a->n; k++)
        eddy_record_copy(b, eddy_batch_append(b), &a->recs[k]);
    return b;
}

/* Two values equal bit for bit (strings by content). */
static int same(const eddy_value *a, const eddy_value *b)
{
    if (!a || !b)
        return a == b;
    if (a->type != b->type)
        return 0;
    if (a->type == EDDY_STRING)
        return a->len == b->len && memcmp(a->u.s, b->u.s, a->len) == 0;
    return memcmp(&a->u, &b->u, sizeof a->u) == 0;
}

static void load_all(inst *b)
{
    for (int i = 0; i < ncl; i++)
        CHECK_MSG(b->d->state_load(b->st, &b->ctx, cl[i].key, cl[i].klen, cl[i].version,
                                   cl[i].data, cl[i].len) == 0,
                  "%s: state_load: %s", b->d->name, b->ctx.last_log);
    CHECK(b->d->state_loaded(b->st, &b->ctx, INT64_MIN) == 0);
}

static void run(const eddy_op_descriptor *d, const char *out1, const char *out2, int keyed)
{
    const char *pairs[] = {"field=x", keyed ? "key=user" : "field=x"};
    inst a, b;
    if (make(&a, d, pairs, 2) || make(&b, d, pairs, 2))
        return;
    cl_clear();
    rng = 11;
    CHECK(d->state_loaded(a.st, &a.ctx, INT64_MIN) == 0); /* a fresh durable task */
    for (uint32_t i = 0; i < 2500; i += 100) {
        eddy_batch *bt = stream(i, 100, -1);
        CHECK(d->process(a.st, &a.ctx, bt) == EDDY_FORWARD);
        eddy_batch_destroy(bt);
        CHECK(d->state_flush(a.st, &a.ctx) == 0);
    }
    CHECK_MSG(ncl == (keyed ? 5 : 1), "%s: %d keys in the changelog", d->name, ncl);
    /* Incremental: records of one key, one record written. */
    a.ctx.writes = 0;
    eddy_batch *one = stream(2500, 50, 3);
    eddy_batch *one_b = copy(one);
    CHECK(d->process(a.st, &a.ctx, one) == EDDY_FORWARD);
    CHECK(d->state_flush(a.st, &a.ctx) == 0);
    CHECK_MSG(a.ctx.writes == 1, "%s: a commit after one key changed wrote %d records", d->name,
              a.ctx.writes);
    a.ctx.writes = 0;
    CHECK(d->state_flush(a.st, &a.ctx) == 0);
    CHECK_MSG(a.ctx.writes == 0, "%s: an idle commit wrote %d records", d->name, a.ctx.writes);
    eddy_batch_destroy(one);
    eddy_batch_destroy(one_b);
    load_all(&b);
    uint32_t differ = 0, compared = 0, interesting = 0;
    for (uint32_t i = 2550; i < 6000; i += 100) {
        eddy_batch *ba = stream(i, 100, -1), *bb = copy(ba);
        CHECK(d->process(a.st, &a.ctx, ba) == EDDY_FORWARD);
        CHECK(d->process(b.st, &b.ctx, bb) == EDDY_FORWARD);
        for (uint32_t k = 0; k < ba->n; k++) {
            const eddy_value *va = eddy_record_get(&ba->recs[k], S(out1));
            const eddy_value *vb = eddy_record_get(&bb->recs[k], S(out1));
            differ += !same(va, vb);
            if (out2)
                differ += !same(eddy_record_get(&ba->recs[k], S(out2)),
                                eddy_record_get(&bb->recs[k], S(out2)));
            compared++;
            interesting += va && ((va->type == EDDY_STRING && va->u.s[0] != 'n') ||
                                  (va->type == EDDY_DOUBLE && va->u.d > 0));
        }
        eddy_batch_destroy(ba);
        eddy_batch_destroy(bb);
    }
    CHECK_MSG(compared > 3000 && differ == 0, "%s (keyed %d): %u of %u outputs differ", d->name,
              keyed, differ, compared);
    CHECK_MSG(interesting > 0, "%s (keyed %d): no signal or score at all: the test proves nothing", d->name, keyed);

    /* Refusals: short, trailing, other version, other parameters. */
    inst c;
    if (make(&c, d, pairs, 2) == 0) {
        clrec *r = &cl[0];
        for (size_t cut = 0; cut < r->len; cut += 1 + r->len / 97)
            if (d->state_load(c.st, &c.ctx, r->key, r->klen, r->version, r->data, cut) == 0) {
                CHECK_MSG(0, "%s: a record cut to %zu of %zu bytes was accepted", d->name, cut,
                          r->len);
                break;
            }
        uint8_t *longer = malloc(r->len + 1);
        memcpy(longer, r->data, r->len);
        longer[r->len] = 0;
        CHECK(d->state_load(c.st, &c.ctx, r->key, r->klen, r->version, longer, r->len + 1) < 0);
        free(longer);
        CHECK(d->state_load(c.st, &c.ctx, r->key, r->klen, r->version + 1, r->data, r->len) < 0);
        CHECK_CONTAINS(c.ctx.last_log, "version");
        drop(&c);
    }
    drop(&a);
    drop(&b);
}

/* The ensemble keeps its per-key alert counters: a fresh instance loaded
 * from the changelog writes, after the same input, the same records as the
 * instance that never stopped; a commit after one key changed writes one. */
static void ens_case(void)
{
    const char *pairs[] = {"scores=a_score,b_score", "key=user", "threshold=0.9"};
    inst a, b;
    if (make(&a, &eddy_op_ensemble, pairs, 3) || make(&b, &eddy_op_ensemble, pairs, 3))
        return;
    const eddy_op_descriptor *d = &eddy_op_ensemble;
    cl_clear();
    CHECK(d->state_loaded(a.st, &a.ctx, INT64_MIN) == 0);
    rng = 5;
    for (uint32_t i = 0; i < 1000; i += 100) {
        eddy_batch *bt = stream(i, 100, -1);
        for (uint32_t k = 0; k < bt->n; k++) {
            eddy_value v = eddy_v_double(urand());
            eddy_record_set(bt, &bt->recs[k], S("a_score"), &v);
            v = eddy_v_double(urand());
            eddy_record_set(bt, &bt->recs[k], S("b_score"), &v);
        }
        CHECK(d->process(a.st, &a.ctx, bt) == EDDY_FORWARD);
        eddy_batch_destroy(bt);
        CHECK(d->state_flush(a.st, &a.ctx) == 0);
    }
    CHECK_MSG(ncl == 5, "ensemble: %d keys in the changelog, want 5", ncl);
    load_all(&b);
    eddy_batch *ba = stream(1000, 50, 2), *bb;
    for (uint32_t k = 0; k < ba->n; k++) {
        eddy_value v = eddy_v_double(k % 7 == 0 ? 0.95 : 0.2);
        eddy_record_set(ba, &ba->recs[k], S("a_score"), &v);
    }
    bb = copy(ba);
    a.ctx.writes = 0;
    CHECK(d->process(a.st, &a.ctx, ba) == EDDY_FORWARD);
    CHECK(d->state_flush(a.st, &a.ctx) == 0);
    CHECK_MSG(a.ctx.writes == 1, "ensemble: one key changed, %d records written", a.ctx.writes);
    uint8_t want[64];
    size_t wlen = cl[2].len;
    CHECK(wlen == 33);
    memcpy(want, cl[2].data, wlen < sizeof want ? wlen : sizeof want);
    CHECK(d->process(b.st, &b.ctx, bb) == EDDY_FORWARD);
    b.ctx.writes = 0;
    CHECK(d->state_flush(b.st, &b.ctx) == 0);
    CHECK_MSG(b.ctx.writes == 1 && cl[2].len == wlen && memcmp(cl[2].data, want, wlen) == 0,
              "ensemble: the restored instance's counters differ from the uninterrupted one's");
    CHECK(d->state_load(b.st, &b.ctx, cl[2].key, cl[2].klen, 2, cl[2].data, cl[2].len) < 0);
    CHECK(d->state_load(b.st, &b.ctx, cl[2].key, cl[2].klen, 1, cl[2].data, 20) < 0);
    eddy_batch_destroy(ba);
    eddy_batch_destroy(bb);
    drop(&a);
    drop(&b);
}

/* A record written by a detector with other parameters is refused. */
static void other_params(void)
{
    const char *pa[] = {"field=x", "key=user"};
    const char *pb[] = {"field=x", "key=user", "delta=0.01"};
    inst a, b;
    if (make(&a, &eddy_op_adwin, pa, 2) || make(&b, &eddy_op_adwin, pb, 3))
        return;
    cl_clear();
    a.d->state_loaded(a.st, &a.ctx, INT64_MIN);
    eddy_batch *bt = stream(0, 100, -1);
    a.d->process(a.st, &a.ctx, bt);
    eddy_batch_destroy(bt);
    CHECK(a.d->state_flush(a.st, &a.ctx) == 0 && ncl == 5);
    CHECK(b.d->state_load(b.st, &b.ctx, cl[0].key, cl[0].klen, cl[0].version, cl[0].data,
                          cl[0].len) < 0);
    CHECK_CONTAINS(b.ctx.last_log, "other parameters");
    drop(&a);
    drop(&b);
}

/* Every record of the changelog, in order (cl is compacted: a snapshot). */
typedef struct image {
    int n;
    char key[MAXK][64];
    size_t klen[MAXK], len[MAXK];
    uint8_t *data[MAXK];
} image;

static void take_image(image *im)
{
    im->n = ncl;
    for (int i = 0; i < ncl; i++) {
        memcpy(im->key[i], cl[i].key, cl[i].klen);
        im->klen[i] = cl[i].klen;
        im->len[i] = cl[i].len;
        im->data[i] = malloc(cl[i].len ? cl[i].len : 1);
        memcpy(im->data[i], cl[i].data, cl[i].len);
    }
}

static void free_image(image *im)
{
    for (int i = 0; i < im->n; i++)
        free(im->data[i]);
}

/* distribution_drift: half a stream with commits, restore, the rest into
 * both: the state written afterwards is the same, byte for byte; an idle
 * commit writes nothing; a window of another sample_size is refused. */
static void dist_case(const char *mode, int want)
{
    const char *pairs[] = {"fields=x", "categorical=user", mode,
                           "window_size=300", "sample_size=128"};
    inst a, b;
    if (make(&a, &eddy_op_distribution_drift, pairs, 5) ||
        make(&b, &eddy_op_distribution_drift, pairs, 5))
        return;
    cl_clear();
    rng = 5;
    CHECK(a.d->state_loaded(a.st, &a.ctx, INT64_MIN) == 0);
    for (uint32_t i = 0; i < 2450; i += 70) {
        eddy_batch *bt = stream(i, 70, -1);
        CHECK(a.d->process(a.st, &a.ctx, bt) == EDDY_FORWARD);
        eddy_batch_destroy(bt);
        CHECK(a.d->state_flush(a.st, &a.ctx) == 0);
    }
    CHECK_MSG(ncl == want, "distribution_drift (%s): %d records, want %d", mode, ncl, want);
    a.ctx.writes = 0;
    CHECK(a.d->state_flush(a.st, &a.ctx) == 0 && a.ctx.writes == 0);
    load_all(&b);
    for (uint32_t i = 2450; i < 5000; i += 70) {
        eddy_batch *ba = stream(i, 70, -1), *bb = copy(ba);
        CHECK(a.d->process(a.st, &a.ctx, ba) == EDDY_FORWARD);
        CHECK(b.d->process(b.st, &b.ctx, bb) == EDDY_FORWARD);
        eddy_batch_destroy(ba);
        eddy_batch_destroy(bb);
    }
    image ia, ib;
    cl_clear();
    CHECK(a.d->state_flush(a.st, &a.ctx) == 0);
    take_image(&ia);
    cl_clear();
    CHECK(b.d->state_flush(b.st, &b.ctx) == 0);
    take_image(&ib);
    int differ = ia.n != ib.n;
    for (int i = 0; !differ && i < ia.n; i++)
        differ = ia.klen[i] != ib.klen[i] || memcmp(ia.key[i], ib.key[i], ia.klen[i]) ||
                 ia.len[i] != ib.len[i] || memcmp(ia.data[i], ib.data[i], ia.len[i]);
    CHECK_MSG(ia.n >= 7 && !differ, "distribution_drift: the restored state went another way "
              "(%d and %d records)", ia.n, ib.n);
    /* Refusals: a numeric window cut short; one into a step of another sample_size. */
    inst c;
    const char *pc[] = {"fields=x", "categorical=user", mode, "window_size=300",
                        "sample_size=64"};
    if (make(&c, &eddy_op_distribution_drift, pc, 5) == 0) {
        for (int i = 0; i < ia.n; i++) {
            if (ia.klen[i] < 2 || memcmp(ia.key[i], "x\x1f", 2) != 0)
                continue;
            CHECK(c.d->state_load(c.st, &c.ctx, ia.key[i], ia.klen[i], 1, ia.data[i], ia.len[i]) < 0);
            CHECK_CONTAINS(c.ctx.last_log, "sample_size");
            CHECK(a.d->state_load(a.st, &a.ctx, ia.key[i], ia.klen[i], 1, ia.data[i],
                                  ia.len[i] - 1) < 0);
        }
        CHECK(c.d->state_load(c.st, &c.ctx, "y\x1fref", 5, 1, ia.data[0], ia.len[0]) < 0);
        CHECK_CONTAINS(c.ctx.last_log, "does not have");
        drop(&c);
    }
    free_image(&ia);
    free_image(&ib);
    drop(&a);
    drop(&b);
}

int main(void)
{
    dist_case("reference_size=700", 7);        /* head + ref, cur, last of 2 features */
    dist_case("reference=lagged", 1 + 2 * 4); /* ... and one lagged window (lag 1) */
    const eddy_op_descriptor *concept_ops[] = {&eddy_op_adwin, &eddy_op_page_hinkley,
                                               &eddy_op_kswin, &eddy_op_cusum, &eddy_op_hddm_w};
    for (size_t i = 0; i < sizeof concept_ops / sizeof *concept_ops; i++) {
        run(concept_ops[i], "drift_signal", NULL, 1);
        run(concept_ops[i], "drift_signal", NULL, 0);
    }
    const eddy_op_descriptor *anom_ops[] = {&eddy_op_zscore, &eddy_op_robust_zscore,
                                            &eddy_op_ewma_chart, &eddy_op_spot};
    for (size_t i = 0; i < sizeof anom_ops / sizeof *anom_ops; i++) {
        char score[64];
        snprintf(score, sizeof score, "%s_score", "det");
        run(anom_ops[i], score, NULL, 1);
        run(anom_ops[i], score, NULL, 0);
    }
    other_params();
    ens_case();
    cl_clear();
    return test_report();
}
