/* Exact scalar aggregates: count, sum, mean, min, max, variance, stddev,
 * rate. Each keeps a few words of state. */
#include "lib/agg/agg_int.h"

/* ---- count / count(x) ---------------------------------------------------- */

typedef struct count_st {
    uint64_t n;
} count_st;

static size_t count_size(const eddy_agg_spec *s) { return sizeof(count_st); }
static void count_init(const eddy_agg_spec *s, void *st) { memset(st, 0, sizeof(count_st)); }

/* count() counts records; count(x) counts records where x is not null. */
static int count_add(const eddy_agg_spec *s, void *st, const eddy_value *v, int64_t ts)
{
    if (s->field == 0 || (v && v->type != EDDY_NULL))
        ((count_st *)st)->n++;
    return 0;
}
static void count_merge(const eddy_agg_spec *s, void *dst, const void *src)
{
    ((count_st *)dst)->n += ((const count_st *)src)->n;
}
static eddy_value count_result(const eddy_agg_spec *s, const void *st, int64_t w, eddy_batch *b)
{
    return eddy_v_int((int64_t)((const count_st *)st)->n);
}
static int count_ser(const eddy_agg_spec *s, const void *st, eddy_buf *out)
{
    return eddy_put_u64(out, ((const count_st *)st)->n);
}
static int count_deser(const eddy_agg_spec *s, void *st, eddy_rd *r)
{
    ((count_st *)st)->n = eddy_get_u64(r);
    return 0;
}

const agg_ops agg_ops_count = {"count", count_size, count_init, count_add, count_merge,
                               count_result, count_ser, count_deser};

/* ---- sum ------------------------------------------------------------------ */

/* Ints are also summed exactly in int64, so a sum of ints stays an int (and
 * exact beyond 2^53) unless a double was added or the int64 overflowed. */
typedef struct sum_st {
    double s, c;
    int64_t i;
    uint8_t any_double, overflow, pad_[6];
} sum_st;

static size_t sum_size(const eddy_agg_spec *s) { return sizeof(sum_st); }
static void sum_init(const eddy_agg_spec *s, void *st) { memset(st, 0, sizeof(sum_st)); }
static int sum_add(const eddy_agg_spec *s, void *st, const eddy_value *v, int64_t ts)
{
    sum_st *x = st;
    double d;
    int rc = agg_num(v, &d);
    if (rc != 1)
        return rc;
    agg_ksum(&x->s, &x->c, d);
    if (v->type == EDDY_DOUBLE)
        x->any_double = 1;
    else if (__builtin_add_overflow(x->i, v->type == EDDY_INT ? v->u.i : (int64_t)v->u.b, &x->i))
        x->overflow = 1;
    return 0;
}
static void sum_merge(const eddy_agg_spec *s, void *dst, const void *src)
{
    sum_st *d = dst;
    const sum_st *a = src;
    agg_ksum(&d->s, &d->c, a->s);
    d->c += a->c;
    d->any_double |= a->any_double;
    d->overflow |= a->overflow;
    if (__builtin_add_overflow(d->i, a->i, &d->i))
        d->overflow = 1;
}
static eddy_value sum_result(const eddy_agg_spec *s, const void *st, int64_t w, eddy_batch *b)
{
    const sum_st *x = st;
    if (!x->any_double && !x->overflow)
        return eddy_v_int(x->i);
    return eddy_v_double(x->s + x->c);
}
static int sum_ser(const eddy_agg_spec *s, const void *st, eddy_buf *out)
{
    const sum_st *x = st;
    return eddy_put_f64(out, x->s) | eddy_put_f64(out, x->c) | eddy_put_u64(out, (uint64_t)x->i) |
           eddy_put_u8(out, x->any_double) | eddy_put_u8(out, x->overflow);
}
static int sum_deser(const eddy_agg_spec *s, void *st, eddy_rd *r)
{
    sum_st *x = st;
    x->s = eddy_get_f64(r);
    x->c = eddy_get_f64(r);
    x->i = (int64_t)eddy_get_u64(r);
    x->any_double = eddy_get_u8(r);
    x->overflow = eddy_get_u8(r);
    return x->any_double > 1 || x->overflow > 1 || !isfinite(x->s) ? -1 : 0;
}

const agg_ops agg_ops_sum = {"sum", sum_size, sum_init, sum_add, sum_merge,
                             sum_result, sum_ser, sum_deser};

/* ---- mean, rate ------------------------------------------------------------ */

/* A compensated sum and a count; mean = sum / n. */
typedef struct mean_st {
    uint64_t n;
    double s, c;
} mean_st;

