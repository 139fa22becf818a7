/* Two-sample Kolmogorov-Smirnov, as scipy.stats.ks_2samp (stats.h says
 * which p-value method applies when). The statistic is a merge walk in
 * integer units of 1/(nr*nc), so ties and the exact lattice bound are exact. */
#include <math.h>
#include <stdlib.h>

#include "engine/core/error.h"
#include "lib/drift/stats.h"

#define EXACT_MAX_PRODUCT 1000000u

static int sorted_ok(const double *a, size_t n)
{
    return a && n > 0 && n <= UINT32_MAX && isfinite(a[0]) && isfinite(a[n - 1]) &&
           a[0] <= a[n - 1];
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* P(a uniformly random lattice path from (0,0) to (A,B) reaches a point
 * with |x*B - y*A| >= D), A >= B. The path's mass is carried column by
 * column inside the band; mass stepping out is summed, so small p-values
 * keep their relative accuracy. c has B + 1 zeroed slots. */
static double outside_prob(uint64_t A, uint64_t B, uint64_t D, double *c)
{
    double out = 0;
    uint64_t ylo_prev = 0, yhi_prev = 0;
    for (uint64_t x = 0; x <= A; x++) {
        uint64_t xb = x * B;
        uint64_t ylo = xb >= D ? (xb - D) / A + 1 : 0;
        uint64_t yhi = (xb + D - 1) / A;
        if (yhi > B)
            yhi = B;
        if (yhi < ylo)
            return 1.0; /* the band closed: every path leaves it */
        if (x == 0) {
            c[0] = 1;
        } else {
            double rx = (double)(A - x + 1); /* steps left along x from column x-1 */
            for (uint64_t y = ylo_prev; y < ylo && y <= yhi_prev; y++) {
                out += c[y] * rx / (rx + (double)(B - y));
                c[y] = 0;
            }
            for (uint64_t y = ylo; y <= yhi_prev; y++)
                c[y] *= rx / (rx + (double)(B - y));
        }
        /* vertical steps inside column x, from the bottom up */
        double ra = (double)(A - x);
        for (uint64_t y = ylo + 1; y <= yhi; y++) {
            double ry = (double)(B - y + 1);
            c[y] += c[y - 1] * ry / (ra + ry);
        }
        if (yhi < B) {
            double ry = (double)(B - yhi);
            out += c[yhi] * ry / (ra + ry);
        }
        ylo_prev = ylo;
        yhi_prev = yhi;
    }
    return out;
}

/* The walk for products below 2^62: one value per step, written so the
 * compiler can use conditional moves; the data-dependent branches of a
 * plain merge mispredict about once per value, which costs more than the
 * rest of the step. A gap only counts after the last of a run of ties. */
static uint64_t gap_fast(const double *ref, size_t nr, const double *cur, size_t nc)
{
    int64_t inc_i = (int64_t)nc, inc_j = (int64_t)nr, diff = 0, best = 0;
    size_t i = 0, j = 0;
    double a = ref[0], b = cur[0];
    for (size_t s = 0; s < nr + nc; s++) {
        int take = a <= b;
        double v = take ? a : b;
        i += take;
        j += !take;
        diff += take ? inc_i : -inc_j;
        a = i < nr ? ref[i < nr ? i : nr - 1] : INFINITY;
        b = j < nc ? cur[j < nc ? j : nc - 1] : INFINITY;
        double next = a < b ? a : b;
        int64_t ad = diff < 0 ? -diff : diff;
        ad = next > v ? ad : 0; /* next >= v: sorted */
        best = ad > best ? ad : best;
    }
    return (uint64_t)best;
}

/* Any size: unsigned arithmetic, one run of ties per step. */
static uint64_t gap_wide(const double *ref, size_t nr, const double *cur, size_t nc)
{
    uint64_t dmax = 0;
    size_t i = 0, j = 0;
    while (i < nr && j < nc) {
        double v = ref[i] < cur[j] ? ref[i] : cur[j];
        while (i < nr && ref[i] == v)
            i++;
        while (j < nc && cur[j] == v)
            j++;
        uint64_t a = (uint64_t)i * nc, b = (uint64_t)j * nr;
        uint64_t d = a > b ? a - b : b - a;
        if (d > dmax)
            dmax = d;
    }
    /* once one sample is exhausted the gap only narrows towards 0 */
    return dmax;
}

int eddy_ks_2samp(const double *ref, size_t nr, const double *cur, size_t nc, double *stat,
                  double *pvalue)
{
    if (!sorted_ok(ref, nr) || !sorted_ok(cur, nc) || !stat || !pvalue)
        return EDDY_EINVAL;
    /* max |i/nr - j/nc| as max |i*nc - j*nr| over the pooled values, where i
     * and j count the values <= the pooled value in each sample */
    uint64_t dmax = (uint64_t)nr * nc < (1ull << 62) ? gap_fast(ref, nr, cur, nc)
                                                      : gap_wide(ref, nr, cur, nc);
    double prod = (double)nr * (double)nc;
    double d = (double)dmax / prod;
    double p;
    if ((uint64_t)nr * nc <= EXACT_MAX_PRODUCT) {
        uint64_t A = nr >= nc ? nr : nc, B = nr >= nc ? nc : nr;
        uint64_t g = gcd(A, B), lcm = A / g * B;
        d = (double)(dmax / g) / (double)lcm;
        if (dmax == 0) {
            p = 1;
        } else {
            double *c = calloc(B + 1, sizeof *c);
            if (!c)
                return EDDY_ENOMEM;
            p = outside_prob(A, B, dmax, c);
            free(c);
        }
    } else {
        double m = nr >= nc ? (double)nr : (double)nc, n = nr >= nc ? (double)nc : (double)nr;
        double en = nearbyint(m * n / (m + n));
        p = eddy_kstwo_sf(en, d);
        if (isnan(p))
            return EDDY_ENOMEM; /* the only way it fails for n >= 1 */
    }
    *stat = d;
    *pvalue = p < 0 ? 0 : p > 1 ? 1 : p;
    return 0;
}
