/* Drift detector throughput on one core, through the library (drift.h).
 *
 * usage: bench_detectors [updates (10000000)] [kswin updates (300000)]
 *        bench_detectors --dump stationary|shift|stationary01|shift01 N
 *
 * Two streams, both from a fixed seed, generated before timing into a
 * buffer of 2^20 values that the run cycles through:
 *   stationary  normal(0, 1)
 *   shift       normal(mu, 1), mu alternating 0 and 1 every 100,000 values
 *               (2^20 is not a multiple of 100,000, so the shifts come from
 *               a second pass over the normals, not from the buffer's period)
 * The binary detectors (ddm, eddm, hddm_a, hddm_w) watch error streams, so
 * they get the same values thresholded: 1 when x > 0.8416, an error rate
 * of 0.2 in control and 0.56 while mu is 1 (the "01" streams of --dump).
 *
 * Each detector runs with river's default parameters in its own child
 * process, so the peak RSS printed is that run's (it includes the 8 MiB
 * input buffer). Time is the thread's CPU time; updates/s are per core.
 * One line per run:
 *   detector stream updates seconds ns_per_update mupdates_per_s changes warnings rss_kib
 * --dump prints the first N values of a stream, one per line, with %.17g,
 * so river_speed.py times river on exactly the same input. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/drift/drift.h"

#define BUF (1u << 20)
#define SEGMENT 100000
#define ERR_CUT 0.8416 /* P(z > ERR_CUT) = 0.2 */

typedef enum { STATIONARY, SHIFT } stream_kind;

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static double uniform01(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return (double)((x * 0x2545f4914f6cdd1dull) >> 11) * 0x1.0p-53;
}

/* Box-Muller; both outputs used. */
static void fill_normal(double *v, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        double u1 = uniform01(), u2 = uniform01();
        if (u1 < 1e-300)
            u1 = 1e-300;
        double r = sqrt(-2.0 * log(u1));
        v[i] = r * cos(2 * M_PI * u2);
        v[i + 1] = r * sin(2 * M_PI * u2);
    }
}

/* Value i of a stream; binary turns it into a 0/1 error. */
static double value(const double *z, stream_kind k, int binary, uint64_t i)
{
    double x = z[i & (BUF - 1)];
    if (k == SHIFT && (i / SEGMENT) % 2 == 1)
        x += 1.0;
    return binary ? (x > ERR_CUT ? 1.0 : 0.0) : x;
}

typedef struct {
    const char *name;
    int binary;
} detector;

static const detector DETECTORS[] = {
    {"page_hinkley", 0}, {"ddm", 1}, {"cusum", 0},  {"adwin", 0},
    {"eddm", 1},         {"hddm_a", 1}, {"hddm_w", 1}, {"kswin", 0},
};

static int make(const char *name, eddy_drift **d, char *err, size_t errlen)
{
    if (!strcmp(name, "page_hinkley")) {
        eddy_page_hinkley_params p;
        eddy_page_hinkley_defaults(&p);
        return eddy_page_hinkley_new(&p, d, err, errlen);
    }
    if (!strcmp(name, "ddm")) {
        eddy_ddm_params p;
        eddy_ddm_defaults(&p);
        return eddy_ddm_new(&p, d, err, errlen);
    }
    if (!strcmp(name, "cusum")) {
        eddy_cusum_params p;
        eddy_cusum_defaults(&p);
        return eddy_cusum_new(&p, d, err, errlen);
    }
    if (!strcmp(name, "adwin")) {
        eddy_adwin_params p;
        eddy_adwin_defaults(&p);
        return eddy_adwin_new(&p, d, err, errlen);
    }
    if (!strcmp(name, "eddm")) {
        eddy_eddm_params p;
        eddy_eddm_defaults(&p);
        return eddy_eddm_new(&p, d, err, errlen);
    }
    if (!strcmp(name, "hddm_a")) {
        eddy_hddm_a_params p;
        eddy_hddm_a_defaults(&p);
        return eddy_hddm_a_new(&p, d, err, errlen);
    }
    if (!strcmp(name, "hddm_w")) {
        eddy_hddm_w_params p;
        eddy_hddm_w_defaults(&p);
        return eddy_hddm_w_new(&p, d, err, errlen);
    }
    eddy_kswin_params p;
    eddy_kswin_defaults(&p);
    return eddy_kswin_new(&p, d, err, errlen);
}

