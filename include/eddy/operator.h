/*
 * eddy operator plugin ABI, version 1 (minor 3).
 *
 * This is the only header an operator author includes. A plugin links against
 * nothing of the engine: everything it needs from the host arrives through the
 * eddy_host function table passed to create().
 *
 * Versioning rules (see docs/ARCHITECTURE.md, "Plugin ABI"):
 *  - EDDY_ABI_MAJOR changes only when an existing field changes meaning or moves.
 *    The host refuses a plugin of another major.
 *  - EDDY_ABI_MINOR grows when fields are appended to eddy_host,
 *    eddy_op_descriptor or eddy_plugin. Appending never moves existing fields, so
 *    a plugin built against an older minor keeps loading: the host reads only the
 *    first `struct_size` bytes of a plugin's structs, and a plugin tests
 *    EDDY_HOST_HAS() before calling a host function newer than its host.
 *  - Every struct crossing the boundary starts with its size.
 *
 * Frozen layouts: what each minor shipped never changes. In eddy's source
 * tree, the loader's and host's boundaries (the sizes of each minor) are
 * written from each minor's shape in engine/plugin_abi.h, never with
 * sizeof/offsetof of this header; every field's offset, size and type at
 * each minor is a literal table in tests/unit/include/abi_layout.h, checked at
 * compile time against this header and against the 1.0 header itself
 * (tests/fixtures/abi/eddy-1.0/); a plugin built with that 1.0 header is
 * loaded and run by test_plugins.sh. Moving or resizing a field fails the
 * build. When a minor appends fields, add its sizes to engine/plugin_abi.h
 * and its fields to a new table in abi_layout.h (the build fails until both
 * are done); never edit an older table.
 *
 * Ownership: the host owns batches, records and everything they point to; such
 * memory is valid only for the duration of the call that received it. Copy what
 * you keep. The plugin owns its state pointer (returned by create, freed by
 * destroy) and the descriptor tables, which must be static.
 */
#ifndef EDDY_OPERATOR_H
#define EDDY_OPERATOR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EDDY_ABI_MAJOR 1
#define EDDY_ABI_MINOR 3
/* "EDDYOPV1": first 8 bytes of every eddy_plugin. */
#define EDDY_PLUGIN_MAGIC 0x454444594f505631ULL
/* Binary compatibility signature: pointer size and byte order must match. */
#define EDDY_ABI_SIGNATURE \
    ((uint32_t)(sizeof(void *) * 16u + (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? 1u : 0u)))

#if defined(__GNUC__)
#define EDDY_EXPORT __attribute__((visibility("default")))
#define EDDY_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define EDDY_EXPORT
#define EDDY_PRINTF(a, b)
#endif

/* ---- values ------------------------------------------------------------ */

/* An interned field name. 0 is "no symbol". Symbols are process-wide and
 * never freed, so an operator may keep them across calls. */
typedef uint32_t eddy_sym;

typedef enum eddy_type {
    EDDY_NULL = 0,
    EDDY_BOOL = 1,
    EDDY_INT = 2,    /* int64 */
    EDDY_DOUBLE = 3,
    EDDY_STRING = 4, /* UTF-8, not NUL-terminated: use len */
    EDDY_BYTES = 5,
    EDDY_ARRAY = 6,  /* len items in u.items */
    EDDY_MAP = 7     /* len pairs in u.kvs (keys are strings) */
} eddy_type;

struct eddy_kv;

/* A typed value, 16 bytes. Pointers inside refer to batch memory. */
typedef struct eddy_value {
    uint8_t type; /* eddy_type */
    uint8_t reserved_[3];
    uint32_t len;
    union {
        int64_t i;
        double d;
        int b;
        const char *s;
        const uint8_t *bytes;
        const struct eddy_value *items;
        const struct eddy_kv *kvs;
    } u;
} eddy_value;

typedef struct eddy_kv {
    eddy_value key;
    eddy_value val;
} eddy_kv;

/* Value constructors (inline helpers, not part of the binary ABI). A string
 * must outlive the batch: the batch arena, or static memory. */
