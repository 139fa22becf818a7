/* Metrics registry. Writers (creation) serialise on a mutex; the lists they
 * build are append-only and every link is published with a release store, so
 * the renderer walks them with acquire loads and never blocks the processing
 * thread, and the processing thread never blocks on a render. Values are
 * doubles kept as their bit pattern in a 64-bit atomic so an update is one
 * relaxed CAS (or fetch_add for bucket counts) without a lock. */
#include "engine/obs/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/error.h"

enum { KIND_COUNTER = EDDY_METRIC_COUNTER, KIND_GAUGE = EDDY_METRIC_GAUGE, KIND_HIST = 2 };

/* Common head of a counter/gauge and a histogram series, so one family keeps
 * one list whatever its kind. */
typedef struct series {
    struct series *_Atomic next;
    char *labels; /* "" when none */
} series;

struct eddy_metric {
    series s;
    int kind;
    _Atomic uint64_t bits;
};

struct eddy_hist {
    series s;
    uint32_t nbounds;
    double *bounds;
    _Atomic uint64_t *counts; /* nbounds + 1, per bucket (not cumulative) */
    _Atomic uint64_t sum_bits;
};

typedef struct family {
    struct family *_Atomic next;
    char *name, *help;
    int kind;
    series *_Atomic first;
    series *last; /* writers only, under the mutex */
} family;

struct eddy_metrics {
    pthread_mutex_t mu;
    family *_Atomic first;
    family *last;
};

static uint64_t dbits(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}

