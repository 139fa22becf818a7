/* Avro values (avro-c's generic value interface) <-> eddy values. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/format/avro_int.h"
#include "engine/core/error.h"
#include "engine/format/format_int.h"

/* ---- avro -> eddy --------------------------------------------------------- */

typedef struct adec {
    eddy_batch *b;
    int check_utf8;
    const char *field;
    char *err;
    size_t errlen;
} adec;

static int dfail(adec *d, int rc, const char *fmt, ...) EDDY_PRINTF(3, 4);
static int dfail(adec *d, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(d->err, d->errlen, fmt, ap);
    va_end(ap);
    if (d->field && n >= 0 && (size_t)n < d->errlen)
        snprintf(d->err + n, d->errlen - (size_t)n, " in field \"%s\"", d->field);
    return rc;
}

static int copy_str(adec *d, const void *p, size_t n, eddy_type t, eddy_value *out)
{
    if (n > UINT32_MAX)
        return dfail(d, EDDY_ELIMIT, "%s of %zu bytes is too long", eddy_type_name(t), n);
    if (t == EDDY_STRING && d->check_utf8 && eddy_utf8_valid_prefix(p, n) != n)
        return dfail(d, EDDY_EPARSE, "invalid UTF-8 in string");
    char *o = eddy_batch_alloc(d->b, n + 1);
    if (!o)
        return dfail(d, EDDY_ENOMEM, "batch memory limit reached");
    if (n)
        memcpy(o, p, n);
    o[n] = '\0';
    memset(out, 0, sizeof *out);
    out->type = (uint8_t)t;
    out->len = (uint32_t)n;
    out->u.s = o;
    return 0;
}

static int from_avro(adec *d, avro_value_t *v, eddy_value *out, unsigned depth)
{
    if (depth > EDDY_FMT_MAX_DEPTH)
        return dfail(d, EDDY_ELIMIT, "value nested deeper than %u levels", EDDY_FMT_MAX_DEPTH);
    avro_type_t t = avro_value_get_type(v);
    int rc = 0;
    memset(out, 0, sizeof *out);
    switch (t) {
    case AVRO_NULL: return 0;
    case AVRO_BOOLEAN: {
        int x = 0;
        rc = avro_value_get_boolean(v, &x);
        *out = eddy_v_bool(x);
        break;
    }
    case AVRO_INT32: {
        int32_t x = 0;
        rc = avro_value_get_int(v, &x);
        *out = eddy_v_int(x);
        break;
    }
    case AVRO_INT64: {
        int64_t x = 0;
        rc = avro_value_get_long(v, &x);
        *out = eddy_v_int(x);
        break;
    }
    case AVRO_FLOAT: {
        float x = 0;
        rc = avro_value_get_float(v, &x);
        *out = eddy_v_double(x);
        break;
    }
    case AVRO_DOUBLE: {
        double x = 0;
        rc = avro_value_get_double(v, &x);
        *out = eddy_v_double(x);
        break;
    }
    case AVRO_STRING: {
        const char *p = NULL;
        size_t n = 0;
        if ((rc = avro_value_get_string(v, &p, &n)) != 0)
            break;
        /* avro-c counts the NUL terminator in the size. */
        return copy_str(d, p, n ? n - 1 : 0, EDDY_STRING, out);
    }
    case AVRO_BYTES:
    case AVRO_FIXED: {
        const void *p = NULL;
        size_t n = 0;
        rc = t == AVRO_BYTES ? avro_value_get_bytes(v, &p, &n) : avro_value_get_fixed(v, &p, &n);
        if (rc != 0)
            break;
        return copy_str(d, p, n, EDDY_BYTES, out);
    }
    case AVRO_ENUM: {
        int idx = 0;
        if ((rc = avro_value_get_enum(v, &idx)) != 0)
            break;
        avro_schema_t s = avro_value_get_schema(v);
        const char *sym = s && idx >= 0 && idx < avro_schema_enum_number_of_symbols(s)
                              ? avro_schema_enum_get(s, idx)
                              : NULL;
        if (!sym)
            return dfail(d, EDDY_EPARSE, "enum index %d out of range", idx);
        return copy_str(d, sym, strlen(sym), EDDY_STRING, out);
    }
    case AVRO_UNION: {
        avro_value_t br;
        if ((rc = avro_value_get_current_branch(v, &br)) != 0)
            break;
        return from_avro(d, &br, out, depth);
    }
    case AVRO_ARRAY: {
        size_t n = 0;
        if ((rc = avro_value_get_size(v, &n)) != 0)
            break;
        if (n > UINT32_MAX)
            return dfail(d, EDDY_ELIMIT, "array of %zu items is too long", n);
        eddy_value *items = eddy_batch_alloc(d->b, sizeof *items * (n ? n : 1));
        if (!items)
            return dfail(d, EDDY_ENOMEM, "batch memory limit reached");
        for (size_t i = 0; i < n; i++) {
            avro_value_t child;
            if ((rc = avro_value_get_by_index(v, i, &child, NULL)) != 0)
                break;
            if ((rc = from_avro(d, &child, &items[i], depth + 1)) != 0)
                return rc;
        }
        if (rc != 0)
            break;
        out->type = EDDY_ARRAY;
        out->len = (uint32_t)n;
        out->u.items = items;
        return 0;
    }
    case AVRO_MAP:
    case AVRO_RECORD: {
        size_t n = 0;
        if ((rc = avro_value_get_size(v, &n)) != 0)
            break;
        if (n > UINT32_MAX)
            return dfail(d, EDDY_ELIMIT, "map of %zu entries is too long", n);
        eddy_kv *kvs = eddy_batch_alloc(d->b, sizeof *kvs * (n ? n : 1));
        if (!kvs)
            return dfail(d, EDDY_ENOMEM, "batch memory limit reached");
        for (size_t i = 0; i < n; i++) {
            avro_value_t child;
            const char *key = NULL;
            if ((rc = avro_value_get_by_index(v, i, &child, &key)) != 0)
                break;
            if (!key)
                key = "";
            if ((rc = copy_str(d, key, strlen(key), EDDY_STRING, &kvs[i].key)) != 0 ||
                (rc = from_avro(d, &child, &kvs[i].val, depth + 1)) != 0)
                return rc;
        }
        if (rc != 0)
            break;
        out->type = EDDY_MAP;
        out->len = (uint32_t)n;
        out->u.kvs = kvs;
        return 0;
    }
    default:
        return dfail(d, EDDY_EUNSUPPORTED, "unsupported avro type %d", (int)t);
    }
    if (rc != 0)
        return dfail(d, EDDY_EPARSE, "avro-c could not read a %s value: %s", eddy_avro_type_name(t),
                     avro_strerror());
    return 0;
}

