/* Streaming anomaly detectors: one handle per series, one score per value.
 *
 * Univariate detectors share the eddy_anom handle: eddy_anom_update() takes
 * the next value (and its timestamp, which only the NAB detector reads) and
 * answers a score in [0,1], higher meaning more anomalous, 0 while the
 * detector is still warming up. Deciding "score >= threshold" is the
 * caller's business; each detector documents which score corresponds to
 * its textbook alarm. eddy_anom_statistic() gives the raw quantity the
 * score was mapped from, for metrics and debugging.
 *
 * Non-finite inputs (NaN, +-inf) are ignored: the update answers 0 and the
 * state is left as it was, so one broken reading cannot poison a window.
 *
 * Constructors validate their parameters and answer 0, EDDY_EINVAL (with
 * "detector: what is wrong" in err) or EDDY_ENOMEM. Everything a detector
 * needs is allocated by its constructor: updates never allocate.
 *
 * Snapshots are the detector's complete state as bytes, little-endian
 * whatever the host (lib/buf/bytes.h), framed by a header (magic, format version, detector name,
 * payload size, checksum). A snapshot restores into a detector built with
 * the same sizing parameters (windows, depths, trees); thresholds and rates
 * come from the restoring detector's own parameters. A snapshot that does not
 * fit is refused with EDDY_EPARSE and leaves the detector untouched. */
#ifndef EDDY_ANOMALY_H
#define EDDY_ANOMALY_H
#include <stddef.h>
#include <stdint.h>

#include "lib/buf/buf.h"

typedef struct eddy_anom eddy_anom;

double eddy_anom_update(eddy_anom *a, double x, int64_t ts_ms);
/* The raw statistic behind the last score (see each detector); 0 before
 * the first scored value. */
double eddy_anom_statistic(const eddy_anom *a);
/* The alarm level, in the series' own units, that the next value will be
 * compared against (SPOT, DSPOT: z_q; EWMA: the upper control limit). NaN
 * for detectors without one or while warming up. */
double eddy_anom_threshold(const eddy_anom *a);
/* The lower alarm level of two-sided SPOT/DSPOT and of EWMA; NaN otherwise. */
double eddy_anom_threshold_lower(const eddy_anom *a);
void eddy_anom_reset(eddy_anom *a);
void eddy_anom_free(eddy_anom *a);
const char *eddy_anom_name(const eddy_anom *a);
/* Appends the snapshot to out (out->len grows). 0, EDDY_ENOMEM. */
int eddy_anom_snapshot(const eddy_anom *a, eddy_buf *out);
/* 0, or EDDY_EPARSE when data is not a snapshot of this kind of detector
 * with the same sizing parameters (the detector is then unchanged). */
int eddy_anom_restore(eddy_anom *a, const void *data, size_t len);

/* Builds a univariate detector by name ("zscore", "robust_zscore", "ewma",
 * "spot", "dspot", "nab") with its default parameters. */
int eddy_anom_new_default(const char *name, eddy_anom **out, char *err, size_t errlen);

/* Calibrated scores. Every univariate detector but the NAB one answers a
 * tail probability p of the value under what it has learnt (a Gaussian for
 * the z-score detectors and the EWMA chart, the fitted GPD tail for SPOT),
 * on one log scale: score = -log10(p) / EDDY_ANOM_TAIL_DIGITS, capped at 1.
 * So a score s means p = 10^(-10 s) whatever the detector: 0.1 is p = 0.1,
 * 0.5 is p = 1e-5, 1 is p <= 1e-10; thresholds compare across detectors and
 * the ensemble can combine them. A log scale, not p itself, because what
 * tells an anomaly from the ordinary tail of a long stream is how many
 * orders of magnitude rarer it is, and a score that saturates (the old
 * erf(|z|/sqrt 2) was 1.0 beyond |z| = 8) cannot rank anomalies. */
#define EDDY_ANOM_TAIL_DIGITS 10.0
/* ln p -> score, as above (0 for p >= 1). */
double eddy_anom_tail_score(double ln_p);
/* ln Q(z) = ln P(N(0,1) > z), finite far into the tail. */
double eddy_anom_log_q(double z);
/* The z-score detectors' map: the two-sided tail p = P(|N(0,1)| >= |z|)
 * as a score, so |z| = 1, 2, 3, 3.5, 5 give 0.0499, 0.134, 0.257, 0.333,
 * 0.624; 0 at z = 0, 1 at +-inf. */
