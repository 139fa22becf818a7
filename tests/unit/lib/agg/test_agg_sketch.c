/* Sketches within their documented error: DDSketch quantiles, HyperLogLog
 * distinct counts, space-saving top-k; merges and serialisation. */
#include <float.h>

#include "tests/unit/lib/agg/agg_util.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void *add_all(const eddy_agg_spec *s, const double *xs, size_t n)
{
    void *st = state_new(s);
    size_t refused = 0;
    for (size_t i = 0; i < n; i++) {
        eddy_value v = eddy_v_double(xs[i]);
        refused += eddy_agg_add(s, st, &v, (int64_t)i) != 0;
    }
    CHECK(refused == 0);
    return st;
}

/* quantile at each q within relative error alpha of the exact value of
 * rank floor(q (n - 1)); merge of random splits gives the same answer. */
static void check_quantiles(const char *fmt, double alpha, double *xs, size_t n, eddy_batch *b)
{
    static const double qs[] = {0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999};
    double *sorted = malloc(n * sizeof *sorted);
    uint8_t *pick = malloc(n);
    if (!sorted || !pick)
        exit(1);
    memcpy(sorted, xs, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_double);
    for (size_t qi = 0; qi < sizeof qs / sizeof qs[0]; qi++) {
        char text[128];
        snprintf(text, sizeof text, fmt, qs[qi]);
        eddy_agg_spec *s = spec_ok(text);
        CHECK(eddy_agg_error(s) == alpha);
        void *st = add_all(s, xs, n);
        double want = sorted[(size_t)floor(qs[qi] * (double)(n - 1))];
        double got = as_double(eddy_agg_result(s, st, 0, b));
        double err = want == 0 ? fabs(got) : fabs(got - want) / fabs(want);
        CHECK_MSG(err <= alpha * (1 + 1e-9), "%s: %.9g, exact %.9g, relative error %.5f > %g",
                  text, got, want, err, alpha);
        /* merge of 4 random panes: the same buckets, so the same answer */
        void *pane[4], *acc = state_new(s);
        for (size_t i = 0; i < n; i++)
            pick[i] = (uint8_t)(rng_u64() % 4);
        for (int p = 0; p < 4; p++) {
            pane[p] = state_new(s);
            for (size_t i = 0; i < n; i++) {
                eddy_value v = eddy_v_double(xs[i]);
                if (pick[i] == p)
                    eddy_agg_add(s, pane[p], &v, 0);
            }
            eddy_agg_merge(s, acc, pane[p]);
        }
        double merged = as_double(eddy_agg_result(s, acc, 0, b));
        CHECK_MSG(merged == got, "%s: merged %.17g, added %.17g", text, merged, got);
        if (qi == 4)
            check_roundtrip(s, st, b, true);
        for (int p = 0; p < 4; p++)
            free(pane[p]);
        free(acc);
        free(st);
        eddy_agg_spec_free(s);
    }
    free(sorted);
    free(pick);
}

