/* The expression language of filter `where`, project `derive`/`key` and any
 * option of type EDDY_OPT_EXPR (docs/EXPRESSIONS.md).
 *
 * An expression is compiled once into flat bytecode with every field name
 * already interned, then evaluated per record. Evaluation never calls malloc:
 * intermediate values live on a fixed stack in the caller's C stack frame, and
 * strings built by functions (lower, to_string, ...) go to the batch arena.
 * The compiled form is read-only during evaluation, so one eddy_expr may serve
 * several partitions' threads at once.
 *
 * Ownership: eddy_expr_compile returns an expression owned by the caller (free
 * with eddy_expr_free). A value produced by eval points into the record, the
 * batch arena, or the expression's own constants; the last kind is valid only
 * as long as the expression (see eddy_expr_owns).
 */
#ifndef EDDY_EXPR_H
#define EDDY_EXPR_H
#include <stdbool.h>
#include <stddef.h>

#include "include/eddy/operator.h"

/* Values pending at once during evaluation; deeper expressions are refused
 * at compile time so evaluation never checks for overflow. */
#define EDDY_EXPR_STACK 64
/* Longest accepted source, so that every column fits the bytecode. */
#define EDDY_EXPR_MAX_LEN 65535

typedef struct eddy_expr eddy_expr;

/* The codes eval returns, for callers that do not include engine/core/error.h
 * (built-in operators keep to the plugin ABI). Same values as EDDY_E*. */
#define EDDY_EXPR_ENOMEM (-1) /* the batch's memory limit: the batch, not the record */
#define EDDY_EXPR_EINVAL (-2)
#define EDDY_EXPR_ELIMIT (-8)
#define EDDY_EXPR_ETYPE (-9)  /* the record's data does not fit the expression */

/* NULL on error, with "expr:COL: reason" in err (COL is 1-based, counted in
 * bytes). err may be NULL. */
eddy_expr *eddy_expr_compile(const char *src, char *err, size_t errlen);
void eddy_expr_free(eddy_expr *e);

/* Evaluates e against r. b provides memory for strings built on the fly and
 * may be NULL when the expression builds none (then such a function fails
 * with EDDY_EXPR_EINVAL). Returns 0 and sets *out, or a negative code:
 * EDDY_EXPR_ETYPE for a type error in the data (a string where a number is
 * needed), EDDY_EXPR_ENOMEM when the batch's memory limit is reached.
 * r may be NULL: every field is then missing. */
int eddy_expr_eval(const eddy_expr *e, eddy_batch *b, const eddy_record *r, eddy_value *out);
/* Same, and on error writes "expr:COL: reason" to why (may be NULL). The
 * reason is formatted only when evaluation fails. */
int eddy_expr_eval_why(const eddy_expr *e, eddy_batch *b, const eddy_record *r,
                       eddy_value *out, char *why, size_t whylen);

/* The truth of a value: null is false, bools are themselves, numbers are true
 * when non-zero, strings, bytes, arrays and maps when non-empty. */
int eddy_expr_truthy(const eddy_value *v);

/* True when v's string points into e's constants, i.e. the value must be
 * copied before it is stored in a record that may outlive e. */
bool eddy_expr_owns(const eddy_expr *e, const eddy_value *v);

/* The source text the expression was compiled from. */
const char *eddy_expr_source(const eddy_expr *e);

#endif
