/* libFuzzer: the config loader (engine/config: YAML through libfyaml,
 * nodes, ${ENV} and file: resolution) and, for a document that loads,
 * everything `eddy validate` checks (engine/graph.c: sections, option
 * tables, operators created once, expressions), without opening any
 * connector. Every error must say something. */
#include <fcntl.h>

#include "engine/config/config.h"
#include "engine/graph.h"
#include "engine/obs/log.h"
#include "engine/runtime.h"
#include "tests/fuzz/fuzz.h"

static void check_errors(const eddy_cfg *cfg)
{
    for (size_t i = 0; i < eddy_cfg_errors(cfg); i++) {
        const char *e = eddy_cfg_error(cfg, i);
        FUZZ_CHECK(e && *e, "empty error %zu", i);
    }
}

/* worker.plugin_dirs would dlopen whatever the input names. Keys are read
 * as the graph reads them (escapes, ${ENV}), every duplicate included. */
static int loads_plugins(eddy_cfg *cfg)
{
    eddy_cnode *root = eddy_cfg_root(cfg);
    for (size_t i = 0; i < eddy_cnode_map_len(root); i++) {
        const char *k = eddy_cnode_map_key(cfg, root, i, NULL);
        eddy_cnode *w = eddy_cnode_map_value(root, i);
        for (size_t j = 0; k && strcmp(k, "worker") == 0 && j < eddy_cnode_map_len(w); j++) {
            const char *wk = eddy_cnode_map_key(cfg, w, j, NULL);
            if (!wk || strstr(wk, "plugin"))
                return 1;
        }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int once;
    if (!once) {
        once = 1;
        eddy_log_setup(EDDY_LOG_ERROR, EDDY_LOGFMT_LOGFMT, open("/dev/null", O_WRONLY));
    }
    eddy_cfg *cfg = eddy_cfg_load_string("fuzz.yaml", (const char *)data, size);
    FUZZ_CHECK(cfg, "load_string returned NULL");
    check_errors(cfg);
    if (!eddy_cfg_errors(cfg) && !loads_plugins(cfg)) {
        eddy_runtime *rt = eddy_runtime_build(cfg, true);
        check_errors(cfg);
        FUZZ_CHECK(rt || eddy_cfg_errors(cfg), "the graph failed without an error");
        if (rt)
            eddy_runtime_free(rt);
    }
    eddy_cfg_free(cfg);
    return 0;
}