int eddy_avro_conv_record(avro_value_t *v, eddy_batch *b, eddy_record *r, eddy_symcache *syms,
                          int check_utf8, char *err, size_t errlen)
{
    adec d = {.b = b, .check_utf8 = check_utf8, .err = err, .errlen = errlen};
    if (avro_value_get_type(v) != AVRO_RECORD)
        return dfail(&d, EDDY_ETYPE, "expected an avro record, got %s",
                     eddy_avro_type_name(avro_value_get_type(v)));
    size_t n = 0;
    if (avro_value_get_size(v, &n) != 0 || n > UINT32_MAX / 2)
        return dfail(&d, EDDY_EPARSE, "avro-c could not read the record: %s", avro_strerror());
    uint32_t nf = r->nfields;
    if (eddy_record_reserve(b, r, (uint32_t)n) != 0)
        return dfail(&d, EDDY_ENOMEM, "batch memory limit reached");
    for (size_t i = 0; i < n; i++) {
        avro_value_t child;
        const char *name = NULL;
        int rc;
        if (avro_value_get_by_index(v, i, &child, &name) != 0 || !name || !*name) {
            r->nfields = nf;
            return dfail(&d, EDDY_EPARSE, "avro-c could not read field %zu: %s", i, avro_strerror());
        }
        size_t nl = strlen(name);
        eddy_sym sym = syms ? eddy_symcache_get(syms, (unsigned)i, name, nl)
                            : eddy_sym_intern(name, nl);
        if (!sym) {
            r->nfields = nf;
            return dfail(&d, EDDY_ELIMIT, "field name table is full; cannot add \"%s\"", name);
        }
        d.field = name;
        eddy_field *f = &r->fields[r->nfields];
        f->name = sym;
        f->reserved_ = 0;
        if ((rc = from_avro(&d, &child, &f->v, 1)) != 0) {
            r->nfields = nf;
            return rc;
        }
        r->nfields++;
    }
    return 0;
}

int eddy_avro_to_record(avro_value_t *v, eddy_batch *b, eddy_record *r, char *err, size_t errlen)
{
    return eddy_avro_conv_record(v, b, r, NULL, 1, err, errlen);
}

/* ---- eddy -> avro --------------------------------------------------------- */

typedef struct aenc {
    const eddy_avro_schema *defs;
    char path[256]; /* "user.address.city", for messages */
    size_t plen;
    eddy_buf tmp;   /* NUL-terminated copies for avro-c */
    char *err;
    size_t errlen;
} aenc;

