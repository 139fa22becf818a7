/* Configuration: one YAML file (libfyaml), read into a tree of nodes that
 * remember their file, line and column.
 *
 * Every error names file:line:col, the key, what was expected and what was
 * found, e.g.
 *   pipeline.yaml:12:7: pipelines[0].steps[1].filter.where: expected an
 *   expression, found a mapping
 * Errors are collected (not only the first), so `eddy validate` can list all.
 *
 * Scalar values are resolved when read: "${NAME}" is replaced by the
 * environment variable (an error if unset), and a whole value "file:/path"
 * by that file's contents without the trailing newline. Values resolved this
 * way are secrets: they are never logged or printed (see eddy_cnode_secret).
 *
 * Owner: eddy_cfg owns the document and every node and string it returns;
 * they live until eddy_cfg_free. */
#ifndef EDDY_CONFIG_H
#define EDDY_CONFIG_H

/* Limits of every configuration read (file, string): a real config is a few
 * KB and a few levels deep. Without them a YAML nested 50,000 deep took 3 GB
 * (a path per level) and `validate -c /dev/zero` read forever. */
#define EDDY_CFG_MAX_BYTES ((size_t)16 << 20)
#define EDDY_CFG_MAX_DEPTH 64
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "include/eddy/operator.h"

typedef struct eddy_cfg eddy_cfg;
typedef struct eddy_cnode eddy_cnode; /* a node of the document (opaque) */

typedef enum eddy_cnode_kind {
    EDDY_CNODE_SCALAR = 0,
    EDDY_CNODE_SEQ = 1,
    EDDY_CNODE_MAP = 2,
    EDDY_CNODE_NULL = 3 /* "~", "null" or an empty value */
} eddy_cnode_kind;

/* Loads and parses. Returns NULL only when out of memory; otherwise check
 * eddy_cfg_errors() (a YAML syntax error is reported with its position). */
eddy_cfg *eddy_cfg_load(const char *path);
/* Same, from a string; `name` stands in for the file name in errors. */
eddy_cfg *eddy_cfg_load_string(const char *name, const char *yaml, size_t len);
void eddy_cfg_free(eddy_cfg *cfg);

const char *eddy_cfg_path(const eddy_cfg *cfg);
/* The folder of the configuration file, with a trailing '/' ("" when read
 * from a string or from the working directory). */
const char *eddy_cfg_base_dir(const eddy_cfg *cfg);
eddy_cnode *eddy_cfg_root(eddy_cfg *cfg); /* NULL for an empty document */

/* Errors so far, each one line "file:line:col: path: message". */
size_t eddy_cfg_errors(const eddy_cfg *cfg);
const char *eddy_cfg_error(const eddy_cfg *cfg, size_t i);
/* Records an error at node n (or the document when n is NULL). `path` is the
 * dotted key path shown to the user ("sources[0].format"). */
void eddy_cfg_fail(eddy_cfg *cfg, const eddy_cnode *n, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

eddy_cnode_kind eddy_cnode_kind_of(const eddy_cnode *n);
const char *eddy_cnode_kind_name(const eddy_cnode *n); /* "a mapping", "a sequence", ... */
/* "file:line:col" of the node, in a buffer owned by the caller. */
void eddy_cnode_where(const eddy_cfg *cfg, const eddy_cnode *n, char *buf, size_t len);
int eddy_cnode_line(const eddy_cnode *n);
int eddy_cnode_col(const eddy_cnode *n);

/* Mappings. */
size_t eddy_cnode_map_len(const eddy_cnode *map);
/* i-th pair in document order; the key's text (NUL-terminated, owned by cfg). */
const char *eddy_cnode_map_key(eddy_cfg *cfg, const eddy_cnode *map, size_t i,
                               eddy_cnode **key_node);
eddy_cnode *eddy_cnode_map_value(const eddy_cnode *map, size_t i);
eddy_cnode *eddy_cnode_get(const eddy_cnode *map, const char *key); /* NULL if absent */

/* Sequences. */
size_t eddy_cnode_seq_len(const eddy_cnode *seq);
eddy_cnode *eddy_cnode_seq_at(const eddy_cnode *seq, size_t i);

/* A scalar's resolved text (NUL-terminated, owned by cfg). On a failed
 * ${ENV} / file: resolution records an error at `path` and returns NULL.
 * NULL for a non-scalar (no error recorded: callers say what they expected). */
const char *eddy_cnode_str(eddy_cfg *cfg, const eddy_cnode *n, const char *path);
/* True when the scalar came from ${ENV} or file: (never print it). */
bool eddy_cnode_secret(const eddy_cnode *n);

/* Units. Durations: integer or decimal number with ns|us|ms|s|m|h|d|w
 * (a bare number is milliseconds), result in milliseconds, rounded down,
 * at least 1 for a positive sub-millisecond value. Sizes: number with
 * B|kB|MB|GB|TB (powers of 1000) or KiB|MiB|GiB|TiB (powers of 1024), a bare
 * number is bytes. 0, or -1 with the reason in err ("unknown unit 'mn' in
 * '5mn'; expected ms, s, m, h, d or w"). */
int eddy_parse_duration(const char *s, int64_t *ms, char *err, size_t errlen);
int eddy_parse_size(const char *s, int64_t *bytes, char *err, size_t errlen);
int eddy_parse_bool(const char *s, int *out);  /* true/false/yes/no/on/off/1/0 */
int eddy_parse_int(const char *s, int64_t *out);
int eddy_parse_double(const char *s, double *out);

#endif