static inline eddy_value eddy_v_null(void) { eddy_value v = {0}; return v; }
static inline eddy_value eddy_v_bool(int x) { eddy_value v = {0}; v.type = EDDY_BOOL; v.u.b = !!x; return v; }
static inline eddy_value eddy_v_int(int64_t x) { eddy_value v = {0}; v.type = EDDY_INT; v.u.i = x; return v; }
static inline eddy_value eddy_v_double(double x) { eddy_value v = {0}; v.type = EDDY_DOUBLE; v.u.d = x; return v; }
static inline eddy_value eddy_v_str(const char *s, uint32_t len) { eddy_value v = {0}; v.type = EDDY_STRING; v.len = len; v.u.s = s; return v; }
/* Numeric view of a value: ints, doubles and bools give 1 and *out; other
 * types 0. The one definition the engine (eddy_value_number) and the
 * operators share. */
static inline int eddy_v_number(const eddy_value *v, double *out)
{
    switch (v->type) {
    case EDDY_INT: *out = (double)v->u.i; return 1;
    case EDDY_DOUBLE: *out = v->u.d; return 1;
    case EDDY_BOOL: *out = v->u.b ? 1.0 : 0.0; return 1;
    default: return 0;
    }
}

/* A top-level record field. */
typedef struct eddy_field {
    eddy_sym name;
    uint32_t reserved_;
    eddy_value v;
} eddy_field;

/* ---- opaque handles ---------------------------------------------------- */

typedef struct eddy_batch eddy_batch;   /* records of one partition, in order */
typedef struct eddy_record eddy_record; /* one event */
typedef struct eddy_ctx eddy_ctx;       /* one operator instance's view of the host */
typedef struct eddy_opts eddy_opts;     /* parsed, validated options */
typedef struct eddy_metric eddy_metric; /* a counter or gauge owned by the host */
struct eddy_alert;                      /* see "alerts" below */

typedef enum eddy_log_level {
    EDDY_LOG_ERROR = 0,
    EDDY_LOG_WARN = 1,
    EDDY_LOG_INFO = 2,
    EDDY_LOG_DEBUG = 3
} eddy_log_level;

typedef enum eddy_metric_kind { EDDY_METRIC_COUNTER = 0, EDDY_METRIC_GAUGE = 1 } eddy_metric_kind;

/* ---- options ----------------------------------------------------------- */

typedef enum eddy_opt_type {
    EDDY_OPT_BOOL = 1,
    EDDY_OPT_INT = 2,
    EDDY_OPT_DOUBLE = 3,
    EDDY_OPT_STRING = 4,
    EDDY_OPT_DURATION = 5, /* "500ms", "5m", "7d"; read as int milliseconds */
    EDDY_OPT_SIZE = 6,     /* "64MiB", "10kB"; read as int bytes */
    EDDY_OPT_ENUM = 7,     /* one of enum_values ("a|b|c"); read as string */
    EDDY_OPT_FIELD = 8,    /* a record field name; read as string */
    EDDY_OPT_EXPR = 9,     /* an expression (docs/EXPRESSIONS.md); read as string */
    EDDY_OPT_LIST = 10,    /* sequence of strings */
    EDDY_OPT_MAP = 11      /* mapping of string to string, order kept */
} eddy_opt_type;

#define EDDY_OPT_REQUIRED 0x1u /* no default: the key must be given */
#define EDDY_OPT_SECRET 0x2u   /* never logged, never shown by describe */
/* A file or directory: a relative path in a configuration file is taken
 * from the file's folder, not the working directory (a service's working
 * directory is rarely the config's). "-" (stdin/stdout) is left alone.
 * Since 1.3; a host before it ignores the flag. */
#define EDDY_OPT_PATH 0x8u

/* One row of an operator's option table. The table drives parsing,
 * validation, defaults, `eddy describe` and docs/CONFIG.md. A table ends
 * with a row whose name is NULL. */
