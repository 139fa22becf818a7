#include "operators/op_registry.h"

#include "operators/basic/basic.h"
#include "operators/window/window.h"
#include "operators/drift/concept.h"
#include "operators/drift/dist.h"
#include "operators/anomaly/anomaly_op.h"

/* Built-ins go through the same descriptor checks as plugins (plugin.c). */
const eddy_op_descriptor *const eddy_builtin_operators[] = {
    &eddy_op_filter,
    &eddy_op_project,
    &eddy_op_window,
    &eddy_op_adwin,
    &eddy_op_page_hinkley,
    &eddy_op_kswin,
    &eddy_op_ddm,
    &eddy_op_eddm,
    &eddy_op_hddm_a,
    &eddy_op_hddm_w,
    &eddy_op_cusum,
    &eddy_op_distribution_drift,
    &eddy_op_zscore,
    &eddy_op_robust_zscore,
    &eddy_op_ewma_chart,
    &eddy_op_spot,
    &eddy_op_dspot,
    &eddy_op_nab_detector,
    &eddy_op_half_space_trees,
    &eddy_op_ensemble,
    NULL,
};
