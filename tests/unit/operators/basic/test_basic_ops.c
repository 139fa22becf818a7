/* filter and project driven through the engine's host table
 * (tests/unit/testhost.h) with this file's log, rejects and metrics: the
 * operators see only the eddy_host table, as a plugin would. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/batch.h"
#include "operators/basic/basic.h"
#include "engine/core/sym.h"
#include "tests/unit/test.h"
#include "tests/unit/testhost.h"

/* ---- the test host ------------------------------------------------------ */

struct eddy_metric {
    char name[64];
    double v;
};

typedef struct rejected {
    uint32_t index;
    char reason[512];
} rejected;

struct eddy_ctx {
    rejected rej[16];
    uint32_t nrej;
    struct eddy_metric metrics[4];
    uint32_t nmetrics;
    char last_log[512];
};

typedef tconf topts; /* option literals end at the first unnamed row */

static void h_log(eddy_ctx *ctx, eddy_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->last_log, sizeof ctx->last_log, fmt, ap);
    va_end(ap);
}

static int h_reject(eddy_ctx *ctx, eddy_batch *b, uint32_t i, const char *reason)
{
    if (ctx->nrej == 16)
        return -1;
    ctx->rej[ctx->nrej].index = i;
    snprintf(ctx->rej[ctx->nrej].reason, sizeof ctx->rej[0].reason, "%s", reason);
    ctx->nrej++;
    return 0;
}
static eddy_metric *h_metric(eddy_ctx *ctx, const char *name, const char *help,
                             eddy_metric_kind kind)
{
    if (ctx->nmetrics == 4)
        return NULL;
    eddy_metric *m = &ctx->metrics[ctx->nmetrics++];
    snprintf(m->name, sizeof m->name, "%s", name);
    m->v = 0;
    return m;
}
static void h_metric_add(eddy_metric *m, double v) { m->v += v; }
static void h_metric_set(eddy_metric *m, double v) { m->v = v; }

/* The engine's host table with this file's log, rejects and metrics. */
static const eddy_host *test_host(void)
{
    static eddy_host h;
    if (!h.struct_size) {
        h = testhost_base();
        h.log = h_log;
        h.reject = h_reject;
        h.metric = h_metric;
        h.metric_add = h_metric_add;
        h.metric_set = h_metric_set;
    }
    return &h;
}

static double metric(eddy_ctx *ctx, const char *name)
{
    for (uint32_t i = 0; i < ctx->nmetrics; i++)
        if (strcmp(ctx->metrics[i].name, name) == 0)
            return ctx->metrics[i].v;
    return -1;
}

/* ---- helpers ------------------------------------------------------------ */

static eddy_sym S(const char *name) { return eddy_sym_intern(name, strlen(name)); }
static eddy_value str(const char *s) { return eddy_v_str(s, (uint32_t)strlen(s)); }

static const eddy_value *get(const eddy_record *r, const char *name)
{
    return eddy_record_get(r, S(name));
}

static int is_int(const eddy_value *v, int64_t x) { return v && v->type == EDDY_INT && v->u.i == x; }
static int is_str(const eddy_value *v, const char *s)
{
    return v && v->type == EDDY_STRING && v->len == strlen(s) && memcmp(v->u.s, s, v->len) == 0;
}

/* "a,b,c" of a record's field names, in order. */
static const char *names(const eddy_record *r, char *buf, size_t n)
{
    buf[0] = '\0';
    for (uint32_t i = 0; i < r->nfields; i++)
        snprintf(buf + strlen(buf), n - strlen(buf), "%s%s", i ? "," : "", eddy_sym_name(r->fields[i].name));
    return buf;
}

/* amounts: 1, 50, "x", (missing), 100 */
static eddy_batch *amounts(void)
{
    eddy_batch *b = eddy_batch_new(8, 0);
    eddy_record *r;
    r = eddy_batch_append(b);
    eddy_record_push(b, r, S("amount"), eddy_v_int(1));
    r = eddy_batch_append(b);
    eddy_record_push(b, r, S("amount"), eddy_v_int(50));
    eddy_record_push(b, r, S("name"), str("ALICE"));
    r = eddy_batch_append(b);
    eddy_record_push(b, r, S("amount"), str("x"));
    r = eddy_batch_append(b);
    eddy_record_push(b, r, S("other"), eddy_v_int(5));
    r = eddy_batch_append(b);
    eddy_record_push(b, r, S("amount"), eddy_v_double(100.5));
    return b;
}

