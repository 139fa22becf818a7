/* First Wasserstein distance between two sorted samples: the area between
 * their ECDFs, walked once over the pooled values. The ECDF gap is kept as
 * the integer |i*nc - j*nr| so that only the widths carry rounding. */
#include <math.h>

#include "engine/core/error.h"
#include "lib/drift/stats.h"

static int sorted_ok(const double *a, size_t n)
{
    return a && n > 0 && n < (1u << 31) && isfinite(a[0]) && isfinite(a[n - 1]) &&
           a[0] <= a[n - 1];
}

/* numpy.std(a) (ddof 0) for a non-constant sample; two passes as numpy. */
static double std_ref(const double *a, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i];
    double mean = s / (double)n, ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (a[i] - mean) * (a[i] - mean);
    return sqrt(ss / (double)n);
}

int eddy_wasserstein(const double *ref, size_t nr, const double *cur, size_t nc, double *w,
                     double *w_norm)
{
    if (!sorted_ok(ref, nr) || !sorted_ok(cur, nc) || !w || !w_norm)
        return EDDY_EINVAL;
    /* one pooled value per step; a step inside a run of ties has width 0,
     * so ties need no care. Selects rather than branches, as in stats_ks.c. */
    int64_t inc_i = (int64_t)nc, inc_j = (int64_t)nr, diff = 0;
    size_t i = 0, j = 0;
    double a = ref[0], b = cur[0], area = 0;
    for (size_t s = 0; s + 1 < nr + nc; s++) {
        int take = a <= b;
        double v = take ? a : b;
        i += take;
        j += !take;
        diff += take ? inc_i : -inc_j;
        a = i < nr ? ref[i < nr ? i : nr - 1] : INFINITY;
        b = j < nc ? cur[j < nc ? j : nc - 1] : INFINITY;
        double next = a < b ? a : b;
        area += (double)(diff < 0 ? -diff : diff) * (next - v);
    }
    double dist = area / ((double)nr * (double)nc);
    double s;
    if (ref[0] != ref[nr - 1])
        s = std_ref(ref, nr);
    else
        s = ref[0] != 0 ? fabs(ref[0]) : 1;
    *w = dist;
    *w_norm = dist / s;
    return 0;
}
