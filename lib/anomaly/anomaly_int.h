/* Shared between the univariate detectors: each embeds struct eddy_anom
 * first and fills an ops table. A detector's state lives in plain buffers
 * without pointers, listed as regions, so one snapshot codec serves all. */
#ifndef EDDY_ANOMALY_IMPL_H
#define EDDY_ANOMALY_IMPL_H
#include "lib/anomaly/anomaly.h"
#include "lib/buf/bytes.h"

/* n bytes at p, and the widths of the fields they hold (bytes.h's shape:
 * "8" for doubles, "4448" for three uint32 and a double, repeated over n),
 * so a snapshot is little-endian whatever the host. */
typedef struct {
    void *p;
    size_t n;
    const char *shape;
} anom_region;

#define ANOM_F64 "8" /* an array of doubles (or uint64) */

#define ANOM_MAX_REGIONS 12

typedef struct anom_ops {
    const char *name;
    double (*update)(eddy_anom *a, double x, int64_t ts_ms);
    void (*reset)(eddy_anom *a);
    double (*threshold)(const eddy_anom *a);       /* NULL: none */
    double (*threshold_lower)(const eddy_anom *a); /* NULL: none */
    /* Fills r with the state regions; answers their count. */
    size_t (*regions)(const eddy_anom *a, anom_region *r);
    /* After a restore: 0 when the restored indices are in range. */
    int (*check)(const eddy_anom *a);
    void (*destroy)(eddy_anom *a); /* frees what the detector owns, not a */
} anom_ops;

struct eddy_anom {
    const anom_ops *ops;
    double stat; /* statistic of the last scored value */
};

/* Writes "name: message" into err (if any) and answers EDDY_EINVAL. */
int eddy_anom_bad_param(char *err, size_t errlen, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The snapshot codec over a region list, shared with Half-Space Trees. */
int eddy_anom_snap_regions(const char *name, const anom_region *r, size_t nr, eddy_buf *out);
/* Validates the frame against the regions' sizes and copies the payload in;
 * the caller checks the restored content. Regions are overwritten only when
 * the frame fits, but a failed content check leaves them restored: callers
 * snapshot-and-roll-back through a scratch copy when that matters. */
int eddy_anom_load_regions(const char *name, const anom_region *r, size_t nr, const void *data,
                           size_t len);

/* splitmix64: seeded hashing for HST and the treap's priorities. */
static inline uint64_t anom_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

#endif
