/* CPython's random.Random, as far as KSWIN needs it: the Mersenne Twister
 * (MT19937) seeded from an integer the way random.seed(int) seeds it, and
 * Random.sample(range(n), k) drawing the same indices in the same order.
 * river's KSWIN draws its reference sample with random.Random(seed), so
 * with these eddy's KSWIN sees the very same samples as river's. */
#ifndef EDDY_DRIFT_PYRAND_H
#define EDDY_DRIFT_PYRAND_H
#include <stdint.h>

#define EDDY_PYRAND_N 624

typedef struct {
    uint32_t mt[EDDY_PYRAND_N];
    uint32_t i; /* next word of mt to temper; N: regenerate first */
} eddy_pyrand;

/* random.Random(seed): the seed's 32-bit words, least significant first. */
void eddy_pyrand_seed(eddy_pyrand *r, uint64_t seed);
uint32_t eddy_pyrand_u32(eddy_pyrand *r);
/* Random._randbelow(n), n >= 1: getrandbits(n.bit_length()) until < n. */
uint32_t eddy_pyrand_below(eddy_pyrand *r, uint32_t n);
/* Random.sample(range(n), k) into out (k <= n). scratch holds n words; the
 * draw method (a shrinking pool, or rejection of repeats for a population
 * much larger than k) is chosen as CPython chooses it, since the two
 * consume the generator differently. */
void eddy_pyrand_sample(eddy_pyrand *r, uint32_t n, uint32_t k, uint32_t *out,
                        uint32_t *scratch);
#endif
