/* Option tables of the concept-drift operators, one per detector, with
 * river's defaults and each parameter's valid range, and the constructors
 * that turn parsed options into a detector. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "operators/drift/concept.h"
#include "lib/drift/drift.h"

#define COMMON_OPTS(resolve_default)                                                        \
    {"field", EDDY_OPT_FIELD, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_REQUIRED,                  \
     "The numeric field each update reads (a feature, a model score, or a 0/1 error; "      \
     "true/false count as 1/0). Records without it pass through untouched (counted)."},     \
        {"key", EDDY_OPT_LIST, NULL, EDDY_NO_RANGE, NULL, 0,                                \
         "Fields whose values select a detector of its own (per user, per model...). "      \
         "Unset: one detector for the whole stream of each partition."},                    \
        {"signal_field", EDDY_OPT_STRING, "drift_signal", EDDY_NO_RANGE, NULL, 0,           \
         "Field appended to every record: none, warning or change (change wins on an "      \
         "update that also warns; see warning_field) (\"\" = do not add)."},              \
        {"warning_field", EDDY_OPT_STRING, "", EDDY_NO_RANGE, NULL, 0,                      \
         "Field appended with river's warning flag after the update (true/false): true "    \
         "throughout the warning zone, and also on an update that signals a change from "   \
         "it (eddm; two-sided hddm_a/hddm_w), where signal_field says change. Always "      \
         "false for adwin, page_hinkley, kswin and cusum (\"\" = do not add)."},            \
        {"index_field", EDDY_OPT_STRING, "", EDDY_NO_RANGE, NULL, 0,                        \
         "Field appended with the 0-based update index of the record's key (\"\" = none)."}, \
        {"alert_on", EDDY_OPT_ENUM, "change", EDDY_NO_RANGE, "change|warning", 0,           \
         "What fires an alert: change (severity critical) or also warning (severity "       \
         "warning, while the detector is in its warning zone)."},                           \
        {"quiet_period", EDDY_OPT_INT, resolve_default, 1, 1e9, NULL, 0,                    \
         "Updates of a key without any signal that count as one clear check; a firing "     \
         "alert resolves after the step's alerts.resolve_after clear checks."},             \
        {"max_keys", EDDY_OPT_INT, "100000", 1, 1e8, NULL, 0,                               \
         "Keys tracked per partition; records of further keys pass through unmonitored "    \
         "(counted in eddy_drift_untracked_records_total)."}

#define END_OPTS {NULL, 0, NULL, EDDY_NO_RANGE, NULL, 0, NULL}

const eddy_option eddy_concept_opts_page_hinkley[] = {
    COMMON_OPTS("1000"),
    {"min_instances", EDDY_OPT_INT, "30", 1, 1e9, NULL, 0,
     "Updates before the test can signal (river: min_instances)."},
    {"delta", EDDY_OPT_DOUBLE, "0.005", 0, 1e300, NULL, 0,
     "Magnitude of change tolerated (river: delta)."},
    {"threshold", EDDY_OPT_DOUBLE, "50", 0, 1e300, NULL, 0,
     "Cumulative deviation that signals a change (river: threshold)."},
    {"alpha", EDDY_OPT_DOUBLE, "0.9999", 0, 1, NULL, 0,
     "Forgetting factor of the cumulative sums (river: alpha = 1 - 0.0001)."},
    {"mode", EDDY_OPT_ENUM, "both", EDDY_NO_RANGE, "up|down|both", 0,
     "Detect increases (up), decreases (down) or both."},
    END_OPTS,
};

const eddy_option eddy_concept_opts_ddm[] = {
    COMMON_OPTS("1000"),
    {"warm_start", EDDY_OPT_INT, "30", 1, 1e9, NULL, 0, "Updates before signalling (river)."},
    {"warning_threshold", EDDY_OPT_DOUBLE, "2.0", 0, 1e300, NULL, 0,
     "Standard deviations above the best error rate for a warning."},
    {"drift_threshold", EDDY_OPT_DOUBLE, "3.0", 0, 1e300, NULL, 0,
     "Standard deviations above the best error rate for a change."},
    END_OPTS,
};

const eddy_option eddy_concept_opts_eddm[] = {
    COMMON_OPTS("1000"),
    {"warm_start", EDDY_OPT_INT, "30", 1, 1e9, NULL, 0, "Errors seen before signalling."},
    {"alpha", EDDY_OPT_DOUBLE, "0.95", 0, 1, NULL, 0,
     "Warning when the distance ratio falls below alpha (must be >= beta)."},
    {"beta", EDDY_OPT_DOUBLE, "0.9", 0, 1, NULL, 0, "Change when the ratio falls below beta."},
    END_OPTS,
};

const eddy_option eddy_concept_opts_hddm_a[] = {
    COMMON_OPTS("1000"),
    {"drift_confidence", EDDY_OPT_DOUBLE, "0.001", 1e-300, 1, NULL, 0,
     "Confidence level of the change test."},
    {"warning_confidence", EDDY_OPT_DOUBLE, "0.005", 1e-300, 1, NULL, 0,
     "Confidence level of the warning test."},
    {"two_sided", EDDY_OPT_BOOL, "false", EDDY_NO_RANGE, NULL, 0,
     "Also detect decreases of the mean (default: increases only)."},
    END_OPTS,
};

const eddy_option eddy_concept_opts_hddm_w[] = {
    COMMON_OPTS("1000"),
    {"drift_confidence", EDDY_OPT_DOUBLE, "0.001", 1e-300, 1, NULL, 0,
     "Confidence level of the change test."},
    {"warning_confidence", EDDY_OPT_DOUBLE, "0.005", 1e-300, 1, NULL, 0,
     "Confidence level of the warning test."},
    {"lambda", EDDY_OPT_DOUBLE, "0.05", 1e-300, 1, NULL, 0,
     "Weight of the newest value in the EWMA."},
    {"two_sided", EDDY_OPT_BOOL, "false", EDDY_NO_RANGE, NULL, 0,
     "Also detect decreases of the mean (default: increases only)."},
    END_OPTS,
};

const eddy_option eddy_concept_opts_adwin[] = {
    COMMON_OPTS("1000"),
    {"delta", EDDY_OPT_DOUBLE, "0.002", 1e-300, 1, NULL, 0,
     "Confidence of the cut test: smaller = fewer, surer changes."},
    {"clock", EDDY_OPT_INT, "32", 1, 1e9, NULL, 0, "Test for a cut every `clock` updates."},
    {"max_buckets", EDDY_OPT_INT, "5", 2, 1000, NULL, 0, "Buckets kept per size class."},
    {"min_window_length", EDDY_OPT_INT, "5", 1, 1e9, NULL, 0,
     "Least length of each sub-window compared."},
    {"grace_period", EDDY_OPT_INT, "10", 1, 1e9, NULL, 0, "Updates before the first test."},
    END_OPTS,
};

const eddy_option eddy_concept_opts_kswin[] = {
    COMMON_OPTS("1000"),
    {"alpha", EDDY_OPT_DOUBLE, "0.005", 1e-300, 1, NULL, 0,
     "Significance level of the Kolmogorov-Smirnov test."},
    {"window_size", EDDY_OPT_INT, "100", 2, 1e7, NULL, 0, "Values kept in the sliding window."},
    {"stat_size", EDDY_OPT_INT, "30", 1, 1e7, NULL, 0,
     "Size of the newest and of the sampled reference part (< window_size, <= half)."},
    {"seed", EDDY_OPT_INT, "0", 0, 9.2e18, NULL, 0, "Seed of the reference sampling, drawn as Python's random.Random(seed) "
     "draws: the same seed as river's KSWIN(seed=...) gives river's samples and changes."},
    END_OPTS,
};

const eddy_option eddy_concept_opts_cusum[] = {
    COMMON_OPTS("1000"),
    {"warm_start", EDDY_OPT_INT, "30", 2, 1e9, NULL, 0,
     "Values that estimate the target mean and standard deviation after each start."},
    {"k", EDDY_OPT_DOUBLE, "0.5", 0, 1e300, NULL, 0,
     "Allowance in standard deviations (0.5 tunes for a one-sigma shift)."},
    {"h", EDDY_OPT_DOUBLE, "5.0", 1e-300, 1e300, NULL, 0,
     "Decision interval in standard deviations."},
    END_OPTS,
};

static int mk_ph(const eddy_host *h, const eddy_opts *o, eddy_drift **d, double *thr, char *err,
                 size_t n)
{
    eddy_page_hinkley_params p;
    eddy_page_hinkley_defaults(&p);
    p.min_instances = (uint32_t)h->opt_int(o, "min_instances");
    p.delta = h->opt_double(o, "delta");
    p.threshold = h->opt_double(o, "threshold");
    p.alpha = h->opt_double(o, "alpha");
    const char *m = h->opt_str(o, "mode");
    p.mode = m && strcmp(m, "up") == 0 ? EDDY_PH_UP : m && strcmp(m, "down") == 0 ? EDDY_PH_DOWN
                                                                                 : EDDY_PH_BOTH;
    *thr = p.threshold;
    return eddy_page_hinkley_new(&p, d, err, n);
}

static int mk_ddm(const eddy_host *h, const eddy_opts *o, eddy_drift **d, double *thr, char *err,
                  size_t n)
{
    eddy_ddm_params p;
    eddy_ddm_defaults(&p);
    p.warm_start = (uint32_t)h->opt_int(o, "warm_start");
    p.warning_threshold = h->opt_double(o, "warning_threshold");
    p.drift_threshold = h->opt_double(o, "drift_threshold");
    *thr = p.drift_threshold;
    return eddy_ddm_new(&p, d, err, n);
}

static int mk_eddm(const eddy_host *h, const eddy_opts *o, eddy_drift **d, double *thr, char *err,
                   size_t n)
{
    eddy_eddm_params p;
    eddy_eddm_defaults(&p);
    p.warm_start = (uint32_t)h->opt_int(o, "warm_start");
    p.alpha = h->opt_double(o, "alpha");
    p.beta = h->opt_double(o, "beta");
    *thr = p.beta;
    return eddy_eddm_new(&p, d, err, n);
}

static int mk_hddm_a(const eddy_host *h, const eddy_opts *o, eddy_drift **d, double *thr,
                     char *err, size_t n)
{
    eddy_hddm_a_params p;
    eddy_hddm_a_defaults(&p);
    p.drift_confidence = h->opt_double(o, "drift_confidence");
    p.warning_confidence = h->opt_double(o, "warning_confidence");
    p.two_sided = h->opt_bool(o, "two_sided");
    *thr = p.drift_confidence;
    return eddy_hddm_a_new(&p, d, err, n);
}

static int mk_hddm_w(const eddy_host *h, const eddy_opts *o, eddy_drift **d, double *thr,
                     char *err, size_t n)
{
    eddy_hddm_w_params p;
    eddy_hddm_w_defaults(&p);
    p.drift_confidence = h->opt_double(o, "drift_confidence");
    p.warning_confidence = h->opt_double(o, "warning_confidence");
    p.lambda = h->opt_double(o, "lambda");
    p.two_sided = h->opt_bool(o, "two_sided");
    *thr = p.drift_confidence;
    return eddy_hddm_w_new(&p, d, err, n);
}

static int mk_adwin(const eddy_host *h, const eddy_opts *o, eddy_drift **d, double *thr,
                    char *err, size_t n)
{
    eddy_adwin_params p;
    eddy_adwin_defaults(&p);
    p.delta = h->opt_double(o, "delta");
    p.clock = (uint32_t)h->opt_int(o, "clock");
    p.max_buckets = (uint32_t)h->opt_int(o, "max_buckets");
    p.min_window_length = (uint32_t)h->opt_int(o, "min_window_length");
    p.grace_period = (uint32_t)h->opt_int(o, "grace_period");
    *thr = p.delta;
    return eddy_adwin_new(&p, d, err, n);
}

static int mk_kswin(const eddy_host *h, const eddy_opts *o, eddy_drift **d, double *thr,
                    char *err, size_t n)
{
    eddy_kswin_params p;
    eddy_kswin_defaults(&p);
    p.alpha = h->opt_double(o, "alpha");
    p.window_size = (uint32_t)h->opt_int(o, "window_size");
    p.stat_size = (uint32_t)h->opt_int(o, "stat_size");
    p.seed = (uint64_t)h->opt_int(o, "seed");
    *thr = p.alpha;
    return eddy_kswin_new(&p, d, err, n);
}

static int mk_cusum(const eddy_host *h, const eddy_opts *o, eddy_drift **d, double *thr,
                    char *err, size_t n)
{
    eddy_cusum_params p;
    eddy_cusum_defaults(&p);
    p.warm_start = (uint32_t)h->opt_int(o, "warm_start");
    p.k = h->opt_double(o, "k");
    p.h = h->opt_double(o, "h");
    *thr = p.h;
    return eddy_cusum_new(&p, d, err, n);
}

const concept_kind concept_kinds[] = {
    {"page_hinkley", "cumulative_deviation", "threshold", 0, eddy_concept_opts_page_hinkley, mk_ph},
    {"ddm", "error_rate_plus_std", "drift_threshold", 0, eddy_concept_opts_ddm, mk_ddm},
    {"eddm", "distance_ratio", "beta", 1, eddy_concept_opts_eddm, mk_eddm},
    {"hddm_a", "mean", "drift_confidence", 0, eddy_concept_opts_hddm_a, mk_hddm_a},
    {"hddm_w", "ewma", "drift_confidence", 0, eddy_concept_opts_hddm_w, mk_hddm_w},
    {"adwin", "window_mean", "delta", 0, eddy_concept_opts_adwin, mk_adwin},
    {"kswin", "ks_pvalue", "alpha", 1, eddy_concept_opts_kswin, mk_kswin},
    {"cusum", "cusum", "h", 0, eddy_concept_opts_cusum, mk_cusum},
    {NULL, NULL, NULL, 0, NULL, NULL},
};
