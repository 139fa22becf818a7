/* Process-wide table of interned field names. A symbol is a small integer;
 * comparing fields is comparing integers. Symbols are never freed. The table
 * is bounded (EDDY_SYM_MAX): input with ever-new field names gets an error,
 * not unbounded memory. Thread-safe. */
#ifndef EDDY_SYM_H
#define EDDY_SYM_H
#include <stddef.h>
#include "include/eddy/operator.h"

#define EDDY_SYM_MAX (1u << 20)

/* 0 when the table is full (or len is 0). */
eddy_sym eddy_sym_intern(const char *name, size_t len);
/* 0 when `name` was never interned; never adds. */
eddy_sym eddy_sym_lookup(const char *name, size_t len);
/* NUL-terminated; "" for 0 or unknown. */
const char *eddy_sym_name(eddy_sym s);
size_t eddy_sym_len(eddy_sym s);
uint32_t eddy_sym_count(void);

/* Per-decoder cache: records of one stream tend to repeat their field names
 * in the same order, so slot i remembers the name seen at position i and a
 * memcmp replaces the locked global lookup. Owner: the decoder. */
#define EDDY_SYMCACHE_SLOTS 64
typedef struct eddy_symcache {
    eddy_sym sym[EDDY_SYMCACHE_SLOTS];
} eddy_symcache;

static inline eddy_sym eddy_symcache_get(eddy_symcache *c, unsigned pos, const char *name,
                                         size_t len)
{
    if (pos < EDDY_SYMCACHE_SLOTS) {
        eddy_sym s = c->sym[pos];
        if (s && eddy_sym_len(s) == len && __builtin_memcmp(eddy_sym_name(s), name, len) == 0)
            return s;
        s = eddy_sym_intern(name, len);
        c->sym[pos] = s;
        return s;
    }
    return eddy_sym_intern(name, len);
}

#endif
