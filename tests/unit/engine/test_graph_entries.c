/* Building the graph from a config whose sources list holds an entry that
 * is not a mapping (`- ` alone, a scalar, a list): each is an error with
 * its path, and `eddy validate` once crashed on the first kind (a NULL
 * source name; found by tests/fuzz/fuzz_config.c). */
#include <string.h>

#include "engine/config/config.h"
#include "engine/graph.h"
#include "engine/runtime.h"
#include "tests/unit/test.h"

static void one(const char *sources_entry)
{
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "sources:\n  - %s\n  - {name: in, type: generator, count: 1}\n"
             "pipelines:\n  - {name: p, from: in, to: [{type: console}]}\n",
             sources_entry);
    eddy_cfg *cfg = eddy_cfg_load_string("g.yaml", yaml, strlen(yaml));
    CHECK(cfg && eddy_cfg_errors(cfg) == 0);
    if (!cfg)
        return;
    eddy_runtime *rt = eddy_runtime_build(cfg, true);
    CHECK_MSG(rt == NULL, "entry '%s' accepted", sources_entry);
    if (rt)
        eddy_runtime_free(rt);
    CHECK_MSG(eddy_cfg_errors(cfg) >= 1 && strstr(eddy_cfg_error(cfg, 0), "sources[0]"),
              "entry '%s': %s", sources_entry, eddy_cfg_errors(cfg) ? eddy_cfg_error(cfg, 0) : "");
    eddy_cfg_free(cfg);
}

int main(void)
{
    one("");
    one("# a comment only");
    one("just text");
    one("[1, 2]");
    return test_report();
}
