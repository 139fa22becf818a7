/* Order-statistic treap over the slots of a ring of values, for the robust
 * z-score's large windows (robust.c keeps small ones in a sorted array).
 * Nodes are the ring's slots, so it never allocates; keys are (value,
 * slot) so equal values stay distinct and a slot can be deleted by key. */
#ifndef EDDY_ROBUST_TREAP_H
#define EDDY_ROBUST_TREAP_H
#include <stdint.h>

typedef struct {
    int32_t l, r;
    uint32_t size, prio;
} rz_node;
#define RZ_NODE_SHAPE "4" /* snapshot field widths (lib/buf/bytes.h) */

/* Everything but the node array: lives in the detector's snapshot state. */
typedef struct {
    int32_t root, pad_;
    uint64_t rng;
} rz_treap;
#define RZ_TREAP_SHAPE "448"

typedef struct {
    rz_treap *t;
    rz_node *node;
    const double *val; /* val[slot] */
} rz_tree;

void rz_treap_reset(rz_treap *t);
/* val[k] must already hold the slot's value. */
void rz_treap_insert(rz_tree w, int32_t k);
void rz_treap_erase(rz_tree w, int32_t k);
/* The i-th smallest value (0-based), i < the number of slots held. */
double rz_treap_select(rz_tree w, uint32_t i);
/* How many values are < m. */
uint32_t rz_treap_rank_below(rz_tree w, double m);
/* 0 when the tree holds exactly slots 0..live-1, ordered, with true sizes
 * and finite values: a restored tree that is not could loop or leave the
 * arrays. -1 otherwise (or when out of memory for the walk). */
int rz_treap_check(rz_tree w, uint32_t live);

#endif