static void *create(const eddy_op_descriptor *d, eddy_ctx *ctx, const topts *o, char *err,
                    size_t errlen)
{
    err[0] = '\0';
    return d->create(test_host(), ctx, (const eddy_opts *)(const void *)o, err, errlen);
}

/* ---- filter ------------------------------------------------------------- */

static void test_filter_descriptor(void)
{
    const eddy_op_descriptor *d = &eddy_op_filter;
    CHECK_STR(d->name, "filter");
    CHECK(d->struct_size == sizeof(eddy_op_descriptor));
    CHECK(d->create && d->process && d->destroy);
    int rows = 0;
    for (const eddy_option *o = d->options; o->name; o++, rows++)
        CHECK_MSG(o->description && strlen(o->description) > 10, "%s has no description", o->name);
    CHECK(rows == 2);
    CHECK(d->options[0].flags & EDDY_OPT_REQUIRED);
    CHECK_STR(d->options[1].enum_values, "drop|reject|keep");
    CHECK_STR(d->options[1].default_value, "reject");
}

static void test_filter_create_errors(void)
{
    eddy_ctx ctx = {0};
    char err[256];
    topts none = {{{0}}, 0};
    CHECK(create(&eddy_op_filter, &ctx, &none, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "filter needs 'where'");
    topts bad = {{{.name = "where", .str = "amount >"}}, 0};
    CHECK(create(&eddy_op_filter, &ctx, &bad, err, sizeof err) == NULL);
    CHECK_STR(err, "where: expr:9: unexpected end of expression; expected a value");
    topts typo = {{{.name = "where", .str = "sqr(amount) > 1"}}, 0};
    CHECK(create(&eddy_op_filter, &ctx, &typo, err, sizeof err) == NULL);
    CHECK_STR(err, "where: expr:1: unknown function 'sqr'; did you mean 'sqrt'?");
    topts mode = {{{.name = "where", .str = "true"}, {.name = "on_error", .str = "explode"}}, 0};
    CHECK(create(&eddy_op_filter, &ctx, &mode, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "on_error: expected one of drop|reject|keep");
}

static void run_filter(const char *on_error, const char *expect_left, uint32_t expect_rej)
{
    eddy_ctx ctx = {0};
    char err[256], buf[128];
    topts o = {{{.name = "where", .str = "amount > 10"}, {.name = "on_error", .str = on_error}}, 0};
    void *f = create(&eddy_op_filter, &ctx, &o, err, sizeof err);
    CHECK_MSG(f != NULL, "%s", err);
    if (!f)
        return;
    eddy_batch *b = amounts();
    CHECK(eddy_op_filter.process(f, &ctx, b) == EDDY_FORWARD);
    eddy_batch_compact(b);
    buf[0] = '\0';
    for (uint32_t i = 0; i < b->n; i++) {
        const eddy_value *v = get(&b->recs[i], "amount");
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", i ? "," : "",
                 v->type == EDDY_INT ? (v->u.i == 50 ? "50" : "?") : v->type == EDDY_DOUBLE ? "100.5" : "x");
    }
    CHECK_MSG(strcmp(buf, expect_left) == 0, "on_error=%s: left %s, want %s", on_error ? on_error : "(default)",
              buf, expect_left);
    CHECK(ctx.nrej == expect_rej);
    if (expect_rej) {
        CHECK(ctx.rej[0].index == 2);
        CHECK_STR(ctx.rej[0].reason, "filter where: expr:8: cannot compare string with int using '>'");
    }
    CHECK(metric(&ctx, "filter_dropped_records_total") == 2);
    CHECK(metric(&ctx, "filter_errors_total") == 1);
    eddy_op_filter.destroy(f);
    eddy_batch_destroy(b);
}

static void test_filter(void)
{
    run_filter(NULL, "50,100.5", 1); /* default: reject */
    run_filter("reject", "50,100.5", 1);
    run_filter("drop", "50,100.5", 0);
    run_filter("keep", "50,x,100.5", 0);
}

static void test_filter_strings(void)
{
    eddy_ctx ctx = {0};
    char err[256];
    topts o = {{{.name = "where", .str = "lower(name) == \"alice\" or other == 5"}}, 0};
    void *f = create(&eddy_op_filter, &ctx, &o, err, sizeof err);
    CHECK_MSG(f != NULL, "%s", err);
    eddy_batch *b = amounts();
    CHECK(eddy_op_filter.process(f, &ctx, b) == EDDY_FORWARD);
    eddy_batch_compact(b);
    CHECK(b->n == 2);
    CHECK(b->n == 2 && is_int(get(&b->recs[0], "amount"), 50) && is_int(get(&b->recs[1], "other"), 5));
    CHECK(ctx.nrej == 0);
    eddy_op_filter.destroy(f);
    eddy_batch_destroy(b);
}

/* ---- project ------------------------------------------------------------ */

static void test_project_descriptor(void)
{
    const eddy_op_descriptor *d = &eddy_op_project;
    CHECK_STR(d->name, "project");
    int rows = 0;
    for (const eddy_option *o = d->options; o->name; o++, rows++)
        CHECK_MSG(o->description && strlen(o->description) > 10, "%s has no description", o->name);
    CHECK(rows == 6);
}

static void test_project_create_errors(void)
{
    eddy_ctx ctx = {0};
    char err[256];
    topts none = {{{0}}, 0};
    CHECK(create(&eddy_op_project, &ctx, &none, err, sizeof err) == NULL);
    CHECK_STR(err, "project needs at least one of keep, drop, rename, derive or key");
    static const char *const dk[] = {"ok", "bad"}, *const dv[] = {"1", "amount +"};
    topts bad = {{{.name = "derive", .keys = dk, .items = dv, .n = 2}}, 0};
    CHECK(create(&eddy_op_project, &ctx, &bad, err, sizeof err) == NULL);
    CHECK_STR(err, "derive.bad: expr:9: unexpected end of expression; expected a value");
    topts key = {{{.name = "key", .str = "(a"}}, 0};
    CHECK(create(&eddy_op_project, &ctx, &key, err, sizeof err) == NULL);
    CHECK_STR(err, "key: expr:3: unexpected end of expression; expected ')'");
    static const char *const empty[] = {"a", ""};
    topts keep = {{{.name = "keep", .items = empty, .n = 2}}, 0};
    CHECK(create(&eddy_op_project, &ctx, &keep, err, sizeof err) == NULL);
    CHECK_STR(err, "keep[1]: empty field name");
}

static void test_project_order(void)
{
    static const char *const keep[] = {"a", "b", "c", "a_x"};
    static const char *const drop[] = {"c", "not_there"};
    static const char *const rk[] = {"a", "b", "absent"}, *const rv[] = {"amount", "label", "x"};
    static const char *const dk[] = {"total", "tag", "const", "label"};
    static const char *const dv[] = {"amount * 10", "label + \"-\" + to_string(total)", "\"fixed\"",
                                     "upper(label)"};
    topts o = {{
        {.name = "keep", .items = keep, .n = 4},
        {.name = "drop", .items = drop, .n = 2},
        {.name = "rename", .keys = rk, .items = rv, .n = 3},
        {.name = "derive", .keys = dk, .items = dv, .n = 4},
        {.name = "key", .str = "tag"},
    }, 0};
    eddy_ctx ctx = {0};
    char err[256], buf[256];
    void *p = create(&eddy_op_project, &ctx, &o, err, sizeof err);
    CHECK_MSG(p != NULL, "%s", err);
    if (!p)
        return;
    eddy_batch *b = eddy_batch_new(8, 0);
    for (int i = 0; i < 3; i++) {
        eddy_record *r = eddy_batch_append(b);
        eddy_record_push(b, r, S("d"), eddy_v_bool(1));
        eddy_record_push(b, r, S("a"), eddy_v_int(i + 1));
        eddy_record_push(b, r, S("b"), str(i == 1 ? "y" : "x"));
        eddy_record_push(b, r, S("e"), eddy_v_null());
        eddy_record_push(b, r, S("c"), eddy_v_double(2.5));
    }
    CHECK(eddy_op_project.process(p, &ctx, b) == EDDY_FORWARD);
    /* The operator's constants must not be referenced after it is gone. */
    eddy_op_project.destroy(p);
    for (uint32_t i = 0; i < b->n; i++) {
        const eddy_record *r = &b->recs[i];
        CHECK_STR(names(r, buf, sizeof buf), "amount,label,total,tag,const");
        CHECK(is_int(get(r, "amount"), (int64_t)i + 1));
        CHECK(is_int(get(r, "total"), ((int64_t)i + 1) * 10));
        CHECK(is_str(get(r, "const"), "fixed"));
        const char *lbl = i == 1 ? "Y" : "X";
        CHECK(is_str(get(r, "label"), lbl)); /* derive replaced the renamed field */
        snprintf(buf, sizeof buf, "%s-%u", i == 1 ? "y" : "x", (i + 1) * 10);
        CHECK(is_str(get(r, "tag"), buf));
        CHECK(is_str(&r->key, buf));
    }
    CHECK(ctx.nrej == 0);
    eddy_batch_destroy(b);
}

static void run_project_error(const char *on_error)
{
    static const char *const dk[] = {"bad", "after"}, *const dv[] = {"name * 2", "1"};
    topts o = {{
        {.name = "derive", .keys = dk, .items = dv, .n = 2},
        {.name = "on_error", .str = on_error},
    }, 0};
    eddy_ctx ctx = {0};
    char err[256];
    void *p = create(&eddy_op_project, &ctx, &o, err, sizeof err);
    CHECK_MSG(p != NULL, "%s", err);
    if (!p)
        return;
    eddy_batch *b = eddy_batch_new(8, 0);
    eddy_record *r = eddy_batch_append(b);
    eddy_record_push(b, r, S("name"), str("n"));
    r = eddy_batch_append(b);
    eddy_record_push(b, r, S("name"), eddy_v_int(4));
    CHECK(eddy_op_project.process(p, &ctx, b) == EDDY_FORWARD);
    eddy_batch_compact(b);
    CHECK(metric(&ctx, "project_errors_total") == 1);
    if (strcmp(on_error, "keep") == 0) {
        CHECK(b->n == 2);
        const eddy_value *bad = get(&b->recs[0], "bad");
        CHECK(bad && bad->type == EDDY_NULL);
        CHECK(is_int(get(&b->recs[0], "after"), 1));
        CHECK(ctx.nrej == 0);
    } else {
        CHECK(b->n == 1);
        CHECK(is_int(get(&b->recs[0], "bad"), 8));
        CHECK(ctx.nrej == (strcmp(on_error, "reject") == 0 ? 1u : 0u));
        if (ctx.nrej) {
            CHECK(ctx.rej[0].index == 0);
            CHECK_STR(ctx.rej[0].reason,
                      "project derive.bad: expr:6: '*' needs two numbers, got string and int");
        }
    }
    eddy_op_project.destroy(p);
    eddy_batch_destroy(b);
}

static void test_project_errors(void)
{
    run_project_error("reject");
    run_project_error("drop");
    run_project_error("keep");

    /* A failing key is reported as the key. */
    topts o = {{{.name = "key", .str = "-name"}}, 0};
    eddy_ctx ctx = {0};
    char err[256];
    void *p = create(&eddy_op_project, &ctx, &o, err, sizeof err);
    CHECK_MSG(p != NULL, "%s", err);
    eddy_batch *b = eddy_batch_new(8, 0);
    eddy_record *r = eddy_batch_append(b);
    eddy_record_push(b, r, S("name"), str("n"));
    CHECK(eddy_op_project.process(p, &ctx, b) == EDDY_FORWARD);
    CHECK(ctx.nrej == 1);
    CHECK_STR(ctx.rej[0].reason, "project key: expr:1: unary '-' needs a number, got string");
    CHECK(b->recs[0].flags & EDDY_REC_DROPPED);
    eddy_op_project.destroy(p);
    eddy_batch_destroy(b);
}

static void test_project_memory_limit(void)
{
    static const char *const dk[] = {"big"}, *const dv[] = {"upper(name)"};
    topts o = {{{.name = "derive", .keys = dk, .items = dv, .n = 1}}, 0};
    eddy_ctx ctx = {0};
    char err[256];
    void *p = create(&eddy_op_project, &ctx, &o, err, sizeof err);
    CHECK_MSG(p != NULL, "%s", err);
    eddy_batch *b = eddy_batch_new(8, 1); /* no arena room at all */
    eddy_record *r = eddy_batch_append(b);
    static eddy_field f = {0};
    f.name = S("name");
    f.v = str("abc");
    r->fields = &f;
    r->nfields = r->cap = 1;
    CHECK(eddy_op_project.process(p, &ctx, b) < 0);
    CHECK_CONTAINS(ctx.last_log, "batch memory limit");
    CHECK(ctx.nrej == 0);
    eddy_op_project.destroy(p);
    eddy_batch_destroy(b);
}

int main(void)
{
    test_filter_descriptor();
    test_filter_create_errors();
    test_filter();
    test_filter_strings();
    test_project_descriptor();
    test_project_create_errors();
    test_project_order();
    test_project_errors();
    test_project_memory_limit();
    return test_report();
}
