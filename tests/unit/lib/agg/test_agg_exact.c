/* Exact aggregates against brute force on seeded random streams: results,
 * merges over random splits, serialisation, wrong types. */
#include "tests/unit/lib/agg/agg_util.h"

#define N 20000

typedef struct rec {
    eddy_value v;
    int64_t ts;
} rec;

static rec stream[N];
static char strpool[N][8];

/* Ints, doubles (some large, some negative), bools, nulls and strings that
 * numeric aggregates must refuse. Timestamps from a small range so ties are
 * common. */
static void make_stream(void)
{
    rng_seed(42);
    for (int i = 0; i < N; i++) {
        uint64_t r = rng_u64() % 100;
        stream[i].ts = 1700000000000LL + (int64_t)(rng_u64() % 500);
        if (r < 40)
            stream[i].v = eddy_v_double(exp(rng_normal()) * 100.0);
        else if (r < 60)
            stream[i].v = eddy_v_double(rng_normal() * 1e6 + 1e9);
        else if (r < 80)
            stream[i].v = eddy_v_int((int64_t)(rng_u64() % 2000001) - 1000000);
        else if (r < 85)
            stream[i].v = eddy_v_bool((int)(rng_u64() % 2));
        else if (r < 92)
            stream[i].v = eddy_v_null();
        else {
            snprintf(strpool[i], sizeof strpool[i], "s%d", (int)(rng_u64() % 1000));
            stream[i].v = eddy_v_str(strpool[i], (uint32_t)strlen(strpool[i]));
        }
    }
}

static bool numeric(const eddy_value *v, double *x) { return eddy_value_number(v, x); }

/* Adds records [from, to) (or those with pick[i] == side) to st; returns how
 * many were refused. */
static int feed(const eddy_agg_spec *s, void *st, int from, int to, const uint8_t *pick,
                int side)
{
    int bad = 0;
    for (int i = from; i < to; i++)
        if (!pick || pick[i] == side)
            bad += eddy_agg_add(s, st, &stream[i].v, stream[i].ts) != 0;
    return bad;
}

typedef struct truth {
    long n, nonnull, nnum, nbad;
    long double sum;
    double min, max, mean, var;
} truth;

static truth brute(void)
{
    truth t = {0};
    t.min = INFINITY;
    t.max = -INFINITY;
    double x;
    for (int i = 0; i < N; i++) {
        t.n++;
        if (stream[i].v.type == EDDY_NULL)
            continue;
        t.nonnull++;
        if (!numeric(&stream[i].v, &x)) {
            t.nbad++;
            continue;
        }
        t.nnum++;
        t.sum += x;
        if (x < t.min)
            t.min = x;
        if (x > t.max)
            t.max = x;
    }
    t.mean = (double)(t.sum / t.nnum);
    long double m2 = 0;
    for (int i = 0; i < N; i++)
        if (numeric(&stream[i].v, &x))
            m2 += ((long double)x - t.mean) * ((long double)x - t.mean);
    t.var = (double)(m2 / (t.nnum - 1));
    return t;
}

static const char *const exact_specs[] = {
    "count()", "count(x)", "sum(x)", "mean(x)", "min(x)", "max(x)", "variance(x)",
    "stddev(x)", "rate()", "rate(x)", "histogram(x, -1000000, 1000000000, 16)",
};

static void test_against_brute(eddy_batch *b)
{
    truth t = brute();
    struct {
        const char *spec;
        double want;
        long bad;
    } cases[] = {
        {"count()", (double)t.n, 0},
        {"count(x)", (double)t.nonnull, 0},
        {"sum(x)", (double)t.sum, t.nbad},
        {"mean(x)", t.mean, t.nbad},
        {"min(x)", t.min, t.nbad},
        {"max(x)", t.max, t.nbad},
        {"variance(x)", t.var, t.nbad},
        {"stddev(x)", sqrt(t.var), t.nbad},
        {"rate()", (double)t.n / 60.0, 0},
        {"rate(x)", (double)t.sum / 60.0, t.nbad},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        eddy_agg_spec *s = spec_ok(cases[c].spec);
        void *st = state_new(s);
        int bad = feed(s, st, 0, N, NULL, 0);
        CHECK_MSG(bad == cases[c].bad, "%s: %d refused, expected %ld", cases[c].spec, bad,
                  cases[c].bad);
        double got = as_double(eddy_agg_result(s, st, 60000, b));
        CHECK_MSG(rel_close(got, cases[c].want, 1e-9), "%s: %.17g, expected %.17g",
                  cases[c].spec, got, cases[c].want);
        free(st);
        eddy_agg_spec_free(s);
    }
}

