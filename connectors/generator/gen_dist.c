#include "connectors/generator/gen_dist.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/batch.h"
#include "connectors/scalar.h"

#define MAX_ARGS 4096

static const struct {
    const char *name;
    eddy_gen_kind kind;
    int nargs; /* -1 = one or more */
    const char *usage;
} kinds[] = {
    {"normal", EDDY_GEN_NORMAL, 2, "normal(mu, sigma)"},
    {"uniform", EDDY_GEN_UNIFORM, 2, "uniform(a, b)"},
    {"exponential", EDDY_GEN_EXPONENTIAL, 1, "exponential(lambda)"},
    {"lognormal", EDDY_GEN_LOGNORMAL, 2, "lognormal(mu, sigma)"},
    {"poisson", EDDY_GEN_POISSON, 1, "poisson(lambda)"},
    {"int", EDDY_GEN_INT, 2, "int(a, b)"},
    {"categorical", EDDY_GEN_CATEGORICAL, -1, "categorical(a, b, ...) or categorical(a:0.7, b:0.3)"},
    {"bernoulli", EDDY_GEN_BERNOULLI, 1, "bernoulli(p)"},
    {"const", EDDY_GEN_CONST, 1, "const(x)"},
    {"seq", EDDY_GEN_SEQ, 0, "seq()"},
};

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static int num(const char *arg, const char *param, const char *usage, double *out, char *err,
               size_t errlen)
{
    char *end;
    errno = 0;
    double d = strtod(arg, &end);
    if (!*arg || *end || errno || !isfinite(d)) {
        snprintf(err, errlen, "%s: %s must be a number, found '%s'", usage, param, arg);
        return -1;
    }
    *out = d;
    return 0;
}

static int integer(const char *arg, const char *param, const char *usage, int64_t *out,
                   char *err, size_t errlen)
{
    char *end;
    errno = 0;
    long long v = strtoll(arg, &end, 10);
    if (!*arg || *end || errno) {
        snprintf(err, errlen, "%s: %s must be an integer, found '%s'", usage, param, arg);
        return -1;
    }
    *out = v;
    return 0;
}

/* An argument in double quotes is a string as written (commas allowed);
 * otherwise it is typed like a CSV cell. */
static void literal(char *arg, eddy_value *out)
{
    size_t n = strlen(arg);
    if (n >= 2 && arg[0] == '"' && arg[n - 1] == '"') {
        arg[n - 1] = '\0';
        *out = eddy_v_str(arg + 1, (uint32_t)(n - 2));
        return;
    }
    eddy_scalar_infer(arg, n, out);
}

static int categorical(eddy_gen_dist *d, char **args, int nargs, const char *usage, char *err,
                       size_t errlen)
{
    d->values = calloc((size_t)nargs, sizeof *d->values);
    d->cum = calloc((size_t)nargs, sizeof *d->cum);
    if (!d->values || !d->cum) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int weighted = -1;
    double total = 0;
    for (int i = 0; i < nargs; i++) {
        char *arg = args[i];
        double w = 1.0;
        /* The weight follows the last ':' (after a quoted value's closing
         * quote, so "a:b" can be a value). */
        char *after = arg;
        if (arg[0] == '"') {
            char *close = strchr(arg + 1, '"');
            after = close ? close : arg;
        }
        char *colon = strrchr(after, ':');
        if (colon && colon[1]) {
            char *end;
            errno = 0;
            double x = strtod(colon + 1, &end);
            if (!*end && !errno) {
                *colon = '\0';
                arg = trim(arg);
                w = x;
            } else {
                colon = NULL;
            }
        } else {
            colon = NULL;
        }
        int has = colon != NULL;
        if (weighted >= 0 && has != weighted) {
            snprintf(err, errlen, "%s: give a weight to every value or to none ('%s' differs)",
                     usage, args[i]);
            return -1;
        }
        weighted = has;
        if (!isfinite(w) || w <= 0) {
            snprintf(err, errlen, "%s: weight of '%s' must be > 0, found %g", usage, arg, w);
            return -1;
        }
        if (!*arg) {
            snprintf(err, errlen, "%s: value %d is empty", usage, i + 1);
            return -1;
        }
        literal(arg, &d->values[i]);
        total += w;
        d->cum[i] = total;
    }
    for (int i = 0; i < nargs; i++)
        d->cum[i] /= total;
    d->cum[nargs - 1] = 1.0;
    d->n = (uint32_t)nargs;
    return 0;
}

