/* quantile(x, q): DDSketch (Masson, Rim, Lee, "DDSketch: a fast and
 * fully-mergeable quantile sketch with relative-error guarantees", 2019).
 *
 * A value v > 0 goes to bucket ceil(log_gamma(v)) with gamma = (1 + alpha) /
 * (1 - alpha); the bucket's representative 2 gamma^k / (gamma + 1) is within
 * relative error alpha of every value in it. Negative values go to a second
 * store by magnitude; values with |v| below dd_min (about DBL_MIN) count as
 * zero. Each store is a dense window of `cap` 32-bit counters over
 * consecutive bucket keys; when the keys seen span more than cap buckets, the
 * lowest keys (smallest magnitudes) are collapsed into one bucket, so high
 * quantiles of positive data keep their guarantee while the memory stays
 * fixed. With the default alpha = 0.01 and 2048 buckets (1024 per sign), a
 * store covers magnitudes over a ratio of gamma^1024 ~ 8e8 before collapsing.
 * Merging two sketches of the same spec adds their buckets: exact unless it
 * forces collapsing. The result is clamped into the exact [min, max]. */
#include "lib/agg/agg_int.h"

typedef struct dd_store {
    int32_t base;   /* bucket key of counter 0 */
    int32_t lo, hi; /* keys that may hold counts; lo > hi when empty */
    uint32_t pad_;
} dd_store;

typedef struct dd_st {
    uint64_t n, zero;
    double min, max;
    dd_store pos, neg;
    uint32_t c[]; /* pos counters, then neg counters */
} dd_st;

static size_t dd_size(const eddy_agg_spec *s)
{
    return sizeof(dd_st) + 2 * (size_t)s->cap * sizeof(uint32_t);
}
static void dd_init(const eddy_agg_spec *s, void *st)
{
    dd_st *x = st;
    memset(st, 0, dd_size(s));
    x->min = INFINITY;
    x->max = -INFINITY;
    x->pos.lo = x->neg.lo = 1;
}

