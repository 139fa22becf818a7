/* Option tables of the anomaly operators, one per detector, with the
 * library's defaults and each parameter's valid range, and the constructors
 * that turn parsed options into a detector. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "operators/anomaly/anomaly_op.h"

#define COMMON_OPTS(threshold_default, threshold_text, max_keys_default)                    \
    {"key", EDDY_OPT_LIST, NULL, EDDY_NO_RANGE, NULL, 0,                                    \
     "Fields whose values select a detector of its own (per user, per host...). Unset: "    \
     "one detector for the whole stream of each partition."},                               \
        {"score_field", EDDY_OPT_STRING, NULL, EDDY_NO_RANGE, NULL, 0,                      \
         "Field appended with the score in [0,1] (higher = more anomalous, 0 while "        \
         "warming up). Unset: <step name>_score, or <operator>_score for an unnamed step."}, \
        {"flag_field", EDDY_OPT_STRING, "anomaly", EDDY_NO_RANGE, NULL, 0,                  \
         "Field appended with true when score >= threshold (\"\" = do not add)."},          \
        {"threshold", EDDY_OPT_DOUBLE, threshold_default, 0, 1, NULL, 0, threshold_text},    \
        {"severity", EDDY_OPT_ENUM, "warning", EDDY_NO_RANGE, "info|warning|critical", 0,    \
         "Severity of the alerts raised by flagged values."},                               \
        {"quiet_period", EDDY_OPT_INT, "100", 1, 1e9, NULL, 0,                              \
         "Unflagged values of a key after a flag that count as one clear check; a firing "  \
         "alert resolves after the step's alerts.resolve_after clear checks."},             \
        {"refractory", EDDY_OPT_INT, "0", 0, 1e9, NULL, 0,                                  \
         "After a flagged value, the key's next `refractory` values score 0 and are not "   \
         "flagged (the detector still learns from them): one flag per event, as NAB "       \
         "credits one detection per anomaly window and charges the rest. 0: off, every "    \
         "value scored."},                                                                  \
        {"max_keys", EDDY_OPT_INT, max_keys_default, 1, 1e8, NULL, 0,                       \
         "Keys tracked per partition; records of further keys pass through unscored "       \
         "(counted in eddy_anomaly_untracked_records_total)."}

#define FIELD_OPT                                                                           \
    {"field", EDDY_OPT_FIELD, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_REQUIRED,                 \
     "The numeric field scored (int, double; true/false count as 1/0). Records without a "  \
     "finite number in it pass through untouched (counted in "                              \
     "eddy_anomaly_skipped_records_total)."}

#define END_OPTS {NULL, 0, NULL, EDDY_NO_RANGE, NULL, 0, NULL}

/* Every score is a tail probability p on one log scale, -log10(p) / 10
 * (lib/anomaly/anomaly.h), so a threshold means the same for each. */
#define Z_THRESHOLD_TEXT(z)                                                                 \
    "Flag when score >= threshold. The score is the two-sided Gaussian tail p of z on a "   \
    "log scale, -log10(p) / 10 capped at 1: 0.050, 0.134, 0.257, 0.333, 0.624 at |z| = 1, "  \
    "2, 3, 3.5, 5; the default flags |z| >= " z "."

eddy_option eddy_anom_opts_zscore[] = {
    FIELD_OPT,
    COMMON_OPTS("0.2569", Z_THRESHOLD_TEXT("3"), "100000"),
    {"window", EDDY_OPT_INT, NULL, 2, 10000000, NULL, 0,
     "Previous values whose mean and standard deviation (ddof 0) give z; scores are 0 "
     "until the window is full. 8 bytes per value per key (at most 10,000,000: 80 MB a key)."},
    END_OPTS,
};

eddy_option eddy_anom_opts_robust_zscore[] = {
    FIELD_OPT,
    COMMON_OPTS("0.3332", Z_THRESHOLD_TEXT("3.5 (Iglewicz and Hoaglin's cut-off)"), "100000"),
    {"window", EDDY_OPT_INT, NULL, 2, 10000000, NULL, 0,
     "Previous values whose median and MAD give the robust z = 0.6745 (x - median) / MAD "
     "((x - median) / (1.2533 mean absolute deviation) when the MAD is 0). About 16 bytes "
     "per value per key (at most 10,000,000)."},
    END_OPTS,
};