static size_t mean_size(const eddy_agg_spec *s) { return sizeof(mean_st); }
static void mean_init(const eddy_agg_spec *s, void *st) { memset(st, 0, sizeof(mean_st)); }
static int mean_add(const eddy_agg_spec *s, void *st, const eddy_value *v, int64_t ts)
{
    mean_st *x = st;
    double d;
    int rc = agg_num(v, &d);
    if (rc != 1)
        return rc;
    x->n++;
    agg_ksum(&x->s, &x->c, d);
    return 0;
}
static void mean_merge(const eddy_agg_spec *s, void *dst, const void *src)
{
    mean_st *d = dst;
    const mean_st *a = src;
    d->n += a->n;
    agg_ksum(&d->s, &d->c, a->s);
    d->c += a->c;
}
static eddy_value mean_result(const eddy_agg_spec *s, const void *st, int64_t w, eddy_batch *b)
{
    const mean_st *x = st;
    return x->n ? eddy_v_double((x->s + x->c) / (double)x->n) : eddy_v_null();
}
static int mean_ser(const eddy_agg_spec *s, const void *st, eddy_buf *out)
{
    const mean_st *x = st;
    return eddy_put_u64(out, x->n) | eddy_put_f64(out, x->s) | eddy_put_f64(out, x->c);
}
static int mean_deser(const eddy_agg_spec *s, void *st, eddy_rd *r)
{
    mean_st *x = st;
    x->n = eddy_get_u64(r);
    x->s = eddy_get_f64(r);
    x->c = eddy_get_f64(r);
    return isfinite(x->s) && isfinite(x->c) ? 0 : -1;
}

const agg_ops agg_ops_mean = {"mean", mean_size, mean_init, mean_add, mean_merge,
                              mean_result, mean_ser, mean_deser};

/* rate() counts records, rate(x) sums x; both per second of the window. */
static int rate_add(const eddy_agg_spec *s, void *st, const eddy_value *v, int64_t ts)
{
    if (s->field == 0) {
        ((mean_st *)st)->n++;
        return 0;
    }
    return mean_add(s, st, v, ts);
}
static eddy_value rate_result(const eddy_agg_spec *s, const void *st, int64_t window_ms,
                              eddy_batch *b)
{
    const mean_st *x = st;
    if (window_ms <= 0)
        return eddy_v_null();
    double total = s->field == 0 ? (double)x->n : x->s + x->c;
    return eddy_v_double(total * 1000.0 / (double)window_ms);
}

const agg_ops agg_ops_rate = {"rate", mean_size, mean_init, rate_add, mean_merge,
                              rate_result, mean_ser, mean_deser};

/* ---- min, max ------------------------------------------------------------- */

/* Keeps the winning value with its type: min of ints is an int. */
typedef struct ext_st {
    uint8_t has, type, pad_[6];
    union {
        int64_t i;
        double d;
    } u;
} ext_st;

static size_t ext_size(const eddy_agg_spec *s) { return sizeof(ext_st); }
static void ext_init(const eddy_agg_spec *s, void *st) { memset(st, 0, sizeof(ext_st)); }

/* <0, 0, >0 like strcmp; ints compared as ints so large ones stay exact. */
static int ext_cmp(uint8_t ta, int64_t ia, double da, uint8_t tb, int64_t ib, double db)
{
    if (ta == EDDY_INT && tb == EDDY_INT)
        return (ia > ib) - (ia < ib);
    double x = ta == EDDY_INT ? (double)ia : da, y = tb == EDDY_INT ? (double)ib : db;
    return (x > y) - (x < y);
}