typedef struct eddy_option {
    const char *name;
    eddy_opt_type type;
    const char *default_value; /* as it would be written in YAML; NULL = none */
    double min, max;           /* inclusive range for numbers; min > max = no range */
    const char *enum_values;   /* "a|b|c" for EDDY_OPT_ENUM */
    uint32_t flags;            /* EDDY_OPT_REQUIRED, EDDY_OPT_SECRET */
    const char *description;
} eddy_option;

#define EDDY_NO_RANGE 1.0, 0.0

/* ---- host function table ----------------------------------------------- */

/* True when the host provides `fn` (it was added in a minor the host has).
 * Compiled into the plugin, so the offset is the one of the header the
 * plugin was built with: its own frozen view of the layout. */
#define EDDY_HOST_HAS(host, fn) \
    ((host)->struct_size >= offsetof(eddy_host, fn) + sizeof((host)->fn) && (host)->fn != NULL)

typedef struct eddy_host {
    uint32_t struct_size; /* sizeof(eddy_host) in the host */
    uint16_t abi_major;
    uint16_t abi_minor;

    /* -- since 1.0: memory. alloc/free are the host's tracked heap;
     *    batch_alloc lives as long as the batch (no free). */
    void *(*alloc)(size_t size);
    void *(*realloc)(void *ptr, size_t size);
    void (*free)(void *ptr);
    void *(*batch_alloc)(eddy_batch *b, size_t size);

    /* -- since 1.0: logging, structured by the host (step, partition added). */
    void (*log)(eddy_ctx *ctx, eddy_log_level level, const char *fmt, ...) EDDY_PRINTF(3, 4);

    /* -- since 1.0: symbols (thread-safe). */
    eddy_sym (*intern)(const char *name, size_t len);
    const char *(*sym_name)(eddy_sym sym);

    /* -- since 1.0: batches and records. */
    uint32_t (*batch_count)(const eddy_batch *b);
    eddy_record *(*batch_get)(eddy_batch *b, uint32_t i);
    eddy_record *(*batch_append)(eddy_batch *b); /* new empty record, NULL on memory limit */
    void (*batch_drop)(eddy_batch *b, uint32_t i); /* removed when process() returns */
    int32_t (*batch_partition)(const eddy_batch *b);

    int64_t (*record_time)(const eddy_record *r); /* event time, ms since epoch */
    void (*record_set_time)(eddy_record *r, int64_t ts_ms);
    const eddy_value *(*record_key)(const eddy_record *r);
    void (*record_set_key)(eddy_record *r, const eddy_value *key);
    /* NULL when the record has no such field. */
    const eddy_value *(*record_get)(const eddy_record *r, eddy_sym name);
    /* Adds or replaces. The value's memory must outlive the batch: use
     * batch_string / batch_alloc for anything built on the fly. 0 or <0. */
    int (*record_set)(eddy_batch *b, eddy_record *r, eddy_sym name, const eddy_value *v);
    int (*record_remove)(eddy_record *r, eddy_sym name);
    const eddy_field *(*record_fields)(const eddy_record *r, uint32_t *count);
    void (*record_source)(const eddy_record *r, const char **topic, int32_t *partition,
                          int64_t *offset);
    eddy_value (*batch_string)(eddy_batch *b, const char *s, size_t len);
    /* Copies every field, key, time and source of `src` into `dst`. */
    int (*record_copy)(eddy_batch *dst_batch, eddy_record *dst, const eddy_record *src);

    /* -- since 1.0: output. emit_batch gives a fresh empty batch; emit passes
     *    it to the next steps and takes it back. reject sends one record to the
     *    dead-letter output with the reason (it is never dropped silently). */
    eddy_batch *(*emit_batch)(eddy_ctx *ctx);
    int (*emit)(eddy_ctx *ctx, eddy_batch *b);
    int (*reject)(eddy_ctx *ctx, eddy_batch *b, uint32_t i, const char *reason);

    /* -- since 1.0: timers. on_timer(id) is called once the event-time
     *    watermark (event_time=1) or the wall clock (0) reaches at_ms. */
    int (*timer_set)(eddy_ctx *ctx, uint64_t id, int64_t at_ms, int event_time);
    int (*timer_cancel)(eddy_ctx *ctx, uint64_t id);
    int64_t (*now_ms)(void);

    /* -- since 1.0: metrics, exported on /metrics with pipeline/step labels. */
    eddy_metric *(*metric)(eddy_ctx *ctx, const char *name, const char *help,
                           eddy_metric_kind kind);
    void (*metric_add)(eddy_metric *m, double v);
    void (*metric_set)(eddy_metric *m, double v);

    /* -- since 1.0: options (names from the operator's table). */
    int (*opt_bool)(const eddy_opts *o, const char *name);
    int64_t (*opt_int)(const eddy_opts *o, const char *name); /* also duration, size */
    double (*opt_double)(const eddy_opts *o, const char *name);
    const char *(*opt_str)(const eddy_opts *o, const char *name); /* NULL if unset */
    uint32_t (*opt_count)(const eddy_opts *o, const char *name);  /* list / map length */
    const char *(*opt_item)(const eddy_opts *o, const char *name, uint32_t i); /* list item, map value */
    const char *(*opt_key)(const eddy_opts *o, const char *name, uint32_t i);  /* map key */

    /* -- since 1.0: context. */
    const char *(*ctx_pipeline)(const eddy_ctx *ctx);
    const char *(*ctx_step)(const eddy_ctx *ctx);
    int32_t (*ctx_partition)(const eddy_ctx *ctx);

    /* -- since 1.0: side outputs. Sends a batch to the step's named output
     *    (`outputs: { late: <sink> }` in the step's YAML), e.g. late events
     *    of a window. Takes the batch back. With no such output configured
     *    the records are counted and logged, never dropped silently. */
    int (*emit_side)(eddy_ctx *ctx, const char *output, eddy_batch *b);
    /* The watermark the step's partition has reached (EDDY_TS_NONE-like
     *    INT64_MIN before any event). */
    int64_t (*ctx_watermark)(const eddy_ctx *ctx);

    /* -- since 1.1: alerts, labelled metrics, admin requests. */

    /* Reports one check of a monitored condition (see eddy_alert). The host
     * applies the step's noise controls (`alerts:` in the step's YAML:
     * consecutive checks, cooldown, resolve, rate limit) and, when the check
     * changes the alert's state, emits a `firing` or `resolved` alert to the
     * step's `alerts` output, the admin API and the log. Answers 1 when an
     * alert was emitted, 0 when not (nothing to say, or suppressed), <0 on
     * error. Call it on every check, breached or not: clear checks are what
     * resolve an alert. */
    int (*alert)(eddy_ctx *ctx, const struct eddy_alert *a);
    /* Like metric(), with extra labels: `labels` holds nlabels key/value
     * pairs (2 * nlabels strings) appended to pipeline and step. Keep label
     * values few (features, detectors), never per-entity keys. */
    eddy_metric *(*metric_labels)(eddy_ctx *ctx, const char *name, const char *help,
                                  eddy_metric_kind kind, const char *const *labels,
                                  uint32_t nlabels);
    /* How many times an operator request `what` (e.g. "reference") was made
     * for this step through the admin API (POST
     * /v1/pipelines/{pipeline}/steps/{step}/{what}). An operator remembers the
     * last count it saw and acts when it grows. */
    uint64_t (*ctx_requests)(const eddy_ctx *ctx, const char *what);

    /* -- since 1.2: durable state. The host keeps a step's state in a
     *    compacted changelog (Kafka), keyed by (step, key), so a restarted
     *    or reassigned partition gets it back (docs: "State and delivery
     *    guarantees"). Outside a durable task (state off, file sources)
     *    state_write does nothing and answers 0; state_put/get/del still
     *    work, in memory only. */

    /* For operators that keep their own keyed state (descriptor
     * state_flush): writes one key's encoded state, `version` being the
     * operator's encoding version (>0) given back to state_load. data NULL:
     * the key is gone (a tombstone). Call only from state_flush. 0 or <0. */
    int (*state_write)(eddy_ctx *ctx, const void *key, size_t klen, int version,
                       const void *data, size_t len);
    /* Host-managed small keyed state ("little code"): the host keeps the
     * bytes, remembers which keys changed, writes them at each commit and
     * restores them before the first process(). A descriptor using these
     * sets EDDY_STATE_HOST in state_flags. put copies the value (0 or <0);
     * get answers NULL when absent (the pointer stays valid until the next
     * put/del of that key); del removes the key (0, or 1 when absent). */
    int (*state_put)(eddy_ctx *ctx, const void *key, size_t klen, const void *v, size_t n);
    const void *(*state_get)(eddy_ctx *ctx, const void *key, size_t klen, size_t *n);
    int (*state_del)(eddy_ctx *ctx, const void *key, size_t klen);

    /* New functions are appended here, with the minor that added them. */
} eddy_host;

