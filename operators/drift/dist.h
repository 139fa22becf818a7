/* The distribution_drift operator: compares, per feature, a current window
 * of the stream with a reference sample (PSI, KS, JS, Wasserstein for
 * numeric fields; chi-square for categorical ones), decides which features
 * drifted, and reports per-feature and dataset-level alerts.
 *
 * Memory is bounded: every sample is a reservoir of `sample_size` values
 * and every categorical counter holds `categories` categories; windows are
 * swapped by pointer, never copied. Per partition, per feature: reference,
 * current, last closed window and `lag` lagged windows. */
#ifndef EDDY_OPS_DIST_H
#define EDDY_OPS_DIST_H
#include <stdint.h>

#include "include/eddy/operator.h"
#include "lib/drift/stats.h"

extern const eddy_op_descriptor eddy_op_distribution_drift;
extern const eddy_option eddy_dist_options[];

enum { ST_PSI, ST_KS, ST_JS, ST_WASSERSTEIN, ST_N };
enum { REF_FIRST_N, REF_FIRST_PERIOD, REF_LAGGED, REF_FILE, REF_SNAPSHOT };

/* One window's data for one feature. */
typedef struct dwin {
    eddy_sample *s;   /* numeric */
    eddy_catcount *c; /* categorical */
} dwin;

/* Bounds of a window (shared by all features). */
typedef struct dbounds {
    int64_t start, end; /* event time of first/last record */
    uint64_t n;         /* records */
} dbounds;

typedef struct dfeat {
    const char *name;
    eddy_sym sym;
    int categorical;
    dwin ref, cur, last;
    dwin *lag; /* ring of `lag` closed windows */
    eddy_metric *gauge[ST_N + 1]; /* by statistic; [ST_N]: chi2_pvalue */
} dfeat;

typedef struct dist {
    const eddy_host *h;
    eddy_ctx *ctx;
    dfeat *f;
    uint32_t nf;
    int stats[ST_N]; /* which statistics to compute */
    double thr[ST_N], chi2_pvalue, dataset_share;
    int all;         /* drift_when: all */
    int ref_mode;
    uint64_t ref_size, window_size, min_samples;
    int64_t ref_period, window_period;
    uint32_t lag, nlag; /* ring size and windows in it */
    uint32_t lag_head;  /* oldest window in the ring */
    dbounds rb, cb, lb, *lagb;
    int have_ref, have_last;
    int64_t first_ts;   /* first record (first_period) */
    int64_t win_end;    /* period windows: end of the current window */
    int take_next;      /* snapshot requested with no closed window yet */
    uint64_t requests;  /* ctx_requests("reference") seen */
    int report;
    eddy_bin_params bp;
    double *scratch_a, *scratch_b; /* categorical alignment */
    size_t scratch_n;
    eddy_metric *m_checks, *m_drifted;
    unsigned dirty; /* D_* bits: what changed since the last state_flush */
} dist;

/* What changed since the last durable commit (dist_state.c writes those
 * records): the reference windows, the current windows, the rest (last and
 * lagged windows, after a window closed or the reference moved). The head
 * record (bounds, flags) goes with any of them. */
enum { D_REF = 1, D_CUR = 2, D_REST = 4, D_HEAD = 8, D_ALL = 15 };

/* dist_state.c: durable state (ABI 1.2). */
int eddy_dist_state_flush(void *state, eddy_ctx *ctx);
int eddy_dist_state_load(void *state, eddy_ctx *ctx, const void *key, size_t klen, int version,
                         const void *data, size_t len);
int eddy_dist_state_loaded(void *state, eddy_ctx *ctx, int64_t watermark);

/* dist_check.c: compares cur with ref for every feature and reports. */
int eddy_dist_check(dist *d, int64_t now_ts);
/* dist_ref.c: loads the reference from a file. */
int eddy_dist_load_file(dist *d, const eddy_opts *o, char *err, size_t errlen);
/* Adds record r's features to window w (of every feature). */
void eddy_dist_add(dist *d, const eddy_record *r, int which);
enum { W_REF, W_CUR };

#endif
