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
 * roots without an optimiser, to machine precision.
 * A streaming detector refits on every peak, so the cost is in the
 * evaluations of w (about 24 for the grid, a few per root): each one is a
 * pass of products over the peaks (grim_prod_sums), and roots start from
 * the previous fit's (grimshaw.h). */
#include "lib/anomaly/grimshaw.h"

#include <math.h>
#include <string.h>

#include "engine/core/error.h"
#include "lib/anomaly/anomaly_int.h"

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

/* Four doubles per vector (GNU vector extension): one AVX2 register, or two
 * SSE2 ones in the default clone, which computes every lane the same way,
 * so both clones give the same bits. Four vectors make sixteen independent
 * chains, enough to cover the latency of R' = R s + P; they are named
 * variables, not an array, so that they stay in registers. */
typedef double grim_v4 __attribute__((vector_size(32)));
typedef uint64_t grim_u4 __attribute__((vector_size(32)));
#define GRIM_LANES 16

/* Scales each lane of P and R by the same power of two, exactly, so that
 * P lands in [1, 2), and adds the exponent taken out to e (biased by 1023
 * per call, which the caller removes). P must be normal. */
static inline void grim_renorm(grim_v4 *P, grim_v4 *R, grim_u4 *e)
{
    grim_u4 b, sb;
    memcpy(&b, P, sizeof b);
    grim_u4 ex = (b >> 52) & 0x7ff;
    sb = (2046 - ex) << 52;
    grim_v4 sc;
    memcpy(&sc, &sb, sizeof sc);
    *P *= sc;
    *R *= sc;
    *e += ex;
}

/* One row of sixteen terms s = 1 + x y: R' = R s + P l, P' = P s, with
 * l = 1 for live lanes (0 for padding, where s = 1 and nothing moves). */
#define GRIM_STEP(k, yp, lv)                                                                 \
    do {                                                                                   \
        grim_v4 y_, t_;                                                                    \
        memcpy(&y_, (yp) + 4 * (k), sizeof y_);                                            \
        t_ = one + xv * y_;                                                                \
        R##k = R##k * t_ + P##k * (lv);                                                    \
        P##k *= t_;                                                                        \
    } while (0)

/* sum ln(1 + x y_i) and sum 1 / (1 + x y_i) without a log or a division
 * per term, the costs that dominate a fit: with s_i the terms, the running
 * product P = prod s_i gives the first sum as ln P, and R = sum over i of
 * the product of all terms but s_i (R' = R s + P) gives the second as R / P.
 * Every factor is positive and nothing cancels, so both carry a relative
 * error of about n ulps, far below what the fit needs. Every `blk` rows
 * (blk >= 1) the products are rescaled by a power of two before they can
 * leave the normal range: a term moves P by at most 2^bits and R / P is
 * below n 2^bits. The last partial row runs on zero padding: exact, and no
 * scalar tail with its logs and divisions. */