static int build(eddy_gen_dist *d, int k, char **args, int nargs, char *err, size_t errlen)
{
    const char *u = kinds[k].usage;
    d->kind = kinds[k].kind;
    switch (d->kind) {
    case EDDY_GEN_NORMAL:
    case EDDY_GEN_LOGNORMAL:
        if (num(args[0], "mu", u, &d->a, err, errlen) || num(args[1], "sigma", u, &d->b, err, errlen))
            return -1;
        if (d->b < 0) {
            snprintf(err, errlen, "%s: sigma must be >= 0, found %g", u, d->b);
            return -1;
        }
        return 0;
    case EDDY_GEN_UNIFORM:
        if (num(args[0], "a", u, &d->a, err, errlen) || num(args[1], "b", u, &d->b, err, errlen))
            return -1;
        if (d->a > d->b) {
            snprintf(err, errlen, "%s: a must be <= b, found a=%g b=%g", u, d->a, d->b);
            return -1;
        }
        return 0;
    case EDDY_GEN_EXPONENTIAL:
        if (num(args[0], "lambda", u, &d->a, err, errlen))
            return -1;
        if (d->a <= 0) {
            snprintf(err, errlen, "%s: lambda must be > 0, found %g", u, d->a);
            return -1;
        }
        return 0;
    case EDDY_GEN_POISSON:
        if (num(args[0], "lambda", u, &d->a, err, errlen))
            return -1;
        if (d->a < 0 || d->a > 1e9) {
            snprintf(err, errlen, "%s: lambda must be in [0, 1e9], found %g", u, d->a);
            return -1;
        }
        return 0;
    case EDDY_GEN_INT: {
        int64_t a, b;
        if (integer(args[0], "a", u, &a, err, errlen) || integer(args[1], "b", u, &b, err, errlen))
            return -1;
        if (a > b) {
            snprintf(err, errlen, "%s: a must be <= b, found a=%lld b=%lld", u, (long long)a,
                     (long long)b);
            return -1;
        }
        uint64_t w = (uint64_t)b - (uint64_t)a; /* unsigned: no overflow */
        if (w >= (uint64_t)INT64_MAX) {
            snprintf(err, errlen, "%s: the range is too wide", u);
            return -1;
        }
        d->lo = a;
        d->span = (int64_t)(w + 1);
        return 0;
    }
    case EDDY_GEN_CATEGORICAL:
        return categorical(d, args, nargs, u, err, errlen);
    case EDDY_GEN_BERNOULLI:
        if (num(args[0], "p", u, &d->a, err, errlen))
            return -1;
        if (d->a < 0 || d->a > 1) {
            snprintf(err, errlen, "%s: p must be in [0, 1], found %g", u, d->a);
            return -1;
        }
        return 0;
    case EDDY_GEN_CONST:
        d->values = calloc(1, sizeof *d->values);
        if (!d->values) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        literal(args[0], &d->values[0]);
        d->n = 1;
        return 0;
    case EDDY_GEN_SEQ:
        return 0;
    }
    return 0;
}

int eddy_gen_dist_parse(const char *spec, eddy_gen_dist *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    if (!spec)
        spec = "";
    d->text = strdup(spec);
    char **args = NULL;
    if (!d->text) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char *s = trim(d->text);
    size_t namelen = 0;
    while (isalpha((unsigned char)s[namelen]) || s[namelen] == '_')
        namelen++;
    char *open = s + namelen;
    while (isspace((unsigned char)*open))
        open++;
    size_t n = strlen(s);
    if (namelen == 0 || *open != '(' || n == 0 || s[n - 1] != ')') {
        snprintf(err, errlen, "expected a distribution such as normal(0, 1), found '%s'", spec);
        goto fail;
    }
    int k = -1;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strlen(kinds[i].name) == namelen && strncmp(kinds[i].name, s, namelen) == 0)
            k = (int)i;
    if (k < 0) {
        snprintf(err, errlen,
                 "unknown distribution '%.*s'; expected normal, uniform, exponential, lognormal, "
                 "poisson, int, categorical, bernoulli, const or seq",
                 (int)namelen, s);
        goto fail;
    }
    s[n - 1] = '\0';
    char *inner = trim(open + 1);
    args = calloc(MAX_ARGS, sizeof *args);
    if (!args) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    int nargs = 0;
    if (*inner) {
        char *start = inner;
        int quoted = 0;
        for (char *p = inner;; p++) {
            if (*p == '"')
                quoted = !quoted;
            if (*p == '\0' || (*p == ',' && !quoted)) {
                if (nargs == MAX_ARGS) {
                    snprintf(err, errlen, "%s: more than %d arguments", kinds[k].usage, MAX_ARGS);
                    goto fail;
                }
                int end = *p == '\0';
                *p = '\0';
                args[nargs++] = trim(start);
                if (end)
                    break;
                start = p + 1;
            }
        }
        if (quoted) {
            snprintf(err, errlen, "%s: unbalanced double quote", kinds[k].usage);
            goto fail;
        }
    }
    if ((kinds[k].nargs >= 0 && nargs != kinds[k].nargs) || (kinds[k].nargs < 0 && nargs == 0)) {
        if (kinds[k].nargs < 0)
            snprintf(err, errlen, "%s needs at least one value", kinds[k].usage);
        else
            snprintf(err, errlen, "%s takes %d argument%s, found %d", kinds[k].usage,
                     kinds[k].nargs, kinds[k].nargs == 1 ? "" : "s", nargs);
        goto fail;
    }
    for (int i = 0; i < nargs; i++) {
        if (!*args[i]) {
            snprintf(err, errlen, "%s: argument %d is empty", kinds[k].usage, i + 1);
            goto fail;
        }
    }
    if (build(d, k, args, nargs, err, errlen) != 0)
        goto fail;
    free(args);
    return 0;
