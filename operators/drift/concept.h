/* Concept-drift operators: one operator per detector of lib/drift
 * (adwin, page_hinkley, kswin, ddm, eddm, hddm_a, hddm_w, cusum), sharing
 * one implementation (concept.c) and differing in their option tables and
 * constructors (concept_opts.c). */
#ifndef EDDY_OPS_CONCEPT_H
#define EDDY_OPS_CONCEPT_H
#include <stddef.h>

#include "include/eddy/operator.h"
#include "lib/drift/drift.h"

typedef struct concept_kind {
    const char *name;      /* operator and detector name */
    const char *statistic; /* what eddy_drift_statistic() measures */
    const char *threshold_name; /* the parameter reported as the threshold */
    int below;             /* 1: a change makes the statistic small (p-value, ratio) */
    const eddy_option *options;
    /* Builds a detector from options; *threshold: the statistic's limit,
     * reported in alerts. 0 or <0 with err. */
    int (*make)(const eddy_host *h, const eddy_opts *o, eddy_drift **d, double *threshold,
                char *err, size_t errlen);
} concept_kind;

extern const concept_kind concept_kinds[]; /* NULL-name terminated */

extern const eddy_option eddy_concept_opts_page_hinkley[], eddy_concept_opts_ddm[],
    eddy_concept_opts_eddm[], eddy_concept_opts_hddm_a[], eddy_concept_opts_hddm_w[],
    eddy_concept_opts_adwin[], eddy_concept_opts_kswin[], eddy_concept_opts_cusum[];

extern const eddy_op_descriptor eddy_op_page_hinkley, eddy_op_ddm, eddy_op_eddm, eddy_op_hddm_a,
    eddy_op_hddm_w, eddy_op_adwin, eddy_op_kswin, eddy_op_cusum;

#endif
