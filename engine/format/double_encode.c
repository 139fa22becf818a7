/* JSON text of a double: the shortest of %.15g, %.16g and %.17g that reads
 * back to the same bits (strtod), with ".0" appended when the text has no
 * '.' or exponent, so that a round trip through JSON keeps EDDY_DOUBLE apart
 * from EDDY_INT. NaN and infinities have no JSON spelling: "null".
 *
 * Why not just snprintf + strtod (the first version, kept as dtoa_printf
 * below and as the reference in tests/unit/engine/format/test_json_encode.c): a
 * double of 16-17 digits costs three snprintf and two strtod calls, about
 * 1 us, more than the rest of a 10-field record. The fast path gets the same
 * text with exact 128-bit integer arithmetic:
 *
 *   a = |d| = M * 2^E exactly. Pick k so that a * 10^k lies in [1e16, 1e17)
 *   and write it as X / Y with integers X, Y (Y a power of 2 or of 10), so
 *   N = X / Y is a's first 17 digits and R = X % Y the exact rest. Rounding
 *   N (with R) to P digits is what %.Pg prints (glibc rounds the exact
 *   binary value). That P-digit value V reads back as d exactly when
 *   |V - a| is below half the gap to the neighbouring double (the gap below
 *   a power of two is half as wide); strtod rounds correctly, so this is the
 *   old strtod(...) == d test, decided exactly. The text is then laid out as
 *   %g does (exponent form when the exponent is < -4 or >= P, trailing zeros
 *   dropped).
 *
 * Whenever a decision would hinge on an exact tie (a digit rounding exactly
 * half-way, or a candidate exactly half-way between two doubles), or d is
 * outside the range the 128-bit integers hold (|d| < 1e-15, |d| >= 2^123,
 * subnormals), it falls back to dtoa_printf. So the output is that of
 * dtoa_printf for every double; the unit test checks it on millions. */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/format/format_int.h"

/* The first version, byte for byte. */
static size_t dtoa_printf(char *o, double d)
{
    char tmp[40];
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (prec == 17 || strtod(tmp, NULL) == d)
            break;
    }
    if (n <= 0 || (size_t)n + 2 > EDDY_DTOA_MAX)
        return 0;
    if (!strpbrk(tmp, ".eEn")) {
        tmp[n++] = '.';
        tmp[n++] = '0';
    }
    memcpy(o, tmp, (size_t)n);
    return (size_t)n;
}

#ifdef __SIZEOF_INT128__
typedef unsigned __int128 u128;

static const uint64_t pow10_tab[20] = {1ull,
                                       10ull,
                                       100ull,
                                       1000ull,
                                       10000ull,
                                       100000ull,
                                       1000000ull,
                                       10000000ull,
                                       100000000ull,
                                       1000000000ull,
                                       10000000000ull,
                                       100000000000ull,
                                       1000000000000ull,
                                       10000000000000ull,
                                       100000000000000ull,
                                       1000000000000000ull,
                                       10000000000000000ull,
                                       100000000000000000ull,
                                       1000000000000000000ull,
                                       10000000000000000000ull};

/* 5^k for k <= 31 (< 2^72). */
static u128 pow5(unsigned k)
{
    u128 p = 1;
    u128 b = 5;
    for (; k; k >>= 1, b *= b)
        if (k & 1)
            p *= b;
    return p;
}

/* Lays out P-digit C (no leading zero) times 10^(x - P + 1) as %.Pg does,
 * plus ".0" when that reads as an integer. */
static size_t layout(char *out, int neg, uint64_t c, int P, int x)
{
    char dg[20];
    for (int i = P - 1; i >= 0; i--) {
        dg[i] = (char)('0' + c % 10);
        c /= 10;
    }
    int nd = P;
    while (nd > 1 && dg[nd - 1] == '0')
        nd--;
    char *o = out;
    if (neg)
        *o++ = '-';
    if (x < -4 || x >= P) {
        *o++ = dg[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, dg + 1, (size_t)nd - 1);
            o += nd - 1;
        }
        *o++ = 'e';
        *o++ = x < 0 ? '-' : '+';
        unsigned ax = (unsigned)(x < 0 ? -x : x);
        if (ax >= 100)
            *o++ = (char)('0' + ax / 100);
        *o++ = (char)('0' + ax / 10 % 10);
        *o++ = (char)('0' + ax % 10);
        return (size_t)(o - out);
    }
    if (x < 0) {
        memcpy(o, "0.", 2);
        o += 2;
        for (int i = 0; i < -x - 1; i++)
            *o++ = '0';
        memcpy(o, dg, (size_t)nd);
        o += nd;
        return (size_t)(o - out);
    }
    /* 0 <= x < P: x + 1 integer digits. */
    int ni = x + 1;
    for (int i = 0; i < ni; i++)
        *o++ = i < nd ? dg[i] : '0';
    *o++ = '.';
    if (nd > ni) {
        memcpy(o, dg + ni, (size_t)(nd - ni));
        o += nd - ni;
    } else {
        *o++ = '0';
    }
    return (size_t)(o - out);
}

