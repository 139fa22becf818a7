/* Distribution-drift statistics: a bounded reservoir of doubles, a bounded
 * categorical counter, and two-sample statistics that compare a reference
 * sample with a current one (PSI, Jensen-Shannon distance, Kolmogorov-
 * Smirnov, Wasserstein, chi-square homogeneity). Each statistic is pinned to
 * a scipy/numpy computation, written out below, and tests/fixtures/drift/
 * gen_stats_fixtures.py computes exactly that for the unit-test fixtures.
 *
 * Functions answer 0 or a negative EDDY_E* code (engine/core/error.h). Numeric
 * statistics never allocate, except the exact KS p-value (see eddy_ks_2samp).
 * Handles are owned by the caller: each _new is paired with its _free. */
#ifndef EDDY_DRIFT_STATS_H
#define EDDY_DRIFT_STATS_H
#include <stddef.h>
#include <stdint.h>

/* ---- reservoir ---------------------------------------------------------- */

/* A uniform sample of at most `capacity` finite doubles from a stream
 * (Vitter's algorithm R). Its RNG is splitmix64 seeded from `seed`, so the
 * same seed and stream give the same sample on every platform. */
typedef struct eddy_sample eddy_sample;

/* NULL when capacity is 0 or memory is short. */
eddy_sample *eddy_sample_new(uint32_t capacity, uint64_t seed);
void eddy_sample_free(eddy_sample *s); /* NULL is fine */
/* NaN and +-inf are not sampled; they are counted in eddy_sample_rejected. */
void eddy_sample_add(eddy_sample *s, double x);
/* Empties the sample and zeroes both counters; the capacity stays and the
 * RNG goes on from where it was (a clear is not a reseed). */
void eddy_sample_clear(eddy_sample *s);
/* Makes dst hold src's values and counters (seen, rejected); dst keeps its
 * own capacity and RNG stream, and later adds to dst go on as if dst had
 * seen src's stream. EDDY_EINVAL when dst's capacity < src's size (dst is
 * then unchanged). */
int eddy_sample_copy(eddy_sample *dst, const eddy_sample *src);
uint64_t eddy_sample_seen(const eddy_sample *s);     /* finite values since clear */
uint64_t eddy_sample_rejected(const eddy_sample *s); /* NaN/inf since clear */
uint32_t eddy_sample_size(const eddy_sample *s);     /* min(seen, capacity) */
/* The held values, ascending; eddy_sample_size() of them. The sample sorts
 * itself in place on the first call after an add, so the pointer is valid
 * until the next add, clear or free. */
const double *eddy_sample_sorted(eddy_sample *s);
/* Smallest and largest held value; NaN when the sample is empty. */
double eddy_sample_min(eddy_sample *s);
double eddy_sample_max(eddy_sample *s);

/* Sorts n doubles ascending in place (no NaN allowed; -0.0 before +0.0).
 * Additive to the agreed API: it is the sort eddy_sample_sorted uses,
 * exported so callers holding raw arrays (and the benchmark) sort the same
 * way. scratch, if not NULL, holds n doubles and enables a radix sort for
 * n >= 1024 (several times faster there); NULL sorts by introsort in place.
 * A sample keeps such a scratch array itself, so its memory is
 * 16 bytes per unit of capacity. */
void eddy_sort_doubles(double *a, size_t n, double *scratch);

/* Portable state (lib/buf/bytes.h) for durable operators: the capacity,
 * the counters, the generator and the held values in slot order, so a
 * restored sample goes on exactly like the original. get reads a put's
 * bytes from r into s, whose capacity must be the same; on a short or
 * corrupt input (r->err set, or a capacity / count that does not fit) it
 * answers EDDY_EINVAL and leaves s unchanged. */
struct eddy_buf;
struct eddy_rd;
int eddy_sample_put(const eddy_sample *s, struct eddy_buf *b); /* 0 or -1 */
int eddy_sample_get(eddy_sample *s, struct eddy_rd *r);