double eddy_anom_z_to_score(double z);

/* Rolling z-score. The mean and population standard deviation (ddof 0) of
 * the previous `window` values (not including x) give z = (x - mean) / sd;
 * the window is updated with x afterwards. Scores are 0 until the window is
 * full. A zero deviation gives z = 0 when x equals the mean, +-inf
 * otherwise. Statistic: z. Score: eddy_anom_z_to_score(z). O(1) per update
 * (Welford add/remove, re-summed exactly every `window` updates so that
 * rounding cannot accumulate). */
typedef struct {
    uint32_t window; /* 100, >= 2 */
} eddy_zscore_params;
void eddy_zscore_defaults(eddy_zscore_params *p);
int eddy_zscore_new(const eddy_zscore_params *p, eddy_anom **out, char *err, size_t errlen);

/* Robust z-score: med and MAD (median absolute deviation from med) of the
 * previous `window` values, exactly as numpy's median computes them (the
 * mean of the two middle values for even counts); robust z = 0.6745 * (x -
 * med) / MAD. A zero MAD (more than half the window equal) falls back on
 * the mean absolute deviation from med: z = (x - med) / (1.253314 MeanAD)
 * (Iglewicz and Hoaglin), found by visiting the values off the median
 * (fewer than half); both zero gives 0 when x == med, +-inf otherwise.
 * Statistic: robust z. Score: eddy_anom_z_to_score(robust z). Windows up to 131072
 * are kept as a sorted array (binary search plus one memmove per update:
 * O(N) but cache friendly, faster than a tree at these sizes); larger ones
 * as an order-statistic treap (O(log N) insert/delete/select). The MAD is
 * the k-th smallest of two sorted sequences (the deviations below and above
 * the median), found by binary search: O(log N) array reads, or O(log^2 N)
 * with the treap. */
typedef struct {
    uint32_t window; /* 300, >= 2 (100 before: 12.4 on NAB, 22.3 with 300) */
} eddy_robust_zscore_params;
void eddy_robust_zscore_defaults(eddy_robust_zscore_params *p);
int eddy_robust_zscore_new(const eddy_robust_zscore_params *p, eddy_anom **out, char *err,
                           size_t errlen);

/* EWMA forecast chart. The EWMA of the values, f_t = f_{t-1} + lambda (x_t -
 * f_{t-1}) (f_1 = x_1), forecasts the next value; the first `warmup` values
 * only learn. Then each value is scored by its residual r = x_t - f_{t-1}
 * in units of the residuals' deviation: s = r / sqrt(v), where v is the
 * mean of the squared residuals seen so far (the warm-up's warmup - 1 to
 * start) until there are 1 / lambda_var of them, then their EWMA with
 * weight lambda_var; v and f learn from x_t after it is scored. +-inf when
 * v is 0 and r is not. Statistic: s. Score: eddy_anom_z_to_score(s), the
 * residual's two-sided Gaussian tail, so the value is outside the limits
 * f +- L sqrt(v) (eddy_anom_threshold, _lower) exactly when the score
 * reaches eddy_anom_z_to_score(L). (Roberts' chart of the smoothed
 * statistic against a warm-up target lagged changes by about 1 / lambda
 * values and went stale on drifting series: 7.5 on NAB against 32.4.) */
typedef struct {
    double lambda;     /* 0.2, in (0, 1]: weight of the newest value in the forecast */
    double L;          /* 3.0, > 0 */
    uint32_t warmup;   /* 30, >= 2 */
    double lambda_var; /* 0.001, in (0, 1]: weight of the newest squared residual */
} eddy_ewma_params;
void eddy_ewma_defaults(eddy_ewma_params *p);
int eddy_ewma_new(const eddy_ewma_params *p, eddy_anom **out, char *err, size_t errlen);

