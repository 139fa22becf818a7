/* The anomaly operators driven through their descriptors on the engine's
 * host table, with options parsed by the engine's own option code (so the
 * tables' defaults apply): snapshot mid-stream -> restore into a fresh
 * instance continues with identical scores for every detector and key;
 * snapshots that do not fit are refused and leave the state alone; alerts
 * fire on a flag and resolve after quiet_period; records without a number
 * pass through; the ensemble's max/mean/vote; default score field names;
 * configuration errors. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/batch.h"
#include "operators/anomaly/anomaly_op.h"
#include "engine/config/options.h"
#include "engine/core/sym.h"
#include "tests/unit/test.h"
#include "tests/unit/testhost.h"

struct eddy_metric {
    char name[80];
    double v;
};

#define MAX_ALERTS 256
typedef struct seen_alert {
    int breach;
    char detector[32], feature[64], key[32], statistic[32];
    double value, threshold;
    uint64_t reference_n;
} seen_alert;

struct eddy_ctx {
    const char *step;
    struct eddy_metric m[16];
    uint32_t nm;
    seen_alert alerts[MAX_ALERTS];
    uint32_t nalerts;
    char last_log[512];
};

static void h_log(eddy_ctx *ctx, eddy_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->last_log, sizeof ctx->last_log, fmt, ap);
    va_end(ap);
}
static eddy_metric *h_metric(eddy_ctx *ctx, const char *name, const char *help,
                             eddy_metric_kind kind)
{
    if (ctx->nm == 16)
        return NULL;
    eddy_metric *m = &ctx->m[ctx->nm++];
    snprintf(m->name, sizeof m->name, "%s", name);
    m->v = 0;
    return m;
}
static eddy_metric *h_metric_labels(eddy_ctx *ctx, const char *name, const char *help,
                                    eddy_metric_kind kind, const char *const *labels,
                                    uint32_t nlabels)
{
    return h_metric(ctx, name, help, kind);
}
static void h_metric_add(eddy_metric *m, double v)
{
    if (m)
        m->v += v;
}
static void h_metric_set(eddy_metric *m, double v)
{
    if (m)
        m->v = v;
}
static int h_alert(eddy_ctx *ctx, const eddy_alert *a)
{
    if (ctx->nalerts == MAX_ALERTS)
        return 0;
    seen_alert *s = &ctx->alerts[ctx->nalerts++];
    s->breach = a->breach;
    snprintf(s->detector, sizeof s->detector, "%s", a->detector);
    snprintf(s->feature, sizeof s->feature, "%s", a->feature);
    snprintf(s->key, sizeof s->key, "%s", a->key);
    snprintf(s->statistic, sizeof s->statistic, "%s", a->statistic);
    s->value = a->value;
    s->threshold = a->threshold;
    s->reference_n = a->reference_n;
    return 1;
}
static const char *h_step(const eddy_ctx *ctx) { return ctx->step; }
static int o_bool(const eddy_opts *o, const char *n) { return eddy_opts_bool(o, n); }

static const eddy_host *host(void)
{
    static eddy_host h;
    if (!h.struct_size) {
        h = eddy_host_table;
        h.log = h_log;
        h.metric = h_metric;
        h.metric_labels = h_metric_labels;
        h.metric_add = h_metric_add;
        h.metric_set = h_metric_set;
        h.alert = h_alert;
        h.ctx_step = h_step;
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

static double metric(const eddy_ctx *ctx, const char *name)
{
    for (uint32_t i = 0; i < ctx->nm; i++)
        if (strcmp(ctx->m[i].name, name) == 0)
            return ctx->m[i].v;
    return -1;
}

/* An instance of `d` with options "name=value"...; NULL with err set. */
typedef struct inst {
    const eddy_op_descriptor *d;
    eddy_opts *o;
    void *st;
    eddy_ctx ctx;
} inst;

static int make(inst *in, const eddy_op_descriptor *d, const char *step, const char *const *pairs,
                size_t n, char *err, size_t errlen)
{
    memset(in, 0, sizeof *in);
    in->d = d;
    in->ctx.step = step;
    err[0] = '\0';
    in->o = eddy_opts_from_pairs(d->options, pairs, n, err, errlen);
    if (!in->o)
        return -1;
    in->st = d->create(host(), &in->ctx, in->o, err, errlen);
    if (!in->st) {
        eddy_opts_free(in->o);
        in->o = NULL;
        return -1;
    }
    return 0;
}

static void drop(inst *in)
{
    if (in->st)
        in->d->destroy(in->st);
    eddy_opts_free(in->o);
    in->st = NULL;
    in->o = NULL;
}