/* ---- alerts (since 1.1) ------------------------------------------------ */

typedef enum eddy_severity {
    EDDY_SEV_INFO = 0,
    EDDY_SEV_WARNING = 1,
    EDDY_SEV_CRITICAL = 2
} eddy_severity;

/* One check of a monitored statistic, as an operator reports it to
 * host->alert(). The alert key is (pipeline, step, feature, key): each key
 * has its own firing/resolved state. Strings are copied by the host; NaN in
 * p_value means "no p-value"; window bounds of 0 with n == 0 mean "none". */
typedef struct eddy_alert {
    uint32_t struct_size; /* sizeof(eddy_alert) as the plugin saw it */
    int32_t breach;       /* 1: the statistic is beyond its threshold */
    const char *detector; /* e.g. "adwin", "distribution", "zscore" */
    const char *feature;  /* the monitored field ("" for a dataset-level check) */
    const char *key;      /* entity key ("" = the whole stream) */
    const char *statistic; /* name of the statistic, e.g. "psi", "ks_pvalue" */
    double value;
    double threshold;
    double p_value;
    int32_t severity;     /* eddy_severity of a breach */
    int32_t reserved_;
    int64_t time_ms;      /* event time of the check */
    int64_t current_start_ms, current_end_ms;
    uint64_t current_n;
    int64_t reference_start_ms, reference_end_ms;
    uint64_t reference_n;
    const char *message;  /* NULL: the host writes one */
} eddy_alert;

