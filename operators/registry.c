#include "registry.h"

#include "basic/basic.h"
#include "window/window.h"

/* Built-ins go through the same descriptor checks as plugins (plugin.c). */
const eddy_op_descriptor *const eddy_builtin_operators[] = {
    &eddy_op_filter,
    &eddy_op_project,
    &eddy_op_window,
    NULL,
};