/* 0 when the exact method cannot decide (the caller falls back). */
static size_t dtoa_exact(char *out, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, 8);
    int neg = (int)(bits >> 63);
    unsigned be = (unsigned)(bits >> 52) & 0x7ff;
    uint64_t frac = bits & ((1ull << 52) - 1);
    if (be == 0 || be == 0x7ff)
        return 0;
    uint64_t M = frac | (1ull << 52);
    int E = (int)be - 1075; /* |d| = M * 2^E */
    int e2 = (int)be - 1023;
    /* floor(log10 |d|) is e2*log10(2) rounded down, or one more; the loop
     * below corrects k when the guess is off. */
    int e10 = e2 >= 0 ? (e2 * 78913) >> 18 : -((-e2 * 78913 + (1 << 18) - 1) >> 18);
    int k = 16 - e10;
    u128 X = 0, Y = 1, G = 0;
    int s = -1; /* Y = 2^s when s >= 0, else a power of 10 */
    uint64_t N = 0;
    for (int tries = 0;; tries++) {
        if (tries == 3 || k > 31 || k < -22)
            return 0;
        if (E < 0) {
            if (k < 0)
                return 0;
            u128 p5 = pow5((unsigned)k);
            X = (u128)M * p5;
            int sh = -E - k; /* a * 10^k = M * 5^k / 2^sh; ulp * 10^k = 5^k / 2^sh */
            if (sh >= 0) {
                s = sh;
                Y = (u128)1 << sh;
                G = p5;
            } else {
                s = 0;
                X <<= -sh;
                Y = 1;
                G = p5 << -sh;
            }
        } else {
            if (E > 70)
                return 0;
            X = (u128)M << E; /* ulp = 2^E */
            G = (u128)1 << E;
            if (k >= 0) {
                X *= pow10_tab[k];
                G *= pow10_tab[k];
                Y = 1;
                s = 0;
            } else {
                Y = (u128)pow10_tab[-k > 19 ? 19 : -k] * (-k > 19 ? pow10_tab[-k - 19] : 1);
                s = -1;
            }
        }
        u128 q = s >= 0 ? X >> s : X / Y;
        if (q >= pow10_tab[17]) {
            k--;
            continue;
        }
        if (q < pow10_tab[16]) {
            k++;
            continue;
        }
        N = (uint64_t)q;
        break;
    }
    u128 R = X - (u128)N * Y;
    /* Below a power of two the next double down is half as far. */
    int narrow_below = frac == 0 && be > 1;
    for (int P = 15; P <= 17; P++) {
        uint64_t p10 = pow10_tab[17 - P];
        uint64_t c = N / p10, rem = N % p10;
        /* Round half way? Y < 2^72, so none of this overflows. */
        u128 lhs = ((u128)rem * Y + R) * 2, rhs = (u128)p10 * Y;
        if (lhs == rhs)
            return 0;
        c += lhs > rhs;
        if (P < 17) {
            u128 vy = (u128)c * p10 * Y, dist, gap;
            if (vy >= X) {
                dist = (vy - X) * 2;
                gap = G;
            } else {
                dist = (X - vy) * (narrow_below ? 4 : 2);
                gap = G;
            }
            if (dist == gap)
                return 0;
            if (dist > gap)
                continue;
        }
        int x = 16 - k;
        if (c == pow10_tab[P]) {
            c = pow10_tab[P - 1];
            x++;
        }
        return layout(out, neg, c, P, x);
    }
    return 0;
}
#endif

/* How many NaN/infinite values were written as null (eddy_json_nonfinite);
 * the rare path only, so the hot path pays nothing. */
static _Atomic uint64_t g_nonfinite;

uint64_t eddy_json_nonfinite(void) { return atomic_load_explicit(&g_nonfinite, memory_order_relaxed); }

size_t eddy_json_dtoa(char *o, double d)
{
    if (!isfinite(d)) {
        atomic_fetch_add_explicit(&g_nonfinite, 1, memory_order_relaxed);
        memcpy(o, "null", 4);
        return 4;
    }
    if (d == 0) {
        if (signbit(d)) {
            memcpy(o, "-0.0", 4);
            return 4;
        }
        memcpy(o, "0.0", 3);
        return 3;
    }
#ifdef __SIZEOF_INT128__
    size_t n = dtoa_exact(o, d);
    if (n)
        return n;
#endif
    return dtoa_printf(o, d);
}
