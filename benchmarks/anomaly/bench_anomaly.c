/* Anomaly detector throughput: points per second on one core for each
 * univariate detector and for Half-Space Trees, plus peak RSS. The input is
 * a seeded stationary series (a slow cycle, noise, 0.1% spikes), generated
 * up front so the timing covers the detectors only. Rates are per second
 * of this process's CPU time, so that a busy machine does not count the
 * time it gave to others. SPOT refits its GPD on every peak (2% of
 * values), so its rate depends on max_peaks; the "/10" rows refit on every
 * 10th peak (refit_every). HST runs with its defaults (river's: 10 trees of
 * height 8) and, for comparison, with 25 trees of height 15.
 *   bench_anomaly [points]   (default 5,000,000; HST runs points / 20) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <string.h>
#include <time.h>

#include "lib/anomaly/anomaly.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static uint64_t rng = 88172645463325252ULL;
static double urand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) * 0x1p-53;
}

static double grand(void)
{
    return sqrt(-2.0 * log(urand() + 1e-300)) * cos(6.283185307179586 * urand());
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 5000000;
    double *xs = malloc(sizeof(double) * n);
    if (!xs)
        return 1;
    for (size_t i = 0; i < n; i++)
        xs[i] = 3.0 * sin((double)i * 6.283185307179586 / 1440.0) + grand() +
                (urand() < 0.001 ? 8.0 : 0.0);
    const char *names[] = {"zscore", "robust_zscore", "ewma", "spot", "dspot", "nab",
                           "spot/10", "dspot/10"};
    printf("%-14s %12s %10s\n", "detector", "points/s", "sum");
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        eddy_anom *a;
        char err[256];
        int rc;
        if (strchr(names[k], '/')) {
            eddy_spot_params sp;
            if (names[k][0] == 'd')
                eddy_dspot_defaults(&sp);
            else
                eddy_spot_defaults(&sp);
            sp.refit_every = 10;
            rc = eddy_spot_new(&sp, &a, err, sizeof err);
        } else {
            rc = eddy_anom_new_default(names[k], &a, err, sizeof err);
        }
        if (rc != 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        double t0 = now(), sum = 0.0;
        for (size_t i = 0; i < n; i++)
            sum += eddy_anom_update(a, xs[i], (int64_t)i * 60000);
        double dt = now() - t0;
        printf("%-14s %12.0f %10.1f\n", names[k], n / dt, sum);
        eddy_anom_free(a);
    }
    for (int run = 0; run < 4; run++) {
        uint32_t dim = run % 2 ? 8 : 1;
        eddy_hst_params p;
        eddy_hst_defaults(&p, dim);
        if (run >= 2) {
            p.n_trees = 25;
            p.height = 15;
        }
        eddy_hst *h;
        char err[256];
        if (eddy_hst_new(&p, &h, err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        size_t m = n / 20 / dim * dim;
        double t0 = now(), sum = 0.0;
        for (size_t i = 0; i + dim <= m; i += dim)
            sum += eddy_hst_update(h, xs + i, dim);
        double dt = now() - t0;
        printf("hst %ux%u d=%-3u %12.0f %10.1f\n", p.n_trees, p.height, dim, (m / dim) / dt,
               sum);
        eddy_hst_free(h);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS %.1f MiB (input %.1f MiB)\n", ru.ru_maxrss / 1024.0,
           n * sizeof(double) / 1048576.0);
    free(xs);
    return 0;
}
