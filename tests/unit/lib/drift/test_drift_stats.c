/* Distribution-drift statistics (lib/drift/stats.h) against the values
 * scipy/numpy give on the cases in data/stats_cases.txt (written by
 * tests/fixtures/drift/gen_stats_fixtures.py), plus the reservoir, the categorical
 * counter and bad input. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/drift/stats.h"
#include "engine/core/error.h"
#include "tests/unit/test.h"

#ifndef STATS_DATA
#error "STATS_DATA (path of stats_cases.txt) must be defined by the build"
#endif

/* 1e-9 relative, or 1e-12 absolute near zero; infinities must match. */
static int close_to(double got, double want)
{
    if (isnan(want) || isnan(got))
        return isnan(want) && isnan(got);
    if (isinf(want) || isinf(got))
        return got == want;
    double d = fabs(got - want);
    return d <= 1e-12 || d <= 1e-9 * fabs(want);
}

#define CHECK_CLOSE(got, want, what, name)                                           \
    CHECK_MSG(close_to((got), (want)), "%s %s: got %.17g want %.17g (rel %.3g)", what, \
              name, (double)(got), (double)(want),                                   \
              fabs((got) - (want)) / (fabs(want) > 0 ? fabs(want) : 1))

/* ---- fixture reading ------------------------------------------------------ */

static FILE *fx;

static int tok(char *buf, size_t len)
{
    int ch;
    for (;;) {
        ch = fgetc(fx);
        if (ch == '#')
            while (ch != '\n' && ch != EOF)
                ch = fgetc(fx);
        if (ch == EOF)
            return 0;
        if (ch > ' ')
            break;
    }
    size_t n = 0;
    while (ch != EOF && ch > ' ') {
        if (n + 1 < len)
            buf[n++] = (char)ch;
        ch = fgetc(fx);
    }
    buf[n] = 0;
    return 1;
}

static double num(void)
{
    char b[64];
    if (!tok(b, sizeof b)) {
        fprintf(stderr, "stats_cases.txt: unexpected end of file\n");
        exit(2);
    }
    char *end;
    double v = strtod(b, &end);
    if (*end) {
        fprintf(stderr, "stats_cases.txt: not a number: '%s'\n", b);
        exit(2);
    }
    return v;
}

