/* PSI and Jensen-Shannon distance over quantile bins of the reference
 * (definitions in stats.h). Bin counts come from binary searches of the
 * sorted inputs at each edge, so nothing is allocated. */
#include <math.h>

#include "engine/core/error.h"
#include "lib/drift/stats.h"

#define MAX_BINS 1000

void eddy_bin_params_defaults(eddy_bin_params *bp)
{
    bp->bins = 10;
    bp->eps = 1e-4;
}

static int sorted_ok(const double *a, size_t n)
{
    return a && n > 0 && isfinite(a[0]) && isfinite(a[n - 1]) && a[0] <= a[n - 1];
}

/* First index whose value is >= x. */
static size_t lower_bound(const double *a, size_t n, double x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* numpy.quantile(a, q) with the default 'linear' method, operation for
 * operation, so edges (and so bin membership of values equal to an edge)
 * agree with numpy to the last bit. */
static double np_quantile(const double *a, size_t n, double q)
{
    double vi = (double)(n - 1) * q;
    if (vi >= (double)(n - 1))
        return a[n - 1];
    double prev = floor(vi);
    double g = vi - prev;
    size_t i = (size_t)prev;
    double lo = a[i], hi = a[i + 1], d = hi - lo;
    return g >= 0.5 ? hi - d * (1 - g) : lo + d * g;
}

/* Smoothed proportions p (reference) and q (current); answers the number
 * of bins. */
static int histograms(const double *ref, size_t nr, const double *cur, size_t nc,
                      const eddy_bin_params *bp, double *p, double *q, size_t *nbins)
{
    if (!sorted_ok(ref, nr) || !sorted_ok(cur, nc) || !bp || bp->bins < 1 ||
        bp->bins > MAX_BINS || !(bp->eps >= 0 && bp->eps < 1))
        return EDDY_EINVAL;
    double edges[MAX_BINS];
    size_t ne = 0;
    for (uint32_t i = 1; i < bp->bins; i++) {
        double e = np_quantile(ref, nr, (double)i / bp->bins);
        /* rounding can put an edge a hair below the previous one: keep the
         * list sorted and unique, as numpy.unique does */
        size_t j = ne;
        while (j > 0 && edges[j - 1] > e) {
            edges[j] = edges[j - 1];
            j--;
        }
        if (j > 0 && edges[j - 1] == e) {
            for (; j < ne; j++)
                edges[j] = edges[j + 1];
            continue;
        }
        edges[j] = e;
        ne++;
    }
    size_t pr = 0, pc = 0;
    for (size_t i = 0; i < ne; i++) {
        size_t r = lower_bound(ref, nr, edges[i]), c = lower_bound(cur, nc, edges[i]);
        p[i] = (double)(r - pr) / (double)nr;
        q[i] = (double)(c - pc) / (double)nc;
        pr = r;
        pc = c;
    }
    p[ne] = (double)(nr - pr) / (double)nr;
    q[ne] = (double)(nc - pc) / (double)nc;
    *nbins = ne + 1;
    for (size_t i = 0; i < *nbins; i++) {
        if (p[i] < bp->eps)
            p[i] = bp->eps;
        if (q[i] < bp->eps)
            q[i] = bp->eps;
    }
    return 0;
}

int eddy_psi(const double *ref, size_t nr, const double *cur, size_t nc,
             const eddy_bin_params *bp, double *psi)
{
    double p[MAX_BINS], q[MAX_BINS];
    size_t nb;
    int rc = psi ? histograms(ref, nr, cur, nc, bp, p, q, &nb) : EDDY_EINVAL;
    if (rc)
        return rc;
    double s = 0;
    for (size_t i = 0; i < nb; i++)
        if (p[i] != q[i]) /* also keeps 0 * ln(0/0) out when eps == 0 */
            s += (q[i] - p[i]) * log(q[i] / p[i]);
    *psi = s;
    return 0;
}

/* scipy.special.rel_entr for x >= 0, y > 0. */
static double rel_entr(double x, double y)
{
    return x > 0 ? x * log(x / y) : 0;
}

int eddy_js_distance(const double *ref, size_t nr, const double *cur, size_t nc,
                     const eddy_bin_params *bp, double *js)
{
    double p[MAX_BINS], q[MAX_BINS];
    size_t nb;
    int rc = js ? histograms(ref, nr, cur, nc, bp, p, q, &nb) : EDDY_EINVAL;
    if (rc)
        return rc;
    double sp = 0, sq = 0;
    for (size_t i = 0; i < nb; i++) {
        sp += p[i];
        sq += q[i];
    }
    double left = 0, right = 0;
    for (size_t i = 0; i < nb; i++) {
        double pi = p[i] / sp, qi = q[i] / sq, m = (pi + qi) / 2.0;
        left += rel_entr(pi, m);
        right += rel_entr(qi, m);
    }
    double d = (left + right) / log(2.0) / 2.0;
    *js = d > 0 ? sqrt(d) : 0;
    return 0;
}
