/* Aggregate update throughput on one thread, per aggregate and for the
 * brief's five-scalar case, with state and serialised sizes.
 *
 * usage: bench_agg [updates (default 10000000)]
 *
 * Values come from a pool of 4096 generated before timing (lognormal
 * amounts; "merchant-N" strings over 1000 names for distinct/topk/last),
 * cycled through. "hot" updates one state; "100k keys" picks one of 100,000
 * states per update at random (indexes drawn before timing), as a window
 * table with many keys would. Times are thread CPU time. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/agg/agg.h"
#include "engine/core/batch.h"
#include "lib/buf/buf.h"

#define POOL 4096
#define KEYS 100000

static uint64_t g_rng = 88172645463325252ull;
static uint64_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}
static double unit(void) { return (double)(rnd() >> 11) * 0x1.0p-53; }

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static eddy_value nums[POOL], strs[POOL];
static char names[POOL][24];
static uint32_t keyidx[1 << 20];

static void make_pool(void)
{
    for (int i = 0; i < POOL; i++) {
        double u = unit(), v = unit();
        double z = sqrt(-2 * log(u > 0 ? u : 1e-300)) * cos(2 * M_PI * v);
        nums[i] = eddy_v_double(exp(z) * 50.0);
        int n = snprintf(names[i], sizeof names[i], "merchant-%u", (unsigned)(rnd() % 1000));
        strs[i] = eddy_v_str(names[i], (uint32_t)n);
    }
    for (size_t i = 0; i < sizeof keyidx / sizeof keyidx[0]; i++)
        keyidx[i] = (uint32_t)(rnd() % KEYS);
}

static bool uses_strings(const char *spec)
{
    return strncmp(spec, "distinct", 8) == 0 || strncmp(spec, "topk", 4) == 0;
}

/* Updates per second of `n` specs updated together for each value. */
static double run(eddy_agg_spec **specs, int nspecs, long updates, int keys, const eddy_value *pool)
{
    size_t size = 0, off[8];
    for (int i = 0; i < nspecs; i++) {
        off[i] = size;
        size += eddy_agg_state_size(specs[i]);
    }
    char *states = malloc(size * (size_t)keys);
    if (!states) {
        fprintf(stderr, "out of memory for %d states of %zu bytes\n", keys, size);
        exit(1);
    }
    for (int k = 0; k < keys; k++)
        for (int i = 0; i < nspecs; i++)
            eddy_agg_init(specs[i], states + (size_t)k * size + off[i]);
    int64_t ts = 1700000000000LL;
    double t0 = now();
    for (long u = 0; u < updates; u++) {
        const eddy_value *v = &pool[u & (POOL - 1)];
        char *st = states + (size_t)(keys > 1 ? keyidx[u & ((1 << 20) - 1)] : 0) * size;
        for (int i = 0; i < nspecs; i++)
            eddy_agg_add(specs[i], st + off[i], v, ts + u);
    }
    double dt = now() - t0;
    free(states);
    return (double)updates / dt;
}

/* Merges per second of two full states, and the serialised size. */
static void merge_and_size(eddy_agg_spec *s, const eddy_value *pool, double *merges_s,
                           size_t *ser_len)
{
    size_t size = eddy_agg_state_size(s);
    char *a = malloc(size), *b = malloc(size), *c = malloc(size);
    if (!a || !b || !c)
        exit(1);
    eddy_agg_init(s, a);
    eddy_agg_init(s, b);
    for (int i = 0; i < 100000; i++) {
        eddy_agg_add(s, i % 2 ? a : b, &pool[i & (POOL - 1)], i);
    }
    int reps = 0;
    double t0 = now(), dt;
    do {
        for (int i = 0; i < 100; i++, reps++) {
            memcpy(c, a, size);
            eddy_agg_merge(s, c, b);
        }
        dt = now() - t0;
    } while (dt < 0.2);
    *merges_s = reps / dt;
    eddy_buf buf = {0};
    *ser_len = eddy_agg_serialize(s, c, &buf) == 0 ? buf.len : 0;
    eddy_buf_free(&buf);
    free(a);
    free(b);
    free(c);
}

static eddy_agg_spec *parse(const char *text)
{
    char err[256];
    eddy_agg_spec *s = eddy_agg_parse(text, err, sizeof err);
    if (!s) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    return s;
}

int main(int argc, char **argv)
{
    long updates = argc > 1 ? atol(argv[1]) : 10000000;
    if (updates <= 0) {
        fprintf(stderr, "usage: bench_agg [updates]\n");
        return 2;
    }
    static const char *const specs[] = {
        "count()", "sum(x)", "mean(x)", "min(x)", "max(x)", "variance(x)", "stddev(x)",
        "first(x)", "last(x)", "ewma(x, 0.1)", "rate(x)", "distinct(x)",
        "quantile(x, 0.95)", "topk(x, 5)", "topk(x, 50)", "histogram(x, 0, 500, 20)",
    };
    make_pool();
    printf("%ld updates per row; thread CPU time\n\n", updates);
    printf("| aggregate | state bytes | serialised bytes | hot M updates/s | 100k keys M updates/s | "
           "merges/s |\n|---|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        eddy_agg_spec *s = parse(specs[i]);
        const eddy_value *pool = uses_strings(specs[i]) ? strs : nums;
        double hot = run(&s, 1, updates, 1, pool);
        /* sketches at 100k keys would need GBs: keep that column to small states */
        double cold = eddy_agg_state_size(s) <= 512 ? run(&s, 1, updates, KEYS, pool) : 0;
        double merges;
        size_t ser;
        merge_and_size(s, pool, &merges, &ser);
        printf("| `%s` | %zu | %zu | %.1f | ", specs[i], eddy_agg_state_size(s), ser, hot / 1e6);
        if (cold > 0)
            printf("%.1f", cold / 1e6);
        else
            printf("-");
        printf(" | %.3g |\n", merges);
        eddy_agg_spec_free(s);
    }
    static const char *const five[2][5] = {
        {"count()", "sum(x)", "mean(x)", "min(x)", "max(x)"},
        {"count()", "sum(x)", "mean(x)", "stddev(x)", "last(x)"},
    };
    printf("\n| five scalars (one record = 5 updates) | state bytes | hot M records/s | "
           "100k keys M records/s |\n|---|---:|---:|---:|\n");
    for (int f = 0; f < 2; f++) {
        eddy_agg_spec *s[5];
        size_t bytes = 0;
        for (int i = 0; i < 5; i++) {
            s[i] = parse(five[f][i]);
            bytes += eddy_agg_state_size(s[i]);
        }
        double hot = run(s, 5, updates, 1, nums), cold = run(s, 5, updates, KEYS, nums);
        printf("| %s, %s, %s, %s, %s | %zu | %.1f | %.1f |\n", five[f][0], five[f][1],
               five[f][2], five[f][3], five[f][4], bytes, hot / 1e6, cold / 1e6);
        for (int i = 0; i < 5; i++)
            eddy_agg_spec_free(s[i]);
    }
    return 0;
}