static void test_histogram(eddy_batch *b)
{
    eddy_agg_spec *s = spec_ok("histogram(x, -100, 300, 8)");
    void *st = state_new(s);
    uint64_t want[10] = {0};
    double x;
    for (int i = 0; i < N; i++) {
        eddy_agg_add(s, st, &stream[i].v, stream[i].ts);
        if (!numeric(&stream[i].v, &x))
            continue;
        if (x < -100)
            want[0]++;
        else if (x >= 300)
            want[9]++;
        else
            want[1 + (int)floor((x + 100) / 50)]++;
    }
    eddy_value r = eddy_agg_result(s, st, 0, b);
    CHECK(r.type == EDDY_ARRAY && r.len == 10);
    for (uint32_t i = 0; i < 10 && r.type == EDDY_ARRAY; i++)
        CHECK_MSG(r.u.items[i].type == EDDY_INT && (uint64_t)r.u.items[i].u.i == want[i],
                  "bin %u: %lld, expected %llu", i, (long long)r.u.items[i].u.i,
                  (unsigned long long)want[i]);
    /* edges: lo goes to bin 0, hi to overflow, just below hi to the last bin */
    eddy_agg_init(s, st);
    eddy_value lo = eddy_v_int(-100), hi = eddy_v_int(300), under = eddy_v_double(nextafter(300, 0));
    eddy_agg_add(s, st, &lo, 0);
    eddy_agg_add(s, st, &hi, 0);
    eddy_agg_add(s, st, &under, 0);
    r = eddy_agg_result(s, st, 0, b);
    CHECK(r.u.items[1].u.i == 1 && r.u.items[8].u.i == 1 && r.u.items[9].u.i == 1 &&
          r.u.items[0].u.i == 0);
    free(st);
    eddy_agg_spec_free(s);
}

/* merge over random assignments to panes equals adding everything */
static void test_merge_random(eddy_batch *b)
{
    static uint8_t pick[N];
    const size_t nspec = sizeof exact_specs / sizeof exact_specs[0];
    for (size_t c = 0; c < nspec; c++) {
        eddy_agg_spec *s = spec_ok(exact_specs[c]);
        void *all = state_new(s);
        feed(s, all, 0, N, NULL, 0);
        eddy_value want = eddy_agg_result(s, all, 60000, b);
        for (int round = 0; round < 5; round++) {
            int panes = 2 + round * 2;
            void *pane[10];
            for (int i = 0; i < N; i++)
                pick[i] = (uint8_t)(rng_u64() % (uint64_t)panes);
            for (int p = 0; p < panes; p++) {
                pane[p] = state_new(s);
                feed(s, pane[p], 0, N, pick, p);
            }
            void *acc = state_new(s);
            for (int p = 0; p < panes; p++)
                eddy_agg_merge(s, acc, pane[p]);
            eddy_value got = eddy_agg_result(s, acc, 60000, b);
            CHECK_MSG(value_close(&got, &want, 1e-9), "%s: merge of %d panes differs",
                      exact_specs[c], panes);
            for (int p = 0; p < panes; p++)
                free(pane[p]);
            free(acc);
        }
        check_roundtrip(s, all, b, true);
        free(all);
        eddy_agg_spec_free(s);
    }
}

