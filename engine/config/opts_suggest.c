/* "did you mean" for unknown keys: the nearest known key by edit distance
 * (with transpositions, since "fromat" is one slip, not two). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/config/opts_int.h"

#define NAME_MAX_LEN 64    /* longer keys are not typos worth fixing */
#define LIST_MAX_KEYS 12   /* tables this short are listed in full */

static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > NAME_MAX_LEN || lb > NAME_MAX_LEN)
        return (size_t)-1;
    size_t d[NAME_MAX_LEN + 1][NAME_MAX_LEN + 1];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best)
                best = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

/* How far a typo may go: one slip in a short name, up to three in a long. */
static size_t tolerance(const char *key)
{
    size_t n = strlen(key);
    return n <= 4 ? 1 : n <= 8 ? 2 : 3;
}

void eddy_opt_suggest(const eddy_option *table, const char *const *skip, const char *key,
                      char *buf, size_t len)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1, nkeys = 0;
    for (size_t i = 0; table && table[i].name; i++, nkeys++) {
        size_t d = distance(key, table[i].name);
        if (d < best_d) {
            best_d = d;
            best = table[i].name;
        }
    }
    for (size_t i = 0; skip && skip[i]; i++, nkeys++) {
        size_t d = distance(key, skip[i]);
        if (d < best_d) {
            best_d = d;
            best = skip[i];
        }
    }
    buf[0] = '\0';
    if (best && best_d <= tolerance(key)) {
        snprintf(buf, len, "; did you mean '%s'?", best);
        return;
    }
    if (nkeys == 0) {
        snprintf(buf, len, "; no keys are accepted here");
        return;
    }
    if (nkeys > LIST_MAX_KEYS)
        return;
    size_t ntable = 0;
    while (table && table[ntable].name)
        ntable++;
    size_t o = (size_t)snprintf(buf, len, "; valid keys: ");
    for (size_t i = 0; o < len && i < nkeys; i++) {
        const char *name = i < ntable ? table[i].name : skip[i - ntable];
        o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "", name);
    }
}