fail:
    free(args);
    eddy_gen_dist_free(d);
    return -1;
}

void eddy_gen_dist_free(eddy_gen_dist *d)
{
    free(d->values);
    free(d->cum);
    free(d->text);
    memset(d, 0, sizeof *d);
}

bool eddy_gen_dist_numeric(const eddy_gen_dist *d)
{
    switch (d->kind) {
    case EDDY_GEN_BERNOULLI: return false;
    case EDDY_GEN_CATEGORICAL:
    case EDDY_GEN_CONST:
        for (uint32_t i = 0; i < d->n; i++)
            if (d->values[i].type != EDDY_INT && d->values[i].type != EDDY_DOUBLE)
                return false;
        return true;
    default: return true;
    }
}

static double normal01(eddy_rng *r)
{
    /* Box-Muller, one value per call: no cached second value, so every
     * draw depends only on the stream position (reproducible per event). */
    double u1 = 1.0 - eddy_rng_unit(r); /* (0, 1]: log stays finite */
    double u2 = eddy_rng_unit(r);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

static int64_t poisson(eddy_rng *r, double lam)
{
    if (lam <= 0)
        return 0;
    if (lam < 30) {
        /* Knuth: multiply uniforms until below e^-lambda. */
        double limit = exp(-lam), p = 1.0;
        int64_t k = -1;
        do {
            k++;
            p *= eddy_rng_unit(r);
        } while (p > limit);
        return k;
    }
    /* Hörmann's PTRS (transformed rejection): constant expected time for
     * large lambda, where Knuth's loop would take lambda steps. */
    double slam = sqrt(lam), loglam = log(lam);
    double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
    double invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
        double u = eddy_rng_unit(r) - 0.5, v = eddy_rng_unit(r);
        double us = 0.5 - fabs(u);
        double k = floor((2 * a / us + b) * u + lam + 0.43);
        if (us >= 0.07 && v <= vr)
            return (int64_t)k;
        if (k < 0 || (us < 0.013 && v > us))
            continue;
        int sign;
        if (log(v) + log(invalpha) - log(a / (us * us) + b) <=
            -lam + k * loglam - lgamma_r(k + 1, &sign))
            return (int64_t)k;
    }
}

eddy_value eddy_gen_dist_sample(const eddy_gen_dist *d, eddy_rng *r, int64_t seq)
{
    switch (d->kind) {
    case EDDY_GEN_NORMAL: return eddy_v_double(d->a + d->b * normal01(r));
    case EDDY_GEN_UNIFORM: return eddy_v_double(d->a + (d->b - d->a) * eddy_rng_unit(r));
    case EDDY_GEN_EXPONENTIAL: return eddy_v_double(-log(1.0 - eddy_rng_unit(r)) / d->a);
    case EDDY_GEN_LOGNORMAL: return eddy_v_double(exp(d->a + d->b * normal01(r)));
    case EDDY_GEN_POISSON: return eddy_v_int(poisson(r, d->a));
    case EDDY_GEN_INT:
        return eddy_v_int((int64_t)((uint64_t)d->lo + eddy_rng_below(r, (uint64_t)d->span)));
    case EDDY_GEN_CATEGORICAL: {
        double u = eddy_rng_unit(r);
        uint32_t lo = 0, hi = d->n - 1;
        while (lo < hi) { /* first index with cum > u */
            uint32_t mid = (lo + hi) / 2;
            if (d->cum[mid] > u)
                hi = mid;
            else
                lo = mid + 1;
        }
        return d->values[lo];
    }
    case EDDY_GEN_BERNOULLI: return eddy_v_bool(eddy_rng_unit(r) < d->a);
    case EDDY_GEN_CONST: return d->values[0];
    case EDDY_GEN_SEQ: return eddy_v_int(seq);
    }
    return eddy_v_null();
}
