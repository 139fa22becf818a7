/* The generator's random numbers.
 *
 * Why xoshiro256** seeded by splitmix64 and not rand()/random(): the output
 * must be byte-identical for a seed on every machine and libc, so the
 * algorithm has to be ours and fully specified. xoshiro256** is a handful of
 * shifts and rotations per draw (the generator's hot path), has 256 bits of
 * state and passes BigCrush. splitmix64 turns nearby inputs (seed, event
 * index) into unrelated states, which lets every event get its own stream:
 * event i is a pure function of (seed, i), whatever the batching or the
 * partition that polls it. */
#ifndef EDDY_GEN_RNG_H
#define EDDY_GEN_RNG_H
#include <stdint.h>

typedef struct eddy_rng {
    uint64_t s[4];
} eddy_rng;

static inline uint64_t eddy_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static inline void eddy_rng_seed(eddy_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = eddy_splitmix64(&seed);
}

static inline uint64_t eddy_rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t eddy_rng_next(eddy_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = eddy_rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = eddy_rotl64(s[3], 45);
    return out;
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double eddy_rng_unit(eddy_rng *r)
{
    return (double)(eddy_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n) (n > 0); the multiply-shift bias is below 2^-64 * n. */
static inline uint64_t eddy_rng_below(eddy_rng *r, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)eddy_rng_next(r) * n) >> 64);
}

#endif
