/* Built-in functions of the expression language. Each reads its arguments
 * from the evaluation stack and leaves its result in the first slot. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/error.h"
#include "lib/expr/expr_code.h"

const xfn_info eddy_xfn_table_[XFN_COUNT_] = {
    [XFN_ABS] = {"abs", 1, 1},
    [XFN_SQRT] = {"sqrt", 1, 1},
    [XFN_LOG] = {"log", 1, 1},
    [XFN_EXP] = {"exp", 1, 1},
    [XFN_MIN] = {"min", 1, 255},
    [XFN_MAX] = {"max", 1, 255},
    [XFN_ROUND] = {"round", 1, 2},
    [XFN_FLOOR] = {"floor", 1, 1},
    [XFN_CEIL] = {"ceil", 1, 1},
    [XFN_LEN] = {"len", 1, 1},
    [XFN_LOWER] = {"lower", 1, 1},
    [XFN_UPPER] = {"upper", 1, 1},
    [XFN_TO_INT] = {"to_int", 1, 1},
    [XFN_TO_DOUBLE] = {"to_double", 1, 1},
    [XFN_TO_STRING] = {"to_string", 1, 1},
    [XFN_COALESCE] = {"coalesce", 1, 255},
    [XFN_EXISTS] = {"exists", 1, 1},
    [XFN_IS_NULL] = {"is_null", 1, 1},
};

static const char *fname(const xinsn *pc) { return eddy_xfn_table_[pc->fn].name; }

static int wrong_type(const xeval *ev, const xinsn *pc, const char *wanted, const eddy_value *v)
{
    return eddy_xfail_(ev, pc, EDDY_ETYPE, "%s() needs %s, got %s", fname(pc), wanted,
                       eddy_type_name(v->type));
}

/* Doubles that hold an integer come back as int when they fit int64, so
 * round/floor/ceil results can serve as keys and counts. */
static eddy_value int_if_fits(double d)
{
    if (d >= -9223372036854775808.0 && d < 9223372036854775808.0)
        return eddy_v_int((int64_t)d);
    return eddy_xdouble_(d);
}

static int math1(const xeval *ev, const xinsn *pc, eddy_value *v)
{
    if (v->type == EDDY_NULL)
        return 0;
    if (v->type != EDDY_INT && v->type != EDDY_DOUBLE)
        return wrong_type(ev, pc, "a number", v);
    if (v->type == EDDY_INT) {
        switch (pc->fn) {
        case XFN_ABS:
            *v = v->u.i == INT64_MIN ? eddy_v_double(9223372036854775808.0)
                                     : eddy_v_int(v->u.i < 0 ? -v->u.i : v->u.i);
            return 0;
        case XFN_ROUND:
        case XFN_FLOOR:
        case XFN_CEIL:
            return 0;
        default:
            break;
        }
    }
    double x = v->type == EDDY_INT ? (double)v->u.i : v->u.d;
    switch (pc->fn) {
    case XFN_ABS: *v = eddy_xdouble_(fabs(x)); break;
    case XFN_SQRT: *v = eddy_xdouble_(sqrt(x)); break;
    case XFN_LOG: *v = x > 0 ? eddy_xdouble_(log(x)) : eddy_v_null(); break;
    case XFN_EXP: *v = eddy_xdouble_(exp(x)); break;
    case XFN_ROUND: *v = isfinite(x) ? int_if_fits(round(x)) : eddy_v_null(); break;
    case XFN_FLOOR: *v = isfinite(x) ? int_if_fits(floor(x)) : eddy_v_null(); break;
    default: *v = isfinite(x) ? int_if_fits(ceil(x)) : eddy_v_null(); break;
    }
    return 0;
}

static int round_digits(const xeval *ev, const xinsn *pc, eddy_value *args)
{
    eddy_value *v = &args[0], *d = &args[1];
    if (v->type == EDDY_NULL || d->type == EDDY_NULL) {
        *v = eddy_v_null();
        return 0;
    }
    if (v->type != EDDY_INT && v->type != EDDY_DOUBLE)
        return wrong_type(ev, pc, "a number", v);
    if (d->type != EDDY_INT)
        return eddy_xfail_(ev, pc, EDDY_ETYPE, "round() needs an int number of digits, got %s",
                           eddy_type_name(d->type));
    int64_t n = d->u.i < -308 ? -308 : d->u.i > 308 ? 308 : d->u.i;
    double x = v->type == EDDY_INT ? (double)v->u.i : v->u.d;
    double scale = pow(10.0, (double)(n < 0 ? -n : n));
    double r = n >= 0 ? round(x * scale) / scale : round(x / scale) * scale;
    /* x * scale may overflow where x itself is fine: then x has no digits
     * left to round at that precision. */
    *v = isfinite(r) ? eddy_xdouble_(r) : eddy_xdouble_(x);
    return 0;
}