eddy_option eddy_anom_opts_ewma_chart[] = {
    FIELD_OPT,
    COMMON_OPTS("0.2569",
                "Flag when score >= threshold. The score is the two-sided Gaussian tail p of "
                "the value's residual from the EWMA forecast in deviations of the recent "
                "residuals, -log10(p) / 10; the default is the value leaving the L = 3 limits "
                "(for another L, the score of |z| = L).",
                "100000"),
    {"lambda", EDDY_OPT_DOUBLE, NULL, 1e-300, 1, NULL, 0,
     "Weight of the newest value in the EWMA that forecasts the next value, in (0, 1]."},
    {"L", EDDY_OPT_DOUBLE, NULL, 1e-300, 1e300, NULL, 0,
     "Width of the limits around the forecast in deviations of the residuals."},
    {"warmup", EDDY_OPT_INT, NULL, 2, 1e9, NULL, 0,
     "Values that only learn (the forecast and the first residual deviation)."},
    {"lambda_var", EDDY_OPT_DOUBLE, NULL, 1e-300, 1, NULL, 0,
     "Weight of the newest squared residual in the residual variance once 1 / lambda_var "
     "residuals are in (their plain mean before), in (0, 1]."},
    END_OPTS,
};

#define SPOT_OPTS(depth_min, depth_text)                                     \
    FIELD_OPT,                                                                              \
        COMMON_OPTS("0.4",                                                                  \
                    "Flag when score >= threshold. The score is the value's tail "          \
                    "probability p under the fitted GPD tail, -log10(p) / 10 (0 at or "     \
                    "below the initial threshold t); SPOT's alarm (beyond z_q) is p <= q, " \
                    "so the default 0.4 is the alarm at q = 1e-4 (-log10(q) / 10 for "      \
                    "another q).",                                                          \
                    "100000"),                                                              \
        {"n_init", EDDY_OPT_INT, NULL, 10, 67108864, NULL, 0,                             \
         "Values that calibrate the initial threshold and the first GPD fit."},             \
        {"level", EDDY_OPT_DOUBLE, NULL, 1e-300, 0.999999999, NULL, 0,                    \
         "Quantile of the calibration values used as the initial threshold t, in (0, 1)."}, \
        {"q", EDDY_OPT_DOUBLE, NULL, 1e-300, 0.999999999, NULL, 0,                        \
         "Risk: the probability of a value beyond the alarm threshold z_q, in (0, 1)."},    \
        {"depth", EDDY_OPT_INT, NULL, depth_min, 16777216, NULL, 0, depth_text},   \
        {"max_peaks", EDDY_OPT_INT, NULL, 10, 16777216, NULL, 0,                          \
         "Most recent peaks (excesses over t) kept for the GPD fit."},                      \
        {"n_points", EDDY_OPT_INT, NULL, 2, 1000, NULL, 0,                                  \
         "Grid points per interval when bracketing Grimshaw's roots."},                     \
        {"refit_every", EDDY_OPT_INT, NULL, 0, 1000000, NULL, 0,                           \
         "Refit the GPD on every k-th new peak (1 or 0: every peak, as in the paper; the "  \
         "threshold still follows the counts in between). 10 is ~10x faster, thresholds "   \
         "within a few percent."},                                                          \
        {"two_sided", EDDY_OPT_BOOL, NULL, EDDY_NO_RANGE, NULL, 0,                       \
         "Also watch the lower tail (values far below the usual)."},                        \
        END_OPTS

eddy_option eddy_anom_opts_spot[] = {
    SPOT_OPTS(0, "Moving-average depth; 0 is plain SPOT (dspot's default is 10)."),
};

eddy_option eddy_anom_opts_dspot[] = {
    SPOT_OPTS(1,
              "Values in the moving average that DSPOT subtracts, so that the tails are "
              "watched around a drifting level."),
};

#define NAB_ROW(f) {#f, EDDY_OPT_DOUBLE, NULL, EDDY_NO_RANGE, NULL, 0, NULL}

/* One row per knob of EDDY_NAB_KNOBS, so that every parameter the library
 * tunes is an option; the library checks their ranges. */
eddy_option eddy_anom_opts_nab_detector[] = {
    FIELD_OPT,
    COMMON_OPTS("0.4",
                "Flag when score >= threshold; 0.4 is the detector's alarm level (sup_level, "
                "a score that starts its quiet period) and near the threshold NAB's standard "
                "profile picks (0.45).",
                "100000"),
    {"expected_range", EDDY_OPT_LIST, NULL, EDDY_NO_RANGE, NULL, 0,
     "[min, max]: the range the field's values are expected to span, when known (a metric's "
     "bounds; NAB gives each series' minimum and maximum). The detector's value bins and "
     "range-relative floors start from it; values outside it still widen it. Unset: learnt "
     "from the values seen so far."},
    EDDY_NAB_KNOBS(NAB_ROW),
    END_OPTS,
};