/* A deterministic stream: per user a level plus noise, a spike every 97
 * values, a level shift after value 1500. */
static uint64_t rng_state;
static double urand(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

static void rec(eddy_batch *b, const char *user, int64_t ts, double x, double y)
{
    eddy_record *r = eddy_batch_append(b);
    r->ts = ts;
    eddy_value v = eddy_batch_string(b, user, strlen(user));
    eddy_record_set(b, r, S("user"), &v);
    v = eddy_v_double(x);
    eddy_record_set(b, r, S("x"), &v);
    v = eddy_v_double(y);
    eddy_record_set(b, r, S("y"), &v);
}

static eddy_batch *stream_batch(uint32_t from, uint32_t n)
{
    static const char *const users[] = {"u1", "u2", "u3"};
    eddy_batch *b = eddy_batch_new(n, 0);
    for (uint32_t i = from; i < from + n; i++) {
        int u = (int)(i % 3);
        double level = 10.0 * (u + 1) + (i > 4500 ? 5.0 : 0.0);
        double x = level + (urand() - 0.5) * 2.0 + (i % 97 == 0 ? 40.0 : 0.0);
        double y = (urand() - 0.5) + (i % 89 == 0 ? 9.0 : 0.0);
        rec(b, users[u], 1767225600000LL + (int64_t)i * 60000, x, y);
    }
    return b;
}

static double score_of(const eddy_record *r, const char *field)
{
    const eddy_value *v = eddy_record_get(r, S(field));
    return v && v->type == EDDY_DOUBLE ? v->u.d : NAN;
}

/* Snapshot after 3000 values (1000 per user), restore into a fresh
 * instance, then 3000 more: every score equal, bit for bit. */
static void test_snapshot_continues(const eddy_op_descriptor *d, const char *field_pair,
                                    const char *extra, const char *extra2)
{
    const char *pairs[] = {field_pair, "key=user", "score_field=s", extra, extra2};
    size_t np = extra2 ? 5 : extra ? 4 : 3;
    char err[256];
    inst a, b;
    CHECK_MSG(make(&a, d, "det", pairs, np, err, sizeof err) == 0, "%s: %s", d->name, err);
    CHECK_MSG(make(&b, d, "det", pairs, np, err, sizeof err) == 0, "%s: %s", d->name, err);
    if (!a.st || !b.st)
        return;
    rng_state = 7;
    for (uint32_t i = 0; i < 3000; i += 100) {
        eddy_batch *bt = stream_batch(i, 100);
        CHECK(d->process(a.st, &a.ctx, bt) == EDDY_FORWARD);
        eddy_batch_destroy(bt);
    }
    void *data = NULL;
    size_t len = 0;
    int ver = d->snapshot(a.st, &a.ctx, &data, &len);
    CHECK_MSG(ver == 2 && data && len > 0, "%s: snapshot version %d", d->name, ver);
    CHECK_MSG(d->restore(b.st, &b.ctx, ver, data, len) == 0, "%s: restore: %s", d->name,
              b.ctx.last_log);
    uint32_t compared = 0, differ = 0, nonzero = 0;
    for (uint32_t i = 3000; i < 6000; i += 100) {
        eddy_batch *ba = stream_batch(i, 100);
        eddy_batch *bb = eddy_batch_new(100, 0);
        for (uint32_t k = 0; k < ba->n; k++) {
            eddy_record *r = eddy_batch_append(bb);
            eddy_record_copy(bb, r, &ba->recs[k]);
        }
        CHECK(d->process(a.st, &a.ctx, ba) == EDDY_FORWARD);
        CHECK(d->process(b.st, &b.ctx, bb) == EDDY_FORWARD);
        for (uint32_t k = 0; k < ba->n; k++) {
            double sa = score_of(&ba->recs[k], "s"), sb = score_of(&bb->recs[k], "s");
            compared++;
            differ += !(sa == sb) || memcmp(&sa, &sb, sizeof sa) != 0;
            nonzero += sa > 0;
        }
        eddy_batch_destroy(ba);
        eddy_batch_destroy(bb);
    }
    CHECK_MSG(compared == 3000 && differ == 0, "%s: %u of %u scores differ after restore",
              d->name, differ, compared);
    CHECK_MSG(nonzero > 100, "%s: only %u non-zero scores: the test would prove nothing",
              d->name, nonzero);
    /* A snapshot that does not fit is refused and changes nothing. */
    void *d2 = NULL;
    size_t l2 = 0;
    CHECK(d->snapshot(b.st, &b.ctx, &d2, &l2) == 2);
    CHECK(d->restore(b.st, &b.ctx, ver, data, len - 3) < 0);
    CHECK_CONTAINS(b.ctx.last_log, "cannot restore");
    /* The layout before issue 16's calibrated detectors is refused by name. */
    CHECK(d->restore(b.st, &b.ctx, 1, data, len) < 0);
    CHECK_CONTAINS(b.ctx.last_log, "version 1 is not supported (this build reads 2)");
    void *d3 = NULL;
    size_t l3 = 0;
    CHECK(d->snapshot(b.st, &b.ctx, &d3, &l3) == 2);
    CHECK_MSG(l2 == l3 && memcmp(d2, d3, l2) == 0, "%s: a refused restore changed the state",
              d->name);
    host()->free(data);
    host()->free(d2);
    host()->free(d3);
    drop(&a);
    drop(&b);
}

static void test_snapshot_shape_mismatch(void)
{
    char err[256];
    inst a, b, c;
    const char *pa[] = {"field=x", "key=user"};
    const char *pb[] = {"field=x", "key=user", "window=50"};
    const char *pc[] = {"field=y", "key=user"};
    CHECK(make(&a, &eddy_op_zscore, "z", pa, 2, err, sizeof err) == 0);
    CHECK(make(&b, &eddy_op_zscore, "z", pb, 3, err, sizeof err) == 0);
    CHECK(make(&c, &eddy_op_zscore, "z", pc, 2, err, sizeof err) == 0);
    rng_state = 3;
    eddy_batch *bt = stream_batch(0, 300);
    eddy_op_zscore.process(a.st, &a.ctx, bt);
    eddy_batch_destroy(bt);
    void *data;
    size_t len;
    CHECK(eddy_op_zscore.snapshot(a.st, &a.ctx, &data, &len) == 2);
    CHECK(eddy_op_zscore.restore(b.st, &b.ctx, 2, data, len) < 0);
    CHECK_CONTAINS(b.ctx.last_log, "does not fit");
    CHECK(eddy_op_zscore.restore(c.st, &c.ctx, 2, data, len) < 0);
    CHECK_CONTAINS(c.ctx.last_log, "scored fields differ");
    inst s;
    const char *ps[] = {"field=x", "key=user"};
    CHECK(make(&s, &eddy_op_spot, "sp", ps, 2, err, sizeof err) == 0);
    CHECK(eddy_op_spot.restore(s.st, &s.ctx, 2, data, len) < 0);
    CHECK_CONTAINS(s.ctx.last_log, "another detector");
    host()->free(data);
    drop(&a);
    drop(&b);
    drop(&c);
    drop(&s);
}

static eddy_batch *values(const double *x, uint32_t n)
{
    eddy_batch *b = eddy_batch_new(n, 0);
    for (uint32_t i = 0; i < n; i++) {
        eddy_record *r = eddy_batch_append(b);
        r->ts = 1000 * (int64_t)i;
        eddy_value v = eddy_v_double(x[i]);
        eddy_record_set(b, r, S("x"), &v);
    }
    return b;
}

/* A spike raises one firing alert; quiet_period unflagged values later a
 * clear check. Records without a number pass through, counted. */
static void test_alerts_and_passthrough(void)
{
    const char *pairs[] = {"field=x", "window=20", "quiet_period=10"};
    char err[256];
    inst a;
    CHECK_MSG(make(&a, &eddy_op_zscore, "z", pairs, 3, err, sizeof err) == 0, "%s", err);
    double x[60];
    for (int i = 0; i < 60; i++)
        x[i] = 5.0 + (i % 2 ? 0.1 : -0.1);
    x[30] = 50.0;
    eddy_batch *b = values(x, 60);
    eddy_record *r = eddy_batch_append(b);
    eddy_value sv = eddy_v_str("n/a", 3);
    eddy_record_set(b, r, S("x"), &sv);
    eddy_batch_append(b); /* no x at all */
    CHECK(eddy_op_zscore.process(a.st, &a.ctx, b) == EDDY_FORWARD);
    const eddy_value *f = eddy_record_get(&b->recs[30], S("anomaly"));
    CHECK(f && f->type == EDDY_BOOL && f->u.b);
    f = eddy_record_get(&b->recs[29], S("anomaly"));
    CHECK(f && f->type == EDDY_BOOL && !f->u.b);
    /* The spike is far beyond |z| = 3 (0.2569, the default threshold):
     * its two-sided tail is below 1e-10 (score 1). */
    CHECK_MSG(score_of(&b->recs[30], "z_score") > 0.99, "spike's z_score %g, expected > 0.99",
              score_of(&b->recs[30], "z_score"));
    CHECK(score_of(&b->recs[5], "z_score") == 0.0); /* warming up */
    CHECK(eddy_record_get(&b->recs[60], S("z_score")) == NULL);
    CHECK(eddy_record_get(&b->recs[61], S("anomaly")) == NULL);
    CHECK(metric(&a.ctx, "anomaly_skipped_records_total") == 2);
    /* The spike flags value 30 (and its echo may flag 31: the window now
     * holds it); then clear checks every 10 unflagged values. */
    CHECK(a.ctx.nalerts >= 2);
    if (a.ctx.nalerts >= 2) {
        seen_alert *s = &a.ctx.alerts[0];
        CHECK(s->breach == 1);
        CHECK_STR(s->detector, "zscore");
        CHECK_STR(s->feature, "x");
        CHECK_STR(s->key, "");
        CHECK_STR(s->statistic, "anomaly_score");
        CHECK_MSG(s->threshold == 0.2569 && s->value >= 0.2569, "alert threshold %g value %g, "
                  "expected 0.2569 and >= it", s->threshold, s->value);
        CHECK(s->reference_n == 30);
        CHECK(a.ctx.alerts[a.ctx.nalerts - 1].breach == 0);
    }
    uint32_t breaches = 0;
    for (uint32_t i = 0; i < a.ctx.nalerts; i++)
        breaches += a.ctx.alerts[i].breach;
    CHECK(breaches == (uint32_t)metric(&a.ctx, "eddy_anomaly_flags_total"));
    eddy_batch_destroy(b);
    drop(&a);
}

static eddy_batch *scored(double a, double b, int with_c, double c)
{
    eddy_batch *bt = eddy_batch_new(1, 0);
    eddy_record *r = eddy_batch_append(bt);
    eddy_value v = eddy_v_double(a);
    eddy_record_set(bt, r, S("sa"), &v);
    v = eddy_v_double(b);
    eddy_record_set(bt, r, S("sb"), &v);
    if (with_c) {
        v = eddy_v_double(c);
        eddy_record_set(bt, r, S("sc"), &v);
    }
    return bt;
}

static double ens(const char *method, double a, double b, int with_c, double c, int *flag)
{
    char m[32];
    snprintf(m, sizeof m, "method=%s", method);
    const char *pairs[] = {"scores=sa,sb,sc", m, "score_thresholds={sc:0.9}"};
    char err[256];
    inst e;
    if (make(&e, &eddy_op_ensemble, "ens", pairs, 3, err, sizeof err) != 0) {
        CHECK_MSG(0, "%s", err);
        return NAN;
    }
    eddy_batch *bt = scored(a, b, with_c, c);
    CHECK(eddy_op_ensemble.process(e.st, &e.ctx, bt) == EDDY_FORWARD);
    double s = score_of(&bt->recs[0], "ens_score");
    const eddy_value *f = eddy_record_get(&bt->recs[0], S("anomaly"));
    *flag = f && f->type == EDDY_BOOL && f->u.b;
    eddy_batch_destroy(bt);
    drop(&e);
    return s;
}

static void test_ensemble(void)
{
    int flag;
    CHECK(ens("max", 0.2, 0.7, 1, 0.1, &flag) == 0.7 && flag);
    CHECK(fabs(ens("mean", 0.2, 0.7, 1, 0.3, &flag) - 0.4) < 1e-15 && !flag);
    /* vote: sa, sb vote at 0.5, sc at its own 0.9 */
    CHECK(fabs(ens("vote", 0.6, 0.7, 1, 0.8, &flag) - 2.0 / 3.0) < 1e-15 && flag);
    CHECK(fabs(ens("vote", 0.6, 0.1, 1, 0.8, &flag) - 1.0 / 3.0) < 1e-15 && !flag);
    /* a missing score is left out */
    CHECK(ens("mean", 0.2, 0.6, 0, 0.0, &flag) == 0.4);
    CHECK(ens("vote", 0.6, 0.1, 0, 0.0, &flag) == 0.5 && flag);
}

static void expect_error(const eddy_op_descriptor *d, const char *const *pairs, size_t n,
                         const char *want)
{
    char err[256];
    inst a;
    int rc = make(&a, d, "s", pairs, n, err, sizeof err);
    CHECK_MSG(rc != 0, "%s: accepted, expected an error with '%s'", d->name, want);
    if (rc != 0)
        CHECK_CONTAINS(err, want);
    else
        drop(&a);
}

static void test_errors_and_names(void)
{
    const char *p1[] = {"field=x", "level=1"};
    expect_error(&eddy_op_spot, p1, 2, "level: expected a number between");
    const char *p1b[] = {"field=x", "n_init=5"};
    expect_error(&eddy_op_dspot, p1b, 2, "n_init: expected");
    const char *p2[] = {"field=x", "lambda=0"};
    expect_error(&eddy_op_ewma_chart, p2, 2, "lambda");
    const char *p3[] = {"scores=a,b", "score_field=a"};
    expect_error(&eddy_op_ensemble, p3, 2, "also one of `scores`");
    const char *p4[] = {"scores=a"};
    expect_error(&eddy_op_ensemble, p4, 1, "give 2 to 64 score fields");
    const char *p5[] = {"fields=x,x"};
    expect_error(&eddy_op_half_space_trees, p5, 1, "listed twice");
    const char *p6[] = {"fields=x,y", "limits={x:0}"};
    expect_error(&eddy_op_half_space_trees, p6, 2, "limits.x: expected \"lo,hi\"");
    const char *p7[] = {"fields=x,y", "limits={z:0}"};
    expect_error(&eddy_op_half_space_trees, p7, 2, "'z' is not one of `fields`");
    const char *p8[] = {"field=x", "long_win=1.5"};
    expect_error(&eddy_op_nab_detector, p8, 2, "long_win");
    /* Default score fields: the step's name, or the operator's for an
     * unnamed step ("<op>#<index>"). */
    const char *pz[] = {"field=x"};
    char err[256];
    inst a;
    CHECK(make(&a, &eddy_op_dspot, "dspot#3", pz, 1, err, sizeof err) == 0);
    double x[3] = {1, 2, 3};
    eddy_batch *b = values(x, 3);
    eddy_op_dspot.process(a.st, &a.ctx, b);
    CHECK(eddy_record_get(&b->recs[0], S("dspot_score")) != NULL);
    eddy_batch_destroy(b);
    drop(&a);
}

/* The tables' defaults are the library's, whatever it is tuned to. */
static void test_defaults_follow_library(void)
{
    char err[256];
    eddy_opts *o = eddy_opts_from_pairs(eddy_anom_opts_half_space_trees,
                                        (const char *const[]){"fields=x"}, 1, err, sizeof err);
    eddy_hst_params hp;
    eddy_hst_defaults(&hp, 1);
    /* height 0 is "the library's default for the number of fields". */
    CHECK(o && eddy_opts_int(o, "n_trees") == hp.n_trees && eddy_opts_int(o, "height") == 0 &&
          eddy_opts_double(o, "padding") == hp.padding &&
          eddy_opts_double(o, "margin") == hp.margin);
    eddy_opts_free(o);
    o = eddy_opts_from_pairs(eddy_anom_opts_nab_detector, (const char *const[]){"field=x"}, 1,
                             err, sizeof err);
    eddy_nab_params np;
    eddy_nab_defaults(&np);
    int same = o != NULL;
#define SAME(f) (same &= eddy_opts_double(o, #f) == np.f)
    if (o)
        EDDY_NAB_KNOBS(SAME);
#undef SAME
    CHECK(same);
    eddy_opts_free(o);
    o = eddy_opts_from_pairs(eddy_anom_opts_dspot, (const char *const[]){"field=x"}, 1, err,
                             sizeof err);
    eddy_spot_params sp;
    eddy_dspot_defaults(&sp);
    CHECK(o && eddy_opts_int(o, "depth") == sp.depth && eddy_opts_double(o, "q") == sp.q);
    eddy_opts_free(o);
}

int main(void)
{
    /* SPOT scores 0 below its initial threshold t: a lower level makes
     * most scores informative. */
    test_snapshot_continues(&eddy_op_zscore, "field=x", NULL, NULL);
    test_snapshot_continues(&eddy_op_robust_zscore, "field=x", NULL, NULL);
    test_snapshot_continues(&eddy_op_ewma_chart, "field=x", NULL, NULL);
    test_snapshot_continues(&eddy_op_spot, "field=x", "n_init=200", "level=0.8");
    test_snapshot_continues(&eddy_op_dspot, "field=x", "n_init=200", "level=0.8");
    test_snapshot_continues(&eddy_op_nab_detector, "field=x", NULL, NULL);
    test_snapshot_continues(&eddy_op_half_space_trees, "fields=x,y", "window_size=100", NULL);
    test_snapshot_shape_mismatch();
    test_alerts_and_passthrough();
    test_ensemble();
    test_errors_and_names();
    test_defaults_follow_library();
    return test_report();
}