static void expect(const char *want)
{
    char b[64];
    if (!tok(b, sizeof b) || strcmp(b, want) != 0) {
        fprintf(stderr, "stats_cases.txt: expected '%s', got '%s'\n", want, b);
        exit(2);
    }
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The generator of gen_stats_fixtures.py, operation for operation. */
static double *read_sample(size_t *n)
{
    char kind[16];
    tok(kind, sizeof kind);
    if (strcmp(kind, "vals") == 0) {
        *n = (size_t)num();
        double *v = malloc(*n * sizeof *v);
        for (size_t i = 0; i < *n; i++)
            v[i] = num();
        return v;
    }
    if (strcmp(kind, "gen") != 0) {
        fprintf(stderr, "stats_cases.txt: unknown sample kind '%s'\n", kind);
        exit(2);
    }
    uint64_t st = (uint64_t)num();
    *n = (size_t)num();
    double scale = num(), shift = num(), q = num();
    double *v = malloc(*n * sizeof *v);
    for (size_t i = 0; i < *n; i++) {
        double s = 0;
        for (int k = 0; k < 4; k++) {
            double u = (double)(splitmix64(&st) >> 11) * 0x1p-53;
            s = k == 0 ? u : s + u;
        }
        double x = (s - 2.0) * scale + shift;
        v[i] = q > 0 ? floor(x / q) * q : x;
    }
    return v;
}

static int ncases, nchi2, nsf, nkstwo;

static void run_case(void)
{
    char name[128], b[16];
    tok(name, sizeof name);
    size_t nr, nc;
    expect("ref");
    double *ref = read_sample(&nr);
    expect("cur");
    double *cur = read_sample(&nc);
    eddy_sort_doubles(ref, nr, NULL);
    eddy_sort_doubles(cur, nc, NULL);
    expect("bins");
    eddy_bin_params bp = {.bins = (uint32_t)num(), .eps = num()};
    for (;;) {
        tok(b, sizeof b);
        if (strcmp(b, "end") == 0)
            break;
        double v = 0, v2 = 0;
        if (strcmp(b, "psi") == 0) {
            double want = num();
            CHECK(eddy_psi(ref, nr, cur, nc, &bp, &v) == 0);
            CHECK_CLOSE(v, want, "psi", name);
        } else if (strcmp(b, "js") == 0) {
            double want = num();
            CHECK(eddy_js_distance(ref, nr, cur, nc, &bp, &v) == 0);
            CHECK_CLOSE(v, want, "js", name);
            CHECK(v >= 0 && v <= 1);
        } else if (strcmp(b, "ks") == 0) {
            double ws = num(), wp = num();
            CHECK(eddy_ks_2samp(ref, nr, cur, nc, &v, &v2) == 0);
            CHECK_CLOSE(v, ws, "ks stat", name);
            CHECK_CLOSE(v2, wp, "ks pvalue", name);
            /* the statistic and the exact p-value are symmetric in the samples */
            double s2, p2;
            CHECK(eddy_ks_2samp(cur, nc, ref, nr, &s2, &p2) == 0);
            CHECK_CLOSE(s2, ws, "ks stat swapped", name);
            CHECK_CLOSE(p2, wp, "ks pvalue swapped", name);
        } else if (strcmp(b, "wass") == 0) {
            double ww = num(), wn = num();
            CHECK(eddy_wasserstein(ref, nr, cur, nc, &v, &v2) == 0);
            CHECK_CLOSE(v, ww, "wasserstein", name);
            CHECK_CLOSE(v2, wn, "wasserstein norm", name);
        } else {
            fprintf(stderr, "stats_cases.txt: unknown key '%s' in case %s\n", b, name);
            exit(2);
        }
    }
    free(ref);
    free(cur);
    ncases++;
}

static void run_chi2(void)
{
    char name[128];
    tok(name, sizeof name);
    size_t k = (size_t)num();
    double *r = malloc(k * sizeof *r), *c = malloc(k * sizeof *c);
    for (size_t i = 0; i < k; i++)
        r[i] = num();
    for (size_t i = 0; i < k; i++)
        c[i] = num();
    double ws = num(), wp = num();
    uint32_t wd = (uint32_t)num(), dof = 99;
    double st = -1, p = -1;
    CHECK(eddy_chi2_homogeneity(r, c, k, &st, &p, &dof) == 0);
    CHECK_CLOSE(st, ws, "chi2 stat", name);
    CHECK_CLOSE(p, wp, "chi2 pvalue", name);
    CHECK_MSG(dof == wd, "chi2 dof %s: got %u want %u", name, dof, wd);
    free(r);
    free(c);
    nchi2++;
}

static void run_fixtures(void)
{
    fx = fopen(STATS_DATA, "r");
    CHECK_MSG(fx != NULL, "cannot open %s", STATS_DATA);
    if (!fx)
        return;
    char b[64];
    while (tok(b, sizeof b)) {
        if (strcmp(b, "case") == 0) {
            run_case();
        } else if (strcmp(b, "chi2") == 0) {
            run_chi2();
        } else if (strcmp(b, "chi2sf") == 0) {
            double x = num(), k = num(), want = num();
            char nm[64];
            snprintf(nm, sizeof nm, "x=%g dof=%g", x, k);
            CHECK_CLOSE(eddy_chi2_sf(x, k), want, "chi2 sf", nm);
            nsf++;
        } else if (strcmp(b, "kstwo") == 0) {
            double n = num(), d = num(), want = num();
            char nm[64];
            snprintf(nm, sizeof nm, "n=%g d=%g", n, d);
            CHECK_CLOSE(eddy_kstwo_sf(n, d), want, "kstwo sf", nm);
            nkstwo++;
        } else {
            fprintf(stderr, "stats_cases.txt: unknown record '%s'\n", b);
            exit(2);
        }
    }
    fclose(fx);
    /* a truncated or empty fixture must not pass quietly */
    CHECK_MSG(ncases >= 30 && nchi2 >= 9 && nsf >= 90 && nkstwo >= 100,
              "fixtures read: %d cases, %d tables, %d chi2 sf, %d kstwo", ncases, nchi2, nsf,
              nkstwo);
}

/* ---- reservoir ------------------------------------------------------------ */

static int is_sorted(const double *a, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (a[i - 1] > a[i])
            return 0;
    return 1;
}

static void test_sample_basics(void)
{
    CHECK(eddy_sample_new(0, 1) == NULL);
    eddy_sample *s = eddy_sample_new(100, 42);
    CHECK(s != NULL);
    CHECK(eddy_sample_size(s) == 0);
    CHECK(isnan(eddy_sample_min(s)) && isnan(eddy_sample_max(s)));
    for (int i = 0; i < 50; i++)
        eddy_sample_add(s, 50 - i);
    CHECK(eddy_sample_size(s) == 50 && eddy_sample_seen(s) == 50);
    const double *v = eddy_sample_sorted(s);
    CHECK(v[0] == 1 && v[49] == 50 && is_sorted(v, 50));
    for (int i = 0; i < 10000; i++)
        eddy_sample_add(s, (double)((i * 7919) % 10007));
    eddy_sample_add(s, NAN);
    eddy_sample_add(s, INFINITY);
    eddy_sample_add(s, -INFINITY);
    CHECK(eddy_sample_size(s) == 100);
    CHECK(eddy_sample_seen(s) == 10050);
    CHECK(eddy_sample_rejected(s) == 3);
    v = eddy_sample_sorted(s);
    CHECK(is_sorted(v, 100));
    CHECK(eddy_sample_min(s) == v[0] && eddy_sample_max(s) == v[99]);
    for (int i = 0; i < 100; i++)
        CHECK(isfinite(v[i]));

    /* copy: refused into a smaller sample, exact otherwise */
    eddy_sample *small = eddy_sample_new(99, 1), *big = eddy_sample_new(200, 2);
    CHECK(small && big);
    CHECK(eddy_sample_copy(small, s) == EDDY_EINVAL);
    CHECK(eddy_sample_size(small) == 0);
    CHECK(eddy_sample_copy(big, s) == 0);
    CHECK(eddy_sample_size(big) == 100 && eddy_sample_seen(big) == 10050 &&
          eddy_sample_rejected(big) == 3);
    CHECK(memcmp(eddy_sample_sorted(big), eddy_sample_sorted(s), 100 * sizeof(double)) == 0);

    /* clear: empty, counters zero, capacity kept */
    eddy_sample_clear(s);
    CHECK(eddy_sample_size(s) == 0 && eddy_sample_seen(s) == 0 && eddy_sample_rejected(s) == 0);
    for (int i = 0; i < 300; i++)
        eddy_sample_add(s, i);
    CHECK(eddy_sample_size(s) == 100 && eddy_sample_seen(s) == 300);
    eddy_sample_free(small);
    eddy_sample_free(big);
    eddy_sample_free(s);
    eddy_sample_free(NULL);

    /* the same seed and stream give the same sample */
    eddy_sample *a = eddy_sample_new(64, 9), *b = eddy_sample_new(64, 9), *c = eddy_sample_new(64, 10);
    for (int i = 0; i < 5000; i++) {
        eddy_sample_add(a, i);
        eddy_sample_add(b, i);
        eddy_sample_add(c, i);
    }
    CHECK(memcmp(eddy_sample_sorted(a), eddy_sample_sorted(b), 64 * sizeof(double)) == 0);
    CHECK(memcmp(eddy_sample_sorted(a), eddy_sample_sorted(c), 64 * sizeof(double)) != 0);
    eddy_sample_free(a);
    eddy_sample_free(b);
    eddy_sample_free(c);
}

/* Every stream position must be kept with probability cap/N. Over 2000
 * seeded runs, the kept counts of ten blocks of positions are compared with
 * their expectation by a chi-square statistic (9 dof; 27.88 is its 0.1 %
 * point), and so is the first block position by position (99 dof, 148.2). */
static void test_sample_uniform(void)
{
    enum { CAP = 100, N = 1000, RUNS = 2000 };
    static double kept[N];
    memset(kept, 0, sizeof kept);
    eddy_sample *s = eddy_sample_new(CAP, 0);
    for (uint64_t r = 0; r < RUNS; r++) {
        eddy_sample *t = eddy_sample_new(CAP, 1000 + r);
        for (int i = 0; i < N; i++)
            eddy_sample_add(t, i);
        const double *v = eddy_sample_sorted(t);
        for (int i = 0; i < CAP; i++)
            kept[(int)v[i]]++;
        eddy_sample_free(t);
    }
    double blocks[10] = {0}, x2 = 0, x2pos = 0;
    for (int i = 0; i < N; i++)
        blocks[i / 100] += kept[i];
    double eb = (double)RUNS * CAP / 10;
    for (int i = 0; i < 10; i++)
        x2 += (blocks[i] - eb) * (blocks[i] - eb) / eb;
    double ep = (double)RUNS * CAP / N;
    for (int i = 0; i < 100; i++)
        x2pos += (kept[i] - ep) * (kept[i] - ep) / ep;
    CHECK_MSG(x2 < 27.88, "reservoir block chi-square %g", x2);
    CHECK_MSG(x2pos < 148.2, "reservoir position chi-square %g", x2pos);
    /* the newest items are as likely as the oldest */
    CHECK(fabs(blocks[9] - blocks[0]) < 0.05 * eb);
    eddy_sample_free(s);
}

/* Both sorts (introsort without scratch, radix with it) on random signed
 * values, runs, reversed runs, constants, few distinct values, and signed
 * zeros, checked for order and for keeping the multiset (sum). */
static void test_sort(void)
{
    uint64_t st = 5;
    size_t sizes[] = {0, 1, 2, 3, 24, 25, 100, 1023, 1024, 5000, 33333};
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        size_t n = sizes[t];
        double *a = malloc((n + 1) * sizeof *a), *scratch = malloc((n + 1) * sizeof *a);
        for (int use_scratch = 0; use_scratch < 2; use_scratch++)
            for (int pattern = 0; pattern < 6; pattern++) {
                double sum = 0;
                for (size_t i = 0; i < n; i++) {
                    int64_t r = (int64_t)splitmix64(&st);
                    double v = (double)(r >> 11) * ldexp(1.0, (int)(r & 63) - 40);
                    a[i] = pattern == 0   ? v
                           : pattern == 1 ? (double)i
                           : pattern == 2 ? -(double)i
                           : pattern == 3 ? 7.0
                           : pattern == 4 ? (double)(splitmix64(&st) % 5) - 2
                                          : (i % 2 ? -0.0 : 0.0) + (double)(i % 3 == 0);
                    sum += a[i];
                }
                eddy_sort_doubles(a, n, use_scratch ? scratch : NULL);
                double sum2 = 0;
                for (size_t i = 0; i < n; i++)
                    sum2 += a[i];
                CHECK_MSG(is_sorted(a, n), "sort n=%zu pattern %d scratch %d", n, pattern,
                          use_scratch);
                CHECK(pattern != 3 || n == 0 || (a[0] == 7 && a[n - 1] == 7));
                CHECK(pattern == 0 || sum == sum2);
            }
        free(a);
        free(scratch);
    }
}

