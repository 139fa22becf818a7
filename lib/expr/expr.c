/* Evaluator: a switch-dispatched stack machine over the compiled bytecode.
 * It reads the record's fields directly (engine code, not a plugin) and never
 * allocates except for strings that functions build, in the batch arena. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/error.h"
#include "lib/expr/expr_code.h"

_Static_assert(EDDY_EXPR_ENOMEM == EDDY_ENOMEM && EDDY_EXPR_EINVAL == EDDY_EINVAL &&
                   EDDY_EXPR_ELIMIT == EDDY_ELIMIT && EDDY_EXPR_ETYPE == EDDY_ETYPE,
               "expr.h codes must match engine/core/error.h");

void eddy_expr_free(eddy_expr *e)
{
    if (!e)
        return;
    free(e->code);
    free(e->consts);
    free(e->paths);
    free(e->segs);
    free(e->lists);
    free(e->blob);
    free(e->src);
    free(e);
}

const char *eddy_expr_source(const eddy_expr *e) { return e ? e->src : ""; }

bool eddy_expr_owns(const eddy_expr *e, const eddy_value *v)
{
    if (!e || !v || (v->type != EDDY_STRING && v->type != EDDY_BYTES) || !v->u.s)
        return false;
    uintptr_t p = (uintptr_t)v->u.s, lo = (uintptr_t)e->blob;
    return p >= lo && p <= lo + e->blob_len;
}

static inline int truthy(const eddy_value *v)
{
    switch (v->type) {
    case EDDY_BOOL: return v->u.b != 0;
    case EDDY_INT: return v->u.i != 0;
    case EDDY_DOUBLE: return v->u.d == v->u.d && v->u.d != 0.0;
    case EDDY_STRING:
    case EDDY_BYTES:
    case EDDY_ARRAY:
    case EDDY_MAP: return v->len > 0;
    default: return 0;
    }
}

int eddy_expr_truthy(const eddy_value *v) { return v ? truthy(v) : 0; }

int eddy_xfail_(const xeval *ev, const xinsn *pc, int code, const char *fmt, ...)
{
    if (ev->why && ev->whylen) {
        int n = snprintf(ev->why, ev->whylen, "expr:%u: ", (unsigned)pc->col);
        if (n >= 0 && (size_t)n < ev->whylen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(ev->why + n, ev->whylen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return code;
}

static inline const eddy_value *field(const eddy_record *r, eddy_sym s)
{
    if (!r)
        return NULL;
    const eddy_field *f = r->fields;
    for (uint32_t i = 0, n = r->nfields; i < n; i++)
        if (f[i].name == s)
            return &f[i].v;
    return NULL;
}

static const eddy_value *path_get(const eddy_expr *e, const eddy_record *r, const xpath *p)
{
    const eddy_value *v = field(r, p->root);
    for (uint32_t k = 0; v && k < p->n; k++) {
        const xseg *s = &e->segs[p->first + k];
        const eddy_value *found = NULL;
        if (v->type == EDDY_MAP) {
            for (uint32_t j = 0; j < v->len; j++) {
                const eddy_value *key = &v->u.kvs[j].key;
                if ((key->type == EDDY_STRING || key->type == EDDY_BYTES) && key->len == s->len &&
                    memcmp(key->u.s, s->s, s->len) == 0) {
                    found = &v->u.kvs[j].val;
                    break;
                }
            }
        }
        v = found;
    }
    return v;
}

static inline int is_num(const eddy_value *v) { return v->type == EDDY_INT || v->type == EDDY_DOUBLE; }
static inline int is_str(const eddy_value *v) { return v->type == EDDY_STRING || v->type == EDDY_BYTES; }
static inline double num(const eddy_value *v) { return v->type == EDDY_INT ? (double)v->u.i : v->u.d; }

static const char *op_name(int op)
{
    switch (op) {
    case XOP_ADD: return "+";
    case XOP_SUB: return "-";
    case XOP_MUL: return "*";
    case XOP_DIV: return "/";
    case XOP_MOD: return "%";
    case XOP_EQ: return "==";
    case XOP_NE: return "!=";
    case XOP_LT: return "<";
    case XOP_LE: return "<=";
    case XOP_GT: return ">";
    case XOP_GE: return ">=";
    default: return "?";
    }
}

/* 0 with *res set, or -1 when the two types have no order (a type error for
 * <, <=, >, >=; == and != never fail). Null operands make every comparison
 * false: `x == null` compiles to XOP_IS_NULL instead. */
