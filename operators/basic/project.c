/* project: reshapes records in place. Steps run in a fixed order, each over
 * the result of the previous: keep, drop, rename, derive, key. */
#include <stdio.h>
#include <string.h>

#include "operators/basic/basic.h"
#include "lib/expr/expr.h"

typedef struct rename_rule {
    eddy_sym from, to;
} rename_rule;

typedef struct derive_rule {
    eddy_sym name;
    eddy_expr *expr;
} derive_rule;

typedef struct project {
    const eddy_host *h;
    eddy_sym *keep, *drop;
    uint32_t nkeep, ndrop, nrename, nderive;
    rename_rule *rename;
    derive_rule *derive;
    eddy_expr *key;
    eddy_on_error on_error;
    eddy_metric *errors;
} project;

static const eddy_option project_options[] = {
    {"keep", EDDY_OPT_LIST, NULL, EDDY_NO_RANGE, NULL, 0,
     "Fields to keep; every other field is removed (fields derived later are added after)."},
    {"drop", EDDY_OPT_LIST, NULL, EDDY_NO_RANGE, NULL, 0,
     "Fields to remove; names a record does not have are ignored."},
    {"rename", EDDY_OPT_MAP, NULL, EDDY_NO_RANGE, NULL, 0,
     "Fields to rename, old: new. A record's existing field of the new name is replaced."},
    {"derive", EDDY_OPT_MAP, NULL, EDDY_NO_RANGE, NULL, 0,
     "New fields from expressions, name: expression, evaluated in order; a later expression "
     "sees fields derived before it. An existing field of that name is replaced."},
    {"key", EDDY_OPT_EXPR, NULL, EDDY_NO_RANGE, NULL, 0,
     "Expression whose value becomes the record key (what partitions and windows group by)."},
    {"on_error", EDDY_OPT_ENUM, "reject", EDDY_NO_RANGE, EDDY_ON_ERROR_VALUES, 0,
     EDDY_ON_ERROR_HELP},
    {NULL, 0, NULL, EDDY_NO_RANGE, NULL, 0, NULL},
};

static void project_destroy(void *state)
{
    project *p = state;
    if (!p)
        return;
    const eddy_host *h = p->h;
    for (uint32_t i = 0; p->derive && i < p->nderive; i++)
        eddy_expr_free(p->derive[i].expr);
    eddy_expr_free(p->key);
    h->free(p->keep);
    h->free(p->drop);
    h->free(p->rename);
    h->free(p->derive);
    h->free(p);
}

static void *zalloc(const eddy_host *h, size_t n)
{
    void *p = h->alloc(n ? n : 1);
    if (p)
        memset(p, 0, n ? n : 1);
    return p;
}

static int intern_name(const eddy_host *h, const char *opt, uint32_t i, const char *name,
                       eddy_sym *out, char *err, size_t errlen)
{
    *out = name ? h->intern(name, strlen(name)) : 0;
    if (!*out) {
        snprintf(err, errlen, "%s[%u]: %s", opt, i,
                 name && *name ? "cannot intern the field name" : "empty field name");
        return -1;
    }
    return 0;
}

static int load_list(const eddy_host *h, const eddy_opts *o, const char *opt, eddy_sym **out,
                     uint32_t *n, char *err, size_t errlen)
{
    *n = h->opt_count(o, opt);
    if (!*n)
        return 0;
    if (!(*out = zalloc(h, sizeof **out * *n))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < *n; i++)
        if (intern_name(h, opt, i, h->opt_item(o, opt, i), &(*out)[i], err, errlen) != 0)
            return -1;
    return 0;
}

static int load(project *p, const eddy_opts *o, char *err, size_t errlen)
{
    const eddy_host *h = p->h;
    char why[256];
    if (load_list(h, o, "keep", &p->keep, &p->nkeep, err, errlen) != 0 ||
        load_list(h, o, "drop", &p->drop, &p->ndrop, err, errlen) != 0)
        return -1;
    uint32_t n = h->opt_count(o, "rename");
    if (n) {
        if (!(p->rename = zalloc(h, sizeof *p->rename * n))) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        for (; p->nrename < n; p->nrename++) {
            rename_rule *r = &p->rename[p->nrename];
            if (intern_name(h, "rename", p->nrename, h->opt_key(o, "rename", p->nrename), &r->from,
                            err, errlen) != 0 ||
                intern_name(h, "rename", p->nrename, h->opt_item(o, "rename", p->nrename), &r->to,
                            err, errlen) != 0)
                return -1;
        }
    }
    n = h->opt_count(o, "derive");
    if (n) {
        if (!(p->derive = zalloc(h, sizeof *p->derive * n))) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        for (; p->nderive < n; p->nderive++) {
            derive_rule *d = &p->derive[p->nderive];
            const char *name = h->opt_key(o, "derive", p->nderive);
            if (intern_name(h, "derive", p->nderive, name, &d->name, err, errlen) != 0)
                return -1;
            if (!(d->expr = eddy_expr_compile(h->opt_item(o, "derive", p->nderive), why, sizeof why))) {
                snprintf(err, errlen, "derive.%s: %s", name, why);
                return -1;
            }
        }
    }
    const char *key = h->opt_str(o, "key");
    if (key && !(p->key = eddy_expr_compile(key, why, sizeof why))) {
        snprintf(err, errlen, "key: %s", why);
        return -1;
    }
    if (!p->nkeep && !p->ndrop && !p->nrename && !p->nderive && !p->key) {
        snprintf(err, errlen, "project needs at least one of keep, drop, rename, derive or key");
        return -1;
    }
    return 0;
}

