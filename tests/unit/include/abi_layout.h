/* The frozen layouts of the operator plugin ABI, one table per minor, for
 * LP64 (x86_64, aarch64: 8-byte pointers, longs, int64 and double alignment).
 *
 * Every field of every struct that crosses the plugin boundary, with the
 * offset, size and type it had when its minor shipped. The numbers are
 * literal on purpose: they are the contract with plugins already built, and
 * must never be recomputed from today's header. test_abi_layout.c asserts
 * include/eddy/operator.h against every table; abi_fixture_1_0.c asserts the
 * 1.0 table against the literal 1.0 header kept in
 * tests/fixtures/abi/eddy-1.0/eddy/operator.h.
 *
 * When a minor appends fields (1.4), add an EDDY_ABI_LAYOUT_1_4 table with
 * the new fields only, an EDDY_ABI_SIZES_1_4 table, and check both in
 * test_abi_layout.c; never edit a row of an older table.
 *
 * X(minor, struct, field, offset, size, type) */
#ifndef EDDY_TEST_ABI_LAYOUT_H
#define EDDY_TEST_ABI_LAYOUT_H
#include <stddef.h>
#include <stdint.h>

#define EDDY_ABI_LAYOUT_1_0(X)                                                                      \
    X("1.0", eddy_value, type, 0, 1, uint8_t)                                                       \
    X("1.0", eddy_value, reserved_, 1, 3, uint8_t[3])                                               \
    X("1.0", eddy_value, len, 4, 4, uint32_t)                                                       \
    X("1.0", eddy_value, u.i, 8, 8, int64_t)                                                        \
    X("1.0", eddy_value, u.d, 8, 8, double)                                                         \
    X("1.0", eddy_value, u.b, 8, 4, int)                                                            \
    X("1.0", eddy_value, u.s, 8, 8, const char *)                                                   \
    X("1.0", eddy_value, u.bytes, 8, 8, const uint8_t *)                                            \
    X("1.0", eddy_value, u.items, 8, 8, const struct eddy_value *)                                  \
    X("1.0", eddy_value, u.kvs, 8, 8, const struct eddy_kv *)                                       \
    X("1.0", eddy_kv, key, 0, 16, eddy_value)                                                       \
    X("1.0", eddy_kv, val, 16, 16, eddy_value)                                                      \
    X("1.0", eddy_field, name, 0, 4, eddy_sym)                                                      \
    X("1.0", eddy_field, reserved_, 4, 4, uint32_t)                                                 \
    X("1.0", eddy_field, v, 8, 16, eddy_value)                                                      \
    X("1.0", eddy_option, name, 0, 8, const char *)                                                 \
    X("1.0", eddy_option, type, 8, 4, eddy_opt_type)                                                \
    X("1.0", eddy_option, default_value, 16, 8, const char *)                                       \
    X("1.0", eddy_option, min, 24, 8, double)                                                       \
    X("1.0", eddy_option, max, 32, 8, double)                                                       \
    X("1.0", eddy_option, enum_values, 40, 8, const char *)                                         \
    X("1.0", eddy_option, flags, 48, 4, uint32_t)                                                   \
    X("1.0", eddy_option, description, 56, 8, const char *)                                         \
    X("1.0", eddy_host, struct_size, 0, 4, uint32_t)                                                \
    X("1.0", eddy_host, abi_major, 4, 2, uint16_t)                                                  \
    X("1.0", eddy_host, abi_minor, 6, 2, uint16_t)                                                  \
    X("1.0", eddy_host, alloc, 8, 8, void *(*)(size_t))                                             \
    X("1.0", eddy_host, realloc, 16, 8, void *(*)(void *, size_t))                                  \
    X("1.0", eddy_host, free, 24, 8, void (*)(void *))                                              \
    X("1.0", eddy_host, batch_alloc, 32, 8, void *(*)(eddy_batch *, size_t))                        \
    X("1.0", eddy_host, log, 40, 8, void (*)(eddy_ctx *, eddy_log_level, const char *, ...))        \
    X("1.0", eddy_host, intern, 48, 8, eddy_sym (*)(const char *, size_t))                          \
    X("1.0", eddy_host, sym_name, 56, 8, const char *(*)(eddy_sym))                                 \
    X("1.0", eddy_host, batch_count, 64, 8, uint32_t (*)(const eddy_batch *))                       \
    X("1.0", eddy_host, batch_get, 72, 8, eddy_record *(*)(eddy_batch *, uint32_t))                 \
    X("1.0", eddy_host, batch_append, 80, 8, eddy_record *(*)(eddy_batch *))                        \
    X("1.0", eddy_host, batch_drop, 88, 8, void (*)(eddy_batch *, uint32_t))                        \
    X("1.0", eddy_host, batch_partition, 96, 8, int32_t (*)(const eddy_batch *))                    \
    X("1.0", eddy_host, record_time, 104, 8, int64_t (*)(const eddy_record *))                      \
    X("1.0", eddy_host, record_set_time, 112, 8, void (*)(eddy_record *, int64_t))                  \
    X("1.0", eddy_host, record_key, 120, 8, const eddy_value *(*)(const eddy_record *))             \
    X("1.0", eddy_host, record_set_key, 128, 8, void (*)(eddy_record *, const eddy_value *))        \
    X("1.0", eddy_host, record_get, 136, 8, const eddy_value *(*)(const eddy_record *, eddy_sym))   \
    X("1.0", eddy_host, record_set, 144, 8, int (*)(eddy_batch *, eddy_record *, eddy_sym, const eddy_value *)) \
    X("1.0", eddy_host, record_remove, 152, 8, int (*)(eddy_record *, eddy_sym))                    \
    X("1.0", eddy_host, record_fields, 160, 8, const eddy_field *(*)(const eddy_record *, uint32_t *)) \
    X("1.0", eddy_host, record_source, 168, 8, void (*)(const eddy_record *, const char **, int32_t *, int64_t *)) \
    X("1.0", eddy_host, batch_string, 176, 8, eddy_value (*)(eddy_batch *, const char *, size_t))   \
    X("1.0", eddy_host, record_copy, 184, 8, int (*)(eddy_batch *, eddy_record *, const eddy_record *)) \
    X("1.0", eddy_host, emit_batch, 192, 8, eddy_batch *(*)(eddy_ctx *))                            \
    X("1.0", eddy_host, emit, 200, 8, int (*)(eddy_ctx *, eddy_batch *))                            \
    X("1.0", eddy_host, reject, 208, 8, int (*)(eddy_ctx *, eddy_batch *, uint32_t, const char *))  \
    X("1.0", eddy_host, timer_set, 216, 8, int (*)(eddy_ctx *, uint64_t, int64_t, int))             \
    X("1.0", eddy_host, timer_cancel, 224, 8, int (*)(eddy_ctx *, uint64_t))                        \
    X("1.0", eddy_host, now_ms, 232, 8, int64_t (*)(void))                                          \
    X("1.0", eddy_host, metric, 240, 8, eddy_metric *(*)(eddy_ctx *, const char *, const char *, eddy_metric_kind)) \
    X("1.0", eddy_host, metric_add, 248, 8, void (*)(eddy_metric *, double))                        \
    X("1.0", eddy_host, metric_set, 256, 8, void (*)(eddy_metric *, double))                        \
    X("1.0", eddy_host, opt_bool, 264, 8, int (*)(const eddy_opts *, const char *))                 \
    X("1.0", eddy_host, opt_int, 272, 8, int64_t (*)(const eddy_opts *, const char *))              \
    X("1.0", eddy_host, opt_double, 280, 8, double (*)(const eddy_opts *, const char *))            \
    X("1.0", eddy_host, opt_str, 288, 8, const char *(*)(const eddy_opts *, const char *))          \
    X("1.0", eddy_host, opt_count, 296, 8, uint32_t (*)(const eddy_opts *, const char *))           \
    X("1.0", eddy_host, opt_item, 304, 8, const char *(*)(const eddy_opts *, const char *, uint32_t)) \
    X("1.0", eddy_host, opt_key, 312, 8, const char *(*)(const eddy_opts *, const char *, uint32_t)) \
    X("1.0", eddy_host, ctx_pipeline, 320, 8, const char *(*)(const eddy_ctx *))                    \
    X("1.0", eddy_host, ctx_step, 328, 8, const char *(*)(const eddy_ctx *))                        \
    X("1.0", eddy_host, ctx_partition, 336, 8, int32_t (*)(const eddy_ctx *))                       \
    X("1.0", eddy_host, emit_side, 344, 8, int (*)(eddy_ctx *, const char *, eddy_batch *))         \
    X("1.0", eddy_host, ctx_watermark, 352, 8, int64_t (*)(const eddy_ctx *))                       \
    X("1.0", eddy_op_descriptor, struct_size, 0, 4, uint32_t)                                       \
    X("1.0", eddy_op_descriptor, reserved_, 4, 4, uint32_t)                                         \
    X("1.0", eddy_op_descriptor, name, 8, 8, const char *)                                          \
    X("1.0", eddy_op_descriptor, version, 16, 8, const char *)                                      \
    X("1.0", eddy_op_descriptor, summary, 24, 8, const char *)                                      \
    X("1.0", eddy_op_descriptor, options, 32, 8, const eddy_option *)                               \
    X("1.0", eddy_op_descriptor, create, 40, 8, void *(*)(const eddy_host *, eddy_ctx *, const eddy_opts *, char *, size_t)) \
    X("1.0", eddy_op_descriptor, process, 48, 8, int (*)(void *, eddy_ctx *, eddy_batch *))         \
    X("1.0", eddy_op_descriptor, on_watermark, 56, 8, int (*)(void *, eddy_ctx *, int64_t))         \
    X("1.0", eddy_op_descriptor, on_timer, 64, 8, int (*)(void *, eddy_ctx *, uint64_t, int64_t))   \
    X("1.0", eddy_op_descriptor, snapshot, 72, 8, int (*)(void *, eddy_ctx *, void **, size_t *))   \
    X("1.0", eddy_op_descriptor, restore, 80, 8, int (*)(void *, eddy_ctx *, int, const void *, size_t)) \
    X("1.0", eddy_op_descriptor, destroy, 88, 8, void (*)(void *))                                  \
    X("1.0", eddy_plugin, magic, 0, 8, uint64_t)                                                    \
    X("1.0", eddy_plugin, abi_major, 8, 2, uint16_t)                                                \
    X("1.0", eddy_plugin, abi_minor, 10, 2, uint16_t)                                               \
    X("1.0", eddy_plugin, struct_size, 12, 4, uint32_t)                                             \
    X("1.0", eddy_plugin, signature, 16, 4, uint32_t)                                               \
    X("1.0", eddy_plugin, n_operators, 20, 4, uint32_t)                                             \
    X("1.0", eddy_plugin, operators, 24, 8, const eddy_op_descriptor *const *)                      \
    /* end of ABI 1.0 */

