/* Distribution-drift statistics (lib/drift/stats.h): checks per second
 * on one core. A check compares a current sample with a fixed, already
 * sorted reference of the same size; its time includes copying the raw
 * current values and sorting them (eddy_sort_doubles with a scratch
 * array, as eddy_sample_sorted does), as a real check sorts a fresh
 * reservoir. Both samples are standard normal from fixed
 * seeds, the current one shifted by 0.05 sd. The chi-square check aligns
 * two categorical counters of 20 categories (N draws each) and tests them.
 *
 * usage: ninja -C build benchmarks/drift/bench_stats && build/benchmarks/drift/bench_stats
 *        [seconds per measurement, default 0.5]
 * or, with the scipy comparison in the same run:
 *        python3 benchmarks/drift/stats_ref.py build/benchmarks/drift/bench_stats
 *
 * Times are the thread's CPU time (CLOCK_THREAD_CPUTIME_ID). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "lib/drift/stats.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double uniform01(uint64_t *st)
{
    return ((double)(splitmix64(st) >> 11) + 0.5) * 0x1p-53;
}

/* Box-Muller: the benchmark needs normal-looking data, not a given stream. */
static void normals(double *v, size_t n, uint64_t seed, double shift)
{
    for (size_t i = 0; i < n; i++) {
        double u = uniform01(&seed), w = uniform01(&seed);
        v[i] = sqrt(-2 * log(u)) * cos(2 * M_PI * w) + shift;
    }
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

enum { ST_SORT, ST_PSI, ST_JS, ST_KS, ST_WASS, ST_ALL, ST_CHI2, ST_N };
static const char *names[ST_N] = {"sort only", "psi", "js_distance", "ks_2samp",
                                  "wasserstein", "all four, one sort", "chi2 (20 cats)"};

static double *ref, *raw, *work, *scratch;
static eddy_catcount *cref, *ccur;
static volatile double sink;

static void check(int st, size_t n)
{
    eddy_bin_params bp;
    eddy_bin_params_defaults(&bp);
    double a = 0, b = 0;
    if (st == ST_CHI2) {
        double r[32], c[32];
        size_t k;
        uint32_t dof;
        eddy_catcount_align(cref, ccur, r, c, 32, &k);
        eddy_chi2_homogeneity(r, c, k, &a, &b, &dof);
        sink = a + b;
        return;
    }
    memcpy(work, raw, n * sizeof *work);
    eddy_sort_doubles(work, n, scratch);
    switch (st) {
    case ST_PSI:
        eddy_psi(ref, n, work, n, &bp, &a);
        break;
    case ST_JS:
        eddy_js_distance(ref, n, work, n, &bp, &a);
        break;
    case ST_KS:
        eddy_ks_2samp(ref, n, work, n, &a, &b);
        break;
    case ST_WASS:
        eddy_wasserstein(ref, n, work, n, &a, &b);
        break;
    case ST_ALL: {
        double c = 0, d = 0;
        eddy_psi(ref, n, work, n, &bp, &a);
        eddy_js_distance(ref, n, work, n, &bp, &b);
        eddy_ks_2samp(ref, n, work, n, &c, &d);
        a += b + c + d;
        eddy_wasserstein(ref, n, work, n, &b, &c);
        break;
    }
    default:
        break;
    }
    sink = a + b + work[0];
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 0.5;
    if (!(secs > 0)) {
        fprintf(stderr, "usage: bench_stats [seconds per measurement > 0]\n");
        return 2;
    }
    static const size_t sizes[] = {1000, 10000};
    printf("%-20s %7s %14s %14s\n", "statistic", "n", "checks/s/core", "ns/check");
    for (size_t si = 0; si < 2; si++) {
        size_t n = sizes[si];
        ref = malloc(n * sizeof *ref);
        raw = malloc(n * sizeof *raw);
        work = malloc(n * sizeof *work);
        scratch = malloc(n * sizeof *scratch);
        cref = eddy_catcount_new(64);
        ccur = eddy_catcount_new(64);
        if (!ref || !raw || !work || !scratch || !cref || !ccur) {
            fprintf(stderr, "bench_stats: out of memory\n");
            return 1;
        }
        normals(ref, n, 1, 0);
        normals(raw, n, 2, 0.05);
        eddy_sort_doubles(ref, n, NULL);
        /* categories: a normal value binned into 20 labels */
        for (size_t i = 0; i < n; i++) {
            char lab[16];
            int l = (int)floor(ref[i] * 4) + 10, m = (int)floor(raw[i] * 4) + 10;
            l = l < 0 ? 0 : l > 19 ? 19 : l;
            m = m < 0 ? 0 : m > 19 ? 19 : m;
            int len = snprintf(lab, sizeof lab, "cat%02d", l);
            eddy_catcount_add(cref, lab, (size_t)len, 1);
            len = snprintf(lab, sizeof lab, "cat%02d", m);
            eddy_catcount_add(ccur, lab, (size_t)len, 1);
        }
        for (int st = 0; st < ST_N; st++) {
            check(st, n); /* warm the caches */
            uint64_t iters = 0, batch = 1;
            double t0 = now(), el;
            do {
                for (uint64_t i = 0; i < batch; i++)
                    check(st, n);
                iters += batch;
                batch *= 2;
                el = now() - t0;
            } while (el < secs);
            printf("%-20s %7zu %14.0f %14.0f\n", names[st], n, iters / el, el / iters * 1e9);
        }
        free(ref);
        free(raw);
        free(work);
        free(scratch);
        eddy_catcount_free(cref);
        eddy_catcount_free(ccur);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS: %ld KiB\n", ru.ru_maxrss);
    return 0;
}
