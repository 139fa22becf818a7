/* A host for driving operators directly in tests and benchmarks. It starts
 * from the engine's own host table (engine/host.c), so records, batches,
 * symbols and memory go through the real functions, and replaces only what
 * needs a running pipeline: options come from a plain table (tconf) instead
 * of YAML, and each user sets its own log, output, timer and metric
 * functions on the copy. */
#ifndef EDDY_TESTHOST_H
#define EDDY_TESTHOST_H
#include <stdlib.h>
#include <string.h>

#include "include/eddy/operator.h"

/* engine/host.c (declared in exec.h, whose struct eddy_ctx a test replaces
 * with its own). */
extern const eddy_host eddy_host_table;

typedef struct topt {
    const char *name, *str;
    const char *const *keys, *const *items; /* map keys; list or map items */
    uint32_t n;
} topt;

#define TOPT_MAX 24
/* Options by name. Either filled through conf_* (n counts them) or written
 * as a literal ending at the first row without a name (n == 0). */
typedef struct tconf {
    topt o[TOPT_MAX];
    int n;
} tconf;

static inline void conf_set(tconf *c, const char *name, const char *v)
{
    c->o[c->n++] = (topt){name, v, NULL, NULL, 0};
}
static inline void conf_list(tconf *c, const char *name, const char *const *items, uint32_t n)
{
    c->o[c->n++] = (topt){name, "", NULL, items, n};
}
static inline void conf_map(tconf *c, const char *name, const char *const *keys,
                            const char *const *items, uint32_t n)
{
    c->o[c->n++] = (topt){name, "", keys, items, n};
}

static inline const topt *tconf_find(const eddy_opts *o, const char *name)
{
    const tconf *t = (const tconf *)(const void *)o;
    for (int i = 0; i < TOPT_MAX && (t->n ? i < t->n : t->o[i].name != NULL); i++)
        if (strcmp(t->o[i].name, name) == 0)
            return &t->o[i];
    return NULL;
}
static inline const char *topt_str(const eddy_opts *o, const char *name)
{
    const topt *t = tconf_find(o, name);
    return t ? t->str : NULL;
}
static inline int64_t topt_int(const eddy_opts *o, const char *name)
{
    const topt *t = tconf_find(o, name);
    return t && t->str ? strtoll(t->str, NULL, 10) : 0;
}
static inline double topt_double(const eddy_opts *o, const char *name)
{
    const topt *t = tconf_find(o, name);
    return t && t->str ? strtod(t->str, NULL) : 0;
}
static inline int topt_bool(const eddy_opts *o, const char *name)
{
    const topt *t = tconf_find(o, name);
    return t && t->str && strcmp(t->str, "true") == 0;
}
static inline uint32_t topt_count(const eddy_opts *o, const char *name)
{
    const topt *t = tconf_find(o, name);
    return t ? t->n : 0;
}
static inline const char *topt_item(const eddy_opts *o, const char *name, uint32_t i)
{
    const topt *t = tconf_find(o, name);
    return t && i < t->n ? t->items[i] : NULL;
}
static inline const char *topt_key(const eddy_opts *o, const char *name, uint32_t i)
{
    const topt *t = tconf_find(o, name);
    return t && t->keys && i < t->n ? t->keys[i] : NULL;
}

/* The engine's host table with options read from a tconf. */
static inline eddy_host testhost_base(void)
{
    eddy_host h = eddy_host_table;
    h.opt_str = topt_str;
    h.opt_int = topt_int;
    h.opt_double = topt_double;
    h.opt_bool = topt_bool;
    h.opt_count = topt_count;
    h.opt_item = topt_item;
    h.opt_key = topt_key;
    return h;
}

#endif