static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Runs in the child: builds the input, times the updates, prints one line. */
static int run_one(const detector *det, stream_kind kind, uint64_t n)
{
    double *z = malloc(BUF * sizeof *z);
    if (!z) {
        fprintf(stderr, "bench_detectors: out of memory for the input buffer\n");
        return 1;
    }
    fill_normal(z, BUF);
    /* Precomputing the whole transformed period keeps the generator out of
     * the timed loop: the loop reads one double per update. */
    double *in = malloc(2 * (size_t)SEGMENT * sizeof *in);
    if (!in) {
        fprintf(stderr, "bench_detectors: out of memory for the input buffer\n");
        free(z);
        return 1;
    }
    eddy_drift *d = NULL;
    char err[256];
    if (make(det->name, &d, err, sizeof err) != 0) {
        fprintf(stderr, "bench_detectors: %s\n", err);
        free(z);
        free(in);
        return 1;
    }
    uint64_t changes = 0, warnings = 0;
    double t0 = cpu_seconds();
    for (uint64_t start = 0; start < n; start += 2 * SEGMENT) {
        uint64_t len = n - start < 2 * SEGMENT ? n - start : 2 * SEGMENT;
        /* Untimed refill of the next 200,000 values. */
        double t1 = cpu_seconds();
        for (uint64_t i = 0; i < len; i++)
            in[i] = value(z, kind, det->binary, start + i);
        t0 += cpu_seconds() - t1;
        for (uint64_t i = 0; i < len; i++) {
            eddy_drift_signal s = eddy_drift_update(d, in[i]);
            changes += s == EDDY_DRIFT_CHANGE;
            warnings += s == EDDY_DRIFT_WARNING;
        }
    }
    double secs = cpu_seconds() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%s %s %llu %.4f %.2f %.2f %llu %llu %ld\n", det->name,
           kind == STATIONARY ? "stationary" : "shift", (unsigned long long)n, secs,
           secs * 1e9 / (double)n, (double)n / secs / 1e6, (unsigned long long)changes,
           (unsigned long long)warnings, ru.ru_maxrss);
    fflush(stdout);
    eddy_drift_free(d);
    free(z);
    free(in);
    return 0;
}

static int dump(const char *what, uint64_t n)
{
    stream_kind kind;
    int binary;
    if (!strcmp(what, "stationary") || !strcmp(what, "stationary01"))
        kind = STATIONARY;
    else if (!strcmp(what, "shift") || !strcmp(what, "shift01"))
        kind = SHIFT;
    else {
        fprintf(stderr, "bench_detectors: --dump: unknown stream '%s' (stationary, shift, "
                        "stationary01, shift01)\n", what);
        return 2;
    }
    binary = strstr(what, "01") != NULL;
    double *z = malloc(BUF * sizeof *z);
    if (!z) {
        fprintf(stderr, "bench_detectors: out of memory for the input buffer\n");
        return 1;
    }
    fill_normal(z, BUF);
    for (uint64_t i = 0; i < n; i++)
        printf("%.17g\n", value(z, kind, binary, i));
    free(z);
    return 0;
}

static int parse_count(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v == 0 || s[0] == '-') {
        fprintf(stderr, "bench_detectors: '%s' is not a positive count\n", s);
        return -1;
    }
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t n = 10000000, n_kswin = 300000;
    if (argc >= 2 && !strcmp(argv[1], "--dump")) {
        if (argc != 4 || parse_count(argv[3], &n) != 0) {
            fprintf(stderr, "usage: bench_detectors --dump STREAM N\n");
            return 2;
        }
        return dump(argv[2], n);
    }
    if (argc > 3 || (argc >= 2 && parse_count(argv[1], &n) != 0) ||
        (argc == 3 && parse_count(argv[2], &n_kswin) != 0)) {
        fprintf(stderr, "usage: bench_detectors [updates] [kswin updates]\n");
        return 2;
    }
    int failed = 0;
    for (size_t k = 0; k < sizeof DETECTORS / sizeof DETECTORS[0]; k++) {
        for (int s = STATIONARY; s <= SHIFT; s++) {
            const detector *det = &DETECTORS[k];
            pid_t pid = fork();
            if (pid < 0) {
                perror("bench_detectors: fork");
                return 1;
            }
            if (pid == 0)
                _exit(run_one(det, (stream_kind)s, strcmp(det->name, "kswin") ? n : n_kswin));
            int status;
            if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
                fprintf(stderr, "bench_detectors: the %s run failed\n", det->name);
                failed = 1;
            }
        }
    }
    return failed;
}