__attribute__((target_clones("avx2", "default"))) static void
grim_prod_sums(const double *y, size_t n, double x, size_t blk, double *sl, double *si)
{
    const grim_v4 one = {1.0, 1.0, 1.0, 1.0}, xv = {x, x, x, x};
    grim_v4 P0 = one, P1 = one, P2 = one, P3 = one;
    grim_v4 R0 = one - one, R1 = R0, R2 = R0, R3 = R0;
    grim_u4 e0 = {0, 0, 0, 0}, e1 = e0, e2 = e0, e3 = e0;
    size_t rows = n / GRIM_LANES, row = 0, renorms = 0;
    while (row < rows) {
        size_t steps = rows - row < blk ? rows - row : blk;
        const double *p = y + row * GRIM_LANES;
        for (size_t st = 0; st < steps; st++, p += GRIM_LANES) {
            GRIM_STEP(0, p, one);
            GRIM_STEP(1, p, one);
            GRIM_STEP(2, p, one);
            GRIM_STEP(3, p, one);
        }
        row += steps;
        grim_renorm(&P0, &R0, &e0);
        grim_renorm(&P1, &R1, &e1);
        grim_renorm(&P2, &R2, &e2);
        grim_renorm(&P3, &R3, &e3);
        renorms++;
    }
    size_t rest = n - rows * GRIM_LANES;
    if (rest) {
        double pad[GRIM_LANES] = {0}, live[GRIM_LANES] = {0};
        memcpy(pad, y + rows * GRIM_LANES, sizeof(double) * rest);
        for (size_t j = 0; j < rest; j++)
            live[j] = 1.0;
        grim_v4 l0, l1, l2, l3;
        memcpy(&l0, live, sizeof l0);
        memcpy(&l1, live + 4, sizeof l1);
        memcpy(&l2, live + 8, sizeof l2);
        memcpy(&l3, live + 12, sizeof l3);
        GRIM_STEP(0, pad, l0);
        GRIM_STEP(1, pad, l1);
        GRIM_STEP(2, pad, l2);
        GRIM_STEP(3, pad, l3);
        grim_renorm(&P0, &R0, &e0);
        grim_renorm(&P1, &R1, &e1);
        grim_renorm(&P2, &R2, &e2);
        grim_renorm(&P3, &R3, &e3);
        renorms++;
    }
    /* Each lane's P is in [1, 2): the product of all sixteen cannot leave
     * the normal range, so one log serves them all. */
    grim_v4 pp = (P0 * P1) * (P2 * P3);
    grim_v4 q = (R0 / P0 + R1 / P1) + (R2 / P2 + R3 / P3);
    grim_u4 es = (e0 + e1) + (e2 + e3);
    int64_t ex = (int64_t)(es[0] + es[1] + es[2] + es[3]) -
                 (int64_t)(1023 * GRIM_LANES * renorms);
    *sl = log((pp[0] * pp[1]) * (pp[2] * pp[3])) + (double)ex * M_LN2;
    *si = (q[0] + q[1]) + (q[2] + q[3]);
}

static void grim_sums(const grim_peaks *g, double x, double *sl, double *si)
{
    double bits = grim_term_bits(g, x);
    if (bits < 120.0) {
        size_t blk = (size_t)(990.0 / bits) - 1;
        grim_prod_sums(g->y, g->n, x, blk > 64 ? 64 : blk, sl, si);
        return;
    }
    /* Terms too wide for products (or not positive, which the logs then
     * report as NaN): one log and one division each. */
    double lsum = 0.0, isum = 0.0;
    for (size_t i = 0; i < g->n; i++) {
        double t = 1.0 + x * g->y[i];
        lsum += log(t);
        isum += 1.0 / t;
    }
    *sl = lsum;
    *si = isum;
}

/* w(x), with sum ln(1 + x y_i) in *sl for the candidate it may become. */
static double grim_w(const grim_peaks *g, double x, double *sl)
{
    double si;
    grim_sums(g, x, sl, &si);
    return (1.0 + *sl / (double)g->n) * (si / (double)g->n) - 1.0;
}

/* The refinement of one bracket: where it starts, and how w sloped there. */
typedef struct {
    double x, slope; /* slope 0: unknown */
} grim_start;

/* Safeguarded secant on a bracket lo < hi with flo * fhi < 0. The secant
 * converges superlinearly from a good start (a hint is typically within
 * 1e-3 of the root, and the hint's slope makes the first step land within
 * 1e-6); the bracket shrinks with every value, and a step that leaves it,
 * or three steps that fail to halve it, bisect instead, so that the
 * iteration always ends: when a step moves x by no more than ~4 ulps, when
 * the bracket is that narrow, or on w = 0. Answers the root with
 * sum ln(1 + x y_i) there in *sl, and the slope of w near it in *slope. */
