/* Fuzzy ART shape novelty for the NAB detector (nab_art.h says what and
 * why). Fixed memory: cats x 2 dim weights and a ring of dim means; one
 * pass over the categories per completed block. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/anomaly/nab_art.h"

#define ART_ALPHA 1e-3 /* choice parameter: ties go to the smaller box */

int nab_art_init(nab_art *a, uint32_t dim, uint32_t ds, uint32_t cats, double rho, double beta)
{
    *a = (nab_art){.dim = dim, .ds = ds, .cats = cats, .rho = rho, .beta = beta};
    a->w = calloc((size_t)cats * 2 * dim, sizeof(double));
    a->feat = calloc(dim, sizeof(double));
    return a->w && a->feat ? 0 : -1;
}

void nab_art_free(nab_art *a)
{
    free(a->w);
    free(a->feat);
    a->w = a->feat = NULL;
}

double nab_art_push(nab_art *a, nab_art_state *s, double v01)
{
    s->block_sum += v01;
    if (++s->in_block < a->ds)
        return -1.0;
    double mean = s->block_sum / a->ds;
    s->block_sum = 0.0;
    s->in_block = 0;
    a->feat[s->head] = fmin(1.0, fmax(0.0, mean));
    s->head = s->head + 1 == a->dim ? 0 : s->head + 1;
    if (s->nfeat < a->dim) {
        s->nfeat++;
        if (s->nfeat < a->dim)
            return -1.0;
    }
    /* The input, oldest block first, complement coded: |I| = dim. */
    uint32_t D = a->dim;
    double in[2 * NAB_ART_MAX_DIM];
    for (uint32_t i = 0; i < D; i++) {
        double f = a->feat[(s->head + i) % D];
        in[i] = f;
        in[D + i] = 1.0 - f;
    }
    double best_m = 0.0, best_t = -1.0;
    int32_t pick = -1;
    for (uint32_t j = 0; j < s->ncat; j++) {
        const double *w = a->w + (size_t)j * 2 * D;
        /* Two independent chains per sum: the loop is latency-bound on
         * the additions otherwise (2 D is even). */
        double and0 = 0.0, and1 = 0.0, norm0 = 0.0, norm1 = 0.0;
        for (uint32_t i = 0; i < 2 * D; i += 2) {
            and0 += in[i] < w[i] ? in[i] : w[i];
            and1 += in[i + 1] < w[i + 1] ? in[i + 1] : w[i + 1];
            norm0 += w[i];
            norm1 += w[i + 1];
        }
        double and = and0 + and1, norm = norm0 + norm1;
        double m = and / D, t = and / (ART_ALPHA + norm);
        if (m > best_m)
            best_m = m;
        if (m >= a->rho && t > best_t) {
            best_t = t;
            pick = (int32_t)j;
        }
    }
    if (pick >= 0) {
        double *w = a->w + (size_t)pick * 2 * D;
        for (uint32_t i = 0; i < 2 * D; i++)
            w[i] = a->beta * fmin(in[i], w[i]) + (1.0 - a->beta) * w[i];
    } else if (s->ncat < a->cats) {
        memcpy(a->w + (size_t)s->ncat * 2 * D, in, sizeof(double) * 2 * D);
        s->ncat++;
    }
    return s->ncat == 1 && pick < 0 ? 0.0 : 1.0 - best_m;
}

int nab_art_check(const nab_art *a, const nab_art_state *s)
{
    int ok = s->ncat <= a->cats && s->nfeat <= a->dim && s->head < a->dim &&
             s->in_block < a->ds && isfinite(s->block_sum);
    for (size_t i = 0; ok && i < (size_t)s->ncat * 2 * a->dim; i++)
        ok = a->w[i] >= 0.0 && a->w[i] <= 1.0;
    for (uint32_t i = 0; ok && i < a->dim; i++)
        ok = a->feat[i] >= 0.0 && a->feat[i] <= 1.0;
    return ok ? 0 : -1;
}