/* ---- operator descriptor ----------------------------------------------- */

/* The watermark passed to on_watermark when a bounded input has ended:
 * every window may close. */
#define EDDY_WATERMARK_END INT64_MAX

/* Return codes of process / on_watermark / on_timer. */
#define EDDY_FORWARD 0  /* pass the (possibly modified) input batch on */
#define EDDY_CONSUMED 1 /* the input goes no further (outputs, if any, were emitted) */
/* any negative value: the operator failed on this batch; the host sends its
 * records to the dead-letter output with the message logged by the operator. */

typedef struct eddy_op_descriptor {
    uint32_t struct_size; /* sizeof(eddy_op_descriptor) as the plugin saw it */
    uint32_t reserved_;
    const char *name;        /* the step key in YAML, e.g. "filter" */
    const char *version;     /* the operator's own version, e.g. "1.2.0" */
    const char *summary;     /* one line for `eddy operators` */
    const eddy_option *options; /* NULL-name terminated */

    /* Returns the operator state, or NULL with a reason in err. Called once
     * per (step, partition). `host` stays valid until destroy. */
    void *(*create)(const eddy_host *host, eddy_ctx *ctx, const eddy_opts *opts, char *err,
                    size_t errlen);
    int (*process)(void *state, eddy_ctx *ctx, eddy_batch *in);
    /* Optional (NULL): watermark advanced to wm_ms; timers. */
    int (*on_watermark)(void *state, eddy_ctx *ctx, int64_t wm_ms);
    int (*on_timer)(void *state, eddy_ctx *ctx, uint64_t id, int64_t at_ms);
    /* Optional: state as versioned bytes. snapshot sets *data to memory from
     * host->alloc (the host frees it) and returns the state encoding version
     * (>0), or 0 for "no state", or <0 on error. restore gets that version. */
    int (*snapshot)(void *state, eddy_ctx *ctx, void **data, size_t *len);
    int (*restore)(void *state, eddy_ctx *ctx, int version, const void *data, size_t len);
    void (*destroy)(void *state);

    /* -- since 1.2: durable keyed state (see eddy_host.state_write). An
     *    operator with none of these but snapshot/restore is still made
     *    durable: the host stores its whole snapshot under one key, at a
     *    cost that grows with the state instead of with the changes. */
#define EDDY_STATE_KEYED 0x1u /* state_flush/state_load: the operator's own keys */
#define EDDY_STATE_HOST 0x2u  /* the operator keeps its state with host->state_put */
/* Option flag (eddy_option.flags): the option does not shape the state
 * (e.g. how results are emitted), so changing it keeps the state valid.
 * Every other option is part of the state's fingerprint. */
#define EDDY_OPT_NO_STATE 0x4u
    uint32_t state_flags;
    uint32_t reserved12_;
    /* At each commit, before the input offsets are committed: call
     * host->state_write for every key changed (or gone) since the last
     * state_flush. 0 or <0 (nothing is committed then). */
    int (*state_flush)(void *state, eddy_ctx *ctx);
    /* Restore, one key at a time in changelog order, before the first
     * process(): a later call for the same key replaces the earlier one;
     * data NULL removes the key. version is what state_write was given. */
    int (*state_load)(void *state, eddy_ctx *ctx, const void *key, size_t klen, int version,
                      const void *data, size_t len);
    /* Called once per durable task after the restore (also when nothing was
     * restored) with the task's restored watermark (INT64_MIN: none). From
     * here on the operator tracks its changes for state_flush. */
    int (*state_loaded)(void *state, eddy_ctx *ctx, int64_t watermark);

    /* -- since 1.3: the operator requests (host->ctx_requests) this operator
     *    acts on, e.g. {"reference", NULL}; NULL: none. The admin API answers
     *    409 to a request a step's operator does not list, instead of
     *    accepting one nothing will act on. For a plugin built before 1.3 the
     *    host cannot know, and accepts every request. */
    const char *const *requests;
} eddy_op_descriptor;