eddy_option eddy_anom_opts_half_space_trees[] = {
    {"fields", EDDY_OPT_LIST, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_REQUIRED,
     "The numeric fields scored together (1 to 64). Records lacking a finite number in any "
     "of them pass through untouched (counted in eddy_anomaly_skipped_records_total)."},
    {"limits", EDDY_OPT_MAP, NULL, EDDY_NO_RANGE, NULL, 0,
     "Field -> \"lo,hi\": the range each feature is scaled from. Give every field or none; "
     "unset: each feature's minimum and maximum over the first window."},
    COMMON_OPTS("0.4",
                "Flag when score >= threshold. The raw score (1 - the normalised mass of the "
                "value's region in the previous window) is calibrated against the last ~1000 "
                "raw scores: its upper Gaussian tail p there, -log10(p) / 10, so the default "
                "0.4 is p = 1e-4.",
                "10000"),
    {"n_trees", EDDY_OPT_INT, NULL, 1, 1000, NULL, 0, "Number of trees."},
    {"height", EDDY_OPT_INT, "0", 0, 24, NULL, 0,
     "Depth of each tree: 2^(height+1) - 1 nodes per tree and key (4 bytes of masses per "
     "node, plus the split of each internal node). 0: 3 for one field, 8 for more."},
    {"window_size", EDDY_OPT_INT, NULL, 2, 65535, NULL, 0,
     "Values per window: each value is scored against the previous window's masses."},
    {"padding", EDDY_OPT_DOUBLE, NULL, 0, 0.4999999, NULL, 0,
     "Splits are drawn between padding and 1 - padding of a node's box, in [0, 0.5)."},
    {"margin", EDDY_OPT_DOUBLE, NULL, 0, 1e6, NULL, 0,
     "Without limits: the first window's range of each field is widened by margin times "
     "itself on each side, so that later values beyond it stand out."},
    {"seed", EDDY_OPT_INT, NULL, 0, 9.2e18, NULL, 0, "Seed of the split hash."},
    END_OPTS,
};

/* What the NAB knobs do, for `eddy describe`; knobs added to the library
 * later get the generic text. */
static const char *const nab_knob_text[][2] = {
    {"probation", "Values seen before the first non-zero score."},
    {"alpha_fast", "Weight of the newest value in the fast prediction, in (0, 1]."},
    {"long_win", "Values in the long (baseline) error window."},
    {"short_win", "Values in the short (recent) error window."},
    {"sup_len", "Values kept quiet (score 0) after an alarm-level score."},
    {"sup_level", "Score that starts the quiet period."},
    {"sd_floor", "Smallest error deviation, relative to the range of values seen."},
    {"level_w", "Weight of the level-novelty score."},
    {"ctx_w", "Weight of the context-novelty score."},
    {"ctx_bins", "Value bins of the context channel."},
    {"ctx_lags", "Lags paired with the current bin in the context channel."},
    {"ctx_short", "Novelty scores averaged in the context channel's recent mean."},
    {"ctx_sd_floor", "Smallest deviation of the context novelty scores."},
    {"tod_w", "Weight of the (hour of day, weekday/weekend) pairing in the context channel "
              "(0: off)."},
    {"rec_w", "Record gate: share of the decaying record of past scores a score must reach "
              "to pass undamped (0: off)."},
    {"rec_tau", "Values over which the record of past scores decays by 1/e."},
    {"rec_pow", "Below the record gate's bar, the score is multiplied by (score / bar)^rec_pow."},
    {"sup_mode", "1: during the quiet period, a score above the alarm's own still passes."},
    {"digits", "Tail probability 10^-digits that a channel scores 1 (the log scale of the "
               "channels)."},
    {"sp_w", "Score of a value beyond every value seen so far (new-extreme channel; 0: off)."},
    {"sp_tol", "Margin, relative to the range, by which a new extreme must pass the values "
               "seen."},
    {"sp_grade", "0: a new extreme scores sp_w outright; > 0: (excess / sp_tol)^sp_grade x "
                 "sp_w, capped."},
    {"cap", "Channel scores are capped here before the record gate (the output at 1)."},
    {"art_w", "Weight of the shape channel (fuzzy ART over the recent shape; 0: off)."},
    {"art_dim", "Block means in the shape channel's input, 1..32."},
    {"art_ds", "Values averaged per block of the shape channel."},
    {"art_cats", "Most categories of the shape channel (2 art_dim doubles each), 1..1024."},
    {"art_rho", "Vigilance of the shape channel: the match a shape needs to join a category."},
    {"art_beta", "Learning rate of the shape channel's categories, in (0, 1]."},
    {"ctx_forget", "Values after which a context pairing not seen since is news again (two "
                   "generations of seen bits; 0: never forget)."},
    {"sp_pos", "A new extreme's score is multiplied by its position in the range (1 at the "
               "far edge) to this power: with a known range, an extreme at the range's edge "
               "is the rarest (0: off)."},
    {"rec_start", "Values seen before the record gate's record of scores starts learning (the "
                  "first scores of a series come from unsettled statistics)."},
    {NULL, NULL},
};