/* SPOT and DSPOT (Siffer et al., KDD 2017). The first n_init values (after
 * `depth` more that seed the moving average, for DSPOT) calibrate: t is
 * their `level` quantile (the sorted value at index floor(level * n_init)),
 * the excesses over t are the peaks, and a generalised Pareto distribution
 * is fitted to them by maximum likelihood with Grimshaw's reduction to one
 * variable (candidate roots of w(x) = u(x) v(x) - 1 bracketed on a grid of
 * n_points per interval and refined to machine precision; gamma = 0 is
 * always a candidate; sums of logs are taken as logs of products, about
 * n ulps from the term-by-term sums). The alarm threshold is
 *   z_q = t + sigma / gamma ((q n / N_t)^-gamma - 1)   (t - sigma ln(q n / N_t) at gamma 0)
 * Streaming: a value above z_q is an alarm and changes nothing; a value
 * above t joins the peaks and the GPD is refitted (every refit_every-th
 * such value, see below); any non-alarm value
 * counts in n. DSPOT runs the same on x minus the mean of the last `depth`
 * non-alarm values. Peaks are kept in a ring of max_peaks: the fit uses the
 * most recent ones, N_t / n keeps counting all of them (the exceedance rate).
 * With two_sided, the same runs on -x for the lower tail (n shared, as in
 * the reference implementation's biSPOT).
 * The log-likelihood at gamma = 0 is -N_t (1 + ln mean(peaks)) (the
 * exponential distribution's); the reference code has the sign flipped.
 * Statistic: y - z_q (y = x, or x minus the moving average), the larger side.
 * Score: the fitted tail probability p = (N_t / n) (1 + gamma (y - t) /
 * sigma)^(-1/gamma) of y (exp(-(y - t) / sigma) at gamma 0; 0 at or below t;
 * 1 beyond the fitted distribution's end or without a fit) as
 * eddy_anom_tail_score: SPOT's alarm, y > z_q, is p < q, i.e. a score above
 * -log10(q) / 10 (0.4 at the default q). */
typedef struct {
    uint32_t n_init;    /* 1000, >= 10 */
    double level;       /* 0.98, in (0, 1): initial threshold quantile */
    double q;           /* 1e-4, in (0, 1): risk of the alarm threshold */
    uint32_t depth;     /* 0 for SPOT; DSPOT's moving-average depth (e.g. 10) */
    uint32_t max_peaks; /* 1000, >= 10 */
    uint32_t n_points;  /* 10, grid points per root interval, >= 2 */
    int two_sided;      /* 0 */
    /* 1 (0 means the same): refit the GPD on every peak, as the paper does.
     * k > 1: refit on every k-th peak of a side; the peaks in between join
     * the ring and move z_q through n / N_t under the previous fit, which
     * makes updates about k times cheaper for thresholds that lag by at
     * most k - 1 peaks. At most 16777216. */
    uint32_t refit_every;
} eddy_spot_params;
void eddy_spot_defaults(eddy_spot_params *p);
/* The same defaults with depth 10. */
void eddy_dspot_defaults(eddy_spot_params *p);
int eddy_spot_new(const eddy_spot_params *p, eddy_anom **out, char *err, size_t errlen);

/* Grimshaw's GPD maximum-likelihood fit on n excesses y[0..n-1] (all > 0),
 * exposed for tests: answers 0 and sets gamma and sigma, or EDDY_EINVAL when
 * n == 0. n_points as in eddy_spot_params. */
int eddy_spot_grimshaw(const double *y, size_t n, uint32_t n_points, double *gamma,
                       double *sigma);