/* first/last: by event time, ties by arrival; merge takes src as later */
static void test_first_last(eddy_batch *b)
{
    eddy_agg_spec *f = spec_ok("first(x)"), *l = spec_ok("last(x)");
    void *fs = state_new(f), *ls = state_new(l);
    int fi = -1, li = -1, bad = 0;
    for (int i = 0; i < N; i++) {
        bad += eddy_agg_add(f, fs, &stream[i].v, stream[i].ts) != 0;
        eddy_agg_add(l, ls, &stream[i].v, stream[i].ts);
        if (stream[i].v.type == EDDY_NULL)
            continue;
        if (fi < 0 || stream[i].ts < stream[fi].ts)
            fi = i;
        if (li < 0 || stream[i].ts >= stream[li].ts)
            li = i;
    }
    CHECK(bad == 0); /* strings are fine for first/last */
    eddy_value rf = eddy_agg_result(f, fs, 0, b), rl = eddy_agg_result(l, ls, 0, b);
    CHECK(value_close(&rf, &stream[fi].v, 0));
    CHECK(value_close(&rl, &stream[li].v, 0));
    for (int round = 0; round < 20; round++) {
        int cut = (int)(rng_u64() % N);
        void *fa = state_new(f), *fb = state_new(f), *la = state_new(l), *lb = state_new(l);
        feed(f, fa, 0, cut, NULL, 0);
        feed(f, fb, cut, N, NULL, 0);
        feed(l, la, 0, cut, NULL, 0);
        feed(l, lb, cut, N, NULL, 0);
        eddy_agg_merge(f, fa, fb);
        eddy_agg_merge(l, la, lb);
        eddy_value gf = eddy_agg_result(f, fa, 0, b), gl = eddy_agg_result(l, la, 0, b);
        CHECK_MSG(value_close(&gf, &rf, 0), "first: merge at %d differs", cut);
        CHECK_MSG(value_close(&gl, &rl, 0), "last: merge at %d differs", cut);
        free(fa);
        free(fb);
        free(la);
        free(lb);
    }
    check_roundtrip(f, fs, b, true);
    check_roundtrip(l, ls, b, true);

    /* types are kept; long strings are cut at a UTF-8 boundary */
    char lng[100];
    memset(lng, 'a', sizeof lng);
    memcpy(lng + 62, "\xc3\xa9", 2); /* é across the 64-byte boundary */
    eddy_value vs = eddy_v_str(lng, sizeof lng), vb = eddy_v_bool(1), vd = eddy_v_double(5.0);
    eddy_agg_init(l, ls);
    eddy_agg_add(l, ls, &vs, 1);
    eddy_value r = eddy_agg_result(l, ls, 0, b);
    CHECK(r.type == EDDY_STRING && r.len == 64 && memcmp(r.u.s, lng, 64) == 0);
    lng[63] = 'a';
    memcpy(lng + 63, "\xc3\xa9", 2); /* now é straddles bytes 63-64: cut before it */
    vs = eddy_v_str(lng, sizeof lng);
    eddy_agg_add(l, ls, &vs, 2);
    r = eddy_agg_result(l, ls, 0, b);
    CHECK(r.type == EDDY_STRING && r.len == 63);
    check_roundtrip(l, ls, b, true);
    eddy_agg_add(l, ls, &vb, 3);
    r = eddy_agg_result(l, ls, 0, b);
    CHECK(r.type == EDDY_BOOL && r.u.b == 1);
    eddy_agg_add(l, ls, &vd, 4);
    r = eddy_agg_result(l, ls, 0, b);
    CHECK(r.type == EDDY_DOUBLE && r.u.d == 5.0);
    eddy_agg_add(l, ls, &vs, 3); /* older: ignored by last */
    r = eddy_agg_result(l, ls, 0, b);
    CHECK(r.type == EDDY_DOUBLE);
    eddy_value arr = {.type = EDDY_ARRAY};
    CHECK(eddy_agg_add(l, ls, &arr, 9) == -1);
    r = eddy_agg_result(l, ls, 0, b);
    CHECK(r.type == EDDY_DOUBLE);
    free(fs);
    free(ls);
    eddy_agg_spec_free(f);
    eddy_agg_spec_free(l);
}

static double ewma_brute(double alpha, int from, int to)
{
    double s = 0, x;
    bool any = false;
    for (int i = from; i < to; i++) {
        if (!numeric(&stream[i].v, &x))
            continue;
        s = any ? alpha * x + (1 - alpha) * s : x;
        any = true;
    }
    return s;
}