/* sign: -1 keeps the smallest, +1 the largest. */
static void ext_offer(ext_st *x, uint8_t type, int64_t i, double d, int sign)
{
    if (!x->has || ext_cmp(type, i, d, x->type, x->u.i, x->u.d) * sign > 0) {
        x->has = 1;
        x->type = type;
        if (type == EDDY_INT)
            x->u.i = i;
        else
            x->u.d = d;
    }
}
static int ext_add(void *st, const eddy_value *v, int sign)
{
    double d;
    int rc = agg_num(v, &d);
    if (rc != 1)
        return rc;
    if (v->type == EDDY_DOUBLE)
        ext_offer(st, EDDY_DOUBLE, 0, d, sign);
    else
        ext_offer(st, EDDY_INT, v->type == EDDY_INT ? v->u.i : (int64_t)v->u.b, 0, sign);
    return 0;
}
static int min_add(const eddy_agg_spec *s, void *st, const eddy_value *v, int64_t ts)
{
    return ext_add(st, v, -1);
}
static int max_add(const eddy_agg_spec *s, void *st, const eddy_value *v, int64_t ts)
{
    return ext_add(st, v, 1);
}
static void min_merge(const eddy_agg_spec *s, void *dst, const void *src)
{
    const ext_st *a = src;
    if (a->has)
        ext_offer(dst, a->type, a->u.i, a->u.d, -1);
}
static void max_merge(const eddy_agg_spec *s, void *dst, const void *src)
{
    const ext_st *a = src;
    if (a->has)
        ext_offer(dst, a->type, a->u.i, a->u.d, 1);
}
static eddy_value ext_result(const eddy_agg_spec *s, const void *st, int64_t w, eddy_batch *b)
{
    const ext_st *x = st;
    if (!x->has)
        return eddy_v_null();
    return x->type == EDDY_INT ? eddy_v_int(x->u.i) : eddy_v_double(x->u.d);
}
static int ext_ser(const eddy_agg_spec *s, const void *st, eddy_buf *out)
{
    const ext_st *x = st;
    return eddy_put_u8(out, x->has) | eddy_put_u8(out, x->type) | eddy_put_u64(out, (uint64_t)x->u.i);
}
static int ext_deser(const eddy_agg_spec *s, void *st, eddy_rd *r)
{
    ext_st *x = st;
    x->has = eddy_get_u8(r);
    x->type = eddy_get_u8(r);
    x->u.i = (int64_t)eddy_get_u64(r);
    if (x->has > 1 || (x->has && x->type != EDDY_INT && x->type != EDDY_DOUBLE))
        return -1;
    return 0;
}

const agg_ops agg_ops_min = {"min", ext_size, ext_init, min_add, min_merge,
                             ext_result, ext_ser, ext_deser};
const agg_ops agg_ops_max = {"max", ext_size, ext_init, max_add, max_merge,
                             ext_result, ext_ser, ext_deser};

/* ---- variance, stddev -------------------------------------------------------- */

/* Welford's running mean and sum of squared deviations (m2); two states
 * merge with Chan, Golub and LeVeque's pairwise formula. Sample variance
 * m2 / (n - 1); fewer than two values give null, since the sample variance
 * of one value is undefined (a population variance of 0 would read as "no
 * spread" when it means "no data"). */
typedef struct var_st {
    uint64_t n;
    double mean, m2;
} var_st;

static size_t var_size(const eddy_agg_spec *s) { return sizeof(var_st); }
static void var_init(const eddy_agg_spec *s, void *st) { memset(st, 0, sizeof(var_st)); }
static int var_add(const eddy_agg_spec *s, void *st, const eddy_value *v, int64_t ts)
{
    var_st *x = st;
    double d;
    int rc = agg_num(v, &d);
    if (rc != 1)
        return rc;
    x->n++;
    double delta = d - x->mean;
    x->mean += delta / (double)x->n;
    x->m2 += delta * (d - x->mean);
    return 0;
}
static void var_merge(const eddy_agg_spec *s, void *dst, const void *src)
{
    var_st *a = dst;
    const var_st *b = src;
    if (b->n == 0)
        return;
    if (a->n == 0) {
        *a = *b;
        return;
    }
    double na = (double)a->n, nb = (double)b->n, n = na + nb;
    double delta = b->mean - a->mean;
    a->mean += delta * (nb / n);
    a->m2 += b->m2 + delta * delta * (na * nb / n);
    a->n += b->n;
}
static eddy_value var_result(const eddy_agg_spec *s, const void *st, int64_t w, eddy_batch *b)
{
    const var_st *x = st;
    if (x->n < 2)
        return eddy_v_null();
    double var = x->m2 > 0 ? x->m2 / (double)(x->n - 1) : 0.0;
    return eddy_v_double(s->kind == AGG_STDDEV ? sqrt(var) : var);
}
static int var_ser(const eddy_agg_spec *s, const void *st, eddy_buf *out)
{
    const var_st *x = st;
    return eddy_put_u64(out, x->n) | eddy_put_f64(out, x->mean) | eddy_put_f64(out, x->m2);
}
static int var_deser(const eddy_agg_spec *s, void *st, eddy_rd *r)
{
    var_st *x = st;
    x->n = eddy_get_u64(r);
    x->mean = eddy_get_f64(r);
    x->m2 = eddy_get_f64(r);
    return isfinite(x->mean) && isfinite(x->m2) && x->m2 >= 0 ? 0 : -1;
}

const agg_ops agg_ops_variance = {"variance", var_size, var_init, var_add, var_merge,
                                  var_result, var_ser, var_deser};
const agg_ops agg_ops_stddev = {"stddev", var_size, var_init, var_add, var_merge,
                                var_result, var_ser, var_deser};
