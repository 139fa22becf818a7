/* MT19937 (Matsumoto & Nishimura 1998) and the parts of CPython's
 * random.Random built on it; see pyrand.h. */
#include <math.h>
#include <string.h>

#include "lib/drift/pyrand.h"

#define N EDDY_PYRAND_N
#define M 397

static void init_genrand(eddy_pyrand *r, uint32_t s)
{
    r->mt[0] = s;
    for (uint32_t i = 1; i < N; i++)
        r->mt[i] = 1812433253u * (r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) + i;
    r->i = N;
}

/* The reference init_by_array, which random.seed(int) uses with the
 * integer's 32-bit words as the key. */
static void init_by_array(eddy_pyrand *r, const uint32_t *key, uint32_t len)
{
    init_genrand(r, 19650218u);
    uint32_t i = 1, j = 0, *mt = r->mt;
    for (uint32_t k = N > len ? N : len; k; k--) {
        mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1664525u)) + key[j] + j;
        if (++i >= N) {
            mt[0] = mt[N - 1];
            i = 1;
        }
        if (++j >= len)
            j = 0;
    }
    for (uint32_t k = N - 1; k; k--) {
        mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1566083941u)) - i;
        if (++i >= N) {
            mt[0] = mt[N - 1];
            i = 1;
        }
    }
    mt[0] = 0x80000000u; /* guarantees a non-zero state */
}

void eddy_pyrand_seed(eddy_pyrand *r, uint64_t seed)
{
    /* Python keys with as many words as the integer needs, at least one. */
    uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    init_by_array(r, key, key[1] ? 2 : 1);
}

static uint32_t twist(uint32_t a, uint32_t b, uint32_t c)
{
    uint32_t y = (a & 0x80000000u) | (b & 0x7fffffffu);
    return c ^ (y >> 1) ^ (y & 1u ? 0x9908b0dfu : 0u);
}

uint32_t eddy_pyrand_u32(eddy_pyrand *r)
{
    uint32_t *mt = r->mt;
    if (r->i >= N) {
        uint32_t k = 0;
        for (; k < N - M; k++)
            mt[k] = twist(mt[k], mt[k + 1], mt[k + M]);
        for (; k < N - 1; k++)
            mt[k] = twist(mt[k], mt[k + 1], mt[k + M - N]);
        mt[N - 1] = twist(mt[N - 1], mt[0], mt[M - 1]);
        r->i = 0;
    }
    uint32_t y = mt[r->i++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    return y ^ (y >> 18);
}

uint32_t eddy_pyrand_below(eddy_pyrand *r, uint32_t n)
{
    int bits = 32 - __builtin_clz(n); /* n.bit_length(), n >= 1 */
    uint32_t v;
    do /* getrandbits(bits) keeps the top bits of one word */
        v = eddy_pyrand_u32(r) >> (32 - bits);
    while (v >= n);
    return v;
}

void eddy_pyrand_sample(eddy_pyrand *r, uint32_t n, uint32_t k, uint32_t *out,
                        uint32_t *scratch)
{
    /* CPython's threshold: a pool costs n words, a set of k entries about
     * as much as 4^ceil(log4(3k)) + 21; it takes the pool when n is smaller. */
    double setsize = 21;
    if (k > 5)
        setsize += pow(4.0, ceil(log(k * 3.0) / log(4.0)));
    if ((double)n <= setsize) {
        for (uint32_t i = 0; i < n; i++)
            scratch[i] = i;
        for (uint32_t i = 0; i < k; i++) {
            uint32_t j = eddy_pyrand_below(r, n - i);
            out[i] = scratch[j];
            scratch[j] = scratch[n - i - 1];
        }
        return;
    }
    memset(scratch, 0, (size_t)n * sizeof *scratch); /* 1 = already drawn */
    for (uint32_t i = 0; i < k; i++) {
        uint32_t j;
        do
            j = eddy_pyrand_below(r, n);
        while (scratch[j]);
        scratch[j] = 1;
        out[i] = j;
    }
}
