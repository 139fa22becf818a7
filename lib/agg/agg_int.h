/* Internals shared by the aggregate files: the parsed spec, the per-kind
 * function table and value helpers; states are (de)serialised with the
 * little-endian helpers of lib/buf/bytes.h. Not part of the engine
 * interface (agg.h is). */
#ifndef EDDY_AGG_IMPL_H
#define EDDY_AGG_IMPL_H
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "engine/core/batch.h"
#include "lib/agg/agg.h"
#include "lib/buf/bytes.h"

/* Version of every serialised state; bumped when a layout changes. */
#define AGG_SER_VERSION 1

/* Inline copy of a string kept by first/last/topk: longer strings are cut
 * (at a UTF-8 boundary) and told apart by a hash of the whole string. */
#define AGG_INLINE 64

/* Parameter bounds (they bound the state size). */
#define AGG_TOPK_MAX_K 256
#define AGG_HIST_MAX_BINS 4096

typedef enum agg_kind {
    AGG_COUNT,
    AGG_SUM,
    AGG_MEAN,
    AGG_MIN,
    AGG_MAX,
    AGG_VARIANCE,
    AGG_STDDEV,
    AGG_FIRST,
    AGG_LAST,
    AGG_EWMA,
    AGG_RATE,
    AGG_DISTINCT,
    AGG_QUANTILE,
    AGG_TOPK,
    AGG_HISTOGRAM,
    AGG_NKINDS
} agg_kind;

typedef struct agg_ops agg_ops;

struct eddy_agg_spec {
    const agg_ops *ops;
    agg_kind kind;
    eddy_sym field;
    size_t size;
    double q;      /* quantile */
    double alpha;  /* ewma smoothing, DDSketch relative accuracy */
    double lo, hi; /* histogram */
    uint32_t k;    /* topk: results */
    uint32_t cap;  /* topk: counters; quantile: buckets per sign */
    uint32_t bins; /* histogram */
    uint32_t p;    /* distinct: HyperLogLog precision */
    /* derived */
    uint32_t isize;             /* topk: index slots (power of two) */
    double gamma, inv_log_gamma; /* DDSketch mapping */
    double dd_min;              /* smallest magnitude with its own bucket */
};

struct agg_ops {
    const char *name;
    size_t (*size)(const eddy_agg_spec *s);
    void (*init)(const eddy_agg_spec *s, void *st);
    int (*add)(const eddy_agg_spec *s, void *st, const eddy_value *v, int64_t ts);
    void (*merge)(const eddy_agg_spec *s, void *dst, const void *src);
    eddy_value (*result)(const eddy_agg_spec *s, const void *st, int64_t window_ms,
                         eddy_batch *b);
    int (*ser)(const eddy_agg_spec *s, const void *st, eddy_buf *out);
    int (*deser)(const eddy_agg_spec *s, void *st, eddy_rd *r); /* 0 or EDDY_EPARSE */
};

extern const agg_ops agg_ops_count, agg_ops_sum, agg_ops_mean, agg_ops_min, agg_ops_max,
    agg_ops_variance, agg_ops_stddev, agg_ops_first, agg_ops_last, agg_ops_ewma, agg_ops_rate,
    agg_ops_distinct, agg_ops_quantile, agg_ops_topk, agg_ops_histogram;

/* ---- values ------------------------------------------------------------ */

/* Numeric view for numeric aggregates: 1 with *x set, 0 for null (or no
 * value), -1 for anything else, including NaN and infinities, which would
 * poison every later result of a sum or variance. */
static inline int agg_num(const eddy_value *v, double *x)
{
    if (!v)
        return 0;
    switch (v->type) {
    case EDDY_NULL: return 0;
    case EDDY_INT: *x = (double)v->u.i; return 1;
    case EDDY_BOOL: *x = v->u.b ? 1.0 : 0.0; return 1;
    case EDDY_DOUBLE: *x = v->u.d; return isfinite(v->u.d) ? 1 : -1;
    default: return -1;
    }
}

/* Neumaier's compensated sum: keeps sums of many doubles within a few ulps. */
static inline void agg_ksum(double *s, double *c, double x)
{
    double t = *s + x;
    if (fabs(*s) >= fabs(x))
        *c += (*s - t) + x;
    else
        *c += (x - t) + *s;
    *s = t;
}

/* A scalar kept inside a state slot (first/last/topk): plain bytes, no
 * pointers, so states can be copied with memcpy. */
typedef struct agg_item {
    uint8_t type;      /* EDDY_INT, DOUBLE, BOOL (u.i 0/1), STRING, BYTES */
    uint8_t len;       /* bytes kept inline (strings) */
    uint8_t pad_[2];
    uint32_t full_len; /* length of the original string */
    uint64_t hash;     /* of the value (whole string for strings); 0 unless by_value */
    union {
        int64_t i;
        double d;
        char s[AGG_INLINE];
    } u;
} agg_item;

/* Hash by value: equal numbers hash equally whatever their type (5 == 5.0,
 * true == 1), strings and bytes by content. 1 ok, 0 null, -1 not hashable. */
int agg_hash_value(const eddy_value *v, uint64_t *h);
/* Fills it from v. Same return convention as agg_hash_value. by_value (topk):
 * hashed, and numbers kept as agg_hash_value sees them (5.0 becomes 5, true
 * becomes 1); otherwise (first/last) the value keeps its own type and no hash
 * is computed. */
int agg_item_set(agg_item *it, const eddy_value *v, bool by_value);
bool agg_item_equal(const agg_item *a, const agg_item *b);
/* The item as a value; strings copied into b's arena (null if that fails). */
eddy_value agg_item_value(const agg_item *it, eddy_batch *b);
int agg_item_ser(const agg_item *it, eddy_buf *out);
void agg_item_deser(agg_item *it, eddy_rd *r);

#endif