/* ---- two-sample statistics -----------------------------------------------
 * Every function takes SORTED (ascending) finite arrays: ref (reference, nr
 * values) and cur (current, nc values). nr == 0, nc == 0, a NULL pointer or
 * an unsorted/non-finite first or last value answer EDDY_EINVAL and leave
 * the outputs untouched. */

typedef struct {
    uint32_t bins; /* 10; 1 .. 1000 */
    double eps;    /* 1e-4; >= 0 and < 1 */
} eddy_bin_params;
void eddy_bin_params_defaults(eddy_bin_params *bp); /* additive: {10, 1e-4} */

/* Binning shared by PSI and JS, as numpy would do it:
 *   edges = numpy.unique(numpy.quantile(ref, [i/bins for i in 1..bins-1]))
 *   (numpy's default 'linear' method: for position h = (nr-1)*i/bins,
 *   edge = ref[floor h] + (h - floor h) * (ref[floor h + 1] - ref[floor h]))
 *   bin of x = numpy.searchsorted(edges, x, side='right'), i.e. the number
 *   of edges <= x (numpy.digitize's default): B = len(edges) + 1 bins, the
 *   first (-inf, e1), then [e1, e2), ..., the last [e_last, +inf).
 *   p_i = (ref values in bin i) / nr, q_i = (cur values in bin i) / nc.
 * Smoothing: every p_i < eps becomes eps and every q_i < eps becomes eps; the
 * proportions are NOT renormalised afterwards (so they may sum above 1). */

/* PSI = sum over bins of (q_i - p_i) * ln(q_i / p_i), on the smoothed
 * proportions. eps == 0 with an empty bin on one side gives +inf. */
int eddy_psi(const double *ref, size_t nr, const double *cur, size_t nc,
             const eddy_bin_params *bp, double *psi);

/* Base-2 Jensen-Shannon distance on the same bins:
 *   P = p / sum(p), Q = q / sum(q) (the smoothed proportions, renormalised),
 *   M = (P + Q) / 2,
 *   js = sqrt( (sum P ln(P/M) + sum Q ln(Q/M)) / (2 ln 2) ),
 * terms with P (or Q) == 0 counting 0 (reachable only with eps == 0); a
 * negative rounding residue is taken as 0. This is
 * scipy.spatial.distance.jensenshannon(p, q, base=2) on the smoothed
 * proportions, and lies in [0, 1]. */
int eddy_js_distance(const double *ref, size_t nr, const double *cur, size_t nc,
                     const eddy_bin_params *bp, double *js);

/* scipy.stats.ks_2samp(ref, cur) two-sided. stat = sup |F_ref - F_cur| over
 * the pooled values (ties handled as scipy does, by right-continuous ECDFs).
 * pvalue:
 *   nr * nc <= 1e6: method='exact'. The statistic is written h / lcm(nr, nc)
 *     and the p-value is the share of the binomial(nr + nc, nr) lattice paths
 *     that reach |x/nr - y/nc| >= h / lcm (what scipy counts); it is computed
 *     as 1 - P(inside), where P(inside) is propagated column by column as a
 *     probability mass of the uniformly random path, which needs no scaling.
 *     Scratch: min(nr, nc) + 1 doubles, malloc'ed once per call on this path
 *     only (EDDY_ENOMEM if that fails).
 *   otherwise: method='asymp', scipy.stats.kstwo.sf(stat, round(en)) with
 *     en = nr * nc / (nr + nc) rounded half to even, following scipy's
 *     kolmogn branch for branch (Ruben-Gambino ends, 2 * smirnov in the
 *     tail, Durbin-Marsaglia-Tsang-Wang matrix, Pelz-Good); for n <= 140 the
 *     band scipy evaluates by Pomeranz's recursion is evaluated by the Durbin
 *     matrix instead: both are exact, they differ only in rounding. The
 *     matrix (at most (2 * ceil(n * stat) - 1)^2 doubles, n * stat^2 <= 4)
 *     lives on the stack up to 64 x 64, else one malloc per call.
 * The p-value is clipped to [0, 1]. */
int eddy_ks_2samp(const double *ref, size_t nr, const double *cur, size_t nc, double *stat,
                  double *pvalue);

