/* "Did you mean": edit distance and the nearest-name search (suggest.h). */
#include "lib/text/suggest.h"

#include <string.h>

static unsigned char fold(char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : (unsigned char)c;
}

size_t eddy_edit_distance(const char *a, size_t na, const char *b, size_t nb)
{
    if (na > EDDY_SUGGEST_MAX_LEN || nb > EDDY_SUGGEST_MAX_LEN)
        return EDDY_SUGGEST_FAR;
    /* Three rows of the table: a swap looks two rows back. */
    size_t rows[3][EDDY_SUGGEST_MAX_LEN + 1];
    size_t *two = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= nb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= na; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t best = prev[j - 1] + (fold(a[i - 1]) != fold(b[j - 1]));
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            if (i > 1 && j > 1 && fold(a[i - 1]) == fold(b[j - 2]) &&
                fold(a[i - 2]) == fold(b[j - 1]) && two[j - 2] + 1 < best)
                best = two[j - 2] + 1;
            cur[j] = best;
        }
        size_t *t = two;
        two = prev;
        prev = cur;
        cur = t;
    }
    return prev[nb];
}

size_t eddy_suggest_tolerance(size_t n)
{
    return n <= 4 ? 1 : n <= 8 ? 2 : 3;
}

void eddy_suggest_init(eddy_suggest *s, const char *word, size_t n)
{
    *s = (eddy_suggest){.word = word, .n = n, .best = NULL, .best_d = EDDY_SUGGEST_FAR};
}

void eddy_suggest_try(eddy_suggest *s, const char *candidate)
{
    size_t d = eddy_edit_distance(s->word, s->n, candidate, strlen(candidate));
    if (d < s->best_d) {
        s->best_d = d;
        s->best = candidate;
    }
}

const char *eddy_suggest_best(const eddy_suggest *s, size_t max_d)
{
    return s->best && s->best_d <= max_d ? s->best : NULL;
}

const char *eddy_suggest_among(const char *word, const char *const *names, size_t max_d)
{
    eddy_suggest s;
    eddy_suggest_init(&s, word, strlen(word));
    for (size_t i = 0; names && names[i]; i++)
        eddy_suggest_try(&s, names[i]);
    return eddy_suggest_best(&s, max_d);
}