static void test_ewma(eddy_batch *b)
{
    eddy_agg_spec *s = spec_ok("ewma(x, 0.05)");
    /* monotone event time, so "older last update" is the prefix */
    for (int i = 0; i < N; i++)
        stream[i].ts = 1700000000000LL + i;
    void *all = state_new(s);
    feed(s, all, 0, N, NULL, 0);
    double want = ewma_brute(0.05, 0, N);
    CHECK(rel_close(as_double(eddy_agg_result(s, all, 0, b)), want, 1e-9));
    for (int round = 0; round < 20; round++) {
        int cut = 1 + (int)(rng_u64() % (N - 1));
        void *a = state_new(s), *c = state_new(s);
        feed(s, a, 0, cut, NULL, 0);
        feed(s, c, cut, N, NULL, 0);
        void *a2 = state_new(s);
        memcpy(a2, a, eddy_agg_state_size(s));
        eddy_agg_merge(s, a, c);  /* older into newer order */
        eddy_agg_merge(s, c, a2); /* reversed arguments: same answer */
        double g1 = as_double(eddy_agg_result(s, a, 0, b));
        double g2 = as_double(eddy_agg_result(s, c, 0, b));
        CHECK_MSG(rel_close(g1, want, 1e-9) && rel_close(g2, want, 1e-9),
                  "ewma merge at %d: %.17g / %.17g, expected %.17g", cut, g1, g2, want);
        free(a);
        free(a2);
        free(c);
    }
    check_roundtrip(s, all, b, true);
    /* empty is null; one value is that value */
    eddy_agg_init(s, all);
    CHECK(eddy_agg_result(s, all, 0, b).type == EDDY_NULL);
    eddy_value v = eddy_v_int(7);
    eddy_agg_add(s, all, &v, 0);
    CHECK(as_double(eddy_agg_result(s, all, 0, b)) == 7.0);
    free(all);
    eddy_agg_spec_free(s);
}

static void test_edges(eddy_batch *b)
{
    eddy_value one = eddy_v_double(3.5), two = eddy_v_int(5), str = eddy_v_str("x", 1);
    eddy_value nul = eddy_v_null(), nan = eddy_v_double(NAN), inf = eddy_v_double(INFINITY);

    /* variance: sample (n - 1); null below two values */
    eddy_agg_spec *v = spec_ok("variance(x)");
    void *st = state_new(v);
    CHECK(eddy_agg_result(v, st, 0, b).type == EDDY_NULL);
    eddy_agg_add(v, st, &one, 0);
    CHECK(eddy_agg_result(v, st, 0, b).type == EDDY_NULL);
    eddy_agg_add(v, st, &two, 0);
    CHECK(rel_close(as_double(eddy_agg_result(v, st, 0, b)), 1.125, 1e-12));
    /* wrong types are refused and leave the state alone; null is ignored */
    CHECK(eddy_agg_add(v, st, &str, 0) == -1);
    CHECK(eddy_agg_add(v, st, &nan, 0) == -1);
    CHECK(eddy_agg_add(v, st, &inf, 0) == -1);
    CHECK(eddy_agg_add(v, st, &nul, 0) == 0);
    CHECK(eddy_agg_add(v, st, NULL, 0) == 0);
    CHECK(rel_close(as_double(eddy_agg_result(v, st, 0, b)), 1.125, 1e-12));
    /* numerically stable around a large offset */
    eddy_agg_init(v, st);
    for (int i = 0; i < 1000; i++) {
        eddy_value x = eddy_v_double(1e9 + (i % 2 ? 1.0 : -1.0));
        eddy_agg_add(v, st, &x, 0);
    }
    CHECK(rel_close(as_double(eddy_agg_result(v, st, 0, b)), 1000.0 / 999.0, 1e-9));
    free(st);
    eddy_agg_spec_free(v);

    /* sum of ints stays an exact int; a double or an overflow makes it double */
    eddy_agg_spec *s = spec_ok("sum(x)");
    st = state_new(s);
    CHECK(eddy_agg_result(s, st, 0, b).type == EDDY_INT && eddy_agg_result(s, st, 0, b).u.i == 0);
    eddy_value big = eddy_v_int(INT64_MAX - 10), t = eddy_v_bool(1);
    eddy_agg_add(s, st, &big, 0);
    eddy_agg_add(s, st, &t, 0);
    eddy_value r = eddy_agg_result(s, st, 0, b);
    CHECK(r.type == EDDY_INT && r.u.i == INT64_MAX - 9);
    eddy_agg_add(s, st, &big, 0);
    r = eddy_agg_result(s, st, 0, b);
    CHECK(r.type == EDDY_DOUBLE && rel_close(r.u.d, 2.0 * (double)INT64_MAX, 1e-12));
    eddy_agg_init(s, st);
    eddy_agg_add(s, st, &two, 0);
    eddy_agg_add(s, st, &one, 0);
    r = eddy_agg_result(s, st, 0, b);
    CHECK(r.type == EDDY_DOUBLE && r.u.d == 8.5);
    CHECK(eddy_agg_add(s, st, &str, 0) == -1);
    free(st);
    eddy_agg_spec_free(s);

    /* min/max keep ints as ints, compare across types */
    eddy_agg_spec *mn = spec_ok("min(x)"), *mx = spec_ok("max(x)");
    void *a = state_new(mn), *c = state_new(mx);
    CHECK(eddy_agg_result(mn, a, 0, b).type == EDDY_NULL);
    eddy_agg_add(mn, a, &two, 0);
    eddy_agg_add(mn, a, &one, 0);
    eddy_agg_add(mx, c, &two, 0);
    eddy_agg_add(mx, c, &one, 0);
    r = eddy_agg_result(mn, a, 0, b);
    CHECK(r.type == EDDY_DOUBLE && r.u.d == 3.5);
    r = eddy_agg_result(mx, c, 0, b);
    CHECK(r.type == EDDY_INT && r.u.i == 5);
    free(a);
    free(c);
    eddy_agg_spec_free(mn);
    eddy_agg_spec_free(mx);

    /* mean of nothing is null; rate without a window length is null */
    eddy_agg_spec *m = spec_ok("mean(x)"), *rt = spec_ok("rate()");
    a = state_new(m);
    c = state_new(rt);
    CHECK(eddy_agg_result(m, a, 0, b).type == EDDY_NULL);
    eddy_agg_add(rt, c, NULL, 0);
    eddy_agg_add(rt, c, &str, 0); /* rate() counts every record */
    CHECK(as_double(eddy_agg_result(rt, c, 2000, b)) == 1.0);
    CHECK(eddy_agg_result(rt, c, 0, b).type == EDDY_NULL);
    free(a);
    free(c);
    eddy_agg_spec_free(m);
    eddy_agg_spec_free(rt);

    /* a state of one kind is refused by another */
    eddy_agg_spec *k1 = spec_ok("sum(x)"), *k2 = spec_ok("mean(x)");
    a = state_new(k1);
    c = state_new(k2);
    eddy_buf buf = {0};
    CHECK(eddy_agg_serialize(k1, a, &buf) == 0);
    CHECK(eddy_agg_deserialize(k2, c, buf.data, buf.len) == EDDY_EPARSE);
    CHECK(eddy_agg_deserialize(k2, c, NULL, 0) == EDDY_EPARSE);
    eddy_buf_free(&buf);
    free(a);
    free(c);
    eddy_agg_spec_free(k1);
    eddy_agg_spec_free(k2);
}

