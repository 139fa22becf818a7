/* Aggregates that depend on order: first, last (by event time, ties broken
 * by arrival) and ewma (in arrival order). */
#include "lib/agg/agg_int.h"

/* ---- first, last ----------------------------------------------------------- */

/* Any scalar is kept with its type; strings and bytes up to AGG_INLINE bytes,
 * longer ones cut at a UTF-8 boundary. Arrays and maps are refused. */
typedef struct pick_st {
    int64_t ts;
    uint8_t has, pad_[7];
    agg_item item;
} pick_st;

static size_t pick_size(const eddy_agg_spec *s) { return sizeof(pick_st); }
static void pick_init(const eddy_agg_spec *s, void *st) { memset(st, 0, sizeof(pick_st)); }

static int pick_add(pick_st *x, const eddy_value *v, int64_t ts, bool later_wins)
{
    if (!v || v->type == EDDY_NULL)
        return 0;
    if (v->type > EDDY_BYTES)
        return -1;
    /* an equal time goes to the later arrival for last, the earlier for first */
    bool take = !x->has || (later_wins ? ts >= x->ts : ts < x->ts);
    if (take) {
        agg_item_set(&x->item, v, false);
        x->ts = ts;
        x->has = 1;
    }
    return 0;
}
static int first_add(const eddy_agg_spec *s, void *st, const eddy_value *v, int64_t ts)
{
    return pick_add(st, v, ts, false);
}
static int last_add(const eddy_agg_spec *s, void *st, const eddy_value *v, int64_t ts)
{
    return pick_add(st, v, ts, true);
}
/* merge(dst, src) takes src's records as arriving after dst's. */
static void first_merge(const eddy_agg_spec *s, void *dst, const void *src)
{
    pick_st *d = dst;
    const pick_st *a = src;
    if (a->has && (!d->has || a->ts < d->ts))
        *d = *a;
}
static void last_merge(const eddy_agg_spec *s, void *dst, const void *src)
{
    pick_st *d = dst;
    const pick_st *a = src;
    if (a->has && (!d->has || a->ts >= d->ts))
        *d = *a;
}
static eddy_value pick_result(const eddy_agg_spec *s, const void *st, int64_t w, eddy_batch *b)
{
    const pick_st *x = st;
    return x->has ? agg_item_value(&x->item, b) : eddy_v_null();
}
static int pick_ser(const eddy_agg_spec *s, const void *st, eddy_buf *out)
{
    const pick_st *x = st;
    int rc = eddy_put_u8(out, x->has);
    if (x->has)
        rc |= eddy_put_u64(out, (uint64_t)x->ts) | agg_item_ser(&x->item, out);
    return rc;
}
static int pick_deser(const eddy_agg_spec *s, void *st, eddy_rd *r)
{
    pick_st *x = st;
    x->has = eddy_get_u8(r);
    if (x->has > 1)
        return -1;
    if (x->has) {
        x->ts = (int64_t)eddy_get_u64(r);
        agg_item_deser(&x->item, r);
    }
    return 0;
}

const agg_ops agg_ops_first = {"first", pick_size, pick_init, first_add, first_merge,
                               pick_result, pick_ser, pick_deser};
const agg_ops agg_ops_last = {"last", pick_size, pick_init, last_add, last_merge,
                              pick_result, pick_ser, pick_deser};

/* ---- ewma ---------------------------------------------------------------------- */

/* s = alpha * x + (1 - alpha) * s in arrival order, starting at the first
 * value. Besides s the state keeps that first value, n and decay =
 * (1 - alpha)^n, which is what it takes to merge exactly: the EWMA of A's
 * values followed by B's is s_B + decay_B * (s_A - first_B). Merge puts
 * first the state whose last update (largest event time) is older. */
typedef struct ewma_st {
    uint64_t n;
    int64_t last_ts;
    double s, first, decay;
} ewma_st;

static size_t ewma_size(const eddy_agg_spec *s) { return sizeof(ewma_st); }
static void ewma_init(const eddy_agg_spec *s, void *st) { memset(st, 0, sizeof(ewma_st)); }
static int ewma_add(const eddy_agg_spec *s, void *st, const eddy_value *v, int64_t ts)
{
    ewma_st *x = st;
    double d;
    int rc = agg_num(v, &d);
    if (rc != 1)
        return rc;
    double keep = 1.0 - s->alpha;
    if (x->n == 0) {
        x->s = x->first = d;
        x->decay = keep;
        x->last_ts = ts;
    } else {
        x->s = s->alpha * d + keep * x->s;
        x->decay *= keep;
        if (ts > x->last_ts)
            x->last_ts = ts;
    }
    x->n++;
    return 0;
}
static void ewma_merge(const eddy_agg_spec *s, void *dst, const void *src)
{
    ewma_st *d = dst;
    const ewma_st *a = src;
    if (a->n == 0)
        return;
    if (d->n == 0) {
        *d = *a;
        return;
    }
    const ewma_st *older = d, *newer = a;
    ewma_st tmp = *d;
    if (a->last_ts < d->last_ts) {
        older = a;
        newer = &tmp;
    }
    ewma_st out;
    out.n = older->n + newer->n;
    out.last_ts = newer->last_ts;
    out.s = newer->s + newer->decay * (older->s - newer->first);
    out.first = older->first;
    out.decay = older->decay * newer->decay;
    *d = out;
}
static eddy_value ewma_result(const eddy_agg_spec *s, const void *st, int64_t w, eddy_batch *b)
{
    const ewma_st *x = st;
    return x->n ? eddy_v_double(x->s) : eddy_v_null();
}
static int ewma_ser(const eddy_agg_spec *s, const void *st, eddy_buf *out)
{
    const ewma_st *x = st;
    return eddy_put_u64(out, x->n) | eddy_put_u64(out, (uint64_t)x->last_ts) |
           eddy_put_f64(out, x->s) | eddy_put_f64(out, x->first) | eddy_put_f64(out, x->decay);
}
static int ewma_deser(const eddy_agg_spec *s, void *st, eddy_rd *r)
{
    ewma_st *x = st;
    x->n = eddy_get_u64(r);
    x->last_ts = (int64_t)eddy_get_u64(r);
    x->s = eddy_get_f64(r);
    x->first = eddy_get_f64(r);
    x->decay = eddy_get_f64(r);
    if (!isfinite(x->s) || !isfinite(x->first) || !(x->decay >= 0 && x->decay <= 1))
        return -1;
    return 0;
}

const agg_ops agg_ops_ewma = {"ewma", ewma_size, ewma_init, ewma_add, ewma_merge,
                              ewma_result, ewma_ser, ewma_deser};
