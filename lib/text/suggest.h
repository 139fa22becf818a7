/* "Did you mean": the known name nearest to one somebody mistyped, for the
 * error messages of config keys, operator names, aggregate functions and
 * expression functions. One distance and one search, so every "did you
 * mean" in eddy forgives the same slips. Pure functions, no state. */
#ifndef EDDY_SUGGEST_H
#define EDDY_SUGGEST_H
#include <stddef.h>

/* Longer words are not typos worth fixing (and bound the work). */
#define EDDY_SUGGEST_MAX_LEN 64
/* The distance of words too long to compare: never within a tolerance. */
#define EDDY_SUGGEST_FAR ((size_t)-1)

/* Edit distance between a[0..na) and b[0..nb) (optimal string alignment):
 * an inserted, deleted or replaced character costs one, and so does a swap
 * of two neighbours, since "fromat" is one slip, not two. ASCII letters
 * compare without case ("UPPER" is one step from nothing but "upper").
 * EDDY_SUGGEST_FAR when either is longer than EDDY_SUGGEST_MAX_LEN. */
size_t eddy_edit_distance(const char *a, size_t na, const char *b, size_t nb);

/* How far a typo of an n-character word may go: one slip in a short name,
 * two in a longer, three in a long one. */
size_t eddy_suggest_tolerance(size_t n);

/* The search, over candidates in whatever shape the caller keeps them:
 *
 *     eddy_suggest s;
 *     eddy_suggest_init(&s, word, len);
 *     for (each known name) eddy_suggest_try(&s, name);
 *     const char *best = eddy_suggest_best(&s, max_distance);
 */
typedef struct eddy_suggest {
    const char *word;
    size_t n;
    const char *best; /* nearest so far; the first tried wins a tie */
    size_t best_d;
} eddy_suggest;

void eddy_suggest_init(eddy_suggest *s, const char *word, size_t n);
void eddy_suggest_try(eddy_suggest *s, const char *candidate);
/* The nearest candidate when it is at most max_d away, else NULL. */
const char *eddy_suggest_best(const eddy_suggest *s, size_t max_d);

/* The same over a NULL-terminated list of names, for a NUL-terminated word. */
const char *eddy_suggest_among(const char *word, const char *const *names, size_t max_d);

#endif
