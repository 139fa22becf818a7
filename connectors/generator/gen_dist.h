/* Value distributions of the generator's `fields` and `drift` options, e.g.
 * "normal(50, 12)", "categorical(card:0.7, cash:0.3)", "seq()".
 * Owner: the generator; a parsed distribution owns its strings until
 * eddy_gen_dist_free. */
#ifndef EDDY_GEN_DIST_H
#define EDDY_GEN_DIST_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "include/eddy/operator.h"
#include "connectors/generator/rng.h"

typedef enum eddy_gen_kind {
    EDDY_GEN_NORMAL,
    EDDY_GEN_UNIFORM,
    EDDY_GEN_EXPONENTIAL,
    EDDY_GEN_LOGNORMAL,
    EDDY_GEN_POISSON,
    EDDY_GEN_INT,
    EDDY_GEN_CATEGORICAL,
    EDDY_GEN_BERNOULLI,
    EDDY_GEN_CONST,
    EDDY_GEN_SEQ
} eddy_gen_kind;

typedef struct eddy_gen_dist {
    eddy_gen_kind kind;
    double a, b;          /* the numeric parameters */
    int64_t lo, span;     /* int(a, b): lo + [0, span) */
    uint32_t n;           /* categorical: number of values */
    eddy_value *values;   /* categorical values, or the const value */
    double *cum;          /* categorical: cumulative weights, last = 1 */
    char *text;           /* owns the strings values point into */
} eddy_gen_dist;

/* Parses spec. 0, or -1 with the problem in err (without the field name:
 * the caller says which field). */
int eddy_gen_dist_parse(const char *spec, eddy_gen_dist *d, char *err, size_t errlen);
void eddy_gen_dist_free(eddy_gen_dist *d);
/* True when every value it can produce is an int or a double. */
bool eddy_gen_dist_numeric(const eddy_gen_dist *d);
/* One draw. Strings point into d (copy them into the batch). seq is the
 * event's global index, the value of seq(). */
eddy_value eddy_gen_dist_sample(const eddy_gen_dist *d, eddy_rng *r, int64_t seq);

#endif
