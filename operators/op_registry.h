/* Built-in operators: descriptors written against the same ABI as plugins. */
#ifndef EDDY_OPERATORS_REGISTRY_H
#define EDDY_OPERATORS_REGISTRY_H
#include "include/eddy/operator.h"

/* NULL-terminated. */
extern const eddy_op_descriptor *const eddy_builtin_operators[];

#endif