/* What a plugin .so returns from eddy_plugin_entry(). */
typedef struct eddy_plugin {
    uint64_t magic;       /* EDDY_PLUGIN_MAGIC */
    uint16_t abi_major;   /* EDDY_ABI_MAJOR the plugin was built with */
    uint16_t abi_minor;   /* EDDY_ABI_MINOR the plugin was built with */
    uint32_t struct_size; /* sizeof(eddy_plugin) */
    uint32_t signature;   /* EDDY_ABI_SIGNATURE */
    uint32_t n_operators;
    const eddy_op_descriptor *const *operators;
} eddy_plugin;

/* The one symbol a plugin exports. */
#define EDDY_PLUGIN_ENTRY_SYMBOL "eddy_plugin_entry"
typedef const eddy_plugin *(*eddy_plugin_entry_fn)(void);

/* Declares the plugin's entry point from an array of descriptors. */
#define EDDY_PLUGIN_DEFINE(...)                                                          \
    static const eddy_op_descriptor *const eddy_plugin_ops_[] = {__VA_ARGS__};          \
    EDDY_EXPORT const eddy_plugin *eddy_plugin_entry(void);                             \
    EDDY_EXPORT const eddy_plugin *eddy_plugin_entry(void)                              \
    {                                                                                    \
        static eddy_plugin p;                                                            \
        p.magic = EDDY_PLUGIN_MAGIC;                                                     \
        p.abi_major = EDDY_ABI_MAJOR;                                                    \
        p.abi_minor = EDDY_ABI_MINOR;                                                    \
        p.struct_size = (uint32_t)sizeof(eddy_plugin);                                   \
        p.signature = EDDY_ABI_SIGNATURE;                                                \
        p.n_operators = (uint32_t)(sizeof(eddy_plugin_ops_) / sizeof(eddy_plugin_ops_[0])); \
        p.operators = eddy_plugin_ops_;                                                  \
        return &p;                                                                       \
    }

#ifdef __cplusplus
}
#endif
#endif /* EDDY_OPERATOR_H */
