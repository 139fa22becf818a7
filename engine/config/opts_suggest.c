/* "did you mean" for unknown keys: the nearest known key (lib/text/suggest.h),
 * or the list of valid keys when none is near and the table is short. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/config/opts_int.h"
#include "lib/text/suggest.h"

#define LIST_MAX_KEYS 12   /* tables this short are listed in full */

void eddy_opt_suggest(const eddy_option *table, const char *const *skip, const char *key,
                      char *buf, size_t len)
{
    eddy_suggest s;
    size_t nkeys = 0;
    eddy_suggest_init(&s, key, strlen(key));
    for (size_t i = 0; table && table[i].name; i++, nkeys++)
        eddy_suggest_try(&s, table[i].name);
    for (size_t i = 0; skip && skip[i]; i++, nkeys++)
        eddy_suggest_try(&s, skip[i]);
    const char *best = eddy_suggest_best(&s, eddy_suggest_tolerance(strlen(key)));
    buf[0] = '\0';
    if (best) {
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
