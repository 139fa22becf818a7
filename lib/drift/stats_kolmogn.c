/* Survival function of the one-sample two-sided Kolmogorov statistic D_n,
 * scipy.stats.kstwo.sf(d, n), following scipy's kolmogn (Simard & L'Ecuyer
 * 2011) branch for branch so that ks_2samp's 'asymp' p-values agree with
 * scipy to rounding. Where scipy uses Pomeranz's recursion (n <= 140, a
 * middle band of n*d^2) the Durbin matrix is used: both are exact. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/drift/stats.h"

#define E128 128
static const double EP128 = 0x1p128, EM128 = 0x1p-128;

/* log(n! / n^n) by Stirling with the n*log(n) removed first. */
static double log_nfact_div_npow(double n)
{
    static const double c[] = {
        -2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3,
        8.4175084175084175084e-4, -5.952380952380952381e-4, 7.9365079365079365079e-4,
        -2.7777777777777777778e-3, 8.3333333333333333333e-2,
    };
    double rn = 1.0 / n, r2 = rn / n, poly = 0;
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        poly = poly * r2 + c[i];
    return log(n) / 2 - n + log(2 * M_PI) / 2 + rn * poly;
}

/* One-sided Smirnov P(D_n^+ >= x), exactly, by the Smirnov-Birnbaum-
 * Tingey sum: x * sum_{j=0}^{floor(n(1-x))} C(n,j) (1-x-j/n)^(n-j)
 * (x+j/n)^(j-1). Every term is positive, so summing in log space loses
 * nothing to cancellation. */
static double smirnov(double n, double x)
{
    if (x >= 1)
        return 0;
    if (x <= 0)
        return 1;
    /* j <= n(1-x) < n, so 1-x-j/n > 0 but for the last j when n(1-x) is an
     * integer, where the term is 0 */
    double jmax = floor(n * (1 - x)), big = -INFINITY, sum = 0;
    /* two passes: find the largest log term, then sum exp(term - largest) */
    for (int pass = 0; pass < 2; pass++) {
        /* log C(n, j), accumulated with Neumaier's compensation: plain
         * summation drifts by ~1e-8 relative at n ~ 1e5 */
        double logc = 0, comp = 0;
        for (double j = 0; j <= jmax; j++) {
            double a = 1 - x - j / n;
            if (a > 0) {
                double t = (logc + comp) + (n - j) * log(a) + (j - 1) * log(x + j / n);
                if (pass == 0)
                    big = t > big ? t : big;
                else
                    sum += exp(t - big);
            }
            double inc = log((n - j) / (j + 1)), nsum = logc + inc;
            comp += fabs(logc) >= fabs(inc) ? (logc - nsum) + inc : (inc - nsum) + logc;
            logc = nsum;
        }
    }
    return x * exp(big) * sum;
}

static void matmul(const double *a, const double *b, double *out, int m)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < m; j++) {
            double s = 0;
            for (int l = 0; l < m; l++)
                s += a[i * m + l] * b[l * m + j];
            out[i * m + j] = s;
        }
}

/* Pr(D_n <= d) by the Durbin matrix in the Marsaglia-Tsang-Wang form:
 * the k-th diagonal entry of (n!/n^n) H^n, with exponents carried apart.
 * NaN when the matrices cannot be allocated. */
static double kolmogn_dmtw(double n, double d)
{
    if (d >= 1)
        return 1;
    double nd = n * d;
    if (nd <= 0.5)
        return 0;
    int k = (int)ceil(nd);
    double h = k - nd;
    int m = 2 * k - 1;
    double *mem = calloc((size_t)3 * m * m + 2 * (size_t)m, sizeof *mem);
    if (!mem)
        return NAN;
    double *H = mem, *P = H + m * m, *T = P + m * m, *v = T + m * m, *w = v + m;
    double fac = 1;
    for (int j = 1; j <= m; j++) {
        w[j - 1] = fac;
        fac /= j;
        v[j - 1] = (1.0 - pow(h, j)) * fac;
    }
    double tt = pow(fmax(2 * h - 1.0, 0), m) - 2 * pow(h, m);
    v[m - 1] = (1.0 + tt) * fac;
    for (int i = 1; i < m; i++)
        for (int r = i - 1; r < m; r++)
            H[r * m + i] = w[r - i + 1];
    for (int r = 0; r < m; r++)
        H[r * m] = v[r];
    for (int c = 0; c < m; c++)
        H[(m - 1) * m + c] = v[m - 1 - c];
    for (int i = 0; i < m; i++)
        P[i * m + i] = 1;
    uint64_t nn = (uint64_t)n;
    long expnt = 0, hexpnt = 0;
    while (nn > 0) {
        if (nn % 2) {
            matmul(P, H, T, m);
            memcpy(P, T, sizeof *P * m * m);
            expnt += hexpnt;
        }
        matmul(H, H, T, m);
        memcpy(H, T, sizeof *H * m * m);
        hexpnt *= 2;
        if (fabs(H[(k - 1) * m + k - 1]) > EP128) {
            for (int i = 0; i < m * m; i++)
                H[i] /= EP128;
            hexpnt += E128;
        }
        nn /= 2;
    }
    double p = P[(k - 1) * m + k - 1];
    free(mem);
    for (double i = 1; i <= n; i++) {
        p = i * p / n;
        if (fabs(p) < EM128) {
            p *= EP128;
            expnt -= E128;
        }
    }
    return expnt ? ldexp(p, (int)expnt) : p;
}