static void test_quantile(eddy_batch *b)
{
    size_t n = 100000;
    double *xs = malloc(n * sizeof *xs);
    if (!xs)
        exit(1);
    rng_seed(7);
    for (size_t i = 0; i < n; i++)
        xs[i] = exp(rng_normal()) * 50.0; /* lognormal amounts */
    check_quantiles("quantile(x, %g)", 0.01, xs, n, b);
    check_quantiles("quantile(x, %g, 0.05)", 0.05, xs, n, b);
    /* negatives and zeros */
    for (size_t i = 0; i < n; i++) {
        uint64_t r = rng_u64() % 10;
        xs[i] = r == 0 ? 0.0 : rng_normal() * 1000.0;
    }
    check_quantiles("quantile(x, %g)", 0.01, xs, n, b);
    for (size_t i = 0; i < n; i++)
        xs[i] = -exp(rng_normal() * 2); /* within 1024 buckets: no collapsing */
    check_quantiles("quantile(x, %g)", 0.01, xs, n, b);

    /* magnitudes over ~23 decades, more than 1024 buckets span: the lowest
     * collapse, high quantiles keep their guarantee */
    for (size_t i = 0; i < n; i++)
        xs[i] = exp(rng_normal() * 6);
    double *sorted = malloc(n * sizeof *sorted);
    if (!sorted)
        exit(1);
    memcpy(sorted, xs, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_double);
    eddy_agg_spec *s = spec_ok("quantile(x, 0.99)");
    void *st = add_all(s, xs, n);
    double want = sorted[(size_t)floor(0.99 * (double)(n - 1))];
    double got = as_double(eddy_agg_result(s, st, 0, b));
    CHECK_MSG(fabs(got - want) <= 0.01 * want * (1 + 1e-9), "collapsed p99 %.9g vs %.9g", got,
              want);
    check_roundtrip(s, st, b, true);
    /* merging collapsed sketches keeps the high quantile too */
    void *a = add_all(s, xs, n / 2), *c = add_all(s, xs + n / 2, n - n / 2);
    eddy_agg_merge(s, a, c);
    got = as_double(eddy_agg_result(s, a, 0, b));
    CHECK_MSG(fabs(got - want) <= 0.01 * want * (1 + 1e-9), "merged collapsed p99 %.9g vs %.9g",
              got, want);
    free(a);
    free(c);
    free(st);
    eddy_agg_spec_free(s);

    /* empty is null; one value is exact (clamped to [min, max]); extremes */
    s = spec_ok("quantile(x, 0.5)");
    st = state_new(s);
    CHECK(eddy_agg_result(s, st, 0, b).type == EDDY_NULL);
    eddy_value v = eddy_v_double(123.456), str = eddy_v_str("x", 1);
    eddy_agg_add(s, st, &v, 0);
    CHECK(as_double(eddy_agg_result(s, st, 0, b)) == 123.456);
    CHECK(eddy_agg_add(s, st, &str, 0) == -1);
    double ext[] = {DBL_MAX, -DBL_MAX, DBL_MIN, -DBL_MIN, 4.9e-324, 1e-310, 0.0, -0.0};
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        v = eddy_v_double(ext[i]);
        eddy_agg_add(s, st, &v, 0);
    }
    got = as_double(eddy_agg_result(s, st, 0, b));
    CHECK(isfinite(got));
    check_roundtrip(s, st, b, true);
    /* a state is refused by a spec with other parameters */
    eddy_agg_spec *other = spec_ok("quantile(x, 0.5, 0.02)");
    void *o = state_new(other);
    eddy_buf buf = {0};
    CHECK(eddy_agg_serialize(s, st, &buf) == 0);
    CHECK(eddy_agg_deserialize(other, o, buf.data, buf.len) == EDDY_EPARSE);
    eddy_buf_free(&buf);
    free(o);
    eddy_agg_spec_free(other);
    free(st);
    eddy_agg_spec_free(s);
    free(sorted);
    free(xs);
}

