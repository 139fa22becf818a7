/* Compiler: recursive descent straight to stack bytecode, one token of
 * lookahead. The grammar and precedence are in docs/EXPRESSIONS.md. */
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/expr/expr_code.h"
#include "lib/expr/expr_lex.h"
#include "engine/core/sym.h"
#include "lib/text/suggest.h"

/* Parenthesis / unary nesting allowed; keeps the C stack bounded on
 * hostile input such as ten thousand '('. */
#define MAX_NEST 200

typedef struct parser {
    const char *src;
    size_t pos;
    tok t;
    xinsn *code;
    uint32_t ncode, capcode;
    eddy_value *consts;
    uint32_t nconst, capconst;
    xpath *paths;
    uint32_t npath, cappath;
    xseg *segs; /* s holds a blob offset until the end */
    uint32_t nseg, capseg;
    xlist *lists;
    uint32_t nlist, caplist;
    xblob blob;
    int depth, maxdepth, nest;
    char *err;
    size_t errlen;
    bool failed;
} parser;

__attribute__((format(printf, 3, 4))) static int perr(parser *p, uint32_t col, const char *fmt, ...)
{
    if (p->failed)
        return -1;
    p->failed = true;
    if (p->err && p->errlen) {
        int n = snprintf(p->err, p->errlen, "expr:%u: ", col);
        if (n >= 0 && (size_t)n < p->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return -1;
}

static int nomem(parser *p) { return perr(p, p->t.col, "out of memory"); }

static int grow(parser *p, void **arr, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    uint32_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    void *n = realloc(*arr, (size_t)c * elem);
    if (!n)
        return nomem(p);
    *arr = n;
    *cap = c;
    return 0;
}

static int next(parser *p)
{
    if (eddy_xlex_(p->src, &p->pos, &p->blob, &p->t, p->err, p->errlen) != 0) {
        p->failed = true;
        return -1;
    }
    return 0;
}

/* The token after the current one, without consuming anything. */
static ttype peek(parser *p)
{
    size_t pos = p->pos, blob_len = p->blob.len;
    tok t;
    ttype r = eddy_xlex_(p->src, &pos, &p->blob, &t, NULL, 0) == 0 ? t.t : T_EOF;
    p->blob.len = blob_len;
    return r;
}

/* "'foo'" or "end of expression", for messages. */
static const char *describe(parser *p, char *buf, size_t n)
{
    if (p->t.t == T_EOF)
        return "end of expression";
    uint32_t len = p->t.len > 24 ? 24 : p->t.len;
    snprintf(buf, n, "'%.*s%s'", (int)len, p->src + p->t.start, p->t.len > len ? "..." : "");
    return buf;
}

static int unexpected(parser *p, const char *wanted)
{
    char b[40];
    if (p->t.t == T_EOF)
        return perr(p, p->t.col, "unexpected end of expression; expected %s", wanted);
    return perr(p, p->t.col, "expected %s, found %s", wanted, describe(p, b, sizeof b));
}

static int expect(parser *p, ttype t, const char *wanted)
{
    if (p->t.t != t)
        return unexpected(p, wanted);
    return next(p);
}

static int emit(parser *p, xop op, uint32_t col, uint32_t a, int stack_effect)
{
    if (grow(p, (void **)&p->code, &p->capcode, p->ncode + 1, sizeof *p->code) != 0)
        return -1;
    xinsn *i = &p->code[p->ncode++];
    memset(i, 0, sizeof *i);
    i->op = (uint8_t)op;
    i->col = (uint16_t)(col > UINT16_MAX ? UINT16_MAX : col);
    i->a = a;
    p->depth += stack_effect;
    if (p->depth > p->maxdepth) {
        p->maxdepth = p->depth;
        if (p->maxdepth > EDDY_EXPR_STACK)
            return perr(p, col, "expression needs more than %d pending values; split it into "
                                "several derives", EDDY_EXPR_STACK);
    }
    return 0;
}

static int add_const(parser *p, eddy_value v, uint32_t *idx)
{
    if (grow(p, (void **)&p->consts, &p->capconst, p->nconst + 1, sizeof *p->consts) != 0)
        return -1;
    *idx = p->nconst;
    p->consts[p->nconst++] = v;
    return 0;
}

static int emit_const(parser *p, eddy_value v, uint32_t col)
{
    uint32_t idx;
    if (add_const(p, v, &idx) != 0)
        return -1;
    return emit(p, XOP_CONST, col, idx, +1);
}

/* The instruction when [start, ncode) is exactly one instruction. */
static xinsn *single(parser *p, uint32_t start)
{
    return p->ncode == start + 1 ? &p->code[start] : NULL;
}

static bool is_const(parser *p, uint32_t start, eddy_value *v)
{
    xinsn *i = single(p, start);
    if (!i || i->op != XOP_CONST)
        return false;
    if (v)
        *v = p->consts[i->a];
    return true;
}

static bool is_null_lit(parser *p, uint32_t start)
{
    eddy_value v;
    return is_const(p, start, &v) && v.type == EDDY_NULL;
}

static int enter(parser *p)
{
    if (++p->nest > MAX_NEST)
        return perr(p, p->t.col, "expression nested more than %d levels deep", MAX_NEST);
    return 0;
}

static int p_expr(parser *p);

static int p_path(parser *p)
{
    uint32_t col = p->t.col;
    const char *name = p->t.t == T_QIDENT ? p->blob.data + p->t.soff : p->src + p->t.start;
    size_t len = p->t.t == T_QIDENT ? p->t.slen : p->t.len;
    eddy_sym root = eddy_sym_intern(name, len);
    if (!root)
        return perr(p, col, "cannot intern field name '%.*s' (symbol table full)", (int)len, name);
    if (p->t.t == T_QIDENT)
        p->blob.len = p->t.soff; /* the name lives in the symbol table now */
    if (next(p) != 0)
        return -1;
    if (p->t.t != T_DOT)
        return emit(p, XOP_FIELD, col, root, +1);
    if (grow(p, (void **)&p->paths, &p->cappath, p->npath + 1, sizeof *p->paths) != 0)
        return -1;
    xpath *path = &p->paths[p->npath];
    path->root = root;
    path->first = p->nseg;
    path->n = 0;
    while (p->t.t == T_DOT) {
        if (next(p) != 0)
            return -1;
        uint32_t off, slen;
        if (p->t.t == T_QIDENT) {
            off = p->t.soff;
            slen = p->t.slen;
        } else if (p->t.t == T_IDENT || (p->t.t >= T_AND && p->t.t <= T_NULL)) {
            off = (uint32_t)p->blob.len;
            slen = p->t.len;
            if (eddy_xblob_put_(&p->blob, p->src + p->t.start, slen) != 0)
                return nomem(p);
        } else {
            return unexpected(p, "a field name after '.'");
        }
        if (grow(p, (void **)&p->segs, &p->capseg, p->nseg + 1, sizeof *p->segs) != 0)
            return -1;
        p->segs[p->nseg].s = (const char *)(uintptr_t)off;
        p->segs[p->nseg].len = slen;
        p->nseg++;
        path->n++;
        if (next(p) != 0)
            return -1;
    }
    return emit(p, XOP_PATH, col, p->npath++, +1);
}

static int unknown_function(parser *p, uint32_t col, const char *name, size_t len)
{
    char n[32];
    if (len >= sizeof n)
        return perr(p, col, "unknown function '%.*s'", (int)len, name);
    memcpy(n, name, len);
    n[len] = '\0';
    eddy_suggest s;
    eddy_suggest_init(&s, n, len);
    for (int f = 0; f < XFN_COUNT_; f++)
        eddy_suggest_try(&s, eddy_xfn_table_[f].name);
    /* Short names are close to everything: demand a closer match. */
    const char *best = eddy_suggest_best(&s, len <= 4 ? 1 : 2);
    if (best)
        return perr(p, col, "unknown function '%s'; did you mean '%s'?", n, best);
    return perr(p, col, "unknown function '%s' (see docs/EXPRESSIONS.md for the list)", n);
}

static int check_arity(parser *p, uint32_t col, int fn, uint32_t nargs)
{
    const xfn_info *f = &eddy_xfn_table_[fn];
    if (nargs >= f->min_args && (f->max_args == 255 || nargs <= f->max_args))
        return 0;
    if (f->max_args == 255)
        return perr(p, col, "%s() takes at least %u argument%s, got %u", f->name, f->min_args,
                    f->min_args == 1 ? "" : "s", nargs);
    if (f->min_args == f->max_args)
        return perr(p, col, "%s() takes %u argument%s, got %u", f->name, f->min_args,
                    f->min_args == 1 ? "" : "s", nargs);
    return perr(p, col, "%s() takes %u to %u arguments, got %u", f->name, f->min_args,
                f->max_args, nargs);
}

static int p_call(parser *p)
{
    uint32_t col = p->t.col;
    const char *name = p->src + p->t.start;
    size_t len = p->t.len;
    int fn = -1;
    for (int f = 0; f < XFN_COUNT_; f++)
        if (strlen(eddy_xfn_table_[f].name) == len && memcmp(eddy_xfn_table_[f].name, name, len) == 0)
            fn = f;
    if (fn < 0)
        return unknown_function(p, col, name, len);
    if (next(p) != 0 || next(p) != 0) /* name, '(' */
        return -1;
    uint32_t nargs = 0, arg_start = p->ncode, arg_col = p->t.col;
    uint32_t chain = UINT32_MAX; /* coalesce's jumps, linked through .a */
    if (p->t.t != T_RP) {
        for (;;) {
            arg_start = p->ncode;
            arg_col = p->t.col;
            if (p_expr(p) != 0)
                return -1;
            nargs++;
            if (p->t.t != T_COMMA)
                break;
            if (next(p) != 0)
                return -1;
            if (fn == XFN_COALESCE) {
                if (emit(p, XOP_COALESCE_JMP, col, chain, -1) != 0)
                    return -1;
                chain = p->ncode - 1;
            }
        }
    }
    if (expect(p, T_RP, nargs ? "',' or ')'" : "')'") != 0 || check_arity(p, col, fn, nargs) != 0)
        return -1;
    switch (fn) {
    case XFN_COALESCE:
        while (chain != UINT32_MAX) {
            uint32_t prev = p->code[chain].a;
            p->code[chain].a = p->ncode - chain;
            chain = prev;
        }
        return 0;
    case XFN_EXISTS: {
        xinsn *i = single(p, arg_start);
        if (!i || (i->op != XOP_FIELD && i->op != XOP_PATH))
            return perr(p, arg_col, "exists() takes a field name, e.g. exists(payload.user)");
        i->op = i->op == XOP_FIELD ? XOP_EXISTS : XOP_EXISTS_PATH;
        return 0;
    }
    case XFN_IS_NULL:
        return emit(p, XOP_IS_NULL, col, 0, 0);
    default:
        if (emit(p, XOP_CALL, col, nargs, 1 - (int)nargs) != 0)
            return -1;
        p->code[p->ncode - 1].fn = (uint8_t)fn;
        return 0;
    }
}

static int p_primary(parser *p)
{
    uint32_t col = p->t.col;
    eddy_value v = {0};
    switch (p->t.t) {
    case T_INT:
        v.type = EDDY_INT;
        v.u.i = p->t.i;
        break;
    case T_DBL:
        v.type = EDDY_DOUBLE;
        v.u.d = p->t.d;
        break;
    case T_STR:
        v.type = EDDY_STRING;
        v.len = p->t.slen;
        v.u.i = p->t.soff; /* becomes a pointer once the blob stops moving */
        break;
    case T_TRUE:
    case T_FALSE:
        v.type = EDDY_BOOL;
        v.u.b = p->t.t == T_TRUE;
        break;
    case T_NULL:
        break;
    case T_LP:
        if (next(p) != 0 || enter(p) != 0 || p_expr(p) != 0)
            return -1;
        p->nest--;
        return expect(p, T_RP, "')'");
    case T_IDENT:
        if (peek(p) == T_LP)
            return p_call(p);
        return p_path(p);
    case T_QIDENT:
        return p_path(p);
    default:
        return unexpected(p, "a value");
    }
    if (emit_const(p, v, col) != 0)
        return -1;
    return next(p);
}

static int p_unary(parser *p)
{
    if (p->t.t != T_MINUS)
        return p_primary(p);
    uint32_t col = p->t.col;
    if (next(p) != 0 || enter(p) != 0)
        return -1;
    uint32_t start = p->ncode;
    if (p_unary(p) != 0)
        return -1;
    p->nest--;
    eddy_value v;
    /* Negative literals are constants, not a runtime negation. */
    if (is_const(p, start, &v) && (v.type == EDDY_DOUBLE || (v.type == EDDY_INT && v.u.i != INT64_MIN))) {
        eddy_value *c = &p->consts[p->code[start].a];
        if (c->type == EDDY_INT)
            c->u.i = -c->u.i;
        else
            c->u.d = -c->u.d;
        return 0;
    }
    return emit(p, XOP_NEG, col, 0, 0);
}

static int p_binary_level(parser *p, int level);

/* level 0: * / %   level 1: + - */
static int p_binary_level(parser *p, int level)
{
    if ((level == 0 ? p_unary(p) : p_binary_level(p, level - 1)) != 0)
        return -1;
    for (;;) {
        xop op;
        switch (p->t.t) {
        case T_STAR: op = XOP_MUL; break;
        case T_SLASH: op = XOP_DIV; break;
        case T_PCT: op = XOP_MOD; break;
        case T_PLUS: op = XOP_ADD; break;
        case T_MINUS: op = XOP_SUB; break;
        default: return 0;
        }
        if ((level == 0) != (op == XOP_MUL || op == XOP_DIV || op == XOP_MOD))
            return 0;
        uint32_t col = p->t.col;
        if (next(p) != 0 || (level == 0 ? p_unary(p) : p_binary_level(p, level - 1)) != 0)
            return -1;
        if (emit(p, op, col, 0, -1) != 0)
            return -1;
    }
}

static int p_additive(parser *p) { return p_binary_level(p, 1); }

static int p_in_list(parser *p, uint32_t col, bool negate)
{
    if (p->t.t != T_LP)
        return unexpected(p, "'(' after 'in' (a list such as (\"DE\", \"FR\"))");
    if (next(p) != 0)
        return -1;
    if (p->t.t == T_RP)
        return perr(p, p->t.col, "empty list after 'in'");
    /* Constant items go to one run of constants; other items stay on the
     * stack. Long literal lists thus cost no stack. */
    eddy_value *tmp = NULL;
    uint32_t ntmp = 0, captmp = 0, nstack = 0;
    int rc = -1;
    for (;;) {
        uint32_t start = p->ncode;
        eddy_value v;
        if (p_expr(p) != 0)
            goto out;
        if (is_const(p, start, &v)) {
            p->ncode--;
            p->depth--;
            if (grow(p, (void **)&tmp, &captmp, ntmp + 1, sizeof *tmp) != 0)
                goto out;
            tmp[ntmp++] = v;
        } else {
            nstack++;
        }
        if (p->t.t != T_COMMA)
            break;
        if (next(p) != 0)
            goto out;
        if (p->t.t == T_RP)
            break; /* trailing comma */
    }
    if (expect(p, T_RP, "',' or ')'") != 0)
        goto out;
    if (grow(p, (void **)&p->lists, &p->caplist, p->nlist + 1, sizeof *p->lists) != 0)
        goto out;
    p->lists[p->nlist].first = p->nconst;
    p->lists[p->nlist].n = ntmp;
    for (uint32_t k = 0; k < ntmp; k++) {
        uint32_t idx;
        if (add_const(p, tmp[k], &idx) != 0)
            goto out;
    }
    if (emit(p, negate ? XOP_NOT_IN : XOP_IN, col, nstack, -(int)nstack) != 0)
        goto out;
    p->code[p->ncode - 1].b = p->nlist++;
    rc = 0;
out:
    free(tmp);
    return rc;
}

static xop cmp_op(ttype t)
{
    switch (t) {
    case T_EQ: return XOP_EQ;
    case T_NE: return XOP_NE;
    case T_LT: return XOP_LT;
    case T_LE: return XOP_LE;
    case T_GT: return XOP_GT;
    case T_GE: return XOP_GE;
    default: return XOP_END;
    }
}

static int gen_compare(parser *p, xop op, uint32_t col, uint32_t lstart, uint32_t rstart)
{
    bool lnull = rstart == lstart + 1 && p->code[lstart].op == XOP_CONST &&
                 p->consts[p->code[lstart].a].type == EDDY_NULL;
    bool rnull = is_null_lit(p, rstart);
    if ((op == XOP_EQ || op == XOP_NE) && (lnull || rnull)) {
        /* `x == null` is the one comparison that is true for null. */
        if (rnull) {
            p->ncode--;
        } else {
            memmove(&p->code[lstart], &p->code[lstart + 1], sizeof *p->code * (p->ncode - lstart - 1));
            p->ncode--;
        }
        p->depth--;
        return emit(p, op == XOP_EQ ? XOP_IS_NULL : XOP_NOT_NULL, col, 0, 0);
    }
    eddy_value c;
    if (rstart == lstart + 1 && p->code[lstart].op == XOP_FIELD && is_const(p, rstart, &c) &&
        c.type != EDDY_NULL) {
        xinsn *i = &p->code[lstart];
        i->op = XOP_CMP_FIELD_CONST;
        i->fn = (uint8_t)op;
        i->col = (uint16_t)col;
        i->b = p->code[rstart].a;
        p->ncode--;
        p->depth--;
        return 0;
    }
    return emit(p, op, col, 0, -1);
}

static int p_compare(parser *p)
{
    uint32_t lstart = p->ncode;
    if (p_additive(p) != 0)
        return -1;
    uint32_t col = p->t.col;
    xop op = cmp_op(p->t.t);
    if (op != XOP_END) {
        if (next(p) != 0)
            return -1;
        uint32_t rstart = p->ncode;
        if (p_additive(p) != 0 || gen_compare(p, op, col, lstart, rstart) != 0)
            return -1;
    } else if (p->t.t == T_IN) {
        if (next(p) != 0 || p_in_list(p, col, false) != 0)
            return -1;
    } else if (p->t.t == T_NOT && peek(p) == T_IN) {
        if (next(p) != 0 || next(p) != 0 || p_in_list(p, col, true) != 0)
            return -1;
    } else {
        return 0;
    }
    if (cmp_op(p->t.t) != XOP_END || p->t.t == T_IN)
        return perr(p, p->t.col, "comparisons do not chain; combine them with 'and'");
    return 0;
}

static int p_not(parser *p)
{
    if (p->t.t != T_NOT)
        return p_compare(p);
    uint32_t col = p->t.col;
    if (next(p) != 0 || enter(p) != 0 || p_not(p) != 0)
        return -1;
    p->nest--;
    return emit(p, XOP_NOT, col, 0, 0);
}

/* `a and b`: a; AND_JMP end; b; BOOL; end:  (or likewise). */
static int p_logic(parser *p, ttype t, xop jmp, int (*operand)(parser *))
{
    if (operand(p) != 0)
        return -1;
    while (p->t.t == t) {
        uint32_t col = p->t.col;
        if (next(p) != 0 || emit(p, jmp, col, 0, -1) != 0)
            return -1;
        uint32_t at = p->ncode - 1;
        if (operand(p) != 0 || emit(p, XOP_BOOL, col, 0, 0) != 0)
            return -1;
        p->code[at].a = p->ncode - at;
    }
    return 0;
}

static int p_and(parser *p) { return p_logic(p, T_AND, XOP_AND_JMP, p_not); }
static int p_expr(parser *p) { return p_logic(p, T_OR, XOP_OR_JMP, p_and); }

static void parser_free(parser *p)
{
    free(p->code);
    free(p->consts);
    free(p->paths);
    free(p->segs);
    free(p->lists);
    free(p->blob.data);
}

/* Moves the parser's arrays into the expression and turns blob offsets into
 * pointers, now that the blob no longer moves. */
static eddy_expr *finish(parser *p, const char *src, size_t len)
{
    eddy_expr *e = calloc(1, sizeof *e);
    char *s = malloc(len + 1);
    if (!e || !s) {
        free(e);
        free(s);
        nomem(p);
        return NULL;
    }
    memcpy(s, src, len + 1);
    e->src = s;
    e->code = p->code;
    e->consts = p->consts;
    e->paths = p->paths;
    e->segs = p->segs;
    e->lists = p->lists;
    e->blob = p->blob.data;
    e->blob_len = p->blob.len;
    for (uint32_t i = 0; i < p->nconst; i++)
        if (e->consts[i].type == EDDY_STRING)
            e->consts[i].u.s = e->blob + e->consts[i].u.i;
    for (uint32_t i = 0; i < p->nseg; i++)
        e->segs[i].s = e->blob + (uintptr_t)e->segs[i].s;
    memset(p, 0, sizeof *p);
    return e;
}

eddy_expr *eddy_expr_compile(const char *src, char *err, size_t errlen)
{
    parser p;
    memset(&p, 0, sizeof p);
    p.src = src;
    p.err = err;
    p.errlen = errlen;
    if (err && errlen)
        err[0] = '\0';
    if (!src) {
        perr(&p, 1, "no expression given");
        return NULL;
    }
    size_t len = strlen(src);
    if (len > EDDY_EXPR_MAX_LEN) {
        perr(&p, 1, "expression longer than %d bytes", EDDY_EXPR_MAX_LEN);
        return NULL;
    }
    /* A blob that always exists gives even "" a pointer the caller can tell
     * apart with eddy_expr_owns. */
    if (eddy_xblob_put_(&p.blob, "", 1) != 0) {
        nomem(&p);
        return NULL;
    }
    eddy_expr *e = NULL;
    if (next(&p) != 0)
        goto out;
    if (p.t.t == T_EOF) {
        perr(&p, p.t.col, "empty expression");
        goto out;
    }
    if (p_expr(&p) != 0)
        goto out;
    if (p.t.t != T_EOF) {
        unexpected(&p, "an operator or the end of the expression");
        goto out;
    }
    if (emit(&p, XOP_END, (uint32_t)len + 1, 0, 0) != 0)
        goto out;
    e = finish(&p, src, len);
out:
    parser_free(&p);
    return e;
}
