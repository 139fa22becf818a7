/* Maximum-likelihood fit of a generalised Pareto distribution by Grimshaw's
 * trick, as Siffer et al. use it in SPOT: the two-parameter likelihood
 * equations reduce to one, w(x) = u(x) v(x) - 1 = 0 with
 *   u(x) = 1 + mean(ln(1 + x y_i)),  v(x) = mean(1 / (1 + x y_i)),
 * whose roots lie in (-1/Y_max, 0) and in (0, 2 (mean - min) / min^2].
 * The reference code searches the positive side only from 2 (mean - min) /
 * (mean min), which misses the root whenever the smallest peak is tiny
 * (200 samples of a GPD with gamma 0.3 are enough): eddy scans the whole
 * positive interval on a geometric grid from 1e-6 / Y_max, as it spans many
 * decades. Each root x gives gamma = u(x) - 1 and
 * sigma = gamma / x; the candidate with the highest likelihood wins, with
 * gamma = 0 (the exponential distribution) always in the running.
 * The reference code minimises sum w^2 with L-BFGS from a grid; bracketing
 * sign changes on the same grid and refining them exactly finds the same
 * roots without an optimiser, to machine precision. */
#include <math.h>
#include <string.h>

#include "../error.h"
#include "anomaly_impl.h"

/* The peaks with their extremes, which bound every term 1 + x y_i. */
typedef struct {
    const double *y;
    size_t n;
    double ym, yM;
} grim_peaks;

/* Log of the largest factor by which a term or its inverse can move a
 * running product, in bits. */
static double grim_term_bits(const grim_peaks *g, double x)
{
    double a = 1.0 + x * g->ym, b = 1.0 + x * g->yM;
    return fmax(fmax(fabs(log2(a)), fabs(log2(b))), 1.0);
}

/* Two doubles in one SSE2 register (GNU vector extension): the products
 * below run as GRIM_LANES independent chains. */
typedef double grim_v2 __attribute__((vector_size(16)));
#define GRIM_VECS 4
#define GRIM_LANES (2 * GRIM_VECS)

/* Scales P and R by the same power of two, exactly, so that P lands in
 * [1, 2); answers the exponent taken out. P must be normal. */
static inline long grim_renorm(double *P, double *R)
{
    uint64_t b;
    memcpy(&b, P, sizeof b);
    long ex = (long)((b >> 52) & 0x7ff) - 1023;
    uint64_t sb = (uint64_t)(1023 - ex) << 52;
    double sc;
    memcpy(&sc, &sb, sizeof sc);
    *P *= sc;
    *R *= sc;
    return ex;
}

/* sum ln(1 + x y_i) and sum 1 / (1 + x y_i) without a log or a division
 * per term, the costs that dominate a fit: with s_i the terms, the running
 * product P = prod s_i gives the first sum as ln P, and R = sum over i of
 * the product of all terms but s_i (R' = R s + P) gives the second as R / P.
 * Every factor is positive and nothing cancels, so both carry a relative
 * error of about n ulps, far below what the fit needs. Independent chains
 * in registers keep the multipliers busy. Every `blk` terms per chain the
 * products are rescaled by a power of two before they can leave the normal
 * range: a term moves P by at most 2^bits and R / P is below n 2^bits. */
static void grim_sums(const grim_peaks *g, double x, double *sl, double *si)
{
    const double *y = g->y;
    size_t n = g->n, i = 0;
    double bits = grim_term_bits(g, x);
    size_t blk = bits < 120.0 ? (size_t)(990.0 / bits) - 1 : 0;
    if (blk > 64)
        blk = 64;
    grim_v2 P[GRIM_VECS], R[GRIM_VECS], one = {1.0, 1.0}, xv = {x, x};
    long e[GRIM_LANES] = {0};
    for (int k = 0; k < GRIM_VECS; k++) {
        P[k] = one;
        R[k] = one - one;
    }
    while (blk && i + GRIM_LANES <= n) {
        size_t steps = (n - i) / GRIM_LANES;
        if (steps > blk)
            steps = blk;
        for (size_t st = 0; st < steps; st++, i += GRIM_LANES) {
            for (int k = 0; k < GRIM_VECS; k++) {
                grim_v2 yv;
                memcpy(&yv, y + i + 2 * k, sizeof yv);
                grim_v2 t = one + xv * yv;
                R[k] = R[k] * t + P[k];
                P[k] *= t;
            }
        }
        for (int k = 0; k < GRIM_VECS; k++) {
            double p[2], r[2];
            memcpy(p, &P[k], sizeof p);
            memcpy(r, &R[k], sizeof r);
            e[2 * k] += grim_renorm(&p[0], &r[0]);
            e[2 * k + 1] += grim_renorm(&p[1], &r[1]);
            memcpy(&P[k], p, sizeof p);
            memcpy(&R[k], r, sizeof r);
        }
    }
    double lsum = 0.0, isum = 0.0;
    for (int k = 0; k < GRIM_VECS; k++) {
        double p[2], r[2];
        memcpy(p, &P[k], sizeof p);
        memcpy(r, &R[k], sizeof r);
        for (int j = 0; j < 2; j++) {
            lsum += log(p[j]) + (double)e[2 * k + j] * M_LN2;
            isum += r[j] / p[j];
        }
    }
    /* The tail, and terms too wide for products (or not positive, which
     * the logs then report as NaN): one log and one division each. */
    for (; i < n; i++) {
        double t = 1.0 + x * y[i];
        lsum += log(t);
        isum += 1.0 / t;
    }
    *sl = lsum;
    *si = isum;
}