static int efail(aenc *e, int rc, const char *fmt, ...) EDDY_PRINTF(3, 4);
static int efail(aenc *e, int rc, const char *fmt, ...)
{
    int n = snprintf(e->err, e->errlen, "field \"%s\": ", e->path);
    if (n >= 0 && (size_t)n < e->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->err + n, e->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static size_t path_push(aenc *e, const char *name, size_t n, int index)
{
    size_t mark = e->plen;
    int w;
    if (index >= 0)
        w = snprintf(e->path + e->plen, sizeof e->path - e->plen, "[%d]", index);
    else
        w = snprintf(e->path + e->plen, sizeof e->path - e->plen, "%s%.*s", e->plen ? "." : "",
                     (int)n, name ? name : "");
    if (w > 0)
        e->plen = e->plen + (size_t)w < sizeof e->path ? e->plen + (size_t)w : sizeof e->path - 1;
    return mark;
}

static void path_pop(aenc *e, size_t mark)
{
    e->plen = mark;
    e->path[mark] = '\0';
}

static const char *cstr(aenc *e, const char *s, size_t n)
{
    e->tmp.len = 0;
    if (eddy_buf_put(&e->tmp, s, n) != 0 || eddy_buf_putc(&e->tmp, '\0') != 0)
        return NULL;
    return (const char *)e->tmp.data;
}

static avro_schema_t resolve(avro_schema_t s)
{
    while (s && avro_typeof(s) == AVRO_LINK)
        s = avro_schema_link_target(s);
    return s;
}

/* 2: the value fits this branch as is; 1: after a widening (int -> double,
 * string -> bytes); 0: not at all. */
static int fits(avro_schema_t s, const eddy_value *v)
{
    s = resolve(s);
    switch (avro_typeof(s)) {
    case AVRO_NULL: return v->type == EDDY_NULL ? 2 : 0;
    case AVRO_BOOLEAN: return v->type == EDDY_BOOL ? 2 : 0;
    case AVRO_INT64: return v->type == EDDY_INT ? 2 : 0;
    case AVRO_INT32: return v->type == EDDY_INT && v->u.i >= INT32_MIN && v->u.i <= INT32_MAX ? 2 : 0;
    case AVRO_DOUBLE:
    case AVRO_FLOAT: return v->type == EDDY_DOUBLE ? 2 : v->type == EDDY_INT ? 1 : 0;
    case AVRO_STRING: return v->type == EDDY_STRING ? 2 : 0;
    case AVRO_BYTES: return v->type == EDDY_BYTES ? 2 : v->type == EDDY_STRING ? 1 : 0;
    case AVRO_FIXED:
        if ((v->type != EDDY_BYTES && v->type != EDDY_STRING) ||
            v->len != avro_schema_fixed_size(s))
            return 0;
        return v->type == EDDY_BYTES ? 2 : 1;
    case AVRO_ENUM: {
        if (v->type != EDDY_STRING)
            return 0;
        for (int i = 0, n = avro_schema_enum_number_of_symbols(s); i < n; i++) {
            const char *sym = avro_schema_enum_get(s, i);
            if (sym && strlen(sym) == v->len && memcmp(sym, v->u.s, v->len) == 0)
                return 1;
        }
        return 0;
    }
    case AVRO_ARRAY: return v->type == EDDY_ARRAY ? 2 : 0;
    case AVRO_MAP:
    case AVRO_RECORD: return v->type == EDDY_MAP ? 2 : 0;
    default: return 0;
    }
}

static int null_branch(avro_schema_t u)
{
    for (size_t i = 0, n = avro_schema_union_size(u); i < n; i++)
        if (avro_typeof(resolve(avro_schema_union_branch(u, (int)i))) == AVRO_NULL)
            return (int)i;
    return -1;
}

static int to_avro(aenc *e, const eddy_value *v, avro_value_t *out, unsigned depth);

static int accepts_null(avro_schema_t s)
{
    s = resolve(s);
    return avro_typeof(s) == AVRO_NULL || (avro_typeof(s) == AVRO_UNION && null_branch(s) >= 0);
}

static int avro_call(aenc *e, int rc, const char *what)
{
    if (rc == 0)
        return 0;
    return efail(e, rc == ENOMEM ? EDDY_ENOMEM : EDDY_EINVAL, "avro-c could not set %s: %s", what,
                 avro_strerror());
}

static int mismatch(aenc *e, const eddy_value *v, avro_schema_t s)
{
    const char *name = avro_schema_name(s);
    avro_type_t t = avro_typeof(s);
    int named = t == AVRO_RECORD || t == AVRO_ENUM || t == AVRO_FIXED;
    return efail(e, EDDY_ETYPE, "cannot write %s as avro %s%s%s%s", eddy_type_name(v->type),
                 eddy_avro_type_name(t), named && name ? " " : "", named && name ? name : "",
                 t == AVRO_UNION ? " (no branch accepts it)" : "");
}

/* A field the record lacks (or holds null for a schema without null). */
static int missing(aenc *e, avro_schema_t record, const char *fname, avro_value_t *child,
                   int present)
{
    avro_schema_t fs = resolve(avro_value_get_schema(child));
    if (avro_typeof(fs) == AVRO_UNION) {
        int nb = null_branch(fs);
        if (nb >= 0) {
            avro_value_t br;
            return avro_call(e, avro_value_set_branch(child, nb, &br) || avro_value_set_null(&br),
                             "null");
        }
    }
    const eddy_value *dv = eddy_avro_default(e->defs, record, fname);
    if (dv)
        return to_avro(e, dv, child, 1);
    if (present)
        return efail(e, EDDY_ETYPE, "is null but the schema type %s is not nullable and has no default",
                     eddy_avro_type_name(avro_typeof(fs)));
    return efail(e, EDDY_ENOTFOUND, "missing, and the schema type %s is not nullable and has no default",
                 eddy_avro_type_name(avro_typeof(fs)));
}

/* Fields of a record value from either record fields (r) or a map (m). */
static int fill_record(aenc *e, const eddy_record *r, const eddy_value *m, avro_value_t *out,
                       unsigned depth)
{
    if (depth > EDDY_FMT_MAX_DEPTH)
        return efail(e, EDDY_ELIMIT, "nested deeper than %u levels", EDDY_FMT_MAX_DEPTH);
    avro_schema_t rs = resolve(avro_value_get_schema(out));
    size_t n = 0;
    if (avro_value_get_size(out, &n) != 0)
        return avro_call(e, -1, "a record");
    for (size_t i = 0; i < n; i++) {
        avro_value_t child;
        const char *fname = NULL;
        if (avro_value_get_by_index(out, i, &child, &fname) != 0 || !fname)
            return avro_call(e, -1, "a record field");
        size_t fl = strlen(fname);
        const eddy_value *v = NULL;
        if (r) {
            eddy_sym sym = eddy_sym_lookup(fname, fl);
            v = sym ? eddy_record_get(r, sym) : NULL;
        } else {
            for (uint32_t k = m->len; k-- > 0;) {
                const eddy_kv *kv = &m->u.kvs[k];
                if (kv->key.type == EDDY_STRING && kv->key.len == fl &&
                    memcmp(kv->key.u.s, fname, fl) == 0) {
                    v = &kv->val;
                    break;
                }
            }
        }
        size_t mark = path_push(e, fname, fl, -1);
        int rc;
        if (!v)
            rc = missing(e, rs, fname, &child, 0);
        else if (v->type == EDDY_NULL && !accepts_null(avro_value_get_schema(&child)))
            rc = missing(e, rs, fname, &child, 1);
        else
            rc = to_avro(e, v, &child, depth + 1);
        if (rc != 0)
            return rc;
        path_pop(e, mark);
    }
    return 0;
}

static int to_avro(aenc *e, const eddy_value *v, avro_value_t *out, unsigned depth)
{
    if (depth > EDDY_FMT_MAX_DEPTH)
        return efail(e, EDDY_ELIMIT, "nested deeper than %u levels", EDDY_FMT_MAX_DEPTH);
    avro_schema_t s = resolve(avro_value_get_schema(out));
    avro_type_t t = avro_typeof(s);
    if (t == AVRO_UNION) {
        int best = -1, score = 0;
        for (size_t i = 0, n = avro_schema_union_size(s); i < n && score < 2; i++) {
            int f = fits(avro_schema_union_branch(s, (int)i), v);
            if (f > score) {
                score = f;
                best = (int)i;
            }
        }
        if (best < 0)
            return mismatch(e, v, s);
        avro_value_t br;
        if (avro_value_set_branch(out, best, &br) != 0)
            return avro_call(e, -1, "a union branch");
        return to_avro(e, v, &br, depth);
    }
    if (t == AVRO_INT32 && v->type == EDDY_INT && !fits(s, v))
        return efail(e, EDDY_ETYPE, "%lld is out of range for avro int", (long long)v->u.i);
    if (t == AVRO_FIXED && (v->type == EDDY_BYTES || v->type == EDDY_STRING) && !fits(s, v))
        return efail(e, EDDY_ETYPE, "%u bytes do not fit avro fixed %s of %lld bytes", v->len,
                     avro_schema_name(s), (long long)avro_schema_fixed_size(s));
    if (t != AVRO_ENUM && !fits(s, v))
        return mismatch(e, v, s);
    switch (t) {
    case AVRO_NULL: return avro_call(e, avro_value_set_null(out), "null");
    case AVRO_BOOLEAN: return avro_call(e, avro_value_set_boolean(out, v->u.b), "boolean");
    case AVRO_INT32: return avro_call(e, avro_value_set_int(out, (int32_t)v->u.i), "int");
    case AVRO_INT64: return avro_call(e, avro_value_set_long(out, v->u.i), "long");
    case AVRO_FLOAT:
        return avro_call(e, avro_value_set_float(out, (float)(v->type == EDDY_INT ? (double)v->u.i : v->u.d)),
                         "float");
    case AVRO_DOUBLE:
        return avro_call(e, avro_value_set_double(out, v->type == EDDY_INT ? (double)v->u.i : v->u.d),
                         "double");
    case AVRO_STRING: {
        const char *p = cstr(e, v->u.s, v->len);
        if (!p)
            return efail(e, EDDY_ENOMEM, "out of memory");
        return avro_call(e, avro_value_set_string_len(out, p, (size_t)v->len + 1), "string");
    }
    case AVRO_BYTES:
        return avro_call(e, avro_value_set_bytes(out, (void *)v->u.bytes, v->len), "bytes");
    case AVRO_FIXED:
        return avro_call(e, avro_value_set_fixed(out, (void *)v->u.bytes, v->len), "fixed");
    case AVRO_ENUM: {
        if (v->type != EDDY_STRING)
            return mismatch(e, v, s);
        const char *p = cstr(e, v->u.s, v->len);
        if (!p)
            return efail(e, EDDY_ENOMEM, "out of memory");
        int idx = avro_schema_enum_get_by_name(s, p);
        if (idx < 0)
            return efail(e, EDDY_EINVAL, "\"%.64s\" is not a symbol of enum %s", p,
                         avro_schema_name(s));
        return avro_call(e, avro_value_set_enum(out, idx), "enum");
    }
    case AVRO_ARRAY:
        for (uint32_t i = 0; i < v->len; i++) {
            avro_value_t child;
            if (avro_value_append(out, &child, NULL) != 0)
                return avro_call(e, -1, "an array item");
            size_t mark = path_push(e, NULL, 0, (int)i);
            int rc = to_avro(e, &v->u.items[i], &child, depth + 1);
            if (rc != 0)
                return rc;
            path_pop(e, mark);
        }
        return 0;
    case AVRO_MAP:
        for (uint32_t i = 0; i < v->len; i++) {
            const eddy_kv *kv = &v->u.kvs[i];
            if (kv->key.type != EDDY_STRING)
                return efail(e, EDDY_ETYPE, "map key is %s, avro map keys are strings",
                             eddy_type_name(kv->key.type));
            const char *key = cstr(e, kv->key.u.s, kv->key.len);
            if (!key)
                return efail(e, EDDY_ENOMEM, "out of memory");
            avro_value_t child;
            if (avro_value_add(out, key, &child, NULL, NULL) != 0)
                return avro_call(e, -1, "a map entry");
            size_t mark = path_push(e, kv->key.u.s, kv->key.len, -1);
            int rc = to_avro(e, &kv->val, &child, depth + 1);
            if (rc != 0)
                return rc;
            path_pop(e, mark);
        }
        return 0;
    case AVRO_RECORD: return fill_record(e, NULL, v, out, depth);
    default: return mismatch(e, v, s);
    }
}

int eddy_record_to_avro_with(const eddy_record *r, avro_value_t *out, const eddy_avro_schema *s,
                             char *err, size_t errlen)
{
    aenc e;
    memset(&e, 0, sizeof e);
    e.defs = s;
    e.err = err;
    e.errlen = errlen;
    int rc;
    if (avro_typeof(resolve(avro_value_get_schema(out))) != AVRO_RECORD) {
        snprintf(err, errlen, "the output value's schema is not a record");
        rc = EDDY_EINVAL;
    } else {
        rc = fill_record(&e, r, NULL, out, 0);
    }
    eddy_buf_free(&e.tmp);
    return rc;
}

int eddy_record_to_avro(const eddy_record *r, avro_value_t *out, char *err, size_t errlen)
{
    return eddy_record_to_avro_with(r, out, NULL, err, errlen);
}
