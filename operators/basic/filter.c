/* filter: keeps the records for which an expression is truthy. Works in
 * place: dropped records are only flagged, the host compacts the batch. */
#include <stdio.h>

#include "operators/basic/basic.h"
#include "lib/expr/expr.h"

typedef struct filter {
    const eddy_host *h;
    eddy_expr *where;
    eddy_on_error on_error;
    eddy_metric *dropped, *errors;
} filter;

static const eddy_option filter_options[] = {
    {"where", EDDY_OPT_EXPR, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_REQUIRED,
     "Condition a record must meet to pass (docs/EXPRESSIONS.md). Records for which it is "
     "false, null, zero or empty are dropped."},
    {"on_error", EDDY_OPT_ENUM, "reject", EDDY_NO_RANGE, EDDY_ON_ERROR_VALUES, 0,
     EDDY_ON_ERROR_HELP},
    {NULL, 0, NULL, EDDY_NO_RANGE, NULL, 0, NULL},
};

static void filter_destroy(void *state)
{
    filter *f = state;
    if (!f)
        return;
    eddy_expr_free(f->where);
    f->h->free(f);
}

static void *filter_create(const eddy_host *h, eddy_ctx *ctx, const eddy_opts *opts, char *err,
                           size_t errlen)
{
    const char *where = h->opt_str(opts, "where");
    if (!where) {
        snprintf(err, errlen, "filter needs 'where', the condition records must meet");
        return NULL;
    }
    int mode = eddy_on_error_parse(h->opt_str(opts, "on_error"));
    if (mode < 0) {
        snprintf(err, errlen, "on_error: expected one of %s", EDDY_ON_ERROR_VALUES);
        return NULL;
    }
    filter *f = h->alloc(sizeof *f);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    f->h = h;
    f->on_error = (eddy_on_error)mode;
    char why[256];
    f->where = eddy_expr_compile(where, why, sizeof why);
    if (!f->where) {
        snprintf(err, errlen, "where: %s", why);
        h->free(f);
        return NULL;
    }
    f->dropped = h->metric(ctx, "filter_dropped_records_total",
                           "Records the filter's condition dropped", EDDY_METRIC_COUNTER);
    f->errors = h->metric(ctx, "filter_errors_total",
                          "Records whose condition failed to evaluate (handled by on_error)",
                          EDDY_METRIC_COUNTER);
    return f;
}

static int filter_process(void *state, eddy_ctx *ctx, eddy_batch *b)
{
    filter *f = state;
    const eddy_host *h = f->h;
    uint32_t n = h->batch_count(b), dropped = 0, errors = 0;
    int rc = EDDY_FORWARD;
    char why[256]; /* written only when a record fails */
    for (uint32_t i = 0; i < n; i++) {
        eddy_value v;
        int e = eddy_expr_eval_why(f->where, b, h->batch_get(b, i), &v, why, sizeof why);
        if (e == 0) {
            if (!eddy_expr_truthy(&v)) {
                h->batch_drop(b, i);
                dropped++;
            }
            continue;
        }
        if (e == EDDY_EXPR_ENOMEM) {
            h->log(ctx, EDDY_LOG_ERROR, "filter: where: %s", why);
            rc = e;
            break;
        }
        errors++;
        if ((e = eddy_on_error_apply(h, ctx, b, i, f->on_error, "filter where", why)) < 0) {
            h->log(ctx, EDDY_LOG_ERROR, "filter: could not reject record %u: error %d", i, e);
            rc = e;
            break;
        }
    }
    if (f->dropped && dropped)
        h->metric_add(f->dropped, dropped);
    if (f->errors && errors)
        h->metric_add(f->errors, errors);
    return rc;
}

const eddy_op_descriptor eddy_op_filter = {
    .struct_size = sizeof(eddy_op_descriptor),
    .name = "filter",
    .version = "1.0.0",
    .summary = "Keeps the records for which an expression is true",
    .options = filter_options,
    .create = filter_create,
    .process = filter_process,
    .destroy = filter_destroy,
};
