/* Helpers shared by the aggregate tests: a seeded generator, states on the
 * heap, value comparison and a serialise round trip. */
#ifndef AGG_TEST_UTIL_H
#define AGG_TEST_UTIL_H
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "engine/core/batch.h"
#include "lib/agg/agg.h"
#include "engine/core/error.h"
#include "engine/core/sym.h"
#include "tests/unit/test.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static inline void rng_seed(uint64_t s) { rng_state = s * 0x9e3779b97f4a7c15ull + 1; }
static inline uint64_t rng_u64(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static inline double rng_unit(void) { return (double)(rng_u64() >> 11) * 0x1.0p-53; }
static inline double rng_normal(void)
{
    double u = rng_unit(), v = rng_unit();
    if (u < 1e-300)
        u = 1e-300;
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

static inline eddy_agg_spec *spec_ok(const char *text)
{
    char err[512];
    eddy_agg_spec *s = eddy_agg_parse(text, err, sizeof err);
    CHECK_MSG(s != NULL, "parse %s: %s", text, err);
    if (!s) {
        fprintf(stderr, "cannot go on without %s\n", text);
        exit(1);
    }
    return s;
}

static inline void *state_new(const eddy_agg_spec *s)
{
    void *st = malloc(eddy_agg_state_size(s));
    if (!st) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    eddy_agg_init(s, st);
    return st;
}

static inline bool rel_close(double a, double b, double rel)
{
    if (a == b)
        return true;
    double m = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    return fabs(a - b) <= rel * m;
}

/* Same shape, numbers within rel, strings equal. */
static inline bool value_close(const eddy_value *a, const eddy_value *b, double rel)
{
    double x, y;
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case EDDY_NULL: return true;
    case EDDY_BOOL: return a->u.b == b->u.b;
    case EDDY_INT: return a->u.i == b->u.i;
    case EDDY_DOUBLE:
        x = a->u.d;
        y = b->u.d;
        return rel_close(x, y, rel);
    case EDDY_STRING:
    case EDDY_BYTES: return a->len == b->len && memcmp(a->u.s, b->u.s, a->len) == 0;
    case EDDY_ARRAY:
        if (a->len != b->len)
            return false;
        for (uint32_t i = 0; i < a->len; i++)
            if (!value_close(&a->u.items[i], &b->u.items[i], rel))
                return false;
        return true;
    case EDDY_MAP:
        if (a->len != b->len)
            return false;
        for (uint32_t i = 0; i < a->len; i++)
            if (!value_close(&a->u.kvs[i].key, &b->u.kvs[i].key, 0) ||
                !value_close(&a->u.kvs[i].val, &b->u.kvs[i].val, rel))
                return false;
        return true;
    }
    return false;
}

static inline double as_double(eddy_value v)
{
    return v.type == EDDY_INT ? (double)v.u.i : v.type == EDDY_DOUBLE ? v.u.d : NAN;
}

/* Serialise, deserialise into a fresh state, serialise again: the bytes and
 * the results must match. Also every strict prefix must be refused. */
static inline void check_roundtrip(const eddy_agg_spec *s, const void *st, eddy_batch *b,
                                   bool same_bytes)
{
    eddy_buf one = {0}, two = {0};
    CHECK(eddy_agg_serialize(s, st, &one) == 0);
    CHECK(one.len >= 2 && one.data[0] == 1);
    void *back = state_new(s);
    int rc = eddy_agg_deserialize(s, back, one.data, one.len);
    CHECK_MSG(rc == 0, "%s: deserialize: %d", eddy_agg_kind(s), rc);
    CHECK(eddy_agg_serialize(s, back, &two) == 0);
    if (same_bytes)
        CHECK_MSG(one.len == two.len && memcmp(one.data, two.data, one.len) == 0,
                  "%s: bytes differ after a round trip", eddy_agg_kind(s));
    eddy_value r1 = eddy_agg_result(s, st, 60000, b), r2 = eddy_agg_result(s, back, 60000, b);
    CHECK_MSG(value_close(&r1, &r2, 0), "%s: result differs after a round trip",
              eddy_agg_kind(s));
    /* prefixes: sample them for long states, all of them for short ones */
    size_t step = one.len > 4096 ? one.len / 512 : 1;
    int refused = 0, tried = 0;
    for (size_t n = 0; n < one.len; n += step, tried++)
        refused += eddy_agg_deserialize(s, back, one.data, n) < 0;
    CHECK_MSG(refused == tried, "%s: %d of %d truncated inputs accepted", eddy_agg_kind(s),
              tried - refused, tried);
    /* one byte too many */
    CHECK(eddy_buf_putc(&one, 0) == 0);
    CHECK(eddy_agg_deserialize(s, back, one.data, one.len) == EDDY_EPARSE);
    one.len--;
    /* another version */
    one.data[0] = 2;
    CHECK(eddy_agg_deserialize(s, back, one.data, one.len) == EDDY_EUNSUPPORTED);
    one.data[0] = 1;
    /* random damage must never crash (ASan run) and a refused input leaves an
     * empty state */
    for (int i = 0; i < 200; i++) {
        size_t at = 2 + rng_u64() % (one.len - 2 > 0 ? one.len - 2 : 1);
        if (at >= one.len)
            break;
        uint8_t old = one.data[at];
        one.data[at] ^= (uint8_t)(1u << (rng_u64() % 8));
        if (eddy_agg_deserialize(s, back, one.data, one.len) == 0) {
            eddy_value r = eddy_agg_result(s, back, 60000, b);
            (void)r;
        }
        one.data[at] = old;
    }
    free(back);
    eddy_buf_free(&one);
    eddy_buf_free(&two);
}

#endif
