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

#include "../error.h"
#include "anomaly_impl.h"

static double grim_w(const double *y, size_t n, double x)
{
    double sl = 0.0, si = 0.0;
    for (size_t i = 0; i < n; i++) {
        double s = 1.0 + x * y[i];
        sl += log(s);
        si += 1.0 / s;
    }
    return (1.0 + sl / (double)n) * (si / (double)n) - 1.0;
}

/* Illinois regula falsi on a bracket with fa * fb < 0. */
static double grim_refine(const double *y, size_t n, double a, double fa, double b, double fb)
{
    int side = 0;
    for (int it = 0; it < 200; it++) {
        double c = (a * fb - b * fa) / (fb - fa);
        if (!(c > fmin(a, b) && c < fmax(a, b)))
            c = 0.5 * (a + b);
        double fc = grim_w(y, n, c);
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

/* Log-likelihood of the GPD; -inf where the parameters are impossible. */
static double grim_ll(const double *y, size_t n, double gamma, double sigma)
{
    if (!(sigma > 0.0))
        return -INFINITY;
    if (gamma == 0.0) {
        double m = 0.0;
        for (size_t i = 0; i < n; i++)
            m += y[i];
        return -(double)n * (1.0 + log(m / (double)n));
    }
    double tau = gamma / sigma, sl = 0.0;
    for (size_t i = 0; i < n; i++) {
        double s = 1.0 + tau * y[i];
        if (!(s > 0.0))
            return -INFINITY;
        sl += log(s);
    }
    return -(double)n * log(sigma) - (1.0 + 1.0 / gamma) * sl;
}

static void grim_try(const double *y, size_t n, double x, double *best_ll, double *gamma,
                     double *sigma)
{
    if (x == 0.0)
        return;
    double sl = 0.0;
    for (size_t i = 0; i < n; i++)
        sl += log(1.0 + x * y[i]);
    double g = sl / (double)n, s = g / x;
    double ll = grim_ll(y, n, g, s);
    if (ll > *best_ll) {
        *best_ll = ll;
        *gamma = g;
        *sigma = s;
    }
}

/* Grid of npts + 2 points from lo to hi, even or geometric. */
static void grim_scan(const double *y, size_t n, double lo, double hi, uint32_t npts, int geo,
                      double *best_ll, double *gamma, double *sigma)
{
    if (!(hi > lo))
        return;
    double step = geo ? log(hi / lo) / (npts + 1) : (hi - lo) / (npts + 1);
    double xa = lo, fa = grim_w(y, n, xa);
    for (uint32_t k = 1; k <= npts + 1; k++) {
        double xb = k == npts + 1 ? hi : geo ? lo * exp(k * step) : lo + k * step;
        double fb = grim_w(y, n, xb);
        if (fa == 0.0)
            grim_try(y, n, xa, best_ll, gamma, sigma);
        else if (isfinite(fa) && isfinite(fb) && fb != 0.0 && (fa > 0) != (fb > 0))
            grim_try(y, n, grim_refine(y, n, xa, fa, xb, fb), best_ll, gamma, sigma);
        xa = xb;
        fa = fb;
    }
    if (fa == 0.0)
        grim_try(y, n, xa, best_ll, gamma, sigma);
}

int eddy_spot_grimshaw(const double *y, size_t n, uint32_t n_points, double *gamma,
                       double *sigma)
{
    if (n == 0)
        return EDDY_EINVAL;
    double ym = y[0], yM = y[0], sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        ym = fmin(ym, y[i]);
        yM = fmax(yM, y[i]);
        sum += y[i];
    }
    double mean = sum / (double)n;
    *gamma = 0.0;
    *sigma = mean;
    double best = grim_ll(y, n, 0.0, mean);
    if (n_points < 2)
        n_points = 2;
    double eps = 1e-8, a = -1.0 / yM;
    if (fabs(a) < 2 * eps)
        eps = fabs(a) / n_points;
    a += eps;
    grim_scan(y, n, a + eps, -eps, n_points, 0, &best, gamma, sigma);
    if (ym > 0.0 && mean > ym)
        grim_scan(y, n, 1e-6 / yM, 2.0 * (mean - ym) / (ym * ym), n_points, 1, &best, gamma,
                  sigma);
    return 0;
}
