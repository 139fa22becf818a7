/* Order-statistic treap for the robust z-score's large windows: O(log N)
 * insert, delete, select and rank where a sorted array would move O(N). */
#include <math.h>
#include <stdlib.h>

#include "lib/anomaly/anomaly_int.h"
#include "lib/anomaly/robust_treap.h"

static inline uint32_t tsize(rz_tree w, int32_t t)
{
    return t < 0 ? 0 : w.node[t].size;
}

static inline void tfix(rz_tree w, int32_t t)
{
    w.node[t].size = 1 + tsize(w, w.node[t].l) + tsize(w, w.node[t].r);
}

static inline int tless(rz_tree w, int32_t a, int32_t b)
{
    return w.val[a] < w.val[b] || (w.val[a] == w.val[b] && a < b);
}

/* Splits t into keys < key(k) and keys >= key(k). */
static void tsplit(rz_tree w, int32_t t, int32_t k, int32_t *lo, int32_t *hi)
{
    if (t < 0) {
        *lo = *hi = -1;
        return;
    }
    if (tless(w, t, k)) {
        tsplit(w, w.node[t].r, k, &w.node[t].r, hi);
        *lo = t;
    } else {
        tsplit(w, w.node[t].l, k, lo, &w.node[t].l);
        *hi = t;
    }
    tfix(w, t);
}

static int32_t tmerge(rz_tree w, int32_t a, int32_t b)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    if (w.node[a].prio > w.node[b].prio) {
        w.node[a].r = tmerge(w, w.node[a].r, b);
        tfix(w, a);
        return a;
    }
    w.node[b].l = tmerge(w, a, w.node[b].l);
    tfix(w, b);
    return b;
}

static int32_t terase(rz_tree w, int32_t t, int32_t k)
{
    if (t == k)
        return tmerge(w, w.node[t].l, w.node[t].r);
    if (tless(w, k, t))
        w.node[t].l = terase(w, w.node[t].l, k);
    else
        w.node[t].r = terase(w, w.node[t].r, k);
    w.node[t].size--;
    return t;
}

void rz_treap_reset(rz_treap *t)
{
    *t = (rz_treap){.root = -1, .rng = 0x2545f4914f6cdd1dULL};
}

void rz_treap_insert(rz_tree w, int32_t k)
{
    w.t->rng = anom_mix64(w.t->rng);
    w.node[k] = (rz_node){-1, -1, 1, (uint32_t)(w.t->rng >> 32)};
    int32_t lo, hi;
    tsplit(w, w.t->root, k, &lo, &hi);
    w.t->root = tmerge(w, tmerge(w, lo, k), hi);
}

void rz_treap_erase(rz_tree w, int32_t k)
{
    w.t->root = terase(w, w.t->root, k);
}

double rz_treap_select(rz_tree w, uint32_t i)
{
    int32_t t = w.t->root;
    for (;;) {
        uint32_t ls = tsize(w, w.node[t].l);
        if (i < ls) {
            t = w.node[t].l;
        } else if (i == ls) {
            return w.val[t];
        } else {
            i -= ls + 1;
            t = w.node[t].r;
        }
    }
}

uint32_t rz_treap_rank_below(rz_tree w, double m)
{
    uint32_t c = 0;
    for (int32_t t = w.t->root; t >= 0;) {
        if (w.val[t] < m) {
            c += tsize(w, w.node[t].l) + 1;
            t = w.node[t].r;
        } else {
            t = w.node[t].l;
        }
    }
    return c;
}

int rz_treap_check(rz_tree w, uint32_t live)
{
    int32_t root = w.t->root;
    if (live == 0)
        return root == -1 ? 0 : -1;
    if (root < 0 || (uint32_t)root >= live)
        return -1;
    int32_t *stack = malloc(sizeof(int32_t) * (live + 1));
    if (!stack)
        return -1;
    uint32_t sp = 0, seen = 0;
    int rc = 0;
    stack[sp++] = root;
    while (sp && rc == 0) {
        int32_t t = stack[--sp];
        if (t < 0 || (uint32_t)t >= live || ++seen > live) {
            rc = -1;
            break;
        }
        const rz_node *nd = &w.node[t];
        if (nd->l < -1 || nd->r < -1 || nd->l >= (int32_t)live || nd->r >= (int32_t)live ||
            nd->size != 1 + (nd->l < 0 ? 0 : w.node[nd->l].size) +
                            (nd->r < 0 ? 0 : w.node[nd->r].size) ||
            (nd->l >= 0 && !tless(w, nd->l, t)) || (nd->r >= 0 && !tless(w, t, nd->r)) ||
            !isfinite(w.val[t])) {
            rc = -1;
            break;
        }
        if (nd->l >= 0)
            stack[sp++] = nd->l;
        if (nd->r >= 0)
            stack[sp++] = nd->r;
    }
    free(stack);
    return rc == 0 && seen == live && w.node[root].size == live ? 0 : -1;
}
