/* Operator registry: the built-in operators and those loaded from plugin
 * .so files, found by name. Loading checks the plugin's magic, ABI major,
 * binary signature and struct sizes before reading anything else, and refuses
 * a mismatch with a sentence that names the file and both versions.
 *
 * Owner: the registry is process-wide. It keeps a host-side copy of every
 * descriptor (zero-filled past what the plugin's older minor knew), and keeps
 * plugins dlopen'ed until eddy_ops_unload_all. Not thread-safe: load at
 * start-up, before processing threads run. */
#ifndef EDDY_PLUGIN_H
#define EDDY_PLUGIN_H
#include <stddef.h>

#include "engine/plugin_abi.h" /* EDDY_*_SIZE_1_0: the frozen boundaries */
#include "include/eddy/operator.h"

typedef struct eddy_opdef {
    eddy_op_descriptor d; /* host-side copy */
    const char *origin;   /* "built-in" or the .so path */
    unsigned abi_major, abi_minor;
    /* The descriptor reaches ABI 1.3's `requests`, so d.requests says which
     * operator requests it acts on; false for older plugins (unknown). */
    int declares_requests;
} eddy_opdef;

/* Registers the built-in operators (idempotent). */
void eddy_ops_init(void);
/* Loads one plugin file. 0, or <0 with the reason in err (names the file). */
int eddy_ops_load_file(const char *path, char *err, size_t errlen);
/* Loads every *.so in dir, in name order. Stops at the first failure. */
int eddy_ops_load_dir(const char *dir, char *err, size_t errlen);
/* The installed plugin directory (EDDY_PLUGINDIR, the kit's `plugindir`),
 * once, when it exists; 0 when it does not. */
int eddy_ops_load_default_dir(char *err, size_t errlen);
const eddy_opdef *eddy_ops_find(const char *name);
size_t eddy_ops_count(void);
const eddy_opdef *eddy_ops_at(size_t i);
void eddy_ops_unload_all(void);

/* Checks one plugin struct as a loader would (exposed for tests and for
 * `eddy operators --check FILE`). 0 or <0 with the reason. */
int eddy_plugin_check(const char *path, const eddy_plugin *p, char *err, size_t errlen);

#endif