#define EDDY_ABI_LAYOUT_1_1(X)                                                                      \
    X("1.1", eddy_host, alert, 360, 8, int (*)(eddy_ctx *, const struct eddy_alert *))              \
    X("1.1", eddy_host, metric_labels, 368, 8, eddy_metric *(*)(eddy_ctx *, const char *, const char *, eddy_metric_kind, const char *const *, uint32_t)) \
    X("1.1", eddy_host, ctx_requests, 376, 8, uint64_t (*)(const eddy_ctx *, const char *))         \
    X("1.1", eddy_alert, struct_size, 0, 4, uint32_t)                                               \
    X("1.1", eddy_alert, breach, 4, 4, int32_t)                                                     \
    X("1.1", eddy_alert, detector, 8, 8, const char *)                                              \
    X("1.1", eddy_alert, feature, 16, 8, const char *)                                              \
    X("1.1", eddy_alert, key, 24, 8, const char *)                                                  \
    X("1.1", eddy_alert, statistic, 32, 8, const char *)                                            \
    X("1.1", eddy_alert, value, 40, 8, double)                                                      \
    X("1.1", eddy_alert, threshold, 48, 8, double)                                                  \
    X("1.1", eddy_alert, p_value, 56, 8, double)                                                    \
    X("1.1", eddy_alert, severity, 64, 4, int32_t)                                                  \
    X("1.1", eddy_alert, reserved_, 68, 4, int32_t)                                                 \
    X("1.1", eddy_alert, time_ms, 72, 8, int64_t)                                                   \
    X("1.1", eddy_alert, current_start_ms, 80, 8, int64_t)                                          \
    X("1.1", eddy_alert, current_end_ms, 88, 8, int64_t)                                            \
    X("1.1", eddy_alert, current_n, 96, 8, uint64_t)                                                \
    X("1.1", eddy_alert, reference_start_ms, 104, 8, int64_t)                                       \
    X("1.1", eddy_alert, reference_end_ms, 112, 8, int64_t)                                         \
    X("1.1", eddy_alert, reference_n, 120, 8, uint64_t)                                             \
    X("1.1", eddy_alert, message, 128, 8, const char *)                                             \
    /* end of ABI 1.1 */