#define DEFAULTS_MAX 96
static char default_text[DEFAULTS_MAX][32];
static int n_default_text;

/* %.15g reads back as the same double for any value written with at most
 * 15 significant digits (every tuned literal); %.17g always does. */
static void set_default(eddy_option *table, const char *name, double v)
{
    for (eddy_option *o = table; o->name; o++) {
        if (strcmp(o->name, name) != 0 || n_default_text == DEFAULTS_MAX)
            continue;
        char *buf = default_text[n_default_text++];
        if (o->type == EDDY_OPT_BOOL)
            snprintf(buf, sizeof default_text[0], "%s", v != 0 ? "true" : "false");
        else {
            snprintf(buf, sizeof default_text[0], "%.15g", v);
            if (strtod(buf, NULL) != v)
                snprintf(buf, sizeof default_text[0], "%.17g", v);
        }
        o->default_value = buf;
        if (table == eddy_anom_opts_nab_detector) {
            o->description = "Tuning parameter of the NAB detector (lib/anomaly/nab.c).";
            for (int i = 0; nab_knob_text[i][0]; i++)
                if (strcmp(nab_knob_text[i][0], name) == 0)
                    o->description = nab_knob_text[i][1];
        }
    }
}

/* The detectors' defaults live in lib/anomaly, where they are tuned; the
 * tables' default strings are written from them when the program loads, so
 * that `eddy describe`, the operators and the library cannot disagree. */
__attribute__((constructor)) static void table_defaults(void)
{
    eddy_zscore_params z;
    eddy_zscore_defaults(&z);
    set_default(eddy_anom_opts_zscore, "window", z.window);
    eddy_robust_zscore_params rz;
    eddy_robust_zscore_defaults(&rz);
    set_default(eddy_anom_opts_robust_zscore, "window", rz.window);
    eddy_ewma_params e;
    eddy_ewma_defaults(&e);
    set_default(eddy_anom_opts_ewma_chart, "lambda", e.lambda);
    set_default(eddy_anom_opts_ewma_chart, "L", e.L);
    set_default(eddy_anom_opts_ewma_chart, "warmup", e.warmup);
    set_default(eddy_anom_opts_ewma_chart, "lambda_var", e.lambda_var);
    for (int d = 0; d < 2; d++) {
        eddy_spot_params sp;
        eddy_option *t = d ? eddy_anom_opts_dspot : eddy_anom_opts_spot;
        if (d)
            eddy_dspot_defaults(&sp);
        else
            eddy_spot_defaults(&sp);
        set_default(t, "n_init", sp.n_init);
        set_default(t, "level", sp.level);
        set_default(t, "q", sp.q);
        set_default(t, "depth", sp.depth);
        set_default(t, "max_peaks", sp.max_peaks);
        set_default(t, "n_points", sp.n_points);
        set_default(t, "refit_every", sp.refit_every);
        set_default(t, "two_sided", sp.two_sided);
    }
    eddy_hst_params hp;
    eddy_hst_defaults(&hp, 1);
    set_default(eddy_anom_opts_half_space_trees, "n_trees", hp.n_trees);
    set_default(eddy_anom_opts_half_space_trees, "window_size", hp.window_size);
    set_default(eddy_anom_opts_half_space_trees, "padding", hp.padding);
    set_default(eddy_anom_opts_half_space_trees, "margin", hp.margin);
    set_default(eddy_anom_opts_half_space_trees, "seed", (double)hp.seed);
    eddy_nab_params np;
    eddy_nab_defaults(&np);
#define NAB_DEF(f) set_default(eddy_anom_opts_nab_detector, #f, np.f)
    EDDY_NAB_KNOBS(NAB_DEF);
#undef NAB_DEF
}

/* ---- constructors --------------------------------------------------------- */

static uint32_t u32(const aop *op, const char *name)
{
    return (uint32_t)op->h->opt_int(op->opts, name);
}

static int mk_zscore(const aop *op, adet *d, char *err, size_t n)
{
    eddy_zscore_params p;
    eddy_zscore_defaults(&p);
    p.window = u32(op, "window");
    return eddy_zscore_new(&p, &d->a, err, n);
}