static int minmax(const xeval *ev, const xinsn *pc, eddy_value *args)
{
    const eddy_value *best = NULL;
    for (uint32_t i = 0; i < pc->a; i++) {
        const eddy_value *v = &args[i];
        if (v->type == EDDY_NULL)
            continue;
        int num = v->type == EDDY_INT || v->type == EDDY_DOUBLE;
        if (!num && v->type != EDDY_STRING)
            return wrong_type(ev, pc, "numbers or strings", v);
        if (!best) {
            best = v;
            continue;
        }
        int bnum = best->type == EDDY_INT || best->type == EDDY_DOUBLE;
        if (num != bnum)
            return eddy_xfail_(ev, pc, EDDY_ETYPE, "%s() cannot compare %s with %s", fname(pc),
                               eddy_type_name(best->type), eddy_type_name(v->type));
        int c;
        if (v->type == EDDY_INT && best->type == EDDY_INT) {
            c = (v->u.i > best->u.i) - (v->u.i < best->u.i);
        } else if (num) {
            double x = v->type == EDDY_INT ? (double)v->u.i : v->u.d;
            double y = best->type == EDDY_INT ? (double)best->u.i : best->u.d;
            c = (x > y) - (x < y);
        } else {
            uint32_t n = v->len < best->len ? v->len : best->len;
            c = n ? memcmp(v->u.s, best->u.s, n) : 0;
            if (c == 0)
                c = (v->len > best->len) - (v->len < best->len);
        }
        if (pc->fn == XFN_MIN ? c < 0 : c > 0)
            best = v;
    }
    args[0] = best ? *best : eddy_v_null();
    return 0;
}

static int change_case(const xeval *ev, const xinsn *pc, eddy_value *v)
{
    if (v->type == EDDY_NULL)
        return 0;
    if (v->type != EDDY_STRING)
        return wrong_type(ev, pc, "a string", v);
    int up = pc->fn == XFN_UPPER;
    uint32_t i = 0;
    /* Most inputs are already in the wanted case: then no copy is made. */
    while (i < v->len && (up ? !islower((unsigned char)v->u.s[i]) : !isupper((unsigned char)v->u.s[i])))
        i++;
    if (i == v->len)
        return 0;
    if (!ev->b)
        return eddy_xfail_(ev, pc, EDDY_EINVAL, "%s() needs batch memory", fname(pc));
    char *p = eddy_batch_alloc(ev->b, (size_t)v->len + 1);
    if (!p)
        return eddy_xfail_(ev, pc, EDDY_ENOMEM, "batch memory limit reached in %s()", fname(pc));
    memcpy(p, v->u.s, i);
    for (; i < v->len; i++) {
        unsigned char c = (unsigned char)v->u.s[i];
        /* ASCII only: the C locale's toupper leaves UTF-8 bytes alone. */
        p[i] = (char)(c < 0x80 ? (up ? toupper(c) : tolower(c)) : c);
    }
    p[v->len] = '\0';
    *v = eddy_v_str(p, v->len);
    return 0;
}

/* Copies a string value into buf as a C string with surrounding blanks
 * removed; 0 when it does not fit (no number is that long). */
static int cstr(const eddy_value *v, char *buf, size_t n)
{
    const char *s = v->u.s;
    uint32_t len = v->len;
    while (len && isspace((unsigned char)*s))
        s++, len--;
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    if (!len || len >= n)
        return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return 1;
}

static int parse_double(const eddy_value *v, double *out)
{
    char buf[128], *end;
    if (!cstr(v, buf, sizeof buf))
        return 0;
    errno = 0;
    double d = strtod(buf, &end);
    if (*end || errno == ERANGE || !isfinite(d))
        return 0;
    *out = d;
    return 1;
}

