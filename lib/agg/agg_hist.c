/* histogram(x, lo, hi, bins): `bins` equal bins over [lo, hi) plus an
 * underflow (x < lo) and an overflow (x >= hi) counter. The result is an
 * array of bins + 2 ints: underflow, bin 0 .. bin bins-1, overflow. */
#include "lib/agg/agg_int.h"

static size_t hist_size(const eddy_agg_spec *s) { return ((size_t)s->bins + 2) * 8; }
static void hist_init(const eddy_agg_spec *s, void *st) { memset(st, 0, hist_size(s)); }

static int hist_add(const eddy_agg_spec *s, void *st, const eddy_value *v, int64_t ts)
{
    uint64_t *c = st;
    double d;
    int rc = agg_num(v, &d);
    if (rc != 1)
        return rc;
    size_t i;
    if (d < s->lo) {
        i = 0;
    } else if (d >= s->hi) {
        i = s->bins + 1;
    } else {
        /* rounding may land a value just below hi on `bins` */
        double f = (d - s->lo) / (s->hi - s->lo) * s->bins;
        i = (size_t)f;
        if (i >= s->bins)
            i = s->bins - 1;
        i++;
    }
    c[i]++;
    return 0;
}

static void hist_merge(const eddy_agg_spec *s, void *dst, const void *src)
{
    uint64_t *d = dst;
    const uint64_t *a = src;
    for (size_t i = 0; i < (size_t)s->bins + 2; i++)
        d[i] += a[i];
}

static eddy_value hist_result(const eddy_agg_spec *s, const void *st, int64_t w, eddy_batch *b)
{
    const uint64_t *c = st;
    size_t n = (size_t)s->bins + 2;
    eddy_value *items = b ? eddy_batch_alloc(b, n * sizeof *items) : NULL;
    if (!items)
        return eddy_v_null();
    for (size_t i = 0; i < n; i++)
        items[i] = eddy_v_int((int64_t)c[i]);
    return (eddy_value){.type = EDDY_ARRAY, .len = (uint32_t)n, .u.items = items};
}

static int hist_ser(const eddy_agg_spec *s, const void *st, eddy_buf *out)
{
    const uint64_t *c = st;
    int rc = eddy_put_u32(out, s->bins) | eddy_put_f64(out, s->lo) | eddy_put_f64(out, s->hi);
    for (size_t i = 0; i < (size_t)s->bins + 2; i++)
        rc |= eddy_put_u64(out, c[i]);
    return rc;
}

static int hist_deser(const eddy_agg_spec *s, void *st, eddy_rd *r)
{
    uint64_t *c = st;
    uint32_t bins = eddy_get_u32(r);
    double lo = eddy_get_f64(r), hi = eddy_get_f64(r);
    if (r->err || bins != s->bins || lo != s->lo || hi != s->hi)
        return -1;
    for (size_t i = 0; i < (size_t)s->bins + 2; i++)
        c[i] = eddy_get_u64(r);
    return 0;
}

const agg_ops agg_ops_histogram = {"histogram", hist_size, hist_init, hist_add, hist_merge,
                                   hist_result, hist_ser, hist_deser};
