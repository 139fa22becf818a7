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
#ifndef EDDY_AGG_H
#define EDDY_AGG_H
#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "buf.h"

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
