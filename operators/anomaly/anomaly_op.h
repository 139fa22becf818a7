/* Anomaly operators: one operator per detector of lib/anomaly (zscore,
 * robust_zscore, ewma_chart, spot, dspot, nab_detector, half_space_trees)
 * sharing one implementation (anomaly_op.c, snapshots in anomaly_snap.c)
 * and differing in their option tables and constructors (anomaly_opts.c);
 * and `ensemble`, which combines score fields already on the record. */
#ifndef EDDY_OPS_ANOMALY_OP_H
#define EDDY_OPS_ANOMALY_OP_H
#include <stddef.h>
#include <stdint.h>

#include "include/eddy/operator.h"
#include "lib/anomaly/anomaly.h"
#include "operators/common/keymap.h"

#define ANOM_MAX_KEY_FIELDS 8
#define ANOM_MAX_FEATURES 64

/* One detector: univariate (a) or Half-Space Trees (hst). */
typedef struct adet {
    eddy_anom *a;
    eddy_hst *hst;
} adet;

/* Per-key state. */
typedef struct akey {
    adet d;
    uint64_t n;         /* values scored */
    uint64_t last_flag; /* index of the last flagged value */
    int64_t first_ts;   /* event time of the first value */
    int64_t last_ts;    /* event time of the latest value */
    int alerted;        /* a breach was reported: send clear checks */
} akey;

struct aop;

typedef struct anom_kind {
    const char *name;      /* operator name, and the detector in alerts */
    const char *statistic; /* what eddy_anom_statistic() measures */
    int multivariate;      /* reads `fields` (Half-Space Trees) */
    const eddy_option *options;
    /* Builds one detector from the operator's options. 0 or <0 with err. */
    int (*make)(const struct aop *op, adet *d, char *err, size_t errlen);
} anom_kind;

/* Alert bookkeeping shared by the detectors and the ensemble. */
typedef struct anom_alerting {
    const char *detector, *feature, *statistic;
    double threshold;
    uint64_t quiet;
    int severity;
} anom_alerting;

typedef struct aop {
    const eddy_host *h;
    eddy_ctx *ctx;
    const anom_kind *kind;
    const eddy_opts *opts;
    eddy_sym field[ANOM_MAX_FEATURES];
    uint32_t dim;
    double lo[ANOM_MAX_FEATURES], hi[ANOM_MAX_FEATURES];
    int has_limits;
    eddy_sym score_field, flag_field;
    char score_name[128];
    char feature[512]; /* the field, or the fields joined by ',' */
    eddy_sym keys[ANOM_MAX_KEY_FIELDS];
    uint32_t nkeys;
    uint32_t max_keys;
    uint64_t refractory; /* values held at 0 after a flag (0: off) */
    anom_alerting al;
    eddy_keymap *map;
    akey global;
    eddy_metric *m_score, *m_flags, *m_skipped, *m_untracked;
    int warned_untracked;
    int durable; /* state_loaded ran: changed keys are tracked (anomaly_state.c) */
    int gdirty;  /* unkeyed: the global state changed since the last flush */
    int err;     /* a change could not be tracked: the next flush fails */
} aop;

extern const anom_kind anom_kinds[]; /* NULL-name terminated */

/* Not const: the detector parameters' defaults are written from the
 * library's when the program loads (anomaly_opts.c). */
extern eddy_option eddy_anom_opts_zscore[], eddy_anom_opts_robust_zscore[],
    eddy_anom_opts_ewma_chart[], eddy_anom_opts_spot[], eddy_anom_opts_dspot[],
    eddy_anom_opts_half_space_trees[], eddy_anom_opts_nab_detector[];
extern const eddy_option eddy_anom_opts_ensemble[];

/* anomaly_op.c: also used by the ensemble. */
eddy_sym anom_opt_sym(const eddy_host *h, const eddy_opts *o, const char *name);
/* Key fields from the `key` option; 0 or -1 with err. */
int anom_keys(const eddy_host *h, const eddy_opts *o, eddy_sym *keys, uint32_t *n, char *err,
              size_t errlen);
/* "<step>_score", or "<op>_score" for an unnamed step. */
void anom_default_score_name(const eddy_host *h, eddy_ctx *ctx, const char *op, char *out,
                             size_t n);
/* Reports the check of one scored value: breach when flagged, otherwise a
 * clear check every `quiet` unflagged values after a breach. k->n counts
 * the value already. <0 on error. */
int anom_alert_check(const eddy_host *h, eddy_ctx *ctx, const anom_alerting *al, akey *k,
                     const char *key, int flagged, double score, int64_t ts);
void akey_release(void *v);

/* anomaly_snap.c */
int anom_snapshot(void *state, eddy_ctx *ctx, void **data, size_t *len);
int anom_restore(void *state, eddy_ctx *ctx, int version, const void *data, size_t len);
struct eddy_buf;
struct eddy_rd;
int anom_put_key_state(struct eddy_buf *b, const akey *k);
/* NULL, or why the bytes do not make a key's state (k: a zeroed entry). */
const char *anom_get_key_state(aop *op, struct eddy_rd *r, akey *k);

/* anomaly_state.c: durable per-key state (ABI 1.2). */
void anom_mark(aop *op, akey *k);
int anom_state_flush(void *state, eddy_ctx *ctx);
int anom_state_load(void *state, eddy_ctx *ctx, const void *key, size_t klen, int version,
                    const void *data, size_t len);
int anom_state_loaded(void *state, eddy_ctx *ctx, int64_t watermark);

extern const eddy_op_descriptor eddy_op_zscore, eddy_op_robust_zscore, eddy_op_ewma_chart,
    eddy_op_spot, eddy_op_dspot, eddy_op_nab_detector, eddy_op_half_space_trees,
    eddy_op_ensemble;

#endif