/* ---- categorical counter ------------------------------------------------- */

static void test_catcount(void)
{
    CHECK(eddy_catcount_new(0) == NULL);
    eddy_catcount *r = eddy_catcount_new(3), *c = eddy_catcount_new(3);
    CHECK(r && c);
    eddy_catcount_add(r, "a", 1, 1);
    eddy_catcount_add(r, "b", 1, 2);
    eddy_catcount_add(r, "a", 1, 1);
    eddy_catcount_add(r, "", 0, 1);   /* the empty string is a category */
    eddy_catcount_add(r, "d", 1, 5);  /* capacity reached: other */
    eddy_catcount_add(r, "e", 1, 1);  /* other */
    eddy_catcount_add(r, "a", 1, NAN);   /* ignored */
    eddy_catcount_add(r, "a", 1, -1);    /* ignored */
    eddy_catcount_add(r, NULL, 3, 1);    /* ignored */
    CHECK(eddy_catcount_total(r) == 6);
    CHECK(eddy_catcount_size(r) == 3);

    eddy_catcount_add(c, "b", 1, 4);
    eddy_catcount_add(c, "z", 1, 3); /* new in current */
    CHECK(eddy_catcount_total(c) == 2);

    double ro[8], co[8];
    size_t k = 0;
    CHECK(eddy_catcount_align(r, c, ro, co, 4, &k) == EDDY_EINVAL);
    CHECK(k == 5);
    CHECK(eddy_catcount_align(r, c, ro, co, 8, &k) == 0);
    CHECK(k == 5);
    /* a, b, "", z, other */
    double wr[] = {2, 2, 1, 0, 6}, wc[] = {0, 4, 0, 3, 0};
    for (size_t i = 0; i < 5 && k == 5; i++) {
        CHECK_MSG(ro[i] == wr[i] && co[i] == wc[i], "align column %zu: %g/%g", i, ro[i], co[i]);
    }

    /* clear keeps categories, zeroes counts; no other column any more */
    eddy_catcount_clear(r);
    CHECK(eddy_catcount_total(r) == 0 && eddy_catcount_size(r) == 3);
    eddy_catcount_add(r, "b", 1, 1);
    CHECK(eddy_catcount_align(r, c, ro, co, 8, &k) == 0);
    CHECK(k == 4);
    CHECK(k == 4 && ro[0] == 0 && ro[1] == 1 && co[1] == 4 && co[3] == 3);

    /* aligned counts feed the chi-square test; the vanished categories
     * (zero in both rows) are dropped */
    double st, p;
    uint32_t dof;
    CHECK(eddy_chi2_homogeneity(ro, co, k, &st, &p, &dof) == 0);
    CHECK(dof == 1); /* columns b and z */
    CHECK(p > 0 && p < 1);
    eddy_catcount_free(r);
    eddy_catcount_free(c);

    /* long strings outgrow the initial pool; many categories, all exact */
    eddy_catcount *big = eddy_catcount_new(1000);
    char buf[300];
    for (int rep = 0; rep < 3; rep++)
        for (int i = 0; i < 1000; i++) {
            int len = snprintf(buf, sizeof buf, "%0*d", 20 + i % 250, i);
            eddy_catcount_add(big, buf, (size_t)len, 1);
        }
    CHECK(eddy_catcount_size(big) == 1000 && eddy_catcount_total(big) == 3000);
    eddy_catcount_add(big, "overflow", 8, 1);
    static double a1[1002], a2[1002];
    CHECK(eddy_catcount_align(big, big, a1, a2, 1002, &k) == 0);
    CHECK(k == 1001);
    int all3 = 1;
    for (int i = 0; i < 1000; i++)
        all3 &= a1[i] == 3 && a2[i] == 3;
    CHECK(all3 && a1[1000] == 1);
    eddy_catcount_free(big);
    eddy_catcount_free(NULL);
}

