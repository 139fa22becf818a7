/* Shared between the detectors: each one embeds struct eddy_drift first and
 * fills an ops table, so the public calls dispatch without a switch. */
#ifndef EDDY_DRIFT_IMPL_H
#define EDDY_DRIFT_IMPL_H
#include "lib/drift/drift.h"

typedef struct drift_ops {
    const char *name;
    eddy_drift_signal (*update)(eddy_drift *d, double x);
    void (*reset)(eddy_drift *d);
    double (*statistic)(const eddy_drift *d);
    void (*destroy)(eddy_drift *d); /* frees what the detector owns, not d */
} drift_ops;

struct eddy_drift {
    const drift_ops *ops;
    /* river resets lazily: the update after a change starts afresh. */
    int changed;
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

#endif