static void *project_create(const eddy_host *h, eddy_ctx *ctx, const eddy_opts *opts, char *err,
                            size_t errlen)
{
    int mode = eddy_on_error_parse(h->opt_str(opts, "on_error"));
    if (mode < 0) {
        snprintf(err, errlen, "on_error: expected one of %s", EDDY_ON_ERROR_VALUES);
        return NULL;
    }
    project *p = zalloc(h, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->h = h;
    p->on_error = (eddy_on_error)mode;
    if (load(p, opts, err, errlen) != 0) {
        project_destroy(p);
        return NULL;
    }
    p->errors = h->metric(ctx, "project_errors_total",
                          "Records whose derive or key failed to evaluate (handled by on_error)",
                          EDDY_METRIC_COUNTER);
    return p;
}

static int kept(const project *p, eddy_sym s)
{
    for (uint32_t k = 0; k < p->nkeep; k++)
        if (p->keep[k] == s)
            return 1;
    return 0;
}

static void keep_drop(const project *p, eddy_record *r)
{
    const eddy_host *h = p->h;
    if (p->nkeep) {
        /* Every field before i is kept, so removing by name removes field i
         * itself even when a name repeats. */
        uint32_t i = 0, n;
        for (;;) {
            const eddy_field *f = h->record_fields(r, &n);
            if (i >= n)
                break;
            if (kept(p, f[i].name) || h->record_remove(r, f[i].name) != 0)
                i++;
        }
    }
    for (uint32_t k = 0; k < p->ndrop; k++)
        while (h->record_remove(r, p->drop[k]) == 0)
            ;
}

static int rename_fields(const project *p, eddy_batch *b, eddy_record *r)
{
    const eddy_host *h = p->h;
    for (uint32_t k = 0; k < p->nrename; k++) {
        const rename_rule *rr = &p->rename[k];
        const eddy_value *v = rr->from == rr->to ? NULL : h->record_get(r, rr->from);
        if (!v)
            continue;
        eddy_value tmp = *v;
        h->record_remove(r, rr->from);
        if (h->record_set(b, r, rr->to, &tmp) != 0)
            return -1;
    }
    return 0;
}

/* 1: value in *v; 0: the record was dropped or rejected; <0: batch failure. */
static int eval(const project *p, eddy_ctx *ctx, eddy_batch *b, uint32_t i, eddy_record *r,
                const eddy_expr *e, eddy_sym derived, eddy_value *v, uint32_t *errors)
{
    const eddy_host *h = p->h;
    char why[256]; /* written only on failure */
    int rc = eddy_expr_eval_why(e, b, r, v, why, sizeof why);
    if (rc == EDDY_EXPR_ENOMEM)
        return rc;
    if (rc < 0) {
        (*errors)++;
        if (p->on_error == EDDY_ON_ERROR_KEEP) {
            *v = (eddy_value){0};
            return 1;
        }
        char what[160];
        if (derived)
            snprintf(what, sizeof what, "project derive.%s", h->sym_name(derived));
        else
            snprintf(what, sizeof what, "project key");
        rc = eddy_on_error_apply(h, ctx, b, i, p->on_error, what, why);
        return rc < 0 ? rc : 0;
    }
    /* Constants belong to the expression; the record may outlive it. */
    if (eddy_expr_owns(e, v)) {
        *v = h->batch_string(b, v->u.s, v->len);
        if (!v->u.s)
            return EDDY_EXPR_ENOMEM;
    }
    return 1;
}

static int project_process(void *state, eddy_ctx *ctx, eddy_batch *b)
{
    project *p = state;
    const eddy_host *h = p->h;
    uint32_t n = h->batch_count(b), errors = 0;
    int rc = EDDY_FORWARD;
    for (uint32_t i = 0; i < n && rc >= 0; i++) {
        eddy_record *r = h->batch_get(b, i);
        keep_drop(p, r);
        if (rename_fields(p, b, r) != 0) {
            rc = EDDY_EXPR_ENOMEM;
            break;
        }
        int ok = 1;
        for (uint32_t k = 0; k < p->nderive && ok == 1; k++) {
            eddy_value v;
            ok = eval(p, ctx, b, i, r, p->derive[k].expr, p->derive[k].name, &v, &errors);
            if (ok == 1 && h->record_set(b, r, p->derive[k].name, &v) != 0)
                ok = EDDY_EXPR_ENOMEM;
        }
        if (ok == 1 && p->key) {
            eddy_value v;
            ok = eval(p, ctx, b, i, r, p->key, 0, &v, &errors);
            if (ok == 1)
                h->record_set_key(r, &v);
        }
        if (ok < 0)
            rc = ok;
    }
    if (rc < 0)
        h->log(ctx, EDDY_LOG_ERROR, "project: batch memory limit reached");
    if (p->errors && errors)
        h->metric_add(p->errors, errors);
    return rc;
}

const eddy_op_descriptor eddy_op_project = {
    .struct_size = sizeof(eddy_op_descriptor),
    .name = "project",
    .version = "1.0.0",
    .summary = "Keeps, drops, renames and derives fields and sets the record key",
    .options = project_options,
    .create = project_create,
    .process = project_process,
    .destroy = project_destroy,
};