static double grim_refine(const grim_peaks *g, double lo, double flo, double hi, double fhi,
                          const grim_start *st, double *sl, double *slope)
{
    double xp, fp, xc, fc, c, csl;
    /* Whether c is a secant through two values of this fit: only such a
     * step, once tiny, says that x is at the root (a step from a stale
     * slope or a bisection says nothing). */
    int secant = 1;
    *slope = 0.0;
    if (st && st->x > lo && st->x < hi) {
        xc = st->x;
        fc = grim_w(g, xc, sl);
        if (fc == 0.0)
            return xc;
        if ((fc > 0) == (flo > 0)) {
            lo = xc;
            flo = fc;
        } else {
            hi = xc;
            fhi = fc;
        }
        if (st->slope != 0.0 && isfinite(st->slope)) {
            xp = xc;
            fp = fc;
            c = xc - fc / st->slope;
            secant = 0;
        } else {
            xp = xc == lo ? hi : lo;
            fp = xc == lo ? fhi : flo;
            c = xc - fc * (xc - xp) / (fc - fp);
        }
    } else {
        xp = fabs(flo) > fabs(fhi) ? lo : hi;
        fp = xp == lo ? flo : fhi;
        xc = xp == lo ? hi : lo;
        fc = xp == lo ? fhi : flo;
        c = (lo * fhi - hi * flo) / (fhi - flo);
    }
    double wref = hi - lo;
    int slow = 0;
    for (int it = 0; it < 400; it++) {
        if (!(c > lo && c < hi) || slow >= 3) {
            c = 0.5 * (lo + hi);
            slow = 0;
            wref = hi - lo;
            secant = 0;
        }
        double f = grim_w(g, c, &csl);
        if (f == 0.0) {
            *sl = csl;
            return c;
        }
        if ((f > 0) == (flo > 0)) {
            lo = c;
            flo = f;
        } else {
            hi = c;
            fhi = f;
        }
        if (hi - lo <= 0.5 * wref) {
            wref = hi - lo;
            slow = 0;
        } else {
            slow++;
        }
        double step = fabs(c - xc);
        /* A slope from points this far apart is still above the noise of
         * w, and close enough to the root for the next fit's first step. */
        if (step > 1e-9 * fabs(c))
            *slope = (f - fc) / (c - xc);
        xp = xc;
        fp = fc;
        xc = c;
        fc = f;
        *sl = csl;
        if ((secant && step <= 8e-16 * fabs(c)) || hi - lo <= 4e-16 * fmax(fabs(lo), fabs(hi)))
            return xc;
        secant = fc != fp;
        c = secant ? xc - fc * (xc - xp) / (fc - fp) : 0.5 * (lo + hi);
    }
    return xc;
}

/* Illinois regula falsi on a bracket with fa * fb < 0, the original
 * refinement, kept for the grid cells that end next to x = 0: w vanishes
 * there to second order and its computed value is rounding noise, so the
 * cell can hold spurious sign changes besides a genuine root, and which
 * one a method settles on is a property of the method. Regula falsi
 * starting from a noise-sized endpoint value settles next to that end
 * (on a candidate within ~1e-8 of gamma = 0); the secant with a hint would
 * find the genuine root instead, a different fit from the reference's. */
static double grim_illinois(const grim_peaks *g, double a, double fa, double b, double fb,
                            double *sl)
{
    double sla = NAN, slb = NAN, slc;
    int side = 0;
    for (int it = 0; it < 200; it++) {
        double c = (a * fb - b * fa) / (fb - fa);
        if (!(c > fmin(a, b) && c < fmax(a, b)))
            c = 0.5 * (a + b);
        double fc = grim_w(g, c, &slc);
        if (fc == 0.0) {
            *sl = slc;
            return c;
        }
        if ((fc > 0) == (fb > 0)) {
            b = c;
            fb = fc;
            slb = slc;
            if (side == -1)
                fa *= 0.5;
            side = -1;
        } else {
            a = c;
            fa = fc;
            sla = slc;
            if (side == 1)
                fb *= 0.5;
            side = 1;
        }
        if (fabs(b - a) <= 4e-16 * fmax(fabs(a), fabs(b)))
            break;
    }
    /* An end never moved keeps its grid value, not its sum: evaluate. */
    double x = fabs(fa) < fabs(fb) ? a : b, s = fabs(fa) < fabs(fb) ? sla : slb;
    if (isnan(s))
        grim_w(g, x, &s);
    *sl = s;
    return x;
}

