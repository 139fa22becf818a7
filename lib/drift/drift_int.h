/* Shared between the detectors: each one embeds struct eddy_drift first and
 * fills an ops table, so the public calls dispatch without a switch. */
#ifndef EDDY_DRIFT_IMPL_H
#define EDDY_DRIFT_IMPL_H
#include "lib/buf/bytes.h"
#include "lib/drift/drift.h"

typedef struct drift_ops {
    const char *name;
    /* Answers river's flags after the update (EDDY_DRIFT_FLAG_*); the
     * signal constants are valid flags, so most detectors return those. */
    unsigned (*update)(eddy_drift *d, double x);
    void (*reset)(eddy_drift *d);
    double (*statistic)(const eddy_drift *d);
    void (*destroy)(eddy_drift *d); /* frees what the detector owns, not d */
    /* Snapshots (drift_snap.c): the parameters (compared byte for byte at
     * a restore, so a detector built with other parameters refuses the
     * state), the state, and the reverse of put_state, which must read the
     * whole input (no bytes left) and change d only when it succeeded. */
    int (*put_params)(const eddy_drift *d, eddy_buf *b);
    int (*put_state)(const eddy_drift *d, eddy_buf *b);
    int (*get_state)(eddy_drift *d, eddy_rd *r);
} drift_ops;

struct eddy_drift {
    const drift_ops *ops;
    /* The flags of the last update. river resets lazily: the update after
     * one with FLAG_CHANGE starts afresh. */
    unsigned flags;
};

/* Writes "name: message" into err (if any) and answers EDDY_EINVAL. */
int eddy_drift_bad_param(char *err, size_t errlen, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Running mean exactly as river's stats.Mean computes it (same rounding). */
typedef struct {
    double n, mean;
} drift_mean;

static inline void drift_mean_add(drift_mean *m, double x)
{
    m->n += 1.0;
    m->mean += (1.0 / m->n) * (x - m->mean);
}

static inline int drift_put_mean(eddy_buf *b, const drift_mean *m)
{
    return eddy_put_f64(b, m->n) || eddy_put_f64(b, m->mean);
}

static inline drift_mean drift_get_mean(eddy_rd *r)
{
    drift_mean m;
    m.n = eddy_get_f64(r);
    m.mean = eddy_get_f64(r);
    return m;
}

/* A reader that is done: nothing failed and nothing is left. */
static inline int drift_rd_done(const eddy_rd *r) { return !r->err && r->left == 0; }

#endif
