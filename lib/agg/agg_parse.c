/* Parsing "name(field, params...)" into a spec, with errors that say what
 * was wrong, where, and what was expected. */
#include <ctype.h>
#include <float.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/agg/agg_int.h"
#include "engine/core/sym.h"
#include "lib/text/suggest.h"

#define MAX_ARGS 4

typedef struct kind_def {
    const char *name;
    const agg_ops *ops;
    agg_kind kind;
    uint8_t min_args, max_args; /* the field included */
    bool field_optional;        /* count(), rate() */
    const char *usage;
} kind_def;

static const kind_def kinds[] = {
    {"count", &agg_ops_count, AGG_COUNT, 0, 1, true, "count() or count(field)"},
    {"sum", &agg_ops_sum, AGG_SUM, 1, 1, false, "sum(field)"},
    {"mean", &agg_ops_mean, AGG_MEAN, 1, 1, false, "mean(field)"},
    {"min", &agg_ops_min, AGG_MIN, 1, 1, false, "min(field)"},
    {"max", &agg_ops_max, AGG_MAX, 1, 1, false, "max(field)"},
    {"variance", &agg_ops_variance, AGG_VARIANCE, 1, 1, false, "variance(field)"},
    {"stddev", &agg_ops_stddev, AGG_STDDEV, 1, 1, false, "stddev(field)"},
    {"first", &agg_ops_first, AGG_FIRST, 1, 1, false, "first(field)"},
    {"last", &agg_ops_last, AGG_LAST, 1, 1, false, "last(field)"},
    {"ewma", &agg_ops_ewma, AGG_EWMA, 2, 2, false, "ewma(field, alpha) with 0 < alpha <= 1"},
    {"rate", &agg_ops_rate, AGG_RATE, 0, 1, true, "rate() or rate(field)"},
    {"distinct", &agg_ops_distinct, AGG_DISTINCT, 1, 2, false,
     "distinct(field[, p]) with 4 <= p <= 18 (default 12)"},
    {"quantile", &agg_ops_quantile, AGG_QUANTILE, 2, 4, false,
     "quantile(field, q[, alpha[, buckets]]) with 0 < q < 1, 0.0001 <= alpha <= 0.5 "
     "(default 0.01), 16 <= buckets <= 65536 (default 2048)"},
    {"topk", &agg_ops_topk, AGG_TOPK, 2, 2, false, "topk(field, k) with 1 <= k <= 256"},
    {"histogram", &agg_ops_histogram, AGG_HISTOGRAM, 4, 4, false,
     "histogram(field, lo, hi, bins) with lo < hi and 1 <= bins <= 4096"},
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

typedef struct span {
    const char *p;
    size_t n;
} span;

typedef struct pctx {
    const char *text; /* trimmed input, for messages */
    int text_len;
    char *err;
    size_t errlen;
    const kind_def *def;
} pctx;

static void fail(pctx *c, const char *fmt, ...) EDDY_PRINTF(2, 3);
static void fail(pctx *c, const char *fmt, ...)
{
    if (!c->err || c->errlen == 0)
        return;
    int n = snprintf(c->err, c->errlen, "aggregate '%.*s': ", c->text_len > 120 ? 120 : c->text_len,
                     c->text);
    if (n < 0 || (size_t)n >= c->errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

static void fail_unknown(pctx *c, span name)
{
    eddy_suggest s;
    eddy_suggest_init(&s, name.p, name.n);
    for (size_t i = 0; i < NKINDS; i++)
        eddy_suggest_try(&s, kinds[i].name);
    /* Function names are short: one slip up to four letters, two beyond. */
    const char *best = eddy_suggest_best(&s, name.n > 4 ? 2 : 1);
    char known[200];
    size_t off = 0;
    for (size_t i = 0; i < NKINDS && off < sizeof known; i++)
        off += (size_t)snprintf(known + off, sizeof known - off, "%s%s", i ? ", " : "",
                                kinds[i].name);
    if (best)
        fail(c, "unknown function '%.*s' (did you mean '%s'?); known: %s", (int)name.n, name.p,
             best, known);
    else
        fail(c, "unknown function '%.*s'; known: %s", (int)name.n, name.p, known);
}

static span trim(const char *p, size_t n)
{
    while (n && isspace((unsigned char)*p)) {
        p++;
        n--;
    }
    while (n && isspace((unsigned char)p[n - 1]))
        n--;
    return (span){p, n};
}

static bool is_field(span a)
{
    if (a.n == 0 || !(isalpha((unsigned char)a.p[0]) || a.p[0] == '_'))
        return false;
    for (size_t i = 1; i < a.n; i++) {
        unsigned char ch = (unsigned char)a.p[i];
        if (!(isalnum(ch) || ch == '_' || ch == '.' || ch == '-'))
            return false;
    }
    return true;
}

static bool number(pctx *c, span a, const char *what, double *out)
{
    char buf[64], *end;
    if (a.n == 0 || a.n >= sizeof buf) {
        fail(c, "%s must be a number, got '%.*s'; expects %s", what, (int)a.n, a.p,
             c->def->usage);
        return false;
    }
    memcpy(buf, a.p, a.n);
    buf[a.n] = '\0';
    double d = strtod(buf, &end);
    if (*end || !isfinite(d)) {
        fail(c, "%s must be a finite number, got '%s'; expects %s", what, buf, c->def->usage);
        return false;
    }
    *out = d;
    return true;
}

/* A number in [lo, hi]; integral when `integer`. */
static bool param(pctx *c, span a, const char *what, double lo, double hi, bool integer,
                  double *out)
{
    if (!number(c, a, what, out))
        return false;
    if (*out < lo || *out > hi || (integer && *out != floor(*out))) {
        fail(c, "%s must be %s in [%g, %g], got %.*s; expects %s", what,
             integer ? "an integer" : "a number", lo, hi, (int)a.n, a.p, c->def->usage);
        return false;
    }
    return true;
}

static bool params(pctx *c, eddy_agg_spec *s, const span *arg, int nargs)
{
    double d;
    switch (s->kind) {
    case AGG_EWMA:
        if (!number(c, arg[1], "alpha", &s->alpha))
            return false;
        if (!(s->alpha > 0 && s->alpha <= 1)) {
            fail(c, "alpha must be in (0, 1], got %.*s; expects %s", (int)arg[1].n, arg[1].p,
                 c->def->usage);
            return false;
        }
        return true;
    case AGG_DISTINCT:
        s->p = 12;
        if (nargs > 1) {
            if (!param(c, arg[1], "p", 4, 18, true, &d))
                return false;
            s->p = (uint32_t)d;
        }
        return true;
    case AGG_QUANTILE:
        if (!number(c, arg[1], "q", &s->q))
            return false;
        if (!(s->q > 0 && s->q < 1)) {
            fail(c, "q must be in (0, 1), got %.*s; expects %s", (int)arg[1].n, arg[1].p,
                 c->def->usage);
            return false;
        }
        s->alpha = 0.01;
        s->cap = 1024;
        if (nargs > 2 && !param(c, arg[2], "alpha", 0.0001, 0.5, false, &s->alpha))
            return false;
        if (nargs > 3) {
            if (!param(c, arg[3], "buckets", 16, 65536, true, &d))
                return false;
            s->cap = (uint32_t)d / 2;
        }
        s->gamma = (1 + s->alpha) / (1 - s->alpha);
        s->inv_log_gamma = 1.0 / log1p(2 * s->alpha / (1 - s->alpha));
        s->dd_min = DBL_MIN * s->gamma;
        return true;
    case AGG_TOPK:
        if (!param(c, arg[1], "k", 1, AGG_TOPK_MAX_K, true, &d))
            return false;
        s->k = (uint32_t)d;
        s->cap = 4 * s->k;
        s->isize = 8;
        while (s->isize < 2 * s->cap)
            s->isize *= 2;
        return true;
    case AGG_HISTOGRAM:
        if (!number(c, arg[1], "lo", &s->lo) || !number(c, arg[2], "hi", &s->hi))
            return false;
        if (!(s->lo < s->hi) || !isfinite(s->hi - s->lo)) {
            fail(c, "lo must be below hi (and hi - lo finite), got lo %.*s, hi %.*s; expects %s",
                 (int)arg[1].n, arg[1].p, (int)arg[2].n, arg[2].p, c->def->usage);
            return false;
        }
        if (!param(c, arg[3], "bins", 1, AGG_HIST_MAX_BINS, true, &d))
            return false;
        s->bins = (uint32_t)d;
        return true;
    default: return true;
    }
}

eddy_agg_spec *eddy_agg_parse(const char *text, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!text)
        text = "";
    span all = trim(text, strlen(text));
    pctx c = {all.p, (int)(all.n > 200 ? 200 : all.n), err, errlen, NULL};
    const char *p = all.p, *end = all.p + all.n;
    if (all.n == 0) {
        fail(&c, "empty; expected an aggregate such as count(), sum(amount) or "
                 "quantile(amount, 0.95)");
        return NULL;
    }
    span name = {p, 0};
    while (p < end && (isalnum((unsigned char)*p) || *p == '_'))
        p++;
    name.n = (size_t)(p - name.p);
    if (name.n == 0) {
        fail(&c, "expected a function name at offset %d, got '%c'", (int)(p - all.p), *p);
        return NULL;
    }
    for (size_t i = 0; i < NKINDS; i++)
        if (strlen(kinds[i].name) == name.n && memcmp(kinds[i].name, name.p, name.n) == 0)
            c.def = &kinds[i];
    if (!c.def) {
        fail_unknown(&c, name);
        return NULL;
    }
    while (p < end && isspace((unsigned char)*p))
        p++;
    if (p == end || *p != '(') {
        fail(&c, "expected '(' after '%s' at offset %d; expects %s", c.def->name,
             (int)(p - all.p), c.def->usage);
        return NULL;
    }
    p++;
    span arg[MAX_ARGS + 1];
    int nargs = 0;
    const char *nested = memchr(p, '(', (size_t)(end - p));
    if (nested) {
        fail(&c, "nested '(' at offset %d: arguments are a field name and numbers; expects %s",
             (int)(nested - all.p), c.def->usage);
        return NULL;
    }
    const char *close = memchr(p, ')', (size_t)(end - p));
    if (!close) {
        fail(&c, "missing ')'; expects %s", c.def->usage);
        return NULL;
    }
    if (close + 1 != end) {
        span rest = trim(close + 1, (size_t)(end - close - 1));
        fail(&c, "unexpected text after ')' at offset %d: '%.*s'", (int)(rest.p - all.p),
             (int)rest.n, rest.p);
        return NULL;
    }
    if (trim(p, (size_t)(close - p)).n > 0) {
        for (const char *a = p;;) {
            const char *comma = memchr(a, ',', (size_t)(close - a));
            const char *stop = comma ? comma : close;
            if (nargs <= MAX_ARGS)
                arg[nargs] = trim(a, (size_t)(stop - a));
            if (nargs <= MAX_ARGS && arg[nargs].n == 0) {
                fail(&c, "empty argument %d; expects %s", nargs + 1, c.def->usage);
                return NULL;
            }
            nargs++;
            if (!comma)
                break;
            a = comma + 1;
        }
    }
    if (nargs < c.def->min_args || nargs > c.def->max_args) {
        fail(&c, "wrong number of arguments: got %d; expects %s", nargs, c.def->usage);
        return NULL;
    }
    eddy_agg_spec *s = calloc(1, sizeof *s);
    if (!s) {
        fail(&c, "out of memory");
        return NULL;
    }
    s->ops = c.def->ops;
    s->kind = c.def->kind;
    if (nargs > 0) {
        if (!is_field(arg[0])) {
            fail(&c, "first argument must be a field name, got '%.*s'; expects %s",
                 (int)arg[0].n, arg[0].p, c.def->usage);
            free(s);
            return NULL;
        }
        s->field = eddy_sym_intern(arg[0].p, arg[0].n);
        if (!s->field) {
            fail(&c, "cannot intern field name '%.*s' (symbol table full)", (int)arg[0].n,
                 arg[0].p);
            free(s);
            return NULL;
        }
    }
    if (!params(&c, s, arg, nargs)) {
        free(s);
        return NULL;
    }
    s->size = (s->ops->size(s) + 7) & ~(size_t)7;
    return s;
}

void eddy_agg_spec_free(eddy_agg_spec *s) { free(s); }
