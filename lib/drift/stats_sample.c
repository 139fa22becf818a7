/* The reservoir (algorithm R) and the double sort it uses. Slot order does
 * not matter to algorithm R (the slot replaced is uniform among all), so the
 * sample sorts its own slots in place and needs no second array. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/error.h"
#include "lib/buf/bytes.h"
#include "lib/drift/stats.h"

struct eddy_sample {
    double *v;
    double *scratch; /* capacity doubles for the radix sort */
    uint32_t cap, n;
    uint64_t seen, rejected;
    uint64_t rng;
    int sorted;
};

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n) by Lemire's multiply-shift, rejecting the biased low
 * products so every index is exactly equally likely. */
static uint64_t below(uint64_t *x, uint64_t n)
{
    unsigned __int128 m = (unsigned __int128)splitmix64(x) * n;
    uint64_t lo = (uint64_t)m;
    if (lo < n) {
        uint64_t t = -n % n;
        while (lo < t) {
            m = (unsigned __int128)splitmix64(x) * n;
            lo = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

eddy_sample *eddy_sample_new(uint32_t capacity, uint64_t seed)
{
    if (capacity == 0)
        return NULL;
    eddy_sample *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->v = malloc((size_t)capacity * sizeof *s->v);
    s->scratch = malloc((size_t)capacity * sizeof *s->scratch);
    if (!s->v || !s->scratch) {
        free(s->v);
        free(s->scratch);
        free(s);
        return NULL;
    }
    s->cap = capacity;
    s->rng = seed;
    s->sorted = 1;
    return s;
}

void eddy_sample_free(eddy_sample *s)
{
    if (!s)
        return;
    free(s->v);
    free(s->scratch);
    free(s);
}

void eddy_sample_add(eddy_sample *s, double x)
{
    if (!isfinite(x)) {
        s->rejected++;
        return;
    }
    s->seen++;
    if (s->n < s->cap) {
        s->v[s->n++] = x;
        s->sorted = 0;
        return;
    }
    uint64_t j = below(&s->rng, s->seen);
    if (j < s->cap) {
        s->v[j] = x;
        s->sorted = 0;
    }
}

void eddy_sample_clear(eddy_sample *s)
{
    s->n = 0;
    s->seen = s->rejected = 0;
    s->sorted = 1;
}

int eddy_sample_copy(eddy_sample *dst, const eddy_sample *src)
{
    if (!dst || !src || dst->cap < src->n)
        return EDDY_EINVAL;
    if (dst == src)
        return 0;
    memcpy(dst->v, src->v, (size_t)src->n * sizeof *src->v);
    dst->n = src->n;
    dst->seen = src->seen;
    dst->rejected = src->rejected;
    dst->sorted = src->sorted;
    return 0;
}

int eddy_sample_put(const eddy_sample *s, eddy_buf *b)
{
    if (eddy_put_u32(b, s->cap) || eddy_put_u32(b, s->n) || eddy_put_u64(b, s->seen) ||
        eddy_put_u64(b, s->rejected) || eddy_put_u64(b, s->rng) ||
        eddy_put_u8(b, (uint8_t)(s->sorted != 0)))
        return -1;
    for (uint32_t i = 0; i < s->n; i++)
        if (eddy_put_f64(b, s->v[i]))
            return -1;
    return 0;
}

int eddy_sample_get(eddy_sample *s, eddy_rd *r)
{
    uint32_t cap = eddy_get_u32(r), n = eddy_get_u32(r);
    uint64_t seen = eddy_get_u64(r), rejected = eddy_get_u64(r), rng = eddy_get_u64(r);
    uint8_t sorted = eddy_get_u8(r);
    if (r->err || cap != s->cap || n > cap || n > seen || (n < cap && n != seen) || sorted > 1)
        return EDDY_EINVAL;
    const uint8_t *p = eddy_take(r, (size_t)n * 8);
    if (!p)
        return EDDY_EINVAL;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t u = eddy_le64(p + 8 * (size_t)i);
        memcpy(&s->v[i], &u, 8);
    }
    s->n = n;
    s->seen = seen;
    s->rejected = rejected;
    s->rng = rng;
    s->sorted = sorted;
    return 0;
}

uint64_t eddy_sample_seen(const eddy_sample *s) { return s->seen; }
uint64_t eddy_sample_rejected(const eddy_sample *s) { return s->rejected; }
uint32_t eddy_sample_size(const eddy_sample *s) { return s->n; }

const double *eddy_sample_sorted(eddy_sample *s)
{
    if (!s->sorted) {
        eddy_sort_doubles(s->v, s->n, s->scratch);
        s->sorted = 1;
    }
    return s->v;
}

double eddy_sample_min(eddy_sample *s)
{
    return s->n ? eddy_sample_sorted(s)[0] : NAN;
}

double eddy_sample_max(eddy_sample *s)
{
    return s->n ? eddy_sample_sorted(s)[s->n - 1] : NAN;
}

/* ---- sort ------------------------------------------------------------------
 * Introsort specialised to doubles: the comparison inlines, which makes it
 * several times faster than qsort at reservoir sizes, and a heapsort
 * fallback bounds the worst case. */

static void insertion(double *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        double x = a[i];
        size_t j = i;
        while (j > 0 && a[j - 1] > x) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = x;
    }
}

static void sift(double *a, size_t i, size_t n)
{
    double x = a[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && a[c + 1] > a[c])
            c++;
        if (a[c] <= x)
            break;
        a[i] = a[c];
        i = c;
    }
    a[i] = x;
}