static void test_distinct(eddy_batch *b)
{
    static const long cards[] = {10, 300, 1000, 20000, 100000, 1000000};
    eddy_agg_spec *s = spec_ok("distinct(x)"), *s14 = spec_ok("distinct(x, 14)");
    double se = eddy_agg_error(s), se14 = eddy_agg_error(s14);
    CHECK(fabs(se - 0.01625) < 1e-9);
    char str[32];
    for (size_t c = 0; c < sizeof cards / sizeof cards[0]; c++) {
        long n = cards[c];
        void *ints = state_new(s), *strs = state_new(s), *p14 = state_new(s14);
        void *half[2] = {state_new(s), state_new(s)};
        uint64_t base = rng_u64();
        for (long i = 0; i < n; i++) {
            /* every value twice, so duplicates are exercised */
            for (int rep = 0; rep < 2; rep++) {
                eddy_value v = eddy_v_int((int64_t)(base + (uint64_t)i * 7919));
                int len = snprintf(str, sizeof str, "merchant-%ld", i);
                eddy_value sv = eddy_v_str(str, (uint32_t)len);
                eddy_agg_add(s, ints, &v, 0);
                eddy_agg_add(s, strs, &sv, 0);
                eddy_agg_add(s14, p14, &v, 0);
                eddy_agg_add(s, half[rng_u64() % 2], &v, 0);
            }
        }
        double gi = as_double(eddy_agg_result(s, ints, 0, b));
        double gs = as_double(eddy_agg_result(s, strs, 0, b));
        double g14 = as_double(eddy_agg_result(s14, p14, 0, b));
        printf("distinct %7ld: ints %.0f (%+.2f%%), strings %.0f (%+.2f%%), p=14 %.0f (%+.2f%%)\n",
               n, gi, 100 * (gi - n) / n, gs, 100 * (gs - n) / n, g14, 100 * (g14 - n) / n);
        if (n <= 300) { /* the exact set */
            CHECK_MSG(gi == (double)n && gs == (double)n, "distinct %ld: %g / %g", n, gi, gs);
        }
        CHECK_MSG(fabs(gi - n) <= 3 * se * n, "distinct ints %ld: %.0f (%.2f%%)", n, gi,
                  100 * (gi - n) / n);
        CHECK_MSG(fabs(gs - n) <= 3 * se * n, "distinct strings %ld: %.0f (%.2f%%)", n, gs,
                  100 * (gs - n) / n);
        CHECK_MSG(fabs(g14 - n) <= 3 * se14 * n, "distinct p=14 %ld: %.0f (%.2f%%)", n, g14,
                  100 * (g14 - n) / n);
        /* a merge is the union of registers: equal to adding everything */
        eddy_agg_merge(s, half[0], half[1]);
        CHECK_MSG(as_double(eddy_agg_result(s, half[0], 0, b)) == gi, "distinct %ld: merge", n);
        check_roundtrip(s, ints, b, n > 300);
        check_roundtrip(s14, p14, b, n > 300);
        free(ints);
        free(strs);
        free(p14);
        free(half[0]);
        free(half[1]);
    }
    /* by value: 5, 5.0 and "5" */
    void *st = state_new(s);
    eddy_value vals[] = {eddy_v_int(5), eddy_v_double(5.0), eddy_v_str("5", 1), eddy_v_bool(1),
                         eddy_v_int(1), eddy_v_double(-0.0), eddy_v_int(0), eddy_v_null()};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
        CHECK(eddy_agg_add(s, st, &vals[i], 0) == 0);
    CHECK(as_double(eddy_agg_result(s, st, 0, b)) == 4.0);
    eddy_value arr = {.type = EDDY_ARRAY};
    CHECK(eddy_agg_add(s, st, &arr, 0) == -1);
    /* refused by another precision */
    void *o = state_new(s14);
    eddy_buf buf = {0};
    CHECK(eddy_agg_serialize(s, st, &buf) == 0);
    CHECK(eddy_agg_deserialize(s14, o, buf.data, buf.len) == EDDY_EPARSE);
    eddy_buf_free(&buf);
    free(o);
    free(st);
    eddy_agg_spec_free(s);
    eddy_agg_spec_free(s14);
}

/* Zipf-like stream over 2000 values. */
static uint32_t zipf(void)
{
    double u = rng_unit();
    return (uint32_t)floor(pow(2001.0, u)) - 1; /* P(v) ~ 1 / (v + 1) */
}

static void check_topk(const eddy_agg_spec *s, const void *st, const uint64_t *truth,
                       uint64_t total, eddy_batch *b, const char *what)
{
    eddy_value r = eddy_agg_result(s, st, 0, b);
    uint32_t cap = (uint32_t)llround(1.0 / eddy_agg_error(s));
    double bound = (double)total / cap;
    CHECK(r.type == EDDY_ARRAY && r.len == 10);
    if (r.type != EDDY_ARRAY)
        return;
    int64_t prev = INT64_MAX;
    for (uint32_t i = 0; i < r.len; i++) {
        const eddy_value *m = &r.u.items[i];
        CHECK(m->type == EDDY_MAP && m->len == 2);
        CHECK_STR(m->u.kvs[0].key.u.s[0] == 'v' ? "value" : "?", "value");
        int64_t val = m->u.kvs[0].val.u.i, count = m->u.kvs[1].val.u.i;
        CHECK(count <= prev);
        prev = count;
        CHECK_MSG(val >= 0 && val < 2000 && (uint64_t)count >= truth[val] &&
                      (double)count <= (double)truth[val] + bound,
                  "%s: value %lld count %lld, true %llu, bound %.0f", what, (long long)val,
                  (long long)count, (unsigned long long)truth[val], bound);
    }
    /* every value above N / cap is kept and, above the bound plus every
     * other estimate, reported */
    for (int v = 0; v < 2000; v++) {
        if ((double)truth[v] <= 2 * bound)
            continue;
        bool found = false;
        for (uint32_t i = 0; i < r.len; i++)
            found |= r.u.items[i].u.kvs[0].val.u.i == v;
        CHECK_MSG(found, "%s: value %d (true count %llu > 2 N/cap) missing", what, v,
                  (unsigned long long)truth[v]);
    }
}

