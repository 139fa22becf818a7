/* Concept-drift detectors: one double per update, each update answers NONE,
 * WARNING or CHANGE. Algorithms and defaults follow the Python library river
 * (drift.PageHinkley, binary.DDM, binary.EDDM, binary.HDDM_A, binary.HDDM_W,
 * ADWIN, KSWIN) so that the same stream yields the same change points.
 *
 * Signals are levels, as river's warning_detected/drift_detected flags are:
 * a detector in its warning zone answers WARNING on every update until it
 * leaves it. After a CHANGE the detector resets itself on its next update,
 * exactly like river, so the update that follows starts a fresh model.
 *
 * The signal folds river's two flags into one value, change winning. river
 * can raise both on one update (EDDM keeps warning_detected set on a change
 * from its warning zone; a two-sided HDDM can warn on one side while the
 * other detects the change), so eddy_drift_flags() answers the two
 * flags themselves, bit for bit as river leaves them after each update.
 *
 * Constructors validate their parameters and answer 0, EDDY_EINVAL (with a
 * message in err) or EDDY_ENOMEM. Updates never allocate. */
#ifndef EDDY_DRIFT_H
#define EDDY_DRIFT_H
#include <stddef.h>
#include <stdint.h>

typedef struct eddy_drift eddy_drift;

typedef enum {
    EDDY_DRIFT_NONE = 0,
    EDDY_DRIFT_WARNING = 1,
    EDDY_DRIFT_CHANGE = 2,
} eddy_drift_signal;

eddy_drift_signal eddy_drift_update(eddy_drift *d, double x);

/* river's flags after the last update (0 before any update and after a
 * reset): WARNING is warning_detected, CHANGE is drift_detected. The bits
 * equal the signal values, so a signal is also a valid flags value. Only
 * ddm, eddm, hddm_a and hddm_w ever set WARNING (river's other detectors
 * have no warning flag). */
enum { EDDY_DRIFT_FLAG_WARNING = 1u, EDDY_DRIFT_FLAG_CHANGE = 2u };
unsigned eddy_drift_flags(const eddy_drift *d);

void eddy_drift_reset(eddy_drift *d);
void eddy_drift_free(eddy_drift *d);
const char *eddy_drift_name(const eddy_drift *d);
/* The detector's monitored quantity, for metrics (see each params struct). */
double eddy_drift_statistic(const eddy_drift *d);

/* Portable snapshots (lib/buf/bytes.h, little-endian): the detector's
 * name, its parameters and its state, so a restore into a fresh detector
 * built with the same parameters continues exactly where the snapshot was
 * taken (same signals, same statistic). Appends to b; 0 or -1 (no memory). */
struct eddy_buf;
int eddy_drift_snapshot(const eddy_drift *d, struct eddy_buf *b);
/* 0, or EDDY_EINVAL when the bytes are short, corrupt, of another detector
 * or of other parameters: d is then left unchanged, never half-restored. */
int eddy_drift_restore(eddy_drift *d, const void *p, size_t n);

/* Page-Hinkley; statistic: the larger of the two cumulative test values. */
typedef enum { EDDY_PH_UP, EDDY_PH_DOWN, EDDY_PH_BOTH } eddy_ph_mode;
typedef struct {
    uint32_t min_instances; /* 30 */
    double delta;           /* 0.005 */
    double threshold;       /* 50 */
    double alpha;           /* 1 - 0.0001 */
    eddy_ph_mode mode;      /* both */
} eddy_page_hinkley_params;
void eddy_page_hinkley_defaults(eddy_page_hinkley_params *p);
int eddy_page_hinkley_new(const eddy_page_hinkley_params *p, eddy_drift **out, char *err,
                          size_t errlen);

/* DDM on a 0/1 error stream; statistic: p + s. */
typedef struct {
    uint32_t warm_start;      /* 30 */
    double warning_threshold; /* 2.0 */
    double drift_threshold;   /* 3.0 */
} eddy_ddm_params;
void eddy_ddm_defaults(eddy_ddm_params *p);
int eddy_ddm_new(const eddy_ddm_params *p, eddy_drift **out, char *err, size_t errlen);