/* Additive: scipy.stats.kstwo.sf(d, n), the survival function of the
 * one-sample two-sided Kolmogorov statistic, as eddy_ks_2samp's 'asymp'
 * path uses it. NaN when n is not a positive integer, d is NaN, or (for
 * the Durbin matrix) memory is short. */
double eddy_kstwo_sf(double n, double d);

/* w = scipy.stats.wasserstein_distance(ref, cur) = integral |F_ref - F_cur|.
 * w_norm = w / s, where s = numpy.std(ref) (ddof = 0) when ref is not
 * constant; for a constant reference (ref[0] == ref[nr-1]) s = |ref[0]|, a
 * shift relative to the reference level, and s = 1 when that is 0 too. */
int eddy_wasserstein(const double *ref, size_t nr, const double *cur, size_t nc, double *w,
                     double *w_norm);

/* ---- categorical -----------------------------------------------------------
 * Chi-square test of homogeneity on the 2 x k table whose rows are
 * ref_counts and cur_counts: scipy.stats.chi2_contingency(table,
 * correction=False) once every column that is zero in both rows is dropped.
 * stat = sum (o - e)^2 / e with e = row total * column total / grand total,
 * dof = k' - 1 (k' columns kept), pvalue = eddy_chi2_sf(stat, dof).
 * k' < 2: stat 0, pvalue 1, dof 0. EDDY_EINVAL for k == 0, a NULL pointer, a
 * negative or non-finite count, or a row that sums to 0 (scipy refuses the
 * table: an expected frequency would be 0). Counts may be fractional. */
int eddy_chi2_homogeneity(const double *ref_counts, const double *cur_counts, size_t k,
                          double *stat, double *pvalue, uint32_t *dof);

/* Upper regularised incomplete gamma Q(dof/2, x/2): the chi-square survival
 * function. 1 for x <= 0; NaN for NaN or dof <= 0. */
double eddy_chi2_sf(double x, double dof);

/* Bounded categorical counter: the first `capacity` distinct strings are
 * counted exactly; later new strings add to one "other" bucket. Strings are
 * copied into the counter's own memory when a category is created; counting
 * an existing category never allocates. */
typedef struct eddy_catcount eddy_catcount;

eddy_catcount *eddy_catcount_new(uint32_t capacity); /* NULL: capacity 0 or ENOMEM */
void eddy_catcount_free(eddy_catcount *c);           /* NULL is fine */
/* Adds weight w to the category of the len bytes at s (any bytes; len 0 is
 * the empty string). An add with w < 0, w not finite, or s NULL with len >
 * 0 is ignored. If a new category cannot be stored (memory) its weight goes
 * to the other bucket. */
void eddy_catcount_add(eddy_catcount *c, const char *s, size_t len, double w);
void eddy_catcount_clear(eddy_catcount *c); /* counts to zero, categories kept */
/* Number of adds counted since clear (whatever their weights). */
uint64_t eddy_catcount_total(const eddy_catcount *c);
/* Additive: the number of categories held (other bucket excluded). */
uint32_t eddy_catcount_size(const eddy_catcount *c);

/* Portable state, as eddy_sample_put/get: capacity, the other bucket, the
 * total, and every category (bytes and weight) in creation order. get
 * refuses (EDDY_EINVAL, c unchanged) another capacity, a repeated
 * category, or a short or corrupt input. */
int eddy_catcount_put(const eddy_catcount *c, struct eddy_buf *b); /* 0 or -1 */
int eddy_catcount_get(eddy_catcount *c, struct eddy_rd *r);

/* Aligns two counters over the union of their categories: ref's categories
 * in their creation order, then cur's that ref lacks, then the other bucket
 * (one column holding both counters' other weights) if either is non-zero.
 * Writes *k columns into ref_out and cur_out (each of capacity kmax).
 * Categories are matched by bytes; a string counted exactly by one counter
 * and in the other's other bucket shows as two columns. EDDY_EINVAL when
 * kmax is too small (nothing written, *k set to the columns needed) or a
 * pointer is NULL. */
int eddy_catcount_align(const eddy_catcount *ref, const eddy_catcount *cur, double *ref_out,
                        double *cur_out, size_t kmax, size_t *k);

#endif
