/* The compiled form of an expression, shared by the compiler (expr_parse.c),
 * the evaluator (expr.c) and the functions (expr_func.c). Internal to
 * lib/expr. */
#ifndef EDDY_EXPR_CODE_H
#define EDDY_EXPR_CODE_H
#include <stddef.h>
#include <stdint.h>

#include "engine/core/batch.h"
#include "lib/expr/expr.h"

/* Stack machine. Jumps are relative to the jumping instruction so that the
 * compiler may move a finished sub-expression's code without patching it. */
typedef enum {
    XOP_END = 0,
    XOP_CONST,        /* push consts[a] */
    XOP_FIELD,        /* push top-level field a (a symbol), null if missing */
    XOP_PATH,         /* push paths[a], null if any step is missing */
    XOP_EXISTS,       /* push whether field a is present */
    XOP_EXISTS_PATH,  /* push whether paths[a] resolves */
    XOP_CMP_FIELD_CONST, /* fused FIELD(a) CONST(b) <cmp fn>: the common filter */
    XOP_NEG,
    XOP_ADD,
    XOP_SUB,
    XOP_MUL,
    XOP_DIV,
    XOP_MOD,
    XOP_EQ,
    XOP_NE,
    XOP_LT,
    XOP_LE,
    XOP_GT,
    XOP_GE,
    XOP_IS_NULL,
    XOP_NOT_NULL,
    XOP_NOT,
    XOP_BOOL,         /* top := truthy(top) */
    XOP_AND_JMP,      /* if !truthy(top): top := false, jump a; else pop */
    XOP_OR_JMP,       /* if truthy(top): top := true, jump a; else pop */
    XOP_COALESCE_JMP, /* if top is not null: jump a; else pop */
    XOP_IN,           /* probe in (a stack items above it, constants lists[b]) */
    XOP_NOT_IN,
    XOP_CALL          /* function fn over the top a values */
} xop;

typedef struct xinsn {
    uint8_t op;   /* xop */
    uint8_t fn;   /* XOP_CALL: xfn; XOP_CMP_FIELD_CONST: the comparison xop */
    uint16_t col; /* 1-based source column, for runtime error messages */
    uint32_t a;
    uint32_t b;   /* XOP_CMP_FIELD_CONST: constant index */
} xinsn;

typedef enum {
    XFN_ABS,
    XFN_SQRT,
    XFN_LOG,
    XFN_EXP,
    XFN_MIN,
    XFN_MAX,
    XFN_ROUND,
    XFN_FLOOR,
    XFN_CEIL,
    XFN_LEN,
    XFN_LOWER,
    XFN_UPPER,
    XFN_TO_INT,
    XFN_TO_DOUBLE,
    XFN_TO_STRING,
    /* compiled into other instructions, never called */
    XFN_COALESCE,
    XFN_EXISTS,
    XFN_IS_NULL,
    XFN_COUNT_
} xfn;

typedef struct xfn_info {
    const char *name;
    uint8_t min_args, max_args; /* max 255 = any number */
} xfn_info;

extern const xfn_info eddy_xfn_table_[XFN_COUNT_];

/* A dotted path: top-level field `root`, then map keys segs[first..first+n). */
typedef struct xpath {
    eddy_sym root;
    uint32_t first, n;
} xpath;

typedef struct xseg {
    const char *s;
    uint32_t len;
} xseg;

/* The constant items of an `in` list: consts[first..first+n). */
typedef struct xlist {
    uint32_t first, n;
} xlist;

struct eddy_expr {
    xinsn *code;
    eddy_value *consts;
    xpath *paths;
    xseg *segs;
    xlist *lists;
    char *blob; /* string constants and path segments */
    size_t blob_len;
    char *src;
};

/* Evaluation state passed to functions: where to put strings and errors. */
typedef struct xeval {
    eddy_batch *b;
    char *why;
    size_t whylen;
} xeval;

/* Formats "expr:COL: reason" into ev->why (when wanted) and returns code. */
int eddy_xfail_(const xeval *ev, const xinsn *pc, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5), cold, noinline));
/* Runs function pc->fn over args[0..pc->a); the result replaces args[0]. */
int eddy_xcall_(const xeval *ev, const xinsn *pc, eddy_value *args);
/* Null for non-finite doubles: overflow and domain errors give null. */
static inline eddy_value eddy_xdouble_(double d)
{
    eddy_value v = {0};
    if (__builtin_isfinite(d)) {
        v.type = EDDY_DOUBLE;
        v.u.d = d;
    }
    return v;
}

#endif
