/* Metrics registry: identity of series, name/label validation, the exact
 * exposition text, label escaping, and updates racing from threads. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/core/error.h"
#include "engine/obs/metrics.h"
#include "tests/unit/test.h"

/* eddy_buf is not NUL-terminated; tests compare C strings. */
static const char *cstr(eddy_buf *b)
{
    if (eddy_buf_putc(b, '\0') != 0)
        return NULL;
    b->len--;
    return (const char *)b->data;
}

static void test_identity(void)
{
    eddy_metrics *m = eddy_metrics_new();
    CHECK(m != NULL);
    eddy_metric *a = eddy_metrics_get(m, "eddy_x_total", "X.", EDDY_METRIC_COUNTER, "a=\"1\"");
    eddy_metric *b = eddy_metrics_get(m, "eddy_x_total", "X.", EDDY_METRIC_COUNTER, "a=\"1\"");
    eddy_metric *c = eddy_metrics_get(m, "eddy_x_total", "X.", EDDY_METRIC_COUNTER, "a=\"2\"");
    eddy_metric *d = eddy_metrics_get(m, "eddy_x_total", "X.", EDDY_METRIC_COUNTER, NULL);
    eddy_metric *e = eddy_metrics_get(m, "eddy_x_total", "X.", EDDY_METRIC_COUNTER, "");
    CHECK(a != NULL && a == b);
    CHECK(c != NULL && c != a);
    CHECK(d != NULL && d == e && d != a);
    /* same name, other kind */
    CHECK(eddy_metrics_get(m, "eddy_x_total", "X.", EDDY_METRIC_GAUGE, "a=\"1\"") == NULL);
    double bounds[] = {1, 2};
    CHECK(eddy_metrics_hist(m, "eddy_x_total", "X.", NULL, bounds, 2) == NULL);
    eddy_metric *g = eddy_metrics_get(m, "eddy_g", NULL, EDDY_METRIC_GAUGE, NULL);
    CHECK(g != NULL);
    CHECK(eddy_metrics_hist(m, "eddy_g", NULL, NULL, bounds, 2) == NULL);
    CHECK(eddy_metrics_get(m, "eddy_g", NULL, (eddy_metric_kind)7, NULL) == NULL);

    /* names */
    CHECK(eddy_metrics_get(m, "", NULL, EDDY_METRIC_GAUGE, NULL) == NULL);
    CHECK(eddy_metrics_get(m, NULL, NULL, EDDY_METRIC_GAUGE, NULL) == NULL);
    CHECK(eddy_metrics_get(m, "1abc", NULL, EDDY_METRIC_GAUGE, NULL) == NULL);
    CHECK(eddy_metrics_get(m, "a-b", NULL, EDDY_METRIC_GAUGE, NULL) == NULL);
    CHECK(eddy_metrics_get(m, "a b", NULL, EDDY_METRIC_GAUGE, NULL) == NULL);
    CHECK(eddy_metrics_get(m, "_ok:name9", NULL, EDDY_METRIC_GAUGE, NULL) != NULL);
    CHECK(eddy_metrics_get(m, ":colon", NULL, EDDY_METRIC_GAUGE, NULL) != NULL);

    /* malformed pre-rendered labels would corrupt the page */
    CHECK(eddy_metrics_get(m, "eddy_l", NULL, EDDY_METRIC_GAUGE, "a=b") == NULL);
    CHECK(eddy_metrics_get(m, "eddy_l", NULL, EDDY_METRIC_GAUGE, "a=\"x") == NULL);
    CHECK(eddy_metrics_get(m, "eddy_l", NULL, EDDY_METRIC_GAUGE, "a=\"x\",") == NULL);
    CHECK(eddy_metrics_get(m, "eddy_l", NULL, EDDY_METRIC_GAUGE, "a=\"x\nz\"") == NULL);
    CHECK(eddy_metrics_get(m, "eddy_l", NULL, EDDY_METRIC_GAUGE, "a=\"x\\t\"") == NULL);
    CHECK(eddy_metrics_get(m, "eddy_l", NULL, EDDY_METRIC_GAUGE, "9a=\"x\"") == NULL);
    CHECK(eddy_metrics_get(m, "eddy_l", NULL, EDDY_METRIC_GAUGE, "a=\"x\"b=\"y\"") == NULL);
    CHECK(eddy_metrics_get(m, "eddy_l", NULL, EDDY_METRIC_GAUGE, "a=\"x\\\"\",b=\"\"") != NULL);

    /* histogram buckets */
    double bad[] = {1, 1};
    double nan_b[] = {NAN};
    CHECK(eddy_metrics_hist(m, "eddy_h", NULL, NULL, bad, 2) == NULL);
    CHECK(eddy_metrics_hist(m, "eddy_h", NULL, NULL, nan_b, 1) == NULL);
    CHECK(eddy_metrics_hist(m, "eddy_h", NULL, NULL, NULL, 1) == NULL);
    eddy_hist *h = eddy_metrics_hist(m, "eddy_h", NULL, NULL, bounds, 2);
    CHECK(h != NULL);
    CHECK(eddy_metrics_hist(m, "eddy_h", NULL, NULL, bounds, 2) == h);
    CHECK(eddy_metrics_hist(m, "eddy_h", NULL, NULL, bounds, 1) == NULL);
    CHECK(eddy_metrics_get(m, "eddy_h", NULL, EDDY_METRIC_COUNTER, NULL) == NULL);
    eddy_hist_observe(h, 1.5);
    eddy_hist_observe(h, NAN);
    CHECK(eddy_hist_count(h) == 1);
    CHECK(eddy_metrics_hist(m, "eddy_h0", NULL, NULL, NULL, 0) != NULL);

    /* counters only go up; gauges move both ways */
    eddy_metric_add(a, 2);
    eddy_metric_add(a, -5);
    eddy_metric_add(a, NAN);
    CHECK(eddy_metric_value(a) == 2);
    eddy_metric_add(g, 2);
    eddy_metric_add(g, -5);
    CHECK(eddy_metric_value(g) == -3);
    eddy_metric_set(g, 0.25);
    CHECK(eddy_metric_value(g) == 0.25);
    /* a failed creation hands out NULL; using it must not crash */
    eddy_metric_add(NULL, 1);
    eddy_metric_set(NULL, 1);
    eddy_hist_observe(NULL, 1);
    CHECK(eddy_metric_value(NULL) == 0);
    eddy_metrics_free(m);
    eddy_metrics_free(NULL);
}