#define EDDY_ABI_LAYOUT_1_2(X)                                                                      \
    X("1.2", eddy_host, state_write, 384, 8, int (*)(eddy_ctx *, const void *, size_t, int, const void *, size_t)) \
    X("1.2", eddy_host, state_put, 392, 8, int (*)(eddy_ctx *, const void *, size_t, const void *, size_t)) \
    X("1.2", eddy_host, state_get, 400, 8, const void *(*)(eddy_ctx *, const void *, size_t, size_t *)) \
    X("1.2", eddy_host, state_del, 408, 8, int (*)(eddy_ctx *, const void *, size_t))           \
    X("1.2", eddy_op_descriptor, state_flags, 96, 4, uint32_t)                                      \
    X("1.2", eddy_op_descriptor, reserved12_, 100, 4, uint32_t)                                     \
    X("1.2", eddy_op_descriptor, state_flush, 104, 8, int (*)(void *, eddy_ctx *))                \
    X("1.2", eddy_op_descriptor, state_load, 112, 8, int (*)(void *, eddy_ctx *, const void *, size_t, int, const void *, size_t)) \
    X("1.2", eddy_op_descriptor, state_loaded, 120, 8, int (*)(void *, eddy_ctx *, int64_t))      \
    /* end of ABI 1.2 */

