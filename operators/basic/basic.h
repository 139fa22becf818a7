/* Built-in record operators, written against the plugin ABI only
 * (include/eddy/operator.h) plus the expression compiler. The registry lists
 * the descriptors; docs/EXPRESSIONS.md describes the expressions they take. */
#ifndef EDDY_OPS_BASIC_H
#define EDDY_OPS_BASIC_H
#include "include/eddy/operator.h"

/* filter: where (EXPR), on_error (drop|reject|keep). */
extern const eddy_op_descriptor eddy_op_filter;
/* project: keep, drop, rename, derive, key, on_error; applied in that order. */
extern const eddy_op_descriptor eddy_op_project;

/* What filter and project do with a record whose expression fails on its
 * data (a type error): shared so both read on_error the same way. */
typedef enum eddy_on_error {
    EDDY_ON_ERROR_DROP = 0,
    EDDY_ON_ERROR_REJECT = 1,
    EDDY_ON_ERROR_KEEP = 2
} eddy_on_error;

#define EDDY_ON_ERROR_VALUES "drop|reject|keep"
#define EDDY_ON_ERROR_HELP                                                              \
    "What to do with a record whose expression fails on its data (a type error such " \
    "as a string compared with a number): drop it silently, reject it to the "        \
    "dead-letter output with the reason, or keep it (a failed derive or key becomes null)."

/* -1 for an unknown word (options validation normally prevents it). */
int eddy_on_error_parse(const char *s);

/* Applies a DROP or REJECT decision to record i (KEEP does nothing and
 * returns 0). Reject sends the record to the dead letters with "what: why"
 * and takes it out of the batch. <0 when the host failed. */
int eddy_on_error_apply(const eddy_host *h, eddy_ctx *ctx, eddy_batch *b, uint32_t i,
                        eddy_on_error mode, const char *what, const char *why);

#endif