static void heapsort_d(double *a, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift(a, i, n);
    for (size_t i = n; i-- > 1;) {
        double t = a[0];
        a[0] = a[i];
        a[i] = t;
        sift(a, 0, i);
    }
}

static void swap(double *a, double *b)
{
    double t = *a;
    *a = *b;
    *b = t;
}

static void introsort(double *a, size_t n, int depth)
{
    while (n > 24) {
        if (depth-- == 0) {
            heapsort_d(a, n);
            return;
        }
        /* median of three into a[0], then Hoare partition around it */
        size_t m = n / 2;
        if (a[m] < a[0])
            swap(&a[m], &a[0]);
        if (a[n - 1] < a[0])
            swap(&a[n - 1], &a[0]);
        if (a[n - 1] < a[m])
            swap(&a[n - 1], &a[m]);
        swap(&a[0], &a[m]);
        double p = a[0];
        size_t i = 0, j = n;
        for (;;) {
            do
                i++;
            while (i < n && a[i] < p);
            do
                j--;
            while (a[j] > p);
            if (i >= j)
                break;
            swap(&a[i], &a[j]);
        }
        swap(&a[0], &a[j]);
        /* recurse into the smaller side so the stack stays O(log n) */
        if (j < n - j - 1) {
            introsort(a, j, depth);
            a += j + 1;
            n -= j + 1;
        } else {
            introsort(a + j + 1, n - j - 1, depth);
            n = j;
        }
    }
    insertion(a, n);
}

/* LSD radix sort, one byte per pass, on the doubles' bits mapped to
 * unsigned keys of the same order (negative: all bits flipped; positive:
 * the sign bit set). Passes where every key shares the byte are skipped
 * (the exponent bytes of data from one distribution mostly do). Several
 * times faster than comparison sorting from a few thousand values up,
 * where quicksort's branches stop being predictable. */
static void radix(double *a, size_t n, double *scratch)
{
    uint64_t *k = (uint64_t *)(void *)a, *t = (uint64_t *)(void *)scratch;
    static const uint64_t sign = 1ull << 63;
    uint32_t hist[8][256];
    memset(hist, 0, sizeof hist);
    for (size_t i = 0; i < n; i++) {
        uint64_t x;
        memcpy(&x, &a[i], 8);
        x = x & sign ? ~x : x | sign;
        k[i] = x;
        for (int d = 0; d < 8; d++)
            hist[d][(x >> (8 * d)) & 0xff]++;
    }
    for (int d = 0; d < 8; d++) {
        uint32_t *h = hist[d];
        if (h[(k[0] >> (8 * d)) & 0xff] == n)
            continue;
        uint32_t sum = 0;
        for (int b = 0; b < 256; b++) {
            uint32_t c = h[b];
            h[b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            t[h[(k[i] >> (8 * d)) & 0xff]++] = k[i];
        uint64_t *sw = k;
        k = t;
        t = sw;
    }
    if ((void *)k != (void *)a)
        memcpy(a, k, n * sizeof *k);
    for (size_t i = 0; i < n; i++) {
        uint64_t x;
        memcpy(&x, &a[i], 8);
        x = x & sign ? x & ~sign : ~x;
        memcpy(&a[i], &x, 8);
    }
}

void eddy_sort_doubles(double *a, size_t n, double *scratch)
{
    if (scratch && n >= 1024 && n <= UINT32_MAX) {
        radix(a, n, scratch);
        return;
    }
    int depth = 0;
    for (size_t m = n; m > 1; m >>= 1)
        depth += 2;
    introsort(a, n, depth);
}