static int to_int(const xeval *ev, const xinsn *pc, eddy_value *v)
{
    double d;
    switch (v->type) {
    case EDDY_NULL:
    case EDDY_INT:
        return 0;
    case EDDY_BOOL:
        *v = eddy_v_int(v->u.b != 0);
        return 0;
    case EDDY_DOUBLE:
        d = trunc(v->u.d);
        *v = isfinite(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0
                 ? eddy_v_int((int64_t)d)
                 : eddy_v_null();
        return 0;
    case EDDY_STRING: {
        char buf[128], *end;
        if (cstr(v, buf, sizeof buf)) {
            errno = 0;
            long long x = strtoll(buf, &end, 10);
            if (!*end && errno != ERANGE) {
                *v = eddy_v_int(x);
                return 0;
            }
        }
        if (parse_double(v, &d)) {
            *v = eddy_v_double(d);
            return to_int(ev, pc, v);
        }
        *v = eddy_v_null();
        return 0;
    }
    default:
        return wrong_type(ev, pc, "a number, bool or string", v);
    }
}

static int to_double(const xeval *ev, const xinsn *pc, eddy_value *v)
{
    double d;
    switch (v->type) {
    case EDDY_NULL:
    case EDDY_DOUBLE:
        return 0;
    case EDDY_INT:
        *v = eddy_v_double((double)v->u.i);
        return 0;
    case EDDY_BOOL:
        *v = eddy_v_double(v->u.b ? 1.0 : 0.0);
        return 0;
    case EDDY_STRING:
        *v = parse_double(v, &d) ? eddy_v_double(d) : eddy_v_null();
        return 0;
    default:
        return wrong_type(ev, pc, "a number, bool or string", v);
    }
}

/* snprintf costs more than the rest of a typical derive; ints are common. */
static int format_int(int64_t x, char *buf)
{
    char tmp[24];
    uint64_t u = x < 0 ? 0 - (uint64_t)x : (uint64_t)x;
    int n = 0, len = 0;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (x < 0)
        buf[len++] = '-';
    while (n)
        buf[len++] = tmp[--n];
    buf[len] = '\0';
    return len;
}

static int to_string(const xeval *ev, const xinsn *pc, eddy_value *v)
{
    char buf[40];
    int n;
    switch (v->type) {
    case EDDY_NULL:
    case EDDY_STRING:
        return 0;
    case EDDY_BYTES:
        v->type = EDDY_STRING;
        return 0;
    case EDDY_BOOL:
        *v = v->u.b ? eddy_v_str("true", 4) : eddy_v_str("false", 5);
        return 0;
    case EDDY_INT:
        n = format_int(v->u.i, buf);
        break;
    case EDDY_DOUBLE:
        /* The shortest form that reads back as the same double. */
        n = snprintf(buf, sizeof buf, "%.15g", v->u.d);
        if (strtod(buf, NULL) != v->u.d)
            n = snprintf(buf, sizeof buf, "%.17g", v->u.d);
        break;
    default:
        return wrong_type(ev, pc, "a scalar", v);
    }
    if (!ev->b)
        return eddy_xfail_(ev, pc, EDDY_EINVAL, "to_string() needs batch memory");
    eddy_value s = eddy_batch_string(ev->b, buf, (size_t)n);
    if (!s.u.s)
        return eddy_xfail_(ev, pc, EDDY_ENOMEM, "batch memory limit reached in to_string()");
    *v = s;
    return 0;
}

int eddy_xcall_(const xeval *ev, const xinsn *pc, eddy_value *args)
{
    eddy_value *v = &args[0];
    switch ((xfn)pc->fn) {
    case XFN_ROUND:
        if (pc->a == 2)
            return round_digits(ev, pc, args);
        return math1(ev, pc, v);
    case XFN_ABS:
    case XFN_SQRT:
    case XFN_LOG:
    case XFN_EXP:
    case XFN_FLOOR:
    case XFN_CEIL:
        return math1(ev, pc, v);
    case XFN_MIN:
    case XFN_MAX:
        return minmax(ev, pc, args);
    case XFN_LEN:
        switch (v->type) {
        case EDDY_NULL:
            return 0;
        case EDDY_STRING:
        case EDDY_BYTES:
        case EDDY_ARRAY:
        case EDDY_MAP:
            *v = eddy_v_int(v->len);
            return 0;
        default:
            return wrong_type(ev, pc, "a string, array or map", v);
        }
    case XFN_LOWER:
    case XFN_UPPER:
        return change_case(ev, pc, v);
    case XFN_TO_INT:
        return to_int(ev, pc, v);
    case XFN_TO_DOUBLE:
        return to_double(ev, pc, v);
    case XFN_TO_STRING:
        return to_string(ev, pc, v);
    default:
        return eddy_xfail_(ev, pc, EDDY_EINVAL, "function %u cannot be called", pc->fn);
    }
}