/* ten heavy values (3 % to 20 % of the stream) over a uniform tail */
static uint32_t heavy(void)
{
    static const double share[10] = {.20, .15, .12, .10, .08, .07, .06, .05, .04, .03};
    double u = rng_unit();
    for (uint32_t v = 0; v < 10; v++) {
        if (u < share[v])
            return v;
        u -= share[v];
    }
    return 10 + (uint32_t)(rng_u64() % 1990);
}

/* dist 0: zipf (count bounds), 1: heavy hitters (they must be reported) */
static void topk_stream(const eddy_agg_spec *s, int dist, eddy_batch *b)
{
    static uint64_t truth[2000];
    size_t n = 200000;
    memset(truth, 0, sizeof truth);
    void *all = state_new(s), *pane[3] = {state_new(s), state_new(s), state_new(s)};
    for (size_t i = 0; i < n; i++) {
        uint32_t z = dist ? heavy() : zipf();
        truth[z]++;
        /* ints and integral doubles are one value */
        eddy_value v = i % 2 ? eddy_v_int(z) : eddy_v_double(z);
        eddy_agg_add(s, all, &v, 0);
        eddy_agg_add(s, pane[rng_u64() % 3], &v, 0);
    }
    check_topk(s, all, truth, n, b, dist ? "heavy, added" : "zipf, added");
    eddy_agg_merge(s, pane[0], pane[1]);
    eddy_agg_merge(s, pane[0], pane[2]);
    check_topk(s, pane[0], truth, n, b, dist ? "heavy, merged" : "zipf, merged");
    check_roundtrip(s, all, b, true);
    check_roundtrip(s, pane[0], b, true);
    free(all);
    for (int p = 0; p < 3; p++)
        free(pane[p]);
}

static void test_topk(eddy_batch *b)
{
    eddy_agg_spec *s = spec_ok("topk(x, 10)");
    rng_seed(99);
    topk_stream(s, 0, b);
    topk_stream(s, 1, b);
    eddy_agg_spec_free(s);

    /* strings: long ones are told apart by their hash, shown cut to 64 bytes */
    s = spec_ok("topk(x, 3)");
    void *st = state_new(s);
    char lng[2][100];
    for (int k = 0; k < 2; k++) {
        memset(lng[k], 'm', 100);
        lng[k][99] = (char)('0' + k);
    }
    for (int rep = 0; rep < 5; rep++) {
        eddy_value a = eddy_v_str(lng[0], 100), c = eddy_v_str(lng[1], 100);
        eddy_value d = eddy_v_str("acme", 4);
        eddy_agg_add(s, st, &a, 0);
        if (rep < 3)
            eddy_agg_add(s, st, &c, 0);
        if (rep < 1)
            eddy_agg_add(s, st, &d, 0);
    }
    eddy_value bl = eddy_v_bool(1), arr = {.type = EDDY_ARRAY};
    CHECK(eddy_agg_add(s, st, &bl, 0) == 0);
    CHECK(eddy_agg_add(s, st, &arr, 0) == -1);
    eddy_value r = eddy_agg_result(s, st, 0, b);
    CHECK(r.type == EDDY_ARRAY && r.len == 3);
    if (r.type == EDDY_ARRAY && r.len == 3) {
        CHECK(r.u.items[0].u.kvs[1].val.u.i == 5 && r.u.items[0].u.kvs[0].val.len == 64);
        CHECK(r.u.items[1].u.kvs[1].val.u.i == 3 && r.u.items[1].u.kvs[0].val.len == 64);
        CHECK(r.u.items[2].u.kvs[1].val.u.i == 1);
    }
    check_roundtrip(s, st, b, true);
    eddy_agg_init(s, st);
    r = eddy_agg_result(s, st, 0, b);
    CHECK(r.type == EDDY_ARRAY && r.len == 0);
    free(st);
    eddy_agg_spec_free(s);
}

int main(void)
{
    eddy_batch *b = eddy_batch_new(16, 0);
    if (!b)
        return 1;
    rng_seed(1);
    test_quantile(b);
    eddy_batch_reset(b);
    test_distinct(b);
    eddy_batch_reset(b);
    test_topk(b);
    eddy_batch_destroy(b);
    return test_report();
}
