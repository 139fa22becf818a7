/* Chi-square test of homogeneity on a 2 x k table and the chi-square
 * survival function it needs (definitions in stats.h). */
#include <float.h>
#include <math.h>

#include "engine/core/error.h"
#include "lib/drift/stats.h"

/* Regularised lower gamma P(a, x) by its power series; used for x < a + 1,
 * where the series converges fast and Q = 1 - P keeps full precision. */
static double gamma_p_series(double a, double x, double lfac)
{
    double term = 1.0 / a, sum = term;
    for (int n = 1; n < 10000; n++) {
        term *= x / (a + n);
        sum += term;
        if (fabs(term) < fabs(sum) * DBL_EPSILON * 0.5)
            break;
    }
    return sum * exp(lfac);
}

/* Regularised upper gamma Q(a, x) by its continued fraction (modified
 * Lentz), for x >= a + 1, where it converges and needs no subtraction. */
static double gamma_q_cf(double a, double x, double lfac)
{
    const double tiny = 1e-300;
    double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
    for (int i = 1; i < 10000; i++) {
        double an = -i * (i - a);
        b += 2;
        d = an * d + b;
        if (fabs(d) < tiny)
            d = tiny;
        c = b + an / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1 / d;
        double delta = d * c;
        h *= delta;
        if (fabs(delta - 1) < DBL_EPSILON * 0.5)
            break;
    }
    return exp(lfac) * h;
}

double eddy_chi2_sf(double x, double dof)
{
    if (isnan(x) || isnan(dof) || !(dof > 0))
        return NAN;
    if (x <= 0)
        return 1;
    if (isinf(x))
        return 0;
    double a = dof / 2, h = x / 2;
    /* the common factor h^a e^-h / Gamma(a), in logs */
    double lfac = a * log(h) - h - lgamma(a);
    if (h < a + 1)
        return 1 - gamma_p_series(a, h, lfac);
    return gamma_q_cf(a, h, lfac);
}

int eddy_chi2_homogeneity(const double *ref_counts, const double *cur_counts, size_t k,
                          double *stat, double *pvalue, uint32_t *dof)
{
    if (!ref_counts || !cur_counts || k == 0 || !stat || !pvalue || !dof)
        return EDDY_EINVAL;
    double r = 0, c = 0;
    size_t kept = 0;
    for (size_t i = 0; i < k; i++) {
        double a = ref_counts[i], b = cur_counts[i];
        if (!isfinite(a) || !isfinite(b) || a < 0 || b < 0)
            return EDDY_EINVAL;
        r += a;
        c += b;
        kept += a + b > 0;
    }
    if (r <= 0 || c <= 0)
        return EDDY_EINVAL;
    if (kept < 2) {
        *stat = 0;
        *pvalue = 1;
        *dof = 0;
        return 0;
    }
    double total = r + c, s = 0;
    for (size_t i = 0; i < k; i++) {
        double col = ref_counts[i] + cur_counts[i];
        if (col <= 0)
            continue;
        double er = r * col / total, ec = c * col / total;
        double dr = ref_counts[i] - er, dc = cur_counts[i] - ec;
        s += dr * dr / er + dc * dc / ec;
    }
    *stat = s;
    *dof = (uint32_t)(kept - 1);
    *pvalue = eddy_chi2_sf(s, (double)(kept - 1));
    return 0;
}