/* The candidate of a root x with sum ln(1 + x y_i) = sl: gamma = sl / n,
 * sigma = gamma / x, and since gamma / sigma = x the log-likelihood
 *   -n ln sigma - (1 + 1 / gamma) sum ln(1 + (gamma / sigma) y_i)
 * reuses the same sum. Every term is positive on the intervals scanned. */
static void grim_try(const grim_peaks *g, double x, double sl, double *best_ll, double *gamma,
                     double *sigma)
{
    if (x == 0.0)
        return;
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

typedef struct {
    const grim_peaks *g;
    const grim_hints *old;
    grim_hints *found;
    double best_ll, gamma, sigma;
} grim_fit;

static void grim_root(grim_fit *f, double a, double fa, double b, double fb, int edge)
{
    if (edge) {
        double sl, x = grim_illinois(f->g, a, fa, b, fb, &sl);
        grim_try(f->g, x, sl, &f->best_ll, &f->gamma, &f->sigma);
        return;
    }
    const grim_start *st = NULL;
    grim_start s;
    for (uint32_t i = 0; f->old && i < f->old->n && i < GRIM_HINTS; i++) {
        if (f->old->x[i] > a && f->old->x[i] < b) {
            s = (grim_start){f->old->x[i], f->old->slope[i]};
            st = &s;
            break;
        }
    }
    double sl, slope, x = grim_refine(f->g, a, fa, b, fb, st, &sl, &slope);
    if (f->found->n < GRIM_HINTS) {
        f->found->x[f->found->n] = x;
        f->found->slope[f->found->n++] = slope;
    }
    grim_try(f->g, x, sl, &f->best_ll, &f->gamma, &f->sigma);
}

/* Grid of npts + 2 points from lo to hi, even or geometric. The cell next
 * to x = 0 (the last of the negative side, the first of the positive one)
 * is refined as the original did (grim_illinois), the others from hints. */
static void grim_scan(grim_fit *f, double lo, double hi, uint32_t npts, int geo)
{
    if (!(hi > lo))
        return;
    const grim_peaks *g = f->g;
    double step = geo ? log(hi / lo) / (npts + 1) : (hi - lo) / (npts + 1);
    double xa = lo, sla, fa = grim_w(g, xa, &sla);
    for (uint32_t k = 1; k <= npts + 1; k++) {
        double xb = k == npts + 1 ? hi : geo ? lo * exp(k * step) : lo + k * step;
        double slb, fb = grim_w(g, xb, &slb);
        if (fa == 0.0)
            grim_try(g, xa, sla, &f->best_ll, &f->gamma, &f->sigma);
        else if (isfinite(fa) && isfinite(fb) && fb != 0.0 && (fa > 0) != (fb > 0))
            grim_root(f, xa, fa, xb, fb, geo ? k == 1 : k == npts + 1);
        xa = xb;
        fa = fb;
        sla = slb;
    }
    if (fa == 0.0)
        grim_try(g, xa, sla, &f->best_ll, &f->gamma, &f->sigma);
}

int eddy_spot_grimshaw_warm(const double *y, size_t n, uint32_t n_points, double *gamma,
                            double *sigma, grim_hints *h)
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
    grim_hints found = {0};
    double mean = sum / (double)n;
    /* The exponential distribution's log-likelihood. */
    grim_fit f = {&g, h, &found, mean > 0.0 ? -(double)n * (1.0 + log(mean)) : -INFINITY, 0.0,
                  mean};
    if (n_points < 2)
        n_points = 2;
    double eps = 1e-8, a = -1.0 / yM;
    if (fabs(a) < 2 * eps)
        eps = fabs(a) / n_points;
    a += eps;
    grim_scan(&f, a + eps, -eps, n_points, 0);
    if (ym > 0.0 && mean > ym)
        grim_scan(&f, 1e-6 / yM, 2.0 * (mean - ym) / (ym * ym), n_points, 1);
    *gamma = f.gamma;
    *sigma = f.sigma;
    if (h)
        *h = found;
    return 0;
}

int eddy_spot_grimshaw(const double *y, size_t n, uint32_t n_points, double *gamma,
                       double *sigma)
{
    return eddy_spot_grimshaw_warm(y, n, n_points, gamma, sigma, NULL);
}
