/* Look-ups over the generated built-in tables (engine/registry.h): connectors
 * by `type:` (declared in engine/connector.h) and left-out features. */
#include "engine/registry.h"

#include <string.h>

const eddy_source_ops *eddy_source_find(const char *type)
{
    if (!type)
        return NULL;
    for (const eddy_source_ops *const *s = eddy_builtin_sources(); *s; s++)
        if (strcmp((*s)->type, type) == 0)
            return *s;
    return NULL;
}

const eddy_sink_ops *eddy_sink_find(const char *type)
{
    if (!type)
        return NULL;
    for (const eddy_sink_ops *const *s = eddy_builtin_sinks(); *s; s++)
        if (strcmp((*s)->type, type) == 0)
            return *s;
    return NULL;
}

const eddy_source_ops *const *eddy_sources_all(void) { return eddy_builtin_sources(); }
const eddy_sink_ops *const *eddy_sinks_all(void) { return eddy_builtin_sinks(); }

const char *eddy_left_out_reason(const char *kind, const char *name)
{
    if (!kind || !name)
        return NULL;
    for (const eddy_left_out *l = eddy_builtin_left_out(); l->kind; l++)
        if (strcmp(l->kind, kind) == 0 && strcmp(l->name, name) == 0)
            return l->reason;
    return NULL;
}
