/* Options parsed from a YAML mapping against an option table (the
 * eddy_option rows of include/eddy/operator.h). One table per operator,
 * connector and engine section drives parsing, validation, defaults,
 * `eddy describe` and docs/CONFIG.md.
 *
 * Owner: eddy_opts_parse returns an eddy_opts owned by the caller (free with
 * eddy_opts_free); strings it returns live as long as it. The table must
 * outlive the opts. */
#ifndef EDDY_OPTIONS_H
#define EDDY_OPTIONS_H
#include <stdbool.h>
#include <stdint.h>

#include "lib/buf/buf.h"
#include "engine/config/config.h"
#include "include/eddy/operator.h"

/* Validates `map` (a mapping node, or NULL meaning "no options given"):
 * every key must be in `table` or in `skip` (a NULL-terminated list of keys
 * the caller handles itself, may be NULL); unknown keys are errors that
 * suggest the nearest known key; each value is checked against its row
 * (type, range, enum); REQUIRED rows must be present; defaults fill the rest.
 * Errors are recorded in cfg with `path` as the prefix ("pipelines[0].steps[2].filter").
 * Returns NULL if any error was found. */
eddy_opts *eddy_opts_parse(eddy_cfg *cfg, const eddy_option *table, const eddy_cnode *map,
                           const char *path, const char *const *skip);
/* Options from defaults only, plus name=value pairs (for tests and tools).
 * NULL with a reason in err on any error. */
eddy_opts *eddy_opts_from_pairs(const eddy_option *table, const char *const *pairs,
                                size_t npairs, char *err, size_t errlen);
void eddy_opts_free(eddy_opts *o);

/* Accessors (also the host table's opt_* functions). Asking for a name not
 * in the table returns 0 / NULL. */
bool eddy_opts_has(const eddy_opts *o, const char *name); /* given or defaulted */
bool eddy_opts_given(const eddy_opts *o, const char *name); /* written in the config (or pairs) */
int eddy_opts_bool(const eddy_opts *o, const char *name);
int64_t eddy_opts_int(const eddy_opts *o, const char *name); /* int, duration (ms), size (bytes) */
double eddy_opts_double(const eddy_opts *o, const char *name);
const char *eddy_opts_str(const eddy_opts *o, const char *name);
uint32_t eddy_opts_count(const eddy_opts *o, const char *name);
const char *eddy_opts_item(const eddy_opts *o, const char *name, uint32_t i);
const char *eddy_opts_key(const eddy_opts *o, const char *name, uint32_t i);
/* "file:line:col" of the option's value ("" when it came from a default). */
const char *eddy_opts_where(const eddy_opts *o, const char *name);

/* Documentation from a table: markdown table rows for docs/CONFIG.md, or
 * aligned text for `eddy describe`. Secret defaults are never shown. */
int eddy_options_markdown(const eddy_option *table, eddy_buf *out);
int eddy_options_text(const eddy_option *table, eddy_buf *out);
const char *eddy_opt_type_name(eddy_opt_type t);

#endif
