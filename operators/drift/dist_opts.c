/* Options of distribution_drift. Defaults follow common practice in
 * model monitoring: KS p < 0.05, PSI >= 0.2, JS distance >= 0.1,
 * normalised Wasserstein >= 0.1, chi-square p < 0.05, ten quantile bins of
 * the reference with 1e-4 smoothing of empty bins, dataset drift when half
 * of the features drifted. */
#include "operators/drift/dist.h"

const eddy_option eddy_dist_options[] = {
    {"fields", EDDY_OPT_LIST, NULL, EDDY_NO_RANGE, NULL, 0,
     "Numeric features to compare (PSI, KS, JS, Wasserstein)."},
    {"categorical", EDDY_OPT_LIST, NULL, EDDY_NO_RANGE, NULL, 0,
     "Categorical features to compare (chi-square test of homogeneity)."},
    {"statistics", EDDY_OPT_LIST, NULL, EDDY_NO_RANGE, NULL, 0,
     "Statistics computed for numeric features, any of psi, ks, js, wasserstein "
     "(default: all four)."},
    {"drift_when", EDDY_OPT_ENUM, "any", EDDY_NO_RANGE, "any|all", 0,
     "A numeric feature drifted when any (or all) of its statistics is beyond its threshold."},
    {"psi_threshold", EDDY_OPT_DOUBLE, "0.2", 0, 1e300, NULL, 0,
     "PSI at or above which a feature drifted (0.1-0.2 is usually read as moderate)."},
    {"ks_pvalue", EDDY_OPT_DOUBLE, "0.05", 0, 1, NULL, 0,
     "Two-sample Kolmogorov-Smirnov p-value below which a feature drifted."},
    {"js_threshold", EDDY_OPT_DOUBLE, "0.1", 0, 1, NULL, 0,
     "Jensen-Shannon distance (base 2, in [0,1]) at or above which a feature drifted."},
    {"wasserstein_threshold", EDDY_OPT_DOUBLE, "0.1", 0, 1e300, NULL, 0,
     "Wasserstein distance divided by the reference's standard deviation at or above "
     "which a feature drifted."},
    {"chi2_pvalue", EDDY_OPT_DOUBLE, "0.05", 0, 1, NULL, 0,
     "Chi-square p-value below which a categorical feature drifted."},
    {"dataset_share", EDDY_OPT_DOUBLE, "0.5", 0, 1, NULL, 0,
     "Share of drifted features at or above which the dataset drifted (dataset-level "
     "alert, feature \"\", for a step with two features or more); 0 = no dataset-level "
     "check."},
    {"reference", EDDY_OPT_ENUM, "first_n", EDDY_NO_RANGE,
     "first_n|first_period|lagged|file|snapshot", 0,
     "Where the reference comes from: the first reference_size records, the first "
     "reference_period of event time, the window `lag` windows back, a baseline file, or a "
     "snapshot requested through the admin API (POST "
     "/v1/pipelines/{pipeline}/steps/{step}/reference; also replaces the reference in the "
     "other modes)."},
    {"reference_size", EDDY_OPT_INT, "1000", 1, 1e12, NULL, 0,
     "Records in the reference (reference: first_n)."},
    {"reference_period", EDDY_OPT_DURATION, "1h", 1, 3.2e12, NULL, 0,
     "Event time covered by the reference (reference: first_period)."},
    {"lag", EDDY_OPT_INT, "1", 1, 64, NULL, 0,
     "Windows between the reference and the current window (reference: lagged)."},
    {"reference_file", EDDY_OPT_STRING, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_PATH,
     "Baseline file (reference: file), read once at start."},
    {"reference_format", EDDY_OPT_ENUM, "json", EDDY_NO_RANGE, "json|msgpack|avro|csv", 0,
     "Format of reference_file (Avro: an object container file)."},
    {"window_size", EDDY_OPT_INT, "1000", 1, 1e12, NULL, 0,
     "Records per current window; a check runs when a window closes."},
    {"window_period", EDDY_OPT_DURATION, "0s", 0, 3.2e12, NULL, 0,
     "Event-time length of the current window (tumbling, aligned to the epoch); when set it "
     "replaces window_size, and windows close as the watermark passes their end."},
    {"min_samples", EDDY_OPT_INT, "30", 1, 1e9, NULL, 0,
     "Values needed in both the reference and the current window for a feature to be "
     "checked; a last partial window at the end of a bounded input is checked when it has "
     "that many records."},
    {"sample_size", EDDY_OPT_INT, "2000", 10, 1e7, NULL, 0,
     "Reservoir size of each numeric sample (reference, current, lagged): memory per "
     "feature is about 16 bytes x sample_size x (3 + lag)."},
    {"categories", EDDY_OPT_INT, "100", 2, 1e6, NULL, 0,
     "Distinct categories counted exactly per categorical feature; others share one "
     "bucket."},
    {"bins", EDDY_OPT_INT, "10", 1, 1000, NULL, 0,
     "Quantile bins of the reference for PSI and JS."},
    {"smoothing", EDDY_OPT_DOUBLE, "0.0001", 0, 0.5, NULL, 0,
     "Bin proportions below this are raised to it (PSI and JS of empty bins)."},
    {"seed", EDDY_OPT_INT, "0", 0, 9.2e18, NULL, 0, "Seed of the reservoir samplers."},
    {"report", EDDY_OPT_BOOL, "false", EDDY_NO_RANGE, NULL, 0,
     "Send one record per feature and check (statistics, thresholds, drifted) to the "
     "step's `checks` side output."},
    {NULL, 0, NULL, EDDY_NO_RANGE, NULL, 0, NULL},
};