static int mk_robust(const aop *op, adet *d, char *err, size_t n)
{
    eddy_robust_zscore_params p;
    eddy_robust_zscore_defaults(&p);
    p.window = u32(op, "window");
    return eddy_robust_zscore_new(&p, &d->a, err, n);
}

static int mk_ewma(const aop *op, adet *d, char *err, size_t n)
{
    eddy_ewma_params p;
    eddy_ewma_defaults(&p);
    p.lambda = op->h->opt_double(op->opts, "lambda");
    p.L = op->h->opt_double(op->opts, "L");
    p.warmup = u32(op, "warmup");
    p.lambda_var = op->h->opt_double(op->opts, "lambda_var");
    return eddy_ewma_new(&p, &d->a, err, n);
}

static int mk_spot_common(const aop *op, adet *d, int dspot, char *err, size_t n)
{
    const eddy_host *h = op->h;
    eddy_spot_params p;
    if (dspot)
        eddy_dspot_defaults(&p);
    else
        eddy_spot_defaults(&p);
    p.n_init = u32(op, "n_init");
    p.level = h->opt_double(op->opts, "level");
    p.q = h->opt_double(op->opts, "q");
    p.depth = u32(op, "depth");
    p.max_peaks = u32(op, "max_peaks");
    p.n_points = u32(op, "n_points");
    p.refit_every = u32(op, "refit_every");
    p.two_sided = h->opt_bool(op->opts, "two_sided");
    return eddy_spot_new(&p, &d->a, err, n);
}

static int mk_spot(const aop *op, adet *d, char *err, size_t n)
{
    return mk_spot_common(op, d, 0, err, n);
}

static int mk_dspot(const aop *op, adet *d, char *err, size_t n)
{
    return mk_spot_common(op, d, 1, err, n);
}

static int mk_nab(const aop *op, adet *d, char *err, size_t n)
{
    const eddy_host *h = op->h;
    eddy_nab_params p;
    eddy_nab_defaults(&p);
#define NAB_SET(f) (p.f = h->opt_double(op->opts, #f))
    EDDY_NAB_KNOBS(NAB_SET);
#undef NAB_SET
    uint32_t nr = h->opt_count(op->opts, "expected_range");
    if (nr) {
        const char *lo = nr == 2 ? h->opt_item(op->opts, "expected_range", 0) : NULL;
        const char *hi = nr == 2 ? h->opt_item(op->opts, "expected_range", 1) : NULL;
        char *e1 = NULL, *e2 = NULL;
        p.range_lo = lo ? strtod(lo, &e1) : NAN;
        p.range_hi = hi ? strtod(hi, &e2) : NAN;
        if (!lo || !hi || e1 == lo || *e1 || e2 == hi || *e2 || !isfinite(p.range_lo) ||
            !isfinite(p.range_hi) || !(p.range_lo < p.range_hi)) {
            snprintf(err, n, "expected_range: give [min, max], two finite numbers with "
                     "min < max");
            return -1;
        }
    }
    return eddy_nab_new(&p, &d->a, err, n);
}

static int mk_hst(const aop *op, adet *d, char *err, size_t n)
{
    const eddy_host *h = op->h;
    eddy_hst_params p;
    eddy_hst_defaults(&p, op->dim);
    p.n_trees = u32(op, "n_trees");
    if (u32(op, "height") > 0)
        p.height = u32(op, "height");
    p.window_size = u32(op, "window_size");
    p.padding = h->opt_double(op->opts, "padding");
    p.margin = h->opt_double(op->opts, "margin");
    p.seed = (uint64_t)h->opt_int(op->opts, "seed");
    if (op->has_limits) {
        p.limits_lo = op->lo;
        p.limits_hi = op->hi;
    }
    return eddy_hst_new(&p, &d->hst, err, n);
}

const anom_kind anom_kinds[] = {
    {"zscore", "z", 0, eddy_anom_opts_zscore, mk_zscore},
    {"robust_zscore", "robust_z", 0, eddy_anom_opts_robust_zscore, mk_robust},
    {"ewma_chart", "ewma_sigmas", 0, eddy_anom_opts_ewma_chart, mk_ewma},
    {"spot", "excess_over_zq", 0, eddy_anom_opts_spot, mk_spot},
    {"dspot", "excess_over_zq", 0, eddy_anom_opts_dspot, mk_dspot},
    {"nab_detector", "anomaly_score", 0, eddy_anom_opts_nab_detector, mk_nab},
    {"half_space_trees", "anomaly_score", 1, eddy_anom_opts_half_space_trees, mk_hst},
    {NULL, NULL, 0, NULL, NULL},
};