static void test_label_escaping(void)
{
    eddy_buf b = {0};
    CHECK(eddy_metrics_label(&b, "pipeline", "p") == 0);
    CHECK_STR(cstr(&b), "pipeline=\"p\"");
    CHECK(eddy_metrics_label(&b, "step", "a\"b\\c\nd") == 0);
    CHECK_STR(cstr(&b), "pipeline=\"p\",step=\"a\\\"b\\\\c\\nd\"");
    CHECK(eddy_metrics_label(&b, "empty", NULL) == 0);
    CHECK_STR(cstr(&b), "pipeline=\"p\",step=\"a\\\"b\\\\c\\nd\",empty=\"\"");
    size_t before = b.len;
    CHECK(eddy_metrics_label(&b, "bad-key", "v") == EDDY_EINVAL);
    CHECK(eddy_metrics_label(&b, "", "v") == EDDY_EINVAL);
    CHECK(eddy_metrics_label(&b, "1x", "v") == EDDY_EINVAL);
    CHECK(eddy_metrics_label(&b, NULL, "v") == EDDY_EINVAL);
    CHECK(b.len == before);
    /* the escaped string is accepted back as labels */
    eddy_metrics *m = eddy_metrics_new();
    CHECK(eddy_metrics_get(m, "eddy_esc", NULL, EDDY_METRIC_GAUGE, cstr(&b)) != NULL);
    eddy_metrics_free(m);
    eddy_buf_free(&b);
}