static double bitsd(uint64_t u)
{
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static void atomic_add_double(_Atomic uint64_t *p, double v)
{
    uint64_t old = atomic_load_explicit(p, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(p, &old, dbits(bitsd(old) + v),
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

eddy_metrics *eddy_metrics_new(void)
{
    eddy_metrics *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    if (pthread_mutex_init(&m->mu, NULL) != 0) {
        free(m);
        return NULL;
    }
    return m;
}

static void series_free(int kind, series *s)
{
    if (kind == KIND_HIST) {
        eddy_hist *h = (eddy_hist *)s;
        free(h->bounds);
        free((void *)h->counts);
    }
    free(s->labels);
    free(s);
}

void eddy_metrics_free(eddy_metrics *m)
{
    if (!m)
        return;
    family *f = atomic_load(&m->first);
    while (f) {
        family *fn = atomic_load(&f->next);
        series *s = atomic_load(&f->first);
        while (s) {
            series *sn = atomic_load(&s->next);
            series_free(f->kind, s);
            s = sn;
        }
        free(f->name);
        free(f->help);
        free(f);
        f = fn;
    }
    pthread_mutex_destroy(&m->mu);
    free(m);
}

static bool name_ok(const char *s)
{
    if (!s || !*s)
        return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        if (!alpha && !(p > s && c >= '0' && c <= '9'))
            return false;
    }
    return true;
}

static bool label_key_char(char c, bool first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           (!first && c >= '0' && c <= '9');
}

/* Pre-rendered labels end up verbatim in the exposition; a malformed string
 * would corrupt the whole page, so check the grammar once at creation:
 * key="value"(,key="value")* with \\ \" \n as the only escapes. */
static bool labels_ok(const char *s)
{
    const char *p = s;
    while (*p) {
        if (!label_key_char(*p, true))
            return false;
        while (label_key_char(*p, false))
            p++;
        if (p[0] != '=' || p[1] != '"')
            return false;
        p += 2;
        for (;; p++) {
            if (*p == '\0' || *p == '\n')
                return false;
            if (*p == '"')
                break;
            if (*p == '\\') {
                p++;
                if (*p != '\\' && *p != '"' && *p != 'n')
                    return false;
            }
        }
        p++;
        if (*p == ',' && p[1] != '\0')
            p++;
        else if (*p != '\0')
            return false;
    }
    return true;
}

static family *family_find(eddy_metrics *m, const char *name)
{
    for (family *f = atomic_load_explicit(&m->first, memory_order_acquire); f;
         f = atomic_load_explicit(&f->next, memory_order_acquire))
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

static series *series_find(family *f, const char *labels)
{
    for (series *s = atomic_load_explicit(&f->first, memory_order_acquire); s;
         s = atomic_load_explicit(&s->next, memory_order_acquire))
        if (strcmp(s->labels, labels) == 0)
            return s;
    return NULL;
}

/* Under the mutex: the family for name/kind, created if new; NULL when the
 * name is taken by another kind or memory runs out. */
static family *family_get(eddy_metrics *m, const char *name, const char *help, int kind)
{
    family *f = family_find(m, name);
    if (f)
        return f->kind == kind ? f : NULL;
    f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->name = strdup(name);
    f->help = help && *help ? strdup(help) : NULL;
    if (!f->name || (help && *help && !f->help)) {
        free(f->name);
        free(f->help);
        free(f);
        return NULL;
    }
    f->kind = kind;
    if (m->last)
        atomic_store_explicit(&m->last->next, f, memory_order_release);
    else
        atomic_store_explicit(&m->first, f, memory_order_release);
    m->last = f;
    return f;
}

static void series_publish(family *f, series *s)
{
    if (f->last)
        atomic_store_explicit(&f->last->next, s, memory_order_release);
    else
        atomic_store_explicit(&f->first, s, memory_order_release);
    f->last = s;
}

eddy_metric *eddy_metrics_get(eddy_metrics *m, const char *name, const char *help,
                              eddy_metric_kind kind, const char *labels)
{
    if (!labels)
        labels = "";
    if (!m || !name_ok(name) || !labels_ok(labels) ||
        (kind != EDDY_METRIC_COUNTER && kind != EDDY_METRIC_GAUGE))
        return NULL;
    eddy_metric *res = NULL;
    pthread_mutex_lock(&m->mu);
    family *f = family_get(m, name, help, (int)kind);
    if (!f)
        goto out;
    res = (eddy_metric *)series_find(f, labels);
    if (res)
        goto out;
    res = calloc(1, sizeof *res);
    if (!res)
        goto out;
    res->s.labels = strdup(labels);
    if (!res->s.labels) {
        free(res);
        res = NULL;
        goto out;
    }
    res->kind = (int)kind;
    atomic_init(&res->bits, dbits(0.0));
    series_publish(f, &res->s);
out:
    pthread_mutex_unlock(&m->mu);
    return res;
}

/* Counters only go up: a negative or NaN increment is a caller bug that
 * would make rate() report a reset, so it is dropped. Gauges take anything. */
void eddy_metric_add(eddy_metric *c, double v)
{
    if (!c || v == 0.0 || (c->kind == KIND_COUNTER && !(v > 0.0)))
        return;
    atomic_add_double(&c->bits, v);
}

void eddy_metric_set(eddy_metric *g, double v)
{
    if (g)
        atomic_store_explicit(&g->bits, dbits(v), memory_order_relaxed);
}

double eddy_metric_value(const eddy_metric *c)
{
    if (!c)
        return 0.0;
    return bitsd(atomic_load_explicit(&((eddy_metric *)c)->bits, memory_order_relaxed));
}

static bool bounds_ok(const double *b, uint32_t n)
{
    if (n && !b)
        return false;
    for (uint32_t i = 0; i < n; i++)
        if (!isfinite(b[i]) || (i && !(b[i] > b[i - 1])))
            return false;
    return true;
}

eddy_hist *eddy_metrics_hist(eddy_metrics *m, const char *name, const char *help,
                             const char *labels, const double *bounds, uint32_t nbounds)
{
    if (!labels)
        labels = "";
    if (!m || !name_ok(name) || !labels_ok(labels) || !bounds_ok(bounds, nbounds))
        return NULL;
    eddy_hist *h = NULL;
    pthread_mutex_lock(&m->mu);
    family *f = family_get(m, name, help, KIND_HIST);
    if (!f)
        goto out;
    h = (eddy_hist *)series_find(f, labels);
    if (h) {
        /* Same series asked with other buckets: the caller's two views of it
         * would disagree, so refuse rather than hand back the first. */
        if (h->nbounds != nbounds ||
            (nbounds && memcmp(h->bounds, bounds, nbounds * sizeof *bounds) != 0))
            h = NULL;
        goto out;
    }
    h = calloc(1, sizeof *h);
    if (!h)
        goto out;
    h->s.labels = strdup(labels);
    h->bounds = malloc((nbounds ? nbounds : 1) * sizeof *bounds);
    h->counts = calloc((size_t)nbounds + 1, sizeof *h->counts);
    if (!h->s.labels || !h->bounds || !h->counts) {
        series_free(KIND_HIST, &h->s);
        h = NULL;
        goto out;
    }
    if (nbounds)
        memcpy(h->bounds, bounds, nbounds * sizeof *bounds);
    h->nbounds = nbounds;
    atomic_init(&h->sum_bits, dbits(0.0));
    series_publish(f, &h->s);
out:
    pthread_mutex_unlock(&m->mu);
    return h;
}

/* NaN has no bucket and would poison _sum for good: dropped. */
void eddy_hist_observe(eddy_hist *h, double v)
{
    if (!h || isnan(v))
        return;
    uint32_t lo = 0, hi = h->nbounds; /* first bound >= v, or nbounds (+Inf) */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (h->bounds[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    atomic_fetch_add_explicit(&h->counts[lo], 1, memory_order_relaxed);
    atomic_add_double(&h->sum_bits, v);
}

/* The count is the sum of the buckets rather than a separate atomic, so a
 * render racing an observe still shows +Inf bucket == _count. */
uint64_t eddy_hist_count(const eddy_hist *h)
{
    if (!h)
        return 0;
    uint64_t n = 0;
    for (uint32_t i = 0; i <= h->nbounds; i++)
        n += atomic_load_explicit(&h->counts[i], memory_order_relaxed);
    return n;
}

static int put_label_value(eddy_buf *out, const char *v)
{
    for (const char *p = v; *p; p++) {
        int rc;
        switch (*p) {
        case '\\': rc = eddy_buf_put(out, "\\\\", 2); break;
        case '"': rc = eddy_buf_put(out, "\\\"", 2); break;
        case '\n': rc = eddy_buf_put(out, "\\n", 2); break;
        default: rc = eddy_buf_putc(out, *p);
        }
        if (rc != 0)
            return EDDY_ENOMEM;
    }
    return 0;
}

int eddy_metrics_label(eddy_buf *out, const char *key, const char *value)
{
    if (!out || !key || !label_key_char(*key, true))
        return EDDY_EINVAL;
    for (const char *p = key + 1; *p; p++)
        if (!label_key_char(*p, false))
            return EDDY_EINVAL;
    if (out->len && eddy_buf_putc(out, ',') != 0)
        return EDDY_ENOMEM;
    if (eddy_buf_puts(out, key) != 0 || eddy_buf_put(out, "=\"", 2) != 0)
        return EDDY_ENOMEM;
    int rc = put_label_value(out, value ? value : "");
    if (rc != 0)
        return rc;
    return eddy_buf_putc(out, '"') == 0 ? 0 : EDDY_ENOMEM;
}

/* HELP text escapes only backslash and newline (format 0.0.4). */
static int put_help(eddy_buf *out, const char *s)
{
    for (const char *p = s; *p; p++) {
        int rc = *p == '\\' ? eddy_buf_put(out, "\\\\", 2)
                 : *p == '\n' ? eddy_buf_put(out, "\\n", 2)
                              : eddy_buf_putc(out, *p);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* Integral values print as integers (no exponent, no ".0") because that is
 * what people grep for; others use the shortest form that reads back the
 * same double. */
static int put_num(eddy_buf *out, double v)
{
    char tmp[64];
    if (isnan(v))
        return eddy_buf_puts(out, "NaN");
    if (isinf(v))
        return eddy_buf_puts(out, v > 0 ? "+Inf" : "-Inf");
    if (v == 0.0)
        return eddy_buf_putc(out, '0'); /* also -0 */
    if (v == trunc(v) && fabs(v) < 1e18) {
        snprintf(tmp, sizeof tmp, "%.0f", v);
        return eddy_buf_puts(out, tmp);
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    return eddy_buf_puts(out, tmp);
}

/* name + suffix + {labels[,extra]} + ' ' */
static int put_series_name(eddy_buf *out, const char *name, const char *suffix,
                           const char *labels, const char *extra_key, double extra_val)
{
    if (eddy_buf_puts(out, name) != 0 || eddy_buf_puts(out, suffix) != 0)
        return -1;
    bool any = *labels || extra_key;
    if (any && eddy_buf_putc(out, '{') != 0)
        return -1;
    if (eddy_buf_puts(out, labels) != 0)
        return -1;
    if (extra_key) {
        if ((*labels && eddy_buf_putc(out, ',') != 0) || eddy_buf_puts(out, extra_key) != 0 ||
            eddy_buf_put(out, "=\"", 2) != 0 || put_num(out, extra_val) != 0 ||
            eddy_buf_putc(out, '"') != 0)
            return -1;
    }
    if (any && eddy_buf_putc(out, '}') != 0)
        return -1;
    return eddy_buf_putc(out, ' ');
}

static int render_hist(eddy_buf *out, const char *name, eddy_hist *h)
{
    uint64_t cum = 0;
    for (uint32_t i = 0; i <= h->nbounds; i++) {
        cum += atomic_load_explicit(&h->counts[i], memory_order_relaxed);
        double le = i < h->nbounds ? h->bounds[i] : INFINITY;
        if (put_series_name(out, name, "_bucket", h->s.labels, "le", le) != 0 ||
            eddy_buf_printf(out, "%llu\n", (unsigned long long)cum) != 0)
            return -1;
    }
    double sum = bitsd(atomic_load_explicit(&h->sum_bits, memory_order_relaxed));
    if (put_series_name(out, name, "_sum", h->s.labels, NULL, 0) != 0 || put_num(out, sum) != 0 ||
        eddy_buf_putc(out, '\n') != 0)
        return -1;
    if (put_series_name(out, name, "_count", h->s.labels, NULL, 0) != 0 ||
        eddy_buf_printf(out, "%llu\n", (unsigned long long)cum) != 0)
        return -1;
    return 0;
}

static const char *const kind_names[] = {"counter", "gauge", "histogram"};

int eddy_metrics_render(eddy_metrics *m, eddy_buf *out)
{
    if (!m || !out)
        return EDDY_EINVAL;
    for (family *f = atomic_load_explicit(&m->first, memory_order_acquire); f;
         f = atomic_load_explicit(&f->next, memory_order_acquire)) {
        if (f->help) {
            if (eddy_buf_printf(out, "# HELP %s ", f->name) != 0 || put_help(out, f->help) != 0 ||
                eddy_buf_putc(out, '\n') != 0)
                return EDDY_ENOMEM;
        }
        if (eddy_buf_printf(out, "# TYPE %s %s\n", f->name, kind_names[f->kind]) != 0)
            return EDDY_ENOMEM;
        for (series *s = atomic_load_explicit(&f->first, memory_order_acquire); s;
             s = atomic_load_explicit(&s->next, memory_order_acquire)) {
            if (f->kind == KIND_HIST) {
                if (render_hist(out, f->name, (eddy_hist *)s) != 0)
                    return EDDY_ENOMEM;
                continue;
            }
            if (put_series_name(out, f->name, "", s->labels, NULL, 0) != 0 ||
                put_num(out, eddy_metric_value((eddy_metric *)s)) != 0 ||
                eddy_buf_putc(out, '\n') != 0)
                return EDDY_ENOMEM;
        }
    }
    return 0;
}
