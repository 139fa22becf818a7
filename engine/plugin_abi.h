/* The frozen boundaries of the operator plugin ABI: how many bytes of each
 * boundary struct a given minor defines. The loader (engine/plugin.c) refuses
 * a plugin struct shorter than its 1.0 size; the host (engine/host.c,
 * engine/host_alert.c) reads a plugin's eddy_alert only up to what 1.1
 * defined.
 *
 * Each size is written from the shape the minor shipped (header bytes plus a
 * count of pointers), never with offsetof/sizeof on today's
 * include/eddy/operator.h: moving or inserting a field there must not move a
 * boundary that plugins already built rely on. The value on LP64 is in each
 * comment; tests/unit/include/ asserts every field's offset, size and type of
 * every minor against literal tables and against the 1.0 header itself.
 *
 * Adding a minor (1.4): append the fields in operator.h, add the 1.3 sizes
 * here, update the "current minor" checks below and extend
 * tests/unit/include/abi_layout.h. The checks below fail the engine's build until
 * that is done. */
#ifndef EDDY_PLUGIN_ABI_H
#define EDDY_PLUGIN_ABI_H
#include <stddef.h>

#include "include/eddy/operator.h"

/* eddy_host: struct_size, abi_major, abi_minor (8 bytes), then functions.
 * Unchanged in 1.3. */
#define EDDY_HOST_SIZE_1_0 (8u + 44u * sizeof(void *)) /* 360: alloc .. ctx_watermark */
#define EDDY_HOST_SIZE_1_1 (8u + 47u * sizeof(void *)) /* 384: + alert, metric_labels, ctx_requests */
#define EDDY_HOST_SIZE_1_2 (8u + 51u * sizeof(void *)) /* 416: + state_write, state_put, state_get, state_del */

/* eddy_op_descriptor: struct_size, reserved_ (8 bytes), name, version,
 * summary, options, then 7 functions (create .. destroy). Unchanged in 1.1. */
#define EDDY_OP_DESCRIPTOR_SIZE_1_0 (8u + 11u * sizeof(void *)) /* 96 */
/* 1.2 appends state_flags, reserved12_ (8 bytes) and 3 functions
 * (state_flush, state_load, state_loaded). */
#define EDDY_OP_DESCRIPTOR_SIZE_1_2 (16u + 14u * sizeof(void *)) /* 128 */
/* 1.3 appends requests (a pointer to NULL-terminated names). */
#define EDDY_OP_DESCRIPTOR_SIZE_1_3 (16u + 15u * sizeof(void *)) /* 136 */

/* eddy_plugin: magic, abi_major, abi_minor, struct_size, signature,
 * n_operators (24 bytes), then the operators pointer. Unchanged in 1.1. */
#define EDDY_PLUGIN_SIZE_1_0 (24u + sizeof(void *)) /* 32 */

/* eddy_alert (new in 1.1): struct_size, breach (8 bytes), 4 strings, 3
 * doubles, severity, reserved_ (8 bytes), 7 int64 (time .. reference_n): the
 * host accepts an alert that ends there, without its last field, message. */
#define EDDY_ALERT_MIN_SIZE_1_1 (96u + 4u * sizeof(void *)) /* 128: up to message */

/* The current minor: today's header must be exactly the newest frozen shape.
 * (Field by field, and on LP64 in literal bytes, in tests/unit/include/.) */
_Static_assert(EDDY_ABI_MAJOR == 1 && EDDY_ABI_MINOR == 3,
               "include/eddy/operator.h changed the ABI version: freeze the new minor's sizes "
               "in engine/plugin_abi.h and its fields in tests/unit/include/abi_layout.h");
_Static_assert(sizeof(eddy_host) == EDDY_HOST_SIZE_1_2,
               "eddy_host is not the frozen ABI 1.2 (and 1.3) size: appending needs a new minor "
               "(engine/plugin_abi.h, tests/unit/include/abi_layout.h); moving a field needs a new major");
_Static_assert(offsetof(eddy_host, ctx_requests) + sizeof(void *) == EDDY_HOST_SIZE_1_1,
               "eddy_host: the ABI 1.1 functions no longer end at ctx_requests");
_Static_assert(offsetof(eddy_host, ctx_watermark) + sizeof(void *) == EDDY_HOST_SIZE_1_0,
               "eddy_host: the ABI 1.0 functions no longer end at ctx_watermark");
_Static_assert(sizeof(eddy_op_descriptor) == EDDY_OP_DESCRIPTOR_SIZE_1_3,
               "eddy_op_descriptor is not the frozen ABI 1.3 size");
_Static_assert(offsetof(eddy_op_descriptor, state_loaded) + sizeof(void *) ==
                   EDDY_OP_DESCRIPTOR_SIZE_1_2,
               "eddy_op_descriptor: the ABI 1.2 fields no longer end at state_loaded");
_Static_assert(offsetof(eddy_op_descriptor, destroy) + sizeof(void *) == EDDY_OP_DESCRIPTOR_SIZE_1_0,
               "eddy_op_descriptor: the ABI 1.0 functions no longer end at destroy");
_Static_assert(offsetof(eddy_plugin, operators) + sizeof(void *) == EDDY_PLUGIN_SIZE_1_0,
               "eddy_plugin: operators is no longer the last field of the frozen ABI 1.0 layout");
_Static_assert(offsetof(eddy_alert, message) == EDDY_ALERT_MIN_SIZE_1_1,
               "eddy_alert: message is no longer at the frozen ABI 1.1 offset");

#endif