static void test_exposition(void)
{
    eddy_metrics *m = eddy_metrics_new();
    eddy_buf l1 = {0}, l2 = {0}, l3 = {0};
    eddy_metrics_label(&l1, "pipeline", "p");
    eddy_metrics_label(&l1, "step", "filter#0");
    eddy_metrics_label(&l2, "pipeline", "q");
    eddy_metrics_label(&l2, "step", "a\"b\\c\nd");
    eddy_metrics_label(&l3, "pipeline", "p");

    eddy_metric *c1 = eddy_metrics_get(m, "eddy_records_total", "Records processed.",
                                       EDDY_METRIC_COUNTER, cstr(&l1));
    eddy_metric *lag = eddy_metrics_get(m, "eddy_lag", "Consumer lag.\nIn records \\ messages",
                                        EDDY_METRIC_GAUGE, NULL);
    double bounds[] = {0.25, 1, 2.5};
    eddy_hist *h = eddy_metrics_hist(m, "eddy_latency_seconds", "Latency.", cstr(&l3), bounds, 3);
    /* created after the gauge: must still render under its own name */
    eddy_metric *c2 = eddy_metrics_get(m, "eddy_records_total", "ignored, first help wins",
                                       EDDY_METRIC_COUNTER, cstr(&l2));
    eddy_metric *big = eddy_metrics_get(m, "eddy_numbers", NULL, EDDY_METRIC_GAUGE, "n=\"big\"");
    eddy_metric *integ = eddy_metrics_get(m, "eddy_numbers", NULL, EDDY_METRIC_GAUGE, "n=\"int\"");
    eddy_metric *frac = eddy_metrics_get(m, "eddy_numbers", NULL, EDDY_METRIC_GAUGE, "n=\"frac\"");
    eddy_metric *inf = eddy_metrics_get(m, "eddy_numbers", NULL, EDDY_METRIC_GAUGE, "n=\"inf\"");
    eddy_metric *nan = eddy_metrics_get(m, "eddy_numbers", NULL, EDDY_METRIC_GAUGE, "n=\"nan\"");
    eddy_metric *neg0 = eddy_metrics_get(m, "eddy_numbers", NULL, EDDY_METRIC_GAUGE, "n=\"neg0\"");
    double hb[] = {1};
    eddy_hist *h2 = eddy_metrics_hist(m, "eddy_plain_hist", "Plain.", NULL, hb, 1);
    CHECK(c1 && lag && h && c2 && big && integ && frac && inf && nan && neg0 && h2);

    eddy_metric_add(c1, 3);
    eddy_metric_add(c2, 1.5);
    eddy_metric_set(lag, -2);
    eddy_hist_observe(h, 0.125);
    eddy_hist_observe(h, 0.5);
    eddy_hist_observe(h, 1); /* le is inclusive */
    eddy_hist_observe(h, 4);
    eddy_metric_set(big, 1e20);
    eddy_metric_set(integ, 123456789012.0);
    eddy_metric_set(frac, 0.1);
    eddy_metric_set(inf, INFINITY);
    eddy_metric_set(nan, NAN);
    eddy_metric_set(neg0, -0.0);
    eddy_hist_observe(h2, 0.5);
    eddy_hist_observe(h2, 2);
    CHECK(eddy_hist_count(h) == 4);

    eddy_buf out = {0};
    CHECK(eddy_metrics_render(m, &out) == 0);
    CHECK_STR(cstr(&out),
              "# HELP eddy_records_total Records processed.\n"
              "# TYPE eddy_records_total counter\n"
              "eddy_records_total{pipeline=\"p\",step=\"filter#0\"} 3\n"
              "eddy_records_total{pipeline=\"q\",step=\"a\\\"b\\\\c\\nd\"} 1.5\n"
              "# HELP eddy_lag Consumer lag.\\nIn records \\\\ messages\n"
              "# TYPE eddy_lag gauge\n"
              "eddy_lag -2\n"
              "# HELP eddy_latency_seconds Latency.\n"
              "# TYPE eddy_latency_seconds histogram\n"
              "eddy_latency_seconds_bucket{pipeline=\"p\",le=\"0.25\"} 1\n"
              "eddy_latency_seconds_bucket{pipeline=\"p\",le=\"1\"} 3\n"
              "eddy_latency_seconds_bucket{pipeline=\"p\",le=\"2.5\"} 3\n"
              "eddy_latency_seconds_bucket{pipeline=\"p\",le=\"+Inf\"} 4\n"
              "eddy_latency_seconds_sum{pipeline=\"p\"} 5.625\n"
              "eddy_latency_seconds_count{pipeline=\"p\"} 4\n"
              "# TYPE eddy_numbers gauge\n"
              "eddy_numbers{n=\"big\"} 1e+20\n"
              "eddy_numbers{n=\"int\"} 123456789012\n"
              "eddy_numbers{n=\"frac\"} 0.1\n"
              "eddy_numbers{n=\"inf\"} +Inf\n"
              "eddy_numbers{n=\"nan\"} NaN\n"
              "eddy_numbers{n=\"neg0\"} 0\n"
              "# HELP eddy_plain_hist Plain.\n"
              "# TYPE eddy_plain_hist histogram\n"
              "eddy_plain_hist_bucket{le=\"1\"} 1\n"
              "eddy_plain_hist_bucket{le=\"+Inf\"} 2\n"
              "eddy_plain_hist_sum 2.5\n"
              "eddy_plain_hist_count 2\n");
    eddy_buf_reset(&out);
    CHECK(eddy_metrics_render(NULL, &out) == EDDY_EINVAL);
    eddy_metrics *empty = eddy_metrics_new();
    CHECK(eddy_metrics_render(empty, &out) == 0 && out.len == 0);
    eddy_metrics_free(empty);
    eddy_buf_free(&out);
    eddy_buf_free(&l1);
    eddy_buf_free(&l2);
    eddy_buf_free(&l3);
    eddy_metrics_free(m);
}