/* EDDM on a 0/1 error stream (x == 1 is an error); statistic: the last
 * (mean + 2 std) of the distance between errors over its maximum. */
typedef struct {
    uint32_t warm_start; /* 30 */
    double alpha;        /* 0.95, warning level; must be >= beta */
    double beta;         /* 0.9, change level */
} eddy_eddm_params;
void eddy_eddm_defaults(eddy_eddm_params *p);
int eddy_eddm_new(const eddy_eddm_params *p, eddy_drift **out, char *err, size_t errlen);

/* HDDM_A (Hoeffding bound on averages); statistic: the running mean. */
typedef struct {
    double drift_confidence;   /* 0.001 */
    double warning_confidence; /* 0.005 */
    int two_sided;             /* 0: watch increases only */
} eddy_hddm_a_params;
void eddy_hddm_a_defaults(eddy_hddm_a_params *p);
int eddy_hddm_a_new(const eddy_hddm_a_params *p, eddy_drift **out, char *err, size_t errlen);

/* HDDM_W (McDiarmid bound on EWMAs); statistic: the EWMA of the stream. */
typedef struct {
    double drift_confidence;   /* 0.001 */
    double warning_confidence; /* 0.005 */
    double lambda;             /* 0.05, weight of the newest value */
    int two_sided;             /* 0 */
} eddy_hddm_w_params;
void eddy_hddm_w_defaults(eddy_hddm_w_params *p);
int eddy_hddm_w_new(const eddy_hddm_w_params *p, eddy_drift **out, char *err, size_t errlen);

/* ADWIN; statistic: the mean of the current window. */
typedef struct {
    double delta;               /* 0.002 */
    uint32_t clock;             /* 32: test for a cut every clock updates */
    uint32_t max_buckets;       /* 5 buckets per size class */
    uint32_t min_window_length; /* 5 */
    uint32_t grace_period;      /* 10 */
} eddy_adwin_params;
void eddy_adwin_defaults(eddy_adwin_params *p);
int eddy_adwin_new(const eddy_adwin_params *p, eddy_drift **out, char *err, size_t errlen);

/* KSWIN; statistic: the last p-value of the two-sample KS test. The random
 * reference sample is drawn as CPython's random.Random(seed).sample draws
 * it (pyrand.h), so with river's seed eddy tests the same samples and
 * signals at the same updates. river's default seed, None, is unseeded. */
typedef struct {
    double alpha;         /* 0.005 */
    uint32_t window_size; /* 100 */
    uint32_t stat_size;   /* 30, < window_size and <= window_size / 2 */
    uint64_t seed;        /* 0 */
} eddy_kswin_params;
void eddy_kswin_defaults(eddy_kswin_params *p);
int eddy_kswin_new(const eddy_kswin_params *p, eddy_drift **out, char *err, size_t errlen);

/* Two-sided tabular CUSUM (Page 1954) on standardised values. The target
 * mean and standard deviation are learnt from the first warm_start values
 * after each (re)start; then g+ = max(0, g+ + z - k), g- = max(0, g- - z - k)
 * with z = (x - mean) / std, and a CHANGE is raised when either exceeds h.
 * k and h are in standard deviations: k = 0.5 tunes for a one-sigma shift,
 * h = 5 gives an in-control run length of several hundred values. A zero
 * learnt deviation is replaced by 1e-9 * max(1, |mean|) so any real shift of
 * a constant stream alarms. Statistic: max(g+, g-). */
typedef struct {
    uint32_t warm_start; /* 30, at least 2 */
    double k;            /* 0.5 */
    double h;            /* 5.0 */
} eddy_cusum_params;
void eddy_cusum_defaults(eddy_cusum_params *p);
int eddy_cusum_new(const eddy_cusum_params *p, eddy_drift **out, char *err, size_t errlen);

#endif
