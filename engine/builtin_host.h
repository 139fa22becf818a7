/* The one engine interface that built-in operators (operators/) may use
 * besides the plugin ABI (include/eddy/operator.h). It exists for what a
 * host table function would be too heavy for while the ABI is frozen, and
 * it is the named exception in the dependency rules (docs/ARCHITECTURE.md,
 * "Dependency rules"): an operator that uses it can no longer be built as
 * a plugin. Implemented in engine/builtin_host.c; everything here speaks
 * only ABI types, so no engine internals leak into operators/.
 *
 * Keep it small: each addition is a candidate for the next ABI minor. */
#ifndef EDDY_BUILTIN_HOST_H
#define EDDY_BUILTIN_HOST_H
#include <stddef.h>
#include <stdint.h>

#include "include/eddy/operator.h"

/* What eddy_builtin_read_file saw, besides the records it passed on. */
typedef struct eddy_builtin_read_stats {
    uint64_t records;     /* decoded records passed to on_record */
    uint64_t bad;         /* records that failed to decode (skipped) */
    char first_bad[256];  /* "record <offset>: <reason>" of the first bad one */
} eddy_builtin_read_stats;

/* Called once per decoded record, in file order. Read r with the host's
 * record_* functions; r is valid only during the call. Return 0 to go on,
 * <0 to stop the read (the caller has written its own reason). */
typedef int (*eddy_builtin_record_fn)(void *arg, const eddy_record *r);

/* Reads every record of the file at `path` in `format` (NULL: json; any
 * format a file source reads) through the file source connector, so a
 * reference file and a source agree on what a record is. Records that fail
 * to decode are counted in *st, not passed on and not fatal. `what` names
 * the file in refusal sentences (e.g. "reference_file"). Returns 0, or -1
 * with a reason in err: no file connector in this build, bad options, the
 * file cannot be opened or read, out of memory, or on_record stopped it. */
int eddy_builtin_read_file(const char *what, const char *path, const char *format,
                           eddy_builtin_record_fn on_record, void *arg,
                           eddy_builtin_read_stats *st, char *err, size_t errlen);

#endif