static inline int compare(int op, const eddy_value *x, const eddy_value *y, int *res)
{
    int c;
    if (x->type == EDDY_INT && y->type == EDDY_INT) {
        c = (x->u.i > y->u.i) - (x->u.i < y->u.i);
    } else if (is_num(x) && is_num(y)) {
        double a = num(x), b = num(y);
        if (a != a || b != b) { /* NaN is unordered and unequal */
            *res = op == XOP_NE;
            return 0;
        }
        c = (a > b) - (a < b);
    } else if (x->type == EDDY_NULL || y->type == EDDY_NULL) {
        *res = 0;
        return 0;
    } else if (is_str(x) && is_str(y)) {
        uint32_t n = x->len < y->len ? x->len : y->len;
        c = n ? memcmp(x->u.s, y->u.s, n) : 0;
        if (c == 0)
            c = (x->len > y->len) - (x->len < y->len);
        else
            c = c > 0 ? 1 : -1;
    } else if (op == XOP_EQ || op == XOP_NE) {
        int eq = eddy_value_equal(x, y);
        *res = op == XOP_EQ ? eq : !eq;
        return 0;
    } else {
        return -1;
    }
    switch (op) {
    case XOP_EQ: *res = c == 0; break;
    case XOP_NE: *res = c != 0; break;
    case XOP_LT: *res = c < 0; break;
    case XOP_LE: *res = c <= 0; break;
    case XOP_GT: *res = c > 0; break;
    default: *res = c >= 0; break;
    }
    return 0;
}

static int compare_fail(const xeval *ev, const xinsn *pc, int op, const eddy_value *x,
                        const eddy_value *y)
{
    return eddy_xfail_(ev, pc, EDDY_ETYPE, "cannot compare %s with %s using '%s'",
                       eddy_type_name(x->type), eddy_type_name(y->type), op_name(op));
}

/* Equality as `in` sees it: == without the null exception. */
static int member(const eddy_value *x, const eddy_value *y)
{
    int res;
    if (y->type == EDDY_NULL)
        return 0;
    compare(XOP_EQ, x, y, &res);
    return res;
}

static int concat(const xeval *ev, const xinsn *pc, eddy_value *a, const eddy_value *b)
{
    if (!ev->b)
        return eddy_xfail_(ev, pc, EDDY_EINVAL, "'+' of strings needs batch memory");
    size_t n = (size_t)a->len + b->len;
    if (n > UINT32_MAX)
        return eddy_xfail_(ev, pc, EDDY_ELIMIT, "joined string longer than 4 GiB");
    char *p = eddy_batch_alloc(ev->b, n + 1);
    if (!p)
        return eddy_xfail_(ev, pc, EDDY_ENOMEM, "batch memory limit reached joining strings");
    if (a->len)
        memcpy(p, a->u.s, a->len);
    if (b->len)
        memcpy(p + a->len, b->u.s, b->len);
    p[n] = '\0';
    *a = eddy_v_str(p, (uint32_t)n);
    return 0;
}

/* a := a op b, for + - * / %. */
static int arith(const xeval *ev, const xinsn *pc, eddy_value *a, const eddy_value *b)
{
    int op = pc->op;
    if (a->type == EDDY_NULL || b->type == EDDY_NULL) {
        *a = eddy_v_null();
        return 0;
    }
    if (a->type == EDDY_INT && b->type == EDDY_INT) {
        int64_t x = a->u.i, y = b->u.i, r;
        switch (op) {
        case XOP_ADD:
            if (!__builtin_add_overflow(x, y, &r)) {
                a->u.i = r;
                return 0;
            }
            break;
        case XOP_SUB:
            if (!__builtin_sub_overflow(x, y, &r)) {
                a->u.i = r;
                return 0;
            }
            break;
        case XOP_MUL:
            if (!__builtin_mul_overflow(x, y, &r)) {
                a->u.i = r;
                return 0;
            }
            break;
        case XOP_MOD:
            if (y == 0)
                *a = eddy_v_null();
            else
                a->u.i = y == -1 ? 0 : x % y; /* INT64_MIN % -1 traps on x86 */
            return 0;
        default:
            break;
        }
        /* Overflowing integer arithmetic and division continue in double. */
    } else if (!is_num(a) || !is_num(b)) {
        if (op == XOP_ADD && is_str(a) && is_str(b))
            return concat(ev, pc, a, b);
        return eddy_xfail_(ev, pc, EDDY_ETYPE, "'%s' needs two numbers%s, got %s and %s",
                           op_name(op), op == XOP_ADD ? " or two strings" : "",
                           eddy_type_name(a->type), eddy_type_name(b->type));
    }
    double x = num(a), y = num(b);
    switch (op) {
    case XOP_ADD: *a = eddy_xdouble_(x + y); break;
    case XOP_SUB: *a = eddy_xdouble_(x - y); break;
    case XOP_MUL: *a = eddy_xdouble_(x * y); break;
    case XOP_DIV: *a = y == 0.0 ? eddy_v_null() : eddy_xdouble_(x / y); break;
    default: *a = y == 0.0 ? eddy_v_null() : eddy_xdouble_(fmod(x, y)); break;
    }
    return 0;
}

