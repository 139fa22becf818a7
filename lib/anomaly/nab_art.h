/* The NAB detector's shape channel (nab.c): a fuzzy ART category layer
 * (Carpenter, Grossberg & Rosen 1991) over the recent shape of the series,
 * after ARTime's use of adaptive resonance on NAB. The input is the last
 * `dim` block means (blocks of `ds` values) scaled to [0,1] by the range,
 * complement coded; categories are hyperboxes. A shape that resonates with
 * no category (best match below the vigilance rho) is novel: it opens a
 * new category while there is room. The novelty of an input is 1 - its
 * best match, in [0,1], 0 for a shape inside a known box. */
#ifndef EDDY_NAB_ART_H
#define EDDY_NAB_ART_H
#include <stdint.h>

#define NAB_ART_MAX_DIM 32
#define NAB_ART_MAX_CATS 1024

typedef struct {
    uint32_t ncat;     /* categories in use */
    uint32_t nfeat;    /* block means in the ring (<= dim) */
    uint32_t head;     /* next slot of the ring */
    uint32_t in_block; /* values in the current block (< ds) */
    double block_sum;
} nab_art_state;
#define NAB_ART_STATE_SHAPE "4444" "8"

typedef struct {
    uint32_t dim, ds, cats;
    double rho, beta;
    double *w;    /* cats x 2 dim: lower corners, then 1 - upper corners */
    double *feat; /* ring of the last dim block means */
} nab_art;

/* 0 or -1 (out of memory). */
int nab_art_init(nab_art *a, uint32_t dim, uint32_t ds, uint32_t cats, double rho, double beta);
void nab_art_free(nab_art *a);
/* Takes the next value scaled to [0,1]; answers the novelty of the input
 * it completes, or -1 when it completes none (mid-block, or the ring not
 * yet full). */
double nab_art_push(nab_art *a, nab_art_state *s, double v01);
/* 0 when a restored state is consistent with the sizes. */
int nab_art_check(const nab_art *a, const nab_art_state *s);

#endif