#define EDDY_ABI_LAYOUT_1_3(X)                                                                      \
    X("1.3", eddy_op_descriptor, requests, 128, 8, const char *const *)                             \
    /* end of ABI 1.3 */

/* S(minor, struct, size): sizeof each boundary struct as the minor shipped
 * it. A minor that appended nothing to a struct repeats its size. */
#define EDDY_ABI_SIZES_1_0(S)           \
    S("1.0", eddy_value, 16)            \
    S("1.0", eddy_kv, 32)               \
    S("1.0", eddy_field, 24)            \
    S("1.0", eddy_option, 64)           \
    S("1.0", eddy_host, 360)            \
    S("1.0", eddy_op_descriptor, 96)    \
    S("1.0", eddy_plugin, 32)
#define EDDY_ABI_SIZES_1_1(S)           \
    S("1.1", eddy_value, 16)            \
    S("1.1", eddy_kv, 32)               \
    S("1.1", eddy_field, 24)            \
    S("1.1", eddy_option, 64)           \
    S("1.1", eddy_host, 384)            \
    S("1.1", eddy_op_descriptor, 96)    \
    S("1.1", eddy_plugin, 32)           \
    S("1.1", eddy_alert, 136)
#define EDDY_ABI_SIZES_1_2(S)           \
    S("1.2", eddy_value, 16)            \
    S("1.2", eddy_kv, 32)               \
    S("1.2", eddy_field, 24)            \
    S("1.2", eddy_option, 64)           \
    S("1.2", eddy_host, 416)            \
    S("1.2", eddy_op_descriptor, 128)   \
    S("1.2", eddy_plugin, 32)           \
    S("1.2", eddy_alert, 136)
#define EDDY_ABI_SIZES_1_3(S)           \
    S("1.3", eddy_value, 16)            \
    S("1.3", eddy_kv, 32)               \
    S("1.3", eddy_field, 24)            \
    S("1.3", eddy_option, 64)           \
    S("1.3", eddy_host, 416)            \
    S("1.3", eddy_op_descriptor, 136)   \
    S("1.3", eddy_plugin, 32)           \
    S("1.3", eddy_alert, 136)

/* C(minor, name, value): values a plugin compiles in (enums, flags, return
 * codes, the magic). */
