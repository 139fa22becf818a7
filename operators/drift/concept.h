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

#define MAX_KEY_FIELDS 8

struct eddy_keymap;

/* One key's detector and what the operator keeps beside it; all of it is
 * in the key's durable record (concept_state.c). */
typedef struct ckey {
    eddy_drift *d;
    uint64_t n;          /* updates so far */
    uint64_t last_sig;   /* update index of the last signal */
    uint64_t seg_n;      /* updates since the last change */
    int64_t seg_start;   /* event time of the first of them */
    int alerted;         /* a breach was reported: send clear checks */
} ckey;

typedef struct concept {
    const eddy_host *h;
    eddy_ctx *ctx;
    const concept_kind *kind;
    const eddy_opts *opts;
    eddy_sym field, sig_field, warn_field, idx_field;
    const char *feature;
    eddy_sym keys[MAX_KEY_FIELDS];
    uint32_t nkeys;
    int alert_warning;
    uint64_t quiet;
    double threshold;
    struct eddy_keymap *map;
    ckey global;
    eddy_metric *m_stat, *m_warn, *m_change, *m_skipped, *m_untracked;
    int warned_untracked;
    int durable;  /* state_loaded ran: changes are tracked for state_flush */
    int gdirty;   /* unkeyed: the global detector changed since the flush */
    int err;      /* a change could not be tracked: the next flush fails */
} concept;

extern const concept_kind concept_kinds[]; /* NULL-name terminated */

extern const eddy_option eddy_concept_opts_page_hinkley[], eddy_concept_opts_ddm[],
    eddy_concept_opts_eddm[], eddy_concept_opts_hddm_a[], eddy_concept_opts_hddm_w[],
    eddy_concept_opts_adwin[], eddy_concept_opts_kswin[], eddy_concept_opts_cusum[];

/* concept_state.c: durable per-key state (ABI 1.2). */
void concept_mark(concept *c, ckey *k);
int concept_state_flush(void *state, eddy_ctx *ctx);
int concept_state_load(void *state, eddy_ctx *ctx, const void *key, size_t klen, int version,
                       const void *data, size_t len);
int concept_state_loaded(void *state, eddy_ctx *ctx, int64_t watermark);

extern const eddy_op_descriptor eddy_op_page_hinkley, eddy_op_ddm, eddy_op_eddm, eddy_op_hddm_a,
    eddy_op_hddm_w, eddy_op_adwin, eddy_op_kswin, eddy_op_cusum;

#endif