/* NAB detector: a streaming detector built for the Numenta Anomaly
 * Benchmark's scoring, which credits the earliest detection inside each
 * anomaly window, charges every detection outside one, and picks one score
 * threshold for the whole corpus. One configuration serves every series
 * (the defaults, tuned on the NAB corpus with benchmarks/nab/tune/nab_search.py;
 * the attempts and what each channel adds are in benchmarks/nab/README.md);
 * no labels, causal. It may be told the series' expected range
 * (range_lo/range_hi: NAB's protocol gives each file's minimum and maximum,
 * a product knows a metric's bounds); otherwise the range is learnt.
 * Bounded memory per series: 4 x long_win doubles, a bitset of ctx_lags x
 * ctx_bins^2 + 48 x ctx_bins bits, art_cats x 2 art_dim + art_dim doubles
 * (about 42 KiB with the defaults); no allocation per update; O(ctx_lags +
 * art_cats x art_dim) work per value.
 *
 * Surprise channels, each a tail probability p on the log scale
 * -log10(p) / digits (capped at `cap`), combined by their weighted maximum:
 *  0. New extreme (after the spatial check of NAB's HTM detector): a value
 *     beyond every value seen so far by more than sp_tol of the range
 *     scores sp_w (or (excess / sp_tol)^sp_grade x sp_w when sp_grade > 0).
 *  1. Prediction error likelihood (Numenta's anomaly likelihood applied to
 *     a simple predictor): e = |x - EWMA| / range; the mean of the newest
 *     short_win errors against the Gaussian of the last long_win.
 *  2. Level novelty: x's two-sided Gaussian tail under the mean and
 *     deviation of the last long_win values, weighted by level_w.
 *  3. Context novelty (after contextOSE / HTM's "unpredicted input"): x is
 *     put in one of ctx_bins bins of the range; the raw score is the share
 *     of its pairings never seen before: (bin now, bin k values ago) for
 *     k = 1..ctx_lags, plus (hour of day x weekday/weekend, bin now), which
 *     counts as tod_w pairings. Seen pairings are one bit each, kept for
 *     good. That raw score goes through the same likelihood (ctx_short,
 *     long_win, ctx_sd_floor), weighted by ctx_w.
 *  4. Shape novelty (after ARTime): a fuzzy ART layer over the last art_dim
 *     block means (lib/anomaly/nab_art.h); 1 - the best category match
 *     through the likelihood, weighted by art_w.
 * Record gate: a score below rec_w x the decaying record of past scores
 * (1/e per rec_tau values) is damped by (score / bar)^rec_pow, so a series
 * that is always surprising has to surpass itself.
 * Alarm gate: nothing is scored during the first `probation` values (NAB
 * ignores the first 15% of each series anyway); after a score reaches
 * sup_level the next sup_len scores are 0 (sup_mode 1: unless they exceed
 * that alarm's score), because NAB credits one detection per window and
 * charges every extra one outside it. Deviations have floors (sd_floor
 * relative to the range for values, absolute for scores) so flat series do
 * not turn rounding into alarms. The alarm level for NAB's standard profile
 * is about sup_level. Statistic: the error channel's z. Every parameter is
 * a double so that EDDY_NAB_KNOBS(X) can drive option tables: X(field) per
 * field. */
#define EDDY_NAB_KNOBS(X)                                                         \
    X(probation), X(alpha_fast), X(long_win), X(short_win), X(sup_len), X(sup_level), \
        X(sd_floor), X(level_w), X(ctx_w), X(ctx_bins), X(ctx_lags), X(ctx_short),   \
        X(ctx_sd_floor), X(tod_w), X(rec_w), X(rec_tau), X(rec_pow), X(sup_mode), X(digits), X(sp_w), X(sp_tol), X(sp_grade), X(cap), X(art_w), X(art_dim), X(art_ds), X(art_cats), X(art_rho), \
        X(art_beta), X(rec_start), X(ctx_forget), X(sp_pos)
typedef struct {
    double probation;    /* 300: values seen before the first non-zero score */
    double alpha_fast;   /* 0.05: weight of the newest value in the EWMA prediction */
    double long_win;     /* 1500: values in the long (baseline) windows, >= 2 */
    double short_win;    /* 3: errors averaged in the recent error mean */
    double sup_len;      /* 200: values kept quiet after an alarm-level score */
    double sup_level;    /* 0.5: score that starts the quiet period */
    double sd_floor;     /* 0.03: smallest deviation, relative to the range */
    double level_w;      /* 0.9: weight of the level-novelty channel */
    double ctx_w;        /* 0.9: weight of the context-novelty channel (0: off) */
    double ctx_bins;     /* 8: value bins of the context channel, 2..256 */
    double ctx_lags;     /* 8: past bins paired with the current one, 1..64 */
    double ctx_short;    /* 3: novelty scores averaged in the recent mean */
    double ctx_sd_floor; /* 0.01: smallest deviation of the novelty scores */
    double tod_w;        /* 8: weight of the time-of-day pairing (0: off) */
    double rec_w;        /* record gate: share of the decaying record a score must reach */
    double rec_tau;      /* values over which the record decays by 1/e */
    double rec_pow;      /* below the bar, the score is multiplied by (score/bar)^rec_pow */
    double sup_mode;     /* 1: during the quiet period, a score above the alarm's passes */
    double digits;       /* 10: a tail probability of 10^-digits scores 1 */
    double sp_w;         /* new-extreme channel: score of a value beyond those seen */
    double sp_tol;       /* by more than sp_tol x range */
    double sp_grade;     /* 0: all or nothing; else (excess / sp_tol)^sp_grade, capped at 1 */
    double cap;          /* channel scores capped here before the record gate; the output at 1 */
    double art_w;        /* shape channel (fuzzy ART, nab_art.h): weight, 0 = off */
    double art_dim;      /* block means in a shape, 1..32 */
    double art_ds;       /* values per block, >= 1 */
    double art_cats;     /* most categories, 1..1024 */
    double art_rho;      /* vigilance, in (0, 1] */
    double art_beta;     /* learning rate, in (0, 1] */
    double rec_start;    /* values before the record gate's record starts learning */
    double ctx_forget;   /* values after which an unseen pairing is news again (0: never) */
    double sp_pos;       /* new extreme's score x (its position in the range)^sp_pos */
    /* The series' expected range, when known before the first value (NAB
     * gives every detector its file's minimum and maximum; a product knows
     * a metric's bounds): the bins and the range-relative floors start
     * from it instead of from the values seen so far, which keeps early
     * contexts stable. Values outside it still widen it. range_lo ==
     * range_hi (the default, 0 and 0): unknown, learnt as values come. */
    double range_lo, range_hi;
} eddy_nab_params;
void eddy_nab_defaults(eddy_nab_params *p);
int eddy_nab_new(const eddy_nab_params *p, eddy_anom **out, char *err, size_t errlen);

