/* The built-in sources, sinks and operators of this build, and what the build
 * left out. The tables are generated at build time (scripts/gen-registry.py)
 * from the symbols each connectors/<x>/meson.build and operators/<x>/meson.build
 * lists, so the engine names no connector or operator: adding one is a line in
 * its folder's meson.build. Connector look-up by `type:` is in engine/connector.h
 * (eddy_source_find, ...); the operator registry in engine/plugin.h. */
#ifndef EDDY_REGISTRY_H
#define EDDY_REGISTRY_H

#include "engine/connector.h"
#include "include/eddy/operator.h"

/* NULL-terminated, in the order of the meson.build files (the order of
 * `eddy describe --all`). Generated. */
const eddy_source_ops *const *eddy_builtin_sources(void);
const eddy_sink_ops *const *eddy_builtin_sinks(void);
const eddy_op_descriptor *const *eddy_builtin_operators(void);

/* Something a config may name that this build left out (a meson feature
 * option was off): kind is "source", "sink", or the option a value belongs
 * to ("format"); name is the type or value ("webhook", "avro"); reason says
 * which library and option ("built without libcurl: meson option
 * -Dwebhook=disabled"). Generated; terminated by a row of NULLs. */
typedef struct eddy_left_out {
    const char *kind;
    const char *name;
    const char *reason;
} eddy_left_out;
const eddy_left_out *eddy_builtin_left_out(void);

/* The reason `name` of `kind` is not in this build, or NULL when it is not
 * a left-out feature (built in, or simply unknown). */
const char *eddy_left_out_reason(const char *kind, const char *name);

#endif
