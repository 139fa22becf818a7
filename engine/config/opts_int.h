/* Internals of eddy_opts, shared by parsing (opts_parse.c), value checks
 * (opts_value.c), accessors (opts_get.c). */
#ifndef EDDY_OPTS_INTERNAL_H
#define EDDY_OPTS_INTERNAL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/core/arena.h"
#include "engine/config/options.h"

typedef struct eddy_opt_value {
    bool set;
    bool given;         /* present in the input, even if its value was bad */
    int64_t i;          /* bool, int, duration (ms), size (bytes) */
    double d;           /* double (also int, as a double) */
    const char *s;      /* the scalar's text, copied */
    uint32_t count;     /* list / map */
    const char **items; /* list items, map values */
    const char **keys;  /* map keys */
    const char *where;  /* "file:line:col", "" for a default */
} eddy_opt_value;

struct eddy_opts {
    const eddy_option *table;
    size_t n;
    eddy_opt_value *v;
    eddy_arena arena; /* every string the opts hand out */
    const char *base_dir; /* the config file's folder ("dir/" or ""), for EDDY_OPT_PATH */
};

eddy_opts *eddy_opts_new(const eddy_option *table);
/* Row index of `name`, or -1. */
long eddy_opts_row(const eddy_opts *o, const char *name);

/* Checks a scalar's text against row r and stores it. On failure the
 * message ("expected ..., found ...") is in err and -1 is returned; a value
 * that is secret (or of a SECRET row) is shown as <secret>. */
int eddy_opt_set_scalar(eddy_opts *o, size_t r, const char *text, bool secret, const char *where,
                        char *err, size_t errlen);
/* Stores a list (keys NULL) or a map; the strings are copied. -1 when out
 * of memory. */
int eddy_opt_set_items(eddy_opts *o, size_t r, const char *const *keys, const char *const *items,
                       size_t n, const char *where);
/* LIST "a,b" / MAP "k:v,k2:v2" (brackets and quotes as in YAML flow style
 * allowed) for defaults and eddy_opts_from_pairs. */
int eddy_opt_set_text_items(eddy_opts *o, size_t r, const char *text, const char *where,
                            char *err, size_t errlen);
/* Fills row r from its default, if it has one. A default that does not
 * parse is a bug in the table: -1 with the reason in err. */
int eddy_opt_default(eddy_opts *o, size_t r, char *err, size_t errlen);

/* "what was expected" for row r, e.g. "a duration like 500ms or 5m". */
const char *eddy_opt_expected(const eddy_option *row, char *buf, size_t len);
/* "; did you mean 'x'?" or "; valid keys: a, b" or "". */
void eddy_opt_suggest(const eddy_option *table, const char *const *skip, const char *key,
                      char *buf, size_t len);
/* A duration (ms) or size (bytes) bound written back with the largest exact
 * unit; a plain number otherwise. */
void eddy_opt_format_bound(const eddy_option *row, double v, char *buf, size_t len);

#endif