/* ---- bad input ------------------------------------------------------------ */

static void test_bad_input(void)
{
    double a[] = {1, 2, 3}, nan_end[] = {1, 2, NAN}, unsorted[] = {3, 2, 1};
    eddy_bin_params bp;
    eddy_bin_params_defaults(&bp);
    CHECK(bp.bins == 10 && bp.eps == 1e-4);
    double v = 123, v2 = 456;
    CHECK(eddy_psi(a, 0, a, 3, &bp, &v) == EDDY_EINVAL);
    CHECK(eddy_psi(a, 3, a, 0, &bp, &v) == EDDY_EINVAL);
    CHECK(eddy_js_distance(a, 0, a, 3, &bp, &v) == EDDY_EINVAL);
    CHECK(eddy_ks_2samp(a, 0, a, 3, &v, &v2) == EDDY_EINVAL);
    CHECK(eddy_ks_2samp(a, 3, a, 0, &v, &v2) == EDDY_EINVAL);
    CHECK(eddy_wasserstein(a, 3, a, 0, &v, &v2) == EDDY_EINVAL);
    CHECK(eddy_wasserstein(NULL, 3, a, 3, &v, &v2) == EDDY_EINVAL);
    CHECK(eddy_psi(nan_end, 3, a, 3, &bp, &v) == EDDY_EINVAL);
    CHECK(eddy_js_distance(a, 3, nan_end, 3, &bp, &v) == EDDY_EINVAL);
    CHECK(eddy_ks_2samp(nan_end, 3, a, 3, &v, &v2) == EDDY_EINVAL);
    CHECK(eddy_wasserstein(a, 3, nan_end, 3, &v, &v2) == EDDY_EINVAL);
    CHECK(eddy_ks_2samp(unsorted, 3, a, 3, &v, &v2) == EDDY_EINVAL);
    CHECK(eddy_psi(a, 3, a, 3, NULL, &v) == EDDY_EINVAL);
    CHECK(eddy_psi(a, 3, a, 3, &bp, NULL) == EDDY_EINVAL);
    eddy_bin_params bad = {.bins = 0, .eps = 1e-4};
    CHECK(eddy_psi(a, 3, a, 3, &bad, &v) == EDDY_EINVAL);
    bad = (eddy_bin_params){.bins = 10, .eps = NAN};
    CHECK(eddy_js_distance(a, 3, a, 3, &bad, &v) == EDDY_EINVAL);
    CHECK(v == 123 && v2 == 456); /* outputs untouched on error */

    /* identical samples: every distance is 0, the KS p-value 1 */
    CHECK(eddy_psi(a, 3, a, 3, &bp, &v) == 0 && v == 0);
    CHECK(eddy_js_distance(a, 3, a, 3, &bp, &v) == 0 && v == 0);
    CHECK(eddy_ks_2samp(a, 3, a, 3, &v, &v2) == 0 && v == 0 && v2 == 1);
    CHECK(eddy_wasserstein(a, 3, a, 3, &v, &v2) == 0 && v == 0 && v2 == 0);

    /* eps == 0 and a bin empty on one side only: PSI is +inf, JS finite */
    double lo[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, hi[] = {20, 21};
    eddy_bin_params zero = {.bins = 10, .eps = 0};
    CHECK(eddy_psi(lo, 10, hi, 2, &zero, &v) == 0 && isinf(v) && v > 0);
    /* P = 0.1 in each bin, Q = 1 in the last: M = 0.05 .. 0.05, 0.55 */
    double js_want = sqrt((0.9 * log(2.0) + 0.1 * log(0.1 / 0.55) + log(1 / 0.55)) / log(2.0) / 2);
    CHECK(eddy_js_distance(lo, 10, hi, 2, &zero, &v) == 0 && fabs(v - js_want) < 1e-12);

    double r[] = {1, 2}, c[] = {3, 4}, neg[] = {1, -1}, z[] = {0, 0}, nn[] = {1, NAN};
    uint32_t dof = 7;
    CHECK(eddy_chi2_homogeneity(r, c, 0, &v, &v2, &dof) == EDDY_EINVAL);
    CHECK(eddy_chi2_homogeneity(r, neg, 2, &v, &v2, &dof) == EDDY_EINVAL);
    CHECK(eddy_chi2_homogeneity(r, z, 2, &v, &v2, &dof) == EDDY_EINVAL);
    CHECK(eddy_chi2_homogeneity(nn, c, 2, &v, &v2, &dof) == EDDY_EINVAL);
    CHECK(eddy_chi2_homogeneity(NULL, c, 2, &v, &v2, &dof) == EDDY_EINVAL);
    CHECK(dof == 7);
    CHECK(eddy_chi2_sf(-1, 3) == 1 && eddy_chi2_sf(0, 3) == 1);
    CHECK(isnan(eddy_chi2_sf(NAN, 3)) && isnan(eddy_chi2_sf(1, 0)));
    CHECK(eddy_chi2_sf(INFINITY, 3) == 0);
    CHECK(isnan(eddy_kstwo_sf(0, 0.5)) && isnan(eddy_kstwo_sf(2.5, 0.5)));
    CHECK(eddy_kstwo_sf(10, 0) == 1 && eddy_kstwo_sf(10, 1) == 0);
}

int main(void)
{
    run_fixtures();
    test_sample_basics();
    test_sample_uniform();
    test_sort();
    test_catcount();
    test_bad_input();
    printf("fixtures: %d two-sample cases, %d tables, %d chi2 sf, %d kstwo sf\n", ncases, nchi2,
           nsf, nkstwo);
    return test_report();
}