#define EDDY_ABI_CONSTANTS_1_0(C)                       \
    C("1.0", EDDY_ABI_MAJOR, 1)                         \
    C("1.0", EDDY_PLUGIN_MAGIC, 0x454444594f505631ULL)  \
    C("1.0", EDDY_NULL, 0)                              \
    C("1.0", EDDY_BOOL, 1)                              \
    C("1.0", EDDY_INT, 2)                               \
    C("1.0", EDDY_DOUBLE, 3)                            \
    C("1.0", EDDY_STRING, 4)                            \
    C("1.0", EDDY_BYTES, 5)                             \
    C("1.0", EDDY_ARRAY, 6)                             \
    C("1.0", EDDY_MAP, 7)                               \
    C("1.0", EDDY_LOG_ERROR, 0)                         \
    C("1.0", EDDY_LOG_WARN, 1)                          \
    C("1.0", EDDY_LOG_INFO, 2)                          \
    C("1.0", EDDY_LOG_DEBUG, 3)                         \
    C("1.0", EDDY_METRIC_COUNTER, 0)                    \
    C("1.0", EDDY_METRIC_GAUGE, 1)                      \
    C("1.0", EDDY_OPT_BOOL, 1)                          \
    C("1.0", EDDY_OPT_INT, 2)                           \
    C("1.0", EDDY_OPT_DOUBLE, 3)                        \
    C("1.0", EDDY_OPT_STRING, 4)                        \
    C("1.0", EDDY_OPT_DURATION, 5)                      \
    C("1.0", EDDY_OPT_SIZE, 6)                          \
    C("1.0", EDDY_OPT_ENUM, 7)                          \
    C("1.0", EDDY_OPT_FIELD, 8)                         \
    C("1.0", EDDY_OPT_EXPR, 9)                          \
    C("1.0", EDDY_OPT_LIST, 10)                         \
    C("1.0", EDDY_OPT_MAP, 11)                          \
    C("1.0", EDDY_OPT_REQUIRED, 0x1u)                   \
    C("1.0", EDDY_OPT_SECRET, 0x2u)                     \
    C("1.0", EDDY_FORWARD, 0)                           \
    C("1.0", EDDY_CONSUMED, 1)                          \
    C("1.0", EDDY_WATERMARK_END, INT64_MAX)
#define EDDY_ABI_CONSTANTS_1_1(C)                       \
    C("1.1", EDDY_SEV_INFO, 0)                          \
    C("1.1", EDDY_SEV_WARNING, 1)                       \
    C("1.1", EDDY_SEV_CRITICAL, 2)
#define EDDY_ABI_CONSTANTS_1_2(C)                       \
    C("1.2", EDDY_STATE_KEYED, 0x1u)                    \
    C("1.2", EDDY_STATE_HOST, 0x2u)                     \
    C("1.2", EDDY_OPT_NO_STATE, 0x4u)

/* The checks, one _Static_assert each, whose message names the field. The
 * type check uses a GCC/Clang builtin (the compilers eddy builds with). */
#if defined(__GNUC__)
#define EDDY_ABI_SAME_TYPE_(S, f, type) \
    __builtin_types_compatible_p(__typeof__(((S *)0)->f), type)
#else
#define EDDY_ABI_SAME_TYPE_(S, f, type) 1
#endif

#define EDDY_ABI_CHECK_FIELD(minor, S, f, off, size, type)                                     \
    _Static_assert(offsetof(S, f) == (off), "ABI " minor ": " #S "." #f                         \
                   " is no longer at its frozen offset " #off                                  \
                   " (a field moved, or one was inserted before it)");                         \
    _Static_assert(sizeof(((S *)0)->f) == (size), "ABI " minor ": " #S "." #f                   \
                   " is no longer " #size " bytes (a field was resized)");                     \
    _Static_assert(EDDY_ABI_SAME_TYPE_(S, f, type), "ABI " minor ": " #S "." #f                 \
                   " is no longer of type " #type " (a changed meaning needs a new major)");

#define EDDY_ABI_CHECK_SIZE(minor, S, size)                                                    \
    _Static_assert(sizeof(S) == (size), "ABI " minor ": sizeof(" #S ") is not " #size          \
                   " (a field was appended, removed or resized: a new minor gets its own"      \
                   " layout table in tests/unit/include/abi_layout.h)");

#define EDDY_ABI_CHECK_CONSTANT(minor, name, value) \
    _Static_assert((name) == (value), "ABI " minor ": " #name " is no longer " #value);

/* Counts rows, so the runtime report says how much was checked. */
#define EDDY_ABI_COUNT_ROW(...) +1

#endif