/* Half-Space Trees (Tan, Ting & Liu 2011), the streaming isolation-style
 * detector of river's anomaly.HalfSpaceTrees. Each update scores x against
 * the mass profile of the previous window of window_size values, then
 * counts x in the current window; the raw score is 1 - sum over trees of
 * sum over the path of mass * 2^depth (stopping below 0.1 * window_size),
 * divided by its maximum (river's score). The score is calibrated: the raw
 * score's upper Gaussian tail under the running mean and variance of the
 * last ~1000 raw scores (deviation floor 0.01), as eddy_anom_tail_score;
 * 0 during the first window. Features are scaled to [0,1] with the given limits, or with
 * the minimum and maximum of each feature over the first window, widened
 * by `margin` times that range on each side, when limits_lo/limits_hi are
 * NULL (the first window is then replayed into the trees once the limits
 * are known; the margin lets a later value beyond the first window's
 * extremes land where there is little mass). Splits are drawn from a seeded hash of
 * (tree, node), between padding and 1 - padding of the node's box, and
 * tabulated by the constructor (a double threshold, plus a 16-bit feature
 * when dim > 1, per internal node); each of the 2^(height+1) - 1 nodes of a
 * tree keeps two 16-bit masses (reference and current window). The
 * defaults are river's (10 trees of height 8, window 250: about 30 KiB per
 * detector) except for one feature, where height 3 (8 cells a tree, about
 * the 250 / 25 that the 0.1 x window size limit can tell apart) and the
 * margin 2 lift NAB's causal standard score from 2.8 to 46.6. */
typedef struct eddy_hst eddy_hst;
typedef struct {
    uint32_t dim;          /* number of features, 1..4096 (required) */
    uint32_t n_trees;      /* 10, 1..1000 */
    uint32_t height;       /* 3 for one feature, 8 (river's) for more; 1..24 */
    uint32_t window_size;  /* 250, 2..65535 */
    double padding;        /* 0.15, in [0, 0.5) */
    double margin;         /* 2, in [0, 1e6]: learnt limits widened by margin x range per side */
    uint64_t seed;         /* 42 */
    const double *limits_lo; /* NULL or dim lower limits (copied) */
    const double *limits_hi; /* NULL or dim upper limits, each > its lower one */
} eddy_hst_params;
void eddy_hst_defaults(eddy_hst_params *p, uint32_t dim);
int eddy_hst_new(const eddy_hst_params *p, eddy_hst **out, char *err, size_t errlen);
/* NaN (and no update) when dim differs from the constructor's or a value is
 * not finite. */
double eddy_hst_update(eddy_hst *h, const double *x, uint32_t dim);
/* Scores without learning. */
double eddy_hst_score(const eddy_hst *h, const double *x, uint32_t dim);
void eddy_hst_reset(eddy_hst *h);
void eddy_hst_free(eddy_hst *h);
int eddy_hst_snapshot(const eddy_hst *h, eddy_buf *out);
int eddy_hst_restore(eddy_hst *h, const void *data, size_t len);

#endif