static inline void sat_add(uint32_t *c, uint64_t n)
{
    uint64_t v = *c + n;
    *c = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* Moves the counters so that keys [nlo, nhi] (at most cap of them) fit the
 * window, leaving room on both sides for the range to grow. */
static void rebase(dd_store *st, uint32_t *c, uint32_t cap, int64_t nlo, int64_t nhi)
{
    int64_t nb = nlo - ((int64_t)cap - (nhi - nlo + 1)) / 2;
    int64_t len = (int64_t)st->hi - st->lo + 1;
    int64_t from = st->lo - st->base, to = st->lo - nb;
    memmove(c + to, c + from, (size_t)len * sizeof *c);
    memset(c, 0, (size_t)to * sizeof *c);
    memset(c + to + len, 0, (size_t)(cap - to - len) * sizeof *c);
    st->base = (int32_t)nb;
}

static void store_add(dd_store *st, uint32_t *c, uint32_t cap, int64_t key, uint64_t n)
{
    if (st->lo > st->hi) {
        st->base = (int32_t)(key - cap / 2);
        st->lo = st->hi = (int32_t)key;
        sat_add(&c[key - st->base], n);
        return;
    }
    int64_t lo = st->lo, hi = st->hi, base = st->base;
    int64_t top = key > hi ? key : hi;
    int64_t floor_key = top - cap + 1; /* lowest key that can stay */
    if (key < floor_key)
        key = floor_key;
    if (lo < floor_key) {
        uint64_t tot = 0;
        int64_t end = hi < floor_key - 1 ? hi : floor_key - 1;
        for (int64_t k = lo; k <= end; k++) {
            tot += c[k - base];
            c[k - base] = 0;
        }
        if (hi < floor_key) { /* the whole old range collapses */
            st->base = (int32_t)floor_key;
            lo = hi = floor_key;
            sat_add(&c[0], tot);
        } else {
            lo = floor_key;
            sat_add(&c[floor_key - base], tot);
        }
        st->lo = (int32_t)lo;
        st->hi = (int32_t)hi;
    }
    int64_t nlo = key < lo ? key : lo, nhi = key > hi ? key : hi;
    if (nlo < st->base || nhi >= (int64_t)st->base + cap)
        rebase(st, c, cap, nlo, nhi);
    st->lo = (int32_t)nlo;
    st->hi = (int32_t)nhi;
    sat_add(&c[key - st->base], n);
}

static inline int64_t dd_key(const eddy_agg_spec *s, double mag)
{
    return (int64_t)ceil(log(mag) * s->inv_log_gamma);
}

static int dd_add(const eddy_agg_spec *s, void *st, const eddy_value *v, int64_t ts)
{
    dd_st *x = st;
    double d;
    int rc = agg_num(v, &d);
    if (rc != 1)
        return rc;
    x->n++;
    if (d < x->min)
        x->min = d;
    if (d > x->max)
        x->max = d;
    if (d >= s->dd_min)
        store_add(&x->pos, x->c, s->cap, dd_key(s, d), 1);
    else if (d <= -s->dd_min)
        store_add(&x->neg, x->c + s->cap, s->cap, dd_key(s, -d), 1);
    else
        x->zero++;
    return 0;
}

static void store_merge(dd_store *d, uint32_t *dc, const dd_store *a, const uint32_t *ac,
                        uint32_t cap)
{
    for (int64_t k = a->lo; k <= a->hi; k++)
        if (ac[k - a->base])
            store_add(d, dc, cap, k, ac[k - a->base]);
}

static void dd_merge(const eddy_agg_spec *s, void *dst, const void *src)
{
    dd_st *d = dst;
    const dd_st *a = src;
    if (a->n == 0)
        return;
    d->n += a->n;
    d->zero += a->zero;
    if (a->min < d->min)
        d->min = a->min;
    if (a->max > d->max)
        d->max = a->max;
    store_merge(&d->pos, d->c, &a->pos, a->c, s->cap);
    store_merge(&d->neg, d->c + s->cap, &a->neg, a->c + s->cap, s->cap);
}

static double bucket_value(const eddy_agg_spec *s, int64_t k)
{
    return 2.0 * exp((double)k / s->inv_log_gamma) / (s->gamma + 1.0);
}

/* The value of rank floor(q (n - 1)) in sorted order, within relative error
 * alpha (for buckets that were not collapsed). */
static double dd_quantile(const eddy_agg_spec *s, const dd_st *x, double q)
{
    double rank = q * (double)(x->n - 1), cum = 0, v = x->max;
    const uint32_t *nc = x->c + s->cap;
    for (int64_t k = x->neg.hi; k >= x->neg.lo; k--) {
        cum += nc[k - x->neg.base];
        if (cum > rank) {
            v = -bucket_value(s, k);
            goto found;
        }
    }
    cum += (double)x->zero;
    if (cum > rank) {
        v = 0;
        goto found;
    }
    for (int64_t k = x->pos.lo; k <= x->pos.hi; k++) {
        cum += x->c[k - x->pos.base];
        if (cum > rank) {
            v = bucket_value(s, k);
            goto found;
        }
    }
found:
    return v < x->min ? x->min : v > x->max ? x->max : v;
}

static eddy_value dd_result(const eddy_agg_spec *s, const void *st, int64_t w, eddy_batch *b)
{
    const dd_st *x = st;
    return x->n ? eddy_v_double(dd_quantile(s, x, s->q)) : eddy_v_null();
}

static int store_ser(const dd_store *st, const uint32_t *c, eddy_buf *out)
{
    if (st->lo > st->hi)
        return eddy_put_u8(out, 0);
    int rc = eddy_put_u8(out, 1) | eddy_put_u32(out, (uint32_t)st->lo) |
             eddy_put_u32(out, (uint32_t)st->hi);
    for (int64_t k = st->lo; k <= st->hi; k++)
        rc |= eddy_put_u32(out, c[k - st->base]);
    return rc;
}

static int dd_ser(const eddy_agg_spec *s, const void *st, eddy_buf *out)
{
    const dd_st *x = st;
    return eddy_put_f64(out, s->alpha) | eddy_put_u32(out, s->cap) | eddy_put_u64(out, x->n) |
           eddy_put_u64(out, x->zero) | eddy_put_f64(out, x->min) | eddy_put_f64(out, x->max) |
           store_ser(&x->pos, x->c, out) | store_ser(&x->neg, x->c + s->cap, out);
}

/* Keys beyond any finite double's bucket at the smallest alpha allowed. */
#define DD_KEY_LIMIT (1 << 30)

static int store_deser(dd_store *st, uint32_t *c, uint32_t cap, eddy_rd *r, uint64_t *sum)
{
    uint8_t has = eddy_get_u8(r);
    if (has == 0)
        return r->err ? -1 : 0;
    int32_t lo = (int32_t)eddy_get_u32(r), hi = (int32_t)eddy_get_u32(r);
    if (has != 1 || r->err || lo > hi || lo < -DD_KEY_LIMIT || hi > DD_KEY_LIMIT ||
        (int64_t)hi - lo + 1 > cap)
        return -1;
    st->base = lo;
    st->lo = lo;
    st->hi = hi;
    for (int64_t k = lo; k <= hi; k++) {
        c[k - lo] = eddy_get_u32(r);
        *sum += c[k - lo];
    }
    return r->err ? -1 : 0;
}

static int dd_deser(const eddy_agg_spec *s, void *st, eddy_rd *r)
{
    dd_st *x = st;
    double alpha = eddy_get_f64(r);
    uint32_t cap = eddy_get_u32(r);
    if (r->err || alpha != s->alpha || cap != s->cap)
        return -1;
    x->n = eddy_get_u64(r);
    x->zero = eddy_get_u64(r);
    x->min = eddy_get_f64(r);
    x->max = eddy_get_f64(r);
    uint64_t sum = x->zero;
    if (store_deser(&x->pos, x->c, s->cap, r, &sum) ||
        store_deser(&x->neg, x->c + s->cap, s->cap, r, &sum))
        return -1;
    /* counters saturate, so they may sum to less than n, never more */
    if (sum > x->n || (sum == 0) != (x->n == 0))
        return -1;
    if (x->n && !(x->min <= x->max && isfinite(x->min) && isfinite(x->max)))
        return -1;
    return 0;
}

const agg_ops agg_ops_quantile = {"quantile", dd_size, dd_init, dd_add, dd_merge,
                                  dd_result, dd_ser, dd_deser};