int eddy_expr_eval_why(const eddy_expr *e, eddy_batch *b, const eddy_record *r,
                       eddy_value *out, char *why, size_t whylen)
{
    const xeval ev = {b, why, whylen};
    eddy_value st[EDDY_EXPR_STACK];
    eddy_value *sp = st; /* next free slot; the compiler bounds the depth */
    const xinsn *pc = e->code;
    int res, rc;
    for (;;) {
        switch ((xop)pc->op) {
        case XOP_END:
            *out = sp[-1];
            return 0;
        case XOP_CONST:
            *sp++ = e->consts[pc->a];
            break;
        case XOP_FIELD: {
            const eddy_value *v = field(r, pc->a);
            *sp++ = v ? *v : eddy_v_null();
            break;
        }
        case XOP_PATH: {
            const eddy_value *v = path_get(e, r, &e->paths[pc->a]);
            *sp++ = v ? *v : eddy_v_null();
            break;
        }
        case XOP_EXISTS:
            *sp++ = eddy_v_bool(field(r, pc->a) != NULL);
            break;
        case XOP_EXISTS_PATH:
            *sp++ = eddy_v_bool(path_get(e, r, &e->paths[pc->a]) != NULL);
            break;
        case XOP_CMP_FIELD_CONST: {
            const eddy_value *v = field(r, pc->a);
            const eddy_value *c = &e->consts[pc->b];
            if (!v)
                res = 0;
            else if (compare(pc->fn, v, c, &res) != 0)
                return compare_fail(&ev, pc, pc->fn, v, c);
            *sp++ = eddy_v_bool(res);
            break;
        }
        case XOP_NEG: {
            eddy_value *v = &sp[-1];
            if (v->type == EDDY_INT)
                *v = v->u.i == INT64_MIN ? eddy_v_double(-(double)v->u.i) : eddy_v_int(-v->u.i);
            else if (v->type == EDDY_DOUBLE)
                v->u.d = -v->u.d;
            else if (v->type != EDDY_NULL)
                return eddy_xfail_(&ev, pc, EDDY_ETYPE, "unary '-' needs a number, got %s",
                                   eddy_type_name(v->type));
            break;
        }
        case XOP_ADD:
        case XOP_SUB:
        case XOP_MUL:
        case XOP_DIV:
        case XOP_MOD:
            if ((rc = arith(&ev, pc, &sp[-2], &sp[-1])) != 0)
                return rc;
            sp--;
            break;
        case XOP_EQ:
        case XOP_NE:
        case XOP_LT:
        case XOP_LE:
        case XOP_GT:
        case XOP_GE:
            if (compare(pc->op, &sp[-2], &sp[-1], &res) != 0)
                return compare_fail(&ev, pc, pc->op, &sp[-2], &sp[-1]);
            sp--;
            sp[-1] = eddy_v_bool(res);
            break;
        case XOP_IS_NULL:
            sp[-1] = eddy_v_bool(sp[-1].type == EDDY_NULL);
            break;
        case XOP_NOT_NULL:
            sp[-1] = eddy_v_bool(sp[-1].type != EDDY_NULL);
            break;
        case XOP_NOT:
            sp[-1] = eddy_v_bool(!truthy(&sp[-1]));
            break;
        case XOP_BOOL:
            sp[-1] = eddy_v_bool(truthy(&sp[-1]));
            break;
        case XOP_AND_JMP:
            if (!truthy(&sp[-1])) {
                sp[-1] = eddy_v_bool(0);
                pc += pc->a;
                continue;
            }
            sp--;
            break;
        case XOP_OR_JMP:
            if (truthy(&sp[-1])) {
                sp[-1] = eddy_v_bool(1);
                pc += pc->a;
                continue;
            }
            sp--;
            break;
        case XOP_COALESCE_JMP:
            if (sp[-1].type != EDDY_NULL) {
                pc += pc->a;
                continue;
            }
            sp--;
            break;
        case XOP_IN:
        case XOP_NOT_IN: {
            eddy_value *probe = sp - pc->a - 1;
            const xlist *l = &e->lists[pc->b];
            int found = 0;
            for (uint32_t k = 0; k < l->n && !found; k++)
                found = member(probe, &e->consts[l->first + k]);
            for (uint32_t k = 1; k <= pc->a && !found; k++)
                found = member(probe, &probe[k]);
            /* Null is in no list, and not "not in" any list either. */
            res = probe->type != EDDY_NULL && (pc->op == XOP_IN ? found : !found);
            *probe = eddy_v_bool(res);
            sp = probe + 1;
            break;
        }
        case XOP_CALL: {
            eddy_value *args = sp - pc->a;
            if ((rc = eddy_xcall_(&ev, pc, args)) != 0)
                return rc;
            sp = args + 1;
            break;
        }
        }
        pc++;
    }
}

int eddy_expr_eval(const eddy_expr *e, eddy_batch *b, const eddy_record *r, eddy_value *out)
{
    return eddy_expr_eval_why(e, b, r, out, NULL, 0);
}