enum { ITERS = 200000 };

typedef struct shared {
    eddy_metric *c, *g;
    eddy_hist *h;
} shared;

static void *updater(void *arg)
{
    shared *s = arg;
    for (int i = 0; i < ITERS; i++) {
        eddy_metric_add(s->c, 1);
        eddy_metric_add(s->g, 0.5);
        eddy_hist_observe(s->h, (double)(i % 4));
    }
    return NULL;
}

static void test_concurrent_updates(void)
{
    eddy_metrics *m = eddy_metrics_new();
    double bounds[] = {0.5, 1.5};
    shared s = {
        eddy_metrics_get(m, "eddy_c_total", NULL, EDDY_METRIC_COUNTER, NULL),
        eddy_metrics_get(m, "eddy_g", NULL, EDDY_METRIC_GAUGE, NULL),
        eddy_metrics_hist(m, "eddy_h", NULL, NULL, bounds, 2),
    };
    pthread_t t1, t2;
    CHECK(pthread_create(&t1, NULL, updater, &s) == 0);
    CHECK(pthread_create(&t2, NULL, updater, &s) == 0);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    CHECK(eddy_metric_value(s.c) == 2.0 * ITERS);
    CHECK(eddy_metric_value(s.g) == 1.0 * ITERS);
    CHECK(eddy_hist_count(s.h) == 2u * ITERS);
    eddy_buf out = {0};
    CHECK(eddy_metrics_render(m, &out) == 0);
    /* i%4 gives 0,1,2,3 equally: le=0.5 holds a quarter, le=1.5 half */
    CHECK_CONTAINS(cstr(&out), "eddy_h_bucket{le=\"0.5\"} 100000\n");
    CHECK_CONTAINS(cstr(&out), "eddy_h_bucket{le=\"1.5\"} 200000\n");
    CHECK_CONTAINS(cstr(&out), "eddy_h_bucket{le=\"+Inf\"} 400000\n");
    CHECK_CONTAINS(cstr(&out), "eddy_h_sum 600000\n");
    CHECK_CONTAINS(cstr(&out), "eddy_c_total 400000\n");
    eddy_buf_free(&out);
    eddy_metrics_free(m);
}

enum { NSERIES = 300 };

static void *creator(void *arg)
{
    eddy_metrics *m = arg;
    for (int i = 0; i < NSERIES; i++) {
        char labels[32], name[32];
        snprintf(labels, sizeof labels, "i=\"%d\"", i);
        snprintf(name, sizeof name, "eddy_fam%d", i % 7);
        eddy_metric *c = eddy_metrics_get(m, name, "Fam.", EDDY_METRIC_COUNTER, labels);
        eddy_metric_add(c, 1);
    }
    return NULL;
}

/* The main thread renders while another creates series: every render must be
 * well formed, and the last one complete. */
static void test_render_while_creating(void)
{
    eddy_metrics *m = eddy_metrics_new();
    pthread_t t;
    CHECK(pthread_create(&t, NULL, creator, m) == 0);
    eddy_buf out = {0};
    int bad = 0;
    for (int r = 0; r < 200; r++) {
        eddy_buf_reset(&out);
        if (eddy_metrics_render(m, &out) != 0)
            bad++;
        /* each line is a comment or "name{i=\"N\"} value" */
        const char *p = cstr(&out);
        while (p && *p) {
            const char *nl = strchr(p, '\n');
            if (!nl || (*p != '#' && strncmp(p, "eddy_fam", 8) != 0))
                bad++;
            p = nl ? nl + 1 : NULL;
        }
    }
    pthread_join(t, NULL);
    CHECK(bad == 0);
    eddy_buf_reset(&out);
    CHECK(eddy_metrics_render(m, &out) == 0);
    int series = 0;
    for (const char *p = cstr(&out); (p = strstr(p, "{i=\"")); p++)
        series++;
    CHECK(series == NSERIES);
    CHECK_CONTAINS(cstr(&out), "eddy_fam5{i=\"299\"} 1\n");
    eddy_buf_free(&out);
    eddy_metrics_free(m);
}

int main(void)
{
    test_identity();
    test_label_escaping();
    test_exposition();
    test_concurrent_updates();
    test_render_while_creating();
    return test_report();
}