static double grim_w(const grim_peaks *g, double x)
{
    double sl, si;
    grim_sums(g, x, &sl, &si);
    return (1.0 + sl / (double)g->n) * (si / (double)g->n) - 1.0;
}

/* Illinois regula falsi on a bracket with fa * fb < 0. */
static double grim_refine(const grim_peaks *g, double a, double fa, double b, double fb)
{
    int side = 0;
    for (int it = 0; it < 200; it++) {
        double c = (a * fb - b * fa) / (fb - fa);
        if (!(c > fmin(a, b) && c < fmax(a, b)))
            c = 0.5 * (a + b);
        double fc = grim_w(g, c);
        if (fc == 0.0)
            return c;
        if ((fc > 0) == (fb > 0)) {
            b = c;
            fb = fc;
            if (side == -1)
                fa *= 0.5;
            side = -1;
        } else {
            a = c;
            fa = fc;
            if (side == 1)
                fb *= 0.5;
            side = 1;
        }
        if (fabs(b - a) <= 4e-16 * fmax(fabs(a), fabs(b)))
            break;
    }
    return fabs(fa) < fabs(fb) ? a : b;
}

/* The candidate of a root x: gamma = mean ln(1 + x y_i), sigma = gamma / x,
 * and since gamma / sigma = x the log-likelihood
 *   -n ln sigma - (1 + 1 / gamma) sum ln(1 + (gamma / sigma) y_i)
 * reuses the same sum. Every term is positive on the intervals scanned. */
static void grim_try(const grim_peaks *g, double x, double *best_ll, double *gamma,
                     double *sigma)
{
    if (x == 0.0)
        return;
    double sl, si;
    grim_sums(g, x, &sl, &si);
    double n = (double)g->n, ga = sl / n, s = ga / x;
    if (!(s > 0.0) || ga == 0.0)
        return;
    double ll = -n * log(s) - (1.0 + 1.0 / ga) * sl;
    if (ll > *best_ll) {
        *best_ll = ll;
        *gamma = ga;
        *sigma = s;
    }
}

/* Grid of npts + 2 points from lo to hi, even or geometric. */
static void grim_scan(const grim_peaks *g, double lo, double hi, uint32_t npts, int geo,
                      double *best_ll, double *gamma, double *sigma)
{
    if (!(hi > lo))
        return;
    double step = geo ? log(hi / lo) / (npts + 1) : (hi - lo) / (npts + 1);
    double xa = lo, fa = grim_w(g, xa);
    for (uint32_t k = 1; k <= npts + 1; k++) {
        double xb = k == npts + 1 ? hi : geo ? lo * exp(k * step) : lo + k * step;
        double fb = grim_w(g, xb);
        if (fa == 0.0)
            grim_try(g, xa, best_ll, gamma, sigma);
        else if (isfinite(fa) && isfinite(fb) && fb != 0.0 && (fa > 0) != (fb > 0))
            grim_try(g, grim_refine(g, xa, fa, xb, fb), best_ll, gamma, sigma);
        xa = xb;
        fa = fb;
    }
    if (fa == 0.0)
        grim_try(g, xa, best_ll, gamma, sigma);
}

int eddy_spot_grimshaw(const double *y, size_t n, uint32_t n_points, double *gamma,
                       double *sigma)
{
    if (n == 0)
        return EDDY_EINVAL;
    double ym = y[0], yM = y[0], sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        ym = y[i] < ym ? y[i] : ym;
        yM = y[i] > yM ? y[i] : yM;
        sum += y[i];
    }
    grim_peaks g = {y, n, ym, yM};
    double mean = sum / (double)n;
    *gamma = 0.0;
    *sigma = mean;
    /* The exponential distribution's log-likelihood. */
    double best = mean > 0.0 ? -(double)n * (1.0 + log(mean)) : -INFINITY;
    if (n_points < 2)
        n_points = 2;
    double eps = 1e-8, a = -1.0 / yM;
    if (fabs(a) < 2 * eps)
        eps = fabs(a) / n_points;
    a += eps;
    grim_scan(&g, a + eps, -eps, n_points, 0, &best, gamma, sigma);
    if (ym > 0.0 && mean > ym)
        grim_scan(&g, 1e-6 / yM, 2.0 * (mean - ym) / (ym * ym), n_points, 1, &best, gamma,
                  sigma);
    return 0;
}
