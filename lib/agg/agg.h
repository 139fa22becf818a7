/* Aggregates for windowed features: every aggregate is mergeable (panes of
 * hopping windows, session merges) and serialisable (snapshots), and keeps
 * its state in a fixed-size slot chosen at compile time of the spec, so a
 * (key, window) costs no allocation per record.
 *
 * A spec is parsed once from text like "sum(amount)", "quantile(amount,
 * 0.95)", "count()", "distinct(merchant)", "topk(merchant, 5)",
 * "histogram(amount, 0, 100, 10)", "ewma(amount, 0.1)", "rate()",
 * "first(amount)", "last(amount)", "min(x)", "max(x)", "mean(x)",
 * "variance(x)", "stddev(x)".
 *
 * Ownership: eddy_agg_spec is owned by the caller (eddy_agg_spec_free);
 * state slots are plain memory the caller provides (size from
 * eddy_agg_state_size), e.g. inside a window table; aggregates with
 * variable-size state (sketches) keep it inside their fixed slot, bounded by
 * their parameters. */
/* Semantics (implementation: lib/agg/):
 *
 * Inputs. Numeric aggregates take ints, doubles and bools (as 0/1); NaN,
 * infinities, strings, bytes, arrays and maps are refused (add returns -1).
 * first/last take any scalar (strings and bytes kept up to 64 bytes, cut at
 * a UTF-8 boundary). distinct/topk hash by value: 5, 5.0 and true==1 agree,
 * "5" differs. count() and rate() count every call, value or not; count(x)
 * counts non-null x.
 *
 * Results. count: int. sum: int while every input was an int or bool and the
 * int64 did not overflow, else double (compensated sum); 0 when empty.
 * mean, variance, stddev, ewma, quantile, min, max, first, last: null when
 * empty. variance/stddev are the SAMPLE variance (n - 1), null below two
 * values. min/max keep the winning value's type. rate: per second of
 * window_ms (null if window_ms <= 0). distinct: int. topk: array of up to k
 * {"value", "count"} maps, largest count first. histogram: array of
 * bins + 2 ints: [underflow, bin 0 .. bin bins-1, overflow], bins over
 * [lo, hi).
 *
 * Order. first/last go by event time (ts); equal times go to the earlier
 * arrival for first, the later for last. merge(dst, src) treats src's
 * records as arriving after dst's. ewma applies values in arrival order
 * (seeded with the first value); merge is exact for "the state whose last
 * update (largest ts) is older, followed by the other".
 *
 * Errors (eddy_agg_error). quantile: relative error alpha on the value of
 * rank floor(q (n - 1)), for buckets not collapsed (a store spans a ratio of
 * gamma^(buckets/2) ~ 8e8 at the defaults; beyond it the smallest magnitudes
 * collapse). distinct: exact up to 384 values (3 * 2^p / 32 when p < 12),
 * then HyperLogLog with relative standard error 1.04 / sqrt(2^p). topk:
 * reported counts are over the true count by at most N / (4k), N = values
 * added.
 *
 * State. Plain bytes without pointers (may be copied with memcpy), size a
 * multiple of 8, to be placed at 8-byte alignment. Serialised form: version
 * byte (1), kind byte, fixed little-endian layout; deserialise refuses a
 * wrong length, kind or parameters (EDDY_EPARSE) and another version
 * (EDDY_EUNSUPPORTED), leaving the state initialised (empty). */
#ifndef EDDY_AGG_H
#define EDDY_AGG_H
#include <stddef.h>
#include <stdint.h>

#include "include/eddy/operator.h" /* eddy_value, eddy_sym, eddy_batch (opaque here) */
#include "lib/buf/buf.h"

typedef struct eddy_agg_spec eddy_agg_spec;

/* Parses one aggregate expression. NULL with a reason in err, e.g.
 * "quantile(amount): expects quantile(field, q) with 0 < q < 1". */
eddy_agg_spec *eddy_agg_parse(const char *text, char *err, size_t errlen);
void eddy_agg_spec_free(eddy_agg_spec *s);
const char *eddy_agg_kind(const eddy_agg_spec *s);   /* "sum", "quantile", ... */
eddy_sym eddy_agg_field(const eddy_agg_spec *s);     /* 0 for count(), rate() */

/* Bytes of state one (key, window) needs for this aggregate (fixed). */
size_t eddy_agg_state_size(const eddy_agg_spec *s);
void eddy_agg_init(const eddy_agg_spec *s, void *state);
/* Adds one value (ts: event time in ms, for rate/first/last/ewma). A value
 * of the wrong type (string into sum) is ignored and returns -1 so the
 * caller can count it; null is ignored and returns 0. */
int eddy_agg_add(const eddy_agg_spec *s, void *state, const eddy_value *v, int64_t ts);
/* dst += src (both initialised with the same spec). */
void eddy_agg_merge(const eddy_agg_spec *s, void *dst, const void *src);
/* The result as a value; strings/arrays (top-k) go into the batch arena.
 * window_ms is the window length (for rate per second). */
eddy_value eddy_agg_result(const eddy_agg_spec *s, const void *state, int64_t window_ms,
                           eddy_batch *b);
/* Versioned bytes of one state, and back. */
int eddy_agg_serialize(const eddy_agg_spec *s, const void *state, eddy_buf *out);
int eddy_agg_deserialize(const eddy_agg_spec *s, void *state, const void *data, size_t len);
/* Documented error of sketches: relative error for quantile (DDSketch
 * alpha), standard error for distinct (HyperLogLog), 0 for exact ones. */
double eddy_agg_error(const eddy_agg_spec *s);

#endif