/* For every kind: merging an empty state changes nothing, merging into an
 * empty state copies, and an empty state survives a round trip. */
static void test_empty_merges(eddy_batch *b)
{
    static const char *const all[] = {
        "count()", "count(x)", "sum(x)", "mean(x)", "min(x)", "max(x)", "variance(x)",
        "stddev(x)", "first(x)", "last(x)", "ewma(x, 0.3)", "rate()", "rate(x)",
        "distinct(x)", "quantile(x, 0.9)", "topk(x, 3)", "histogram(x, 0, 10, 5)",
    };
    for (size_t c = 0; c < sizeof all / sizeof all[0]; c++) {
        eddy_agg_spec *s = spec_ok(all[c]);
        void *full = state_new(s), *empty = state_new(s), *acc = state_new(s);
        check_roundtrip(s, empty, b, true);
        feed(s, full, 0, 500, NULL, 0);
        eddy_value want = eddy_agg_result(s, full, 60000, b);
        eddy_agg_merge(s, full, empty);
        eddy_value got = eddy_agg_result(s, full, 60000, b);
        CHECK_MSG(value_close(&got, &want, 0), "%s: merging an empty state changed it", all[c]);
        eddy_agg_merge(s, acc, full);
        got = eddy_agg_result(s, acc, 60000, b);
        CHECK_MSG(value_close(&got, &want, 0), "%s: merging into an empty state", all[c]);
        eddy_agg_init(s, empty);
        got = eddy_agg_result(s, empty, 60000, b);
        CHECK_MSG(got.type == EDDY_NULL || got.type == EDDY_ARRAY || got.type == EDDY_INT ||
                      got.type == EDDY_DOUBLE,
                  "%s: empty result of type %d", all[c], got.type);
        free(full);
        free(empty);
        free(acc);
        eddy_agg_spec_free(s);
    }
}

int main(void)
{
    eddy_batch *b = eddy_batch_new(16, 0);
    if (!b)
        return 1;
    make_stream();
    test_against_brute(b);
    test_histogram(b);
    test_merge_random(b);
    test_first_last(b);
    test_ewma(b);
    test_edges(b);
    test_empty_merges(b);
    eddy_batch_destroy(b);
    return test_report();
}