/* Pelz-Good asymptotic series for Pr(D_n <= x), as scipy sums it. */
static double kolmogn_pelzgood(double n, double x)
{
    if (x <= 0)
        return 0;
    if (x >= 1)
        return 1;
    const double pi2 = M_PI * M_PI, pi4 = pi2 * pi2, pi6 = pi4 * pi2;
    const double sqrt2pi = sqrt(2 * M_PI);
    double z = sqrt(n) * x;
    double z2 = z * z, z3 = z * z * z, z4 = z2 * z2, z6 = z3 * z3;
    double qlog = -pi2 / 8 / z2;
    if (qlog < -708)
        return 0;
    double q = exp(qlog);
    double k1a = -z2, k1b = pi2 / 4;
    double k2a = 6 * z6 + 2 * z4;
    double k2b = (2 * z4 - 5 * z2) * pi2 / 4;
    double k2c = pi4 * (1 - 2 * z2) / 16;
    double k3d = pi6 * (5 - 30 * z2) / 64;
    double k3c = pi4 * (-60 * z2 + 212 * z4) / 16;
    double k3b = pi2 * (135 * z4 - 96 * z6) / 4;
    double k3a = -30 * z6 - 90 * pow(z, 8);
    double K[4] = {0, 0, 0, 0};
    int maxk = (int)ceil(16 * z / M_PI);
    for (int k = maxk; k > 0; k--) {
        double mm = 2 * k - 1;
        double m2 = mm * mm, m4 = pow(mm, 4), m6 = pow(mm, 6);
        double qp = pow(q, 8 * k);
        double c[4] = {1.0, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4,
                       k3a + k3b * m2 + k3c * m4 + k3d * m6};
        for (int i = 0; i < 4; i++)
            K[i] = K[i] * qp + c[i];
    }
    double div[4] = {z, 6 * z4, 72 * pow(z, 7), 6480 * pow(z, 10)};
    for (int i = 0; i < 4; i++)
        K[i] = K[i] * q * sqrt2pi / div[i];
    q = exp(-pi2 / 2 / z2);
    double sqrt3z = sqrt(3.0) * z, s2 = 0, s3 = 0;
    for (int k = maxk; k > 0; k--) {
        double ks = k, k2 = ks * ks, kspi = M_PI * ks;
        double qp = pow(q, k2);
        s2 += k2 * qp;
        s3 += (sqrt3z + kspi) * (sqrt3z - kspi) * k2 * qp;
    }
    K[2] += s2 * (pi2 * sqrt2pi / (-36 * z3));
    K[3] += s3 * (pi2 * sqrt2pi / (216 * z6));
    double sum = 0;
    for (int i = 0; i < 4; i++)
        sum += K[i] / pow(n, i / 2.0);
    return sum;
}

static double clip(double p)
{
    return p < 0 ? 0 : p > 1 ? 1 : p;
}

double eddy_kstwo_sf(double n, double x)
{
    if (isnan(n) || isnan(x) || n < 1 || n != floor(n))
        return NAN;
    if (x >= 1)
        return 0;
    if (x <= 0)
        return 1;
    double t = n * x;
    if (t <= 1) {
        if (t <= 0.5)
            return 1;
        double prob;
        if (n <= 140) {
            prob = 1;
            for (double i = 1; i <= n; i++)
                prob *= i * (1.0 / n) * (2 * t - 1);
        } else {
            prob = exp(log_nfact_div_npow(n) + n * log(2 * t - 1));
        }
        return clip(1.0 - prob);
    }
    if (t >= n - 1)
        return clip(2 * pow(1.0 - x, n));
    if (x >= 0.5)
        return clip(2 * smirnov(n, x));
    double nx2 = t * x;
    if (n <= 140) {
        if (nx2 <= 4) {
            double cdf = kolmogn_dmtw(n, x);
            return isnan(cdf) ? cdf : clip(1.0 - cdf);
        }
        return clip(2 * smirnov(n, x));
    }
    if (nx2 >= 370.0)
        return 0;
    if (nx2 >= 2.2)
        return clip(2 * smirnov(n, x));
    double cdf;
    if (nx2 >= 18.0)
        cdf = 1;
    else if (n <= 100000 && n * pow(x, 1.5) <= 1.4)
        cdf = kolmogn_dmtw(n, x);
    else
        cdf = kolmogn_pelzgood(n, x);
    return isnan(cdf) ? cdf : clip(1.0 - cdf);
}
