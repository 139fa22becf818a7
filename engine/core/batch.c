#include "engine/core/batch.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

eddy_batch *eddy_batch_new(uint32_t cap, size_t arena_limit)
{
    eddy_batch *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->cap = cap ? cap : 1024;
    b->recs = malloc(sizeof *b->recs * b->cap);
    if (!b->recs) {
        free(b);
        return NULL;
    }
    eddy_arena_init(&b->arena, 256 * 1024, arena_limit);
    b->watermark = EDDY_TS_NONE;
    return b;
}

void eddy_batch_destroy(eddy_batch *b)
{
    if (!b)
        return;
    eddy_arena_free(&b->arena);
    free(b->recs);
    free(b);
}

void eddy_batch_reset(eddy_batch *b)
{
    eddy_arena_reset(&b->arena);
    b->n = 0;
    b->ndropped = 0;
    b->partition = 0;
    b->watermark = EDDY_TS_NONE;
}

eddy_record *eddy_batch_append(eddy_batch *b)
{
    if (b->n == b->cap) {
        /* The record array grows only until the batch size settles; the
         * pool keeps it, so steady state does not allocate. */
        uint32_t cap = b->cap * 2;
        eddy_record *r = realloc(b->recs, sizeof *r * cap);
        if (!r)
            return NULL;
        b->recs = r;
        b->cap = cap;
    }
    b->last = eddy_arena_get_mark(&b->arena);
    eddy_record *r = &b->recs[b->n++];
    memset(r, 0, sizeof *r);
    r->ts = EDDY_TS_NONE;
    r->partition = b->partition;
    r->offset = -1;
    return r;
}

void eddy_batch_pop(eddy_batch *b)
{
    if (b->n) {
        b->n--;
        eddy_arena_rollback(&b->arena, b->last);
    }
}

void *eddy_batch_alloc(eddy_batch *b, size_t size)
{
    return eddy_arena_alloc(&b->arena, size);
}

eddy_value eddy_batch_string(eddy_batch *b, const char *s, size_t len)
{
    char *p = eddy_arena_strdup(&b->arena, s, len);
    if (!p)
        return eddy_v_null();
    return eddy_v_str(p, (uint32_t)len);
}

void eddy_batch_compact(eddy_batch *b)
{
    if (!b->ndropped)
        return;
    uint32_t j = 0;
    for (uint32_t i = 0; i < b->n; i++) {
        if (b->recs[i].flags & EDDY_REC_DROPPED)
            continue;
        if (i != j)
            b->recs[j] = b->recs[i];
        j++;
    }
    b->n = j;
    b->ndropped = 0;
}

int eddy_batch_clone(eddy_batch *dst, const eddy_batch *src)
{
    dst->partition = src->partition;
    dst->watermark = src->watermark;
    for (uint32_t i = 0; i < src->n; i++) {
        const eddy_record *s = &src->recs[i];
        if (s->flags & EDDY_REC_DROPPED)
            continue;
        eddy_record *d = eddy_batch_append(dst);
        if (!d)
            return -1;
        *d = *s;
        /* Fields are copied so that the clone can add or remove its own. */
        d->fields = eddy_batch_alloc(dst, sizeof *d->fields * (s->nfields + 4));
        if (!d->fields)
            return -1;
        memcpy(d->fields, s->fields, sizeof *d->fields * s->nfields);
        d->cap = s->nfields + 4;
    }
    return 0;
}

int eddy_record_reserve(eddy_batch *b, eddy_record *r, uint32_t n)
{
    if (r->nfields + n <= r->cap)
        return 0;
    uint32_t cap = r->cap ? r->cap : 8;
    while (cap < r->nfields + n)
        cap *= 2;
    eddy_field *f = eddy_batch_alloc(b, sizeof *f * cap);
    if (!f)
        return -1;
    if (r->nfields)
        memcpy(f, r->fields, sizeof *f * r->nfields);
    r->fields = f;
    r->cap = cap;
    return 0;
}

int eddy_record_push(eddy_batch *b, eddy_record *r, eddy_sym name, eddy_value v)
{
    if (r->nfields == r->cap && eddy_record_reserve(b, r, 1) != 0)
        return -1;
    eddy_field *f = &r->fields[r->nfields++];
    f->name = name;
    f->reserved_ = 0;
    f->v = v;
    return 0;
}

const eddy_value *eddy_record_get(const eddy_record *r, eddy_sym name)
{
    for (uint32_t i = 0; i < r->nfields; i++)
        if (r->fields[i].name == name)
            return &r->fields[i].v;
    return NULL;
}

int eddy_record_set(eddy_batch *b, eddy_record *r, eddy_sym name, const eddy_value *v)
{
    for (uint32_t i = 0; i < r->nfields; i++) {
        if (r->fields[i].name == name) {
            r->fields[i].v = *v;
            return 0;
        }
    }
    return eddy_record_push(b, r, name, *v);
}

int eddy_record_remove(eddy_record *r, eddy_sym name)
{
    for (uint32_t i = 0; i < r->nfields; i++) {
        if (r->fields[i].name == name) {
            memmove(&r->fields[i], &r->fields[i + 1], sizeof *r->fields * (r->nfields - i - 1));
            r->nfields--;
            return 0;
        }
    }
    return -1;
}

int eddy_record_add_header(eddy_batch *b, eddy_record *r, const char *name, const void *val,
                           uint32_t len)
{
    eddy_header *h = eddy_batch_alloc(b, sizeof *h * (r->nheaders + 1));
    char *n = eddy_arena_strdup(&b->arena, name, strlen(name));
    uint8_t *v = len ? eddy_batch_alloc(b, len) : NULL;
    if (!h || !n || (len && !v))
        return -1;
    if (r->nheaders)
        memcpy(h, r->headers, sizeof *h * r->nheaders);
    if (len)
        memcpy(v, val, len);
    h[r->nheaders].name = n;
    h[r->nheaders].val = v;
    h[r->nheaders].len = len;
    r->headers = h;
    r->nheaders++;
    return 0;
}

const eddy_header *eddy_record_header(const eddy_record *r, const char *name)
{
    for (uint32_t i = r->nheaders; i-- > 0;)
        if (strcmp(r->headers[i].name, name) == 0)
            return &r->headers[i];
    return NULL;
}

void eddy_record_fail(eddy_batch *b, eddy_record *r, const char *step, uint64_t offset,
                      const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof buf)
        n = sizeof buf - 1;
    r->flags |= EDDY_REC_ERROR;
    r->err_offset = offset;
    r->err_step = step;
    /* When even the reason cannot be stored, a static one still tells. */
    r->err_reason = eddy_arena_strdup(&b->arena, buf, (size_t)n);
    if (!r->err_reason)
        r->err_reason = "record failed and its reason did not fit in the batch memory limit";
}

int eddy_record_keep_raw(eddy_batch *b, eddy_record *r, const void *raw, size_t len)
{
    uint8_t *p = eddy_batch_alloc(b, len ? len : 1);
    if (!p)
        return -1;
    memcpy(p, raw, len);
    r->raw = p;
    r->raw_len = (uint32_t)len;
    return 0;
}

int eddy_value_copy(eddy_batch *b, eddy_value *dst, const eddy_value *src)
{
    *dst = *src;
    switch (src->type) {
    case EDDY_STRING:
    case EDDY_BYTES: {
        char *p = eddy_batch_alloc(b, src->len + 1);
        if (!p)
            return -1;
        memcpy(p, src->u.s, src->len);
        p[src->len] = '\0';
        dst->u.s = p;
        return 0;
    }
    case EDDY_ARRAY: {
        eddy_value *items = eddy_batch_alloc(b, sizeof *items * (src->len ? src->len : 1));
        if (!items)
            return -1;
        for (uint32_t i = 0; i < src->len; i++)
            if (eddy_value_copy(b, &items[i], &src->u.items[i]) != 0)
                return -1;
        dst->u.items = items;
        return 0;
    }
    case EDDY_MAP: {
        eddy_kv *kvs = eddy_batch_alloc(b, sizeof *kvs * (src->len ? src->len : 1));
        if (!kvs)
            return -1;
        for (uint32_t i = 0; i < src->len; i++)
            if (eddy_value_copy(b, &kvs[i].key, &src->u.kvs[i].key) != 0 ||
                eddy_value_copy(b, &kvs[i].val, &src->u.kvs[i].val) != 0)
                return -1;
        dst->u.kvs = kvs;
        return 0;
    }
    default:
        return 0;
    }
}

int eddy_record_copy(eddy_batch *db, eddy_record *dst, const eddy_record *src)
{
    dst->ts = src->ts;
    dst->topic = src->topic;
    dst->partition = src->partition;
    dst->offset = src->offset;
    dst->flags = src->flags & EDDY_REC_ERROR;
    dst->err_step = src->err_step;
    dst->err_offset = src->err_offset;
    if (src->err_reason &&
        !(dst->err_reason = eddy_arena_strdup(&db->arena, src->err_reason, strlen(src->err_reason))))
        return -1;
    if (eddy_value_copy(db, &dst->key, &src->key) != 0)
        return -1;
    if (src->raw && eddy_record_keep_raw(db, dst, src->raw, src->raw_len) != 0)
        return -1;
    dst->nfields = 0;
    if (eddy_record_reserve(db, dst, src->nfields + 2) != 0)
        return -1;
    for (uint32_t i = 0; i < src->nfields; i++) {
        dst->fields[i].name = src->fields[i].name;
        dst->fields[i].reserved_ = 0;
        if (eddy_value_copy(db, &dst->fields[i].v, &src->fields[i].v) != 0)
            return -1;
    }
    dst->nfields = src->nfields;
    for (uint32_t i = 0; i < src->nheaders; i++)
        if (eddy_record_add_header(db, dst, src->headers[i].name, src->headers[i].val,
                                   src->headers[i].len) != 0)
            return -1;
    return 0;
}

bool eddy_value_number(const eddy_value *v, double *out) { return eddy_v_number(v, out); }

bool eddy_value_equal(const eddy_value *a, const eddy_value *b)
{
    if (a->type != b->type) {
        double x, y;
        if (eddy_value_number(a, &x) && eddy_value_number(b, &y) && a->type != EDDY_BOOL &&
            b->type != EDDY_BOOL)
            return x == y;
        return false;
    }
    switch (a->type) {
    case EDDY_NULL: return true;
    case EDDY_BOOL: return a->u.b == b->u.b;
    case EDDY_INT: return a->u.i == b->u.i;
    case EDDY_DOUBLE: return a->u.d == b->u.d;
    case EDDY_STRING:
    case EDDY_BYTES: return a->len == b->len && memcmp(a->u.s, b->u.s, a->len) == 0;
    case EDDY_ARRAY:
        if (a->len != b->len)
            return false;
        for (uint32_t i = 0; i < a->len; i++)
            if (!eddy_value_equal(&a->u.items[i], &b->u.items[i]))
                return false;
        return true;
    case EDDY_MAP:
        if (a->len != b->len)
            return false;
        for (uint32_t i = 0; i < a->len; i++)
            if (!eddy_value_equal(&a->u.kvs[i].key, &b->u.kvs[i].key) ||
                !eddy_value_equal(&a->u.kvs[i].val, &b->u.kvs[i].val))
                return false;
        return true;
    }
    return false;
}

const char *eddy_type_name(int type)
{
    static const char *const names[] = {"null", "bool", "int", "double",
                                        "string", "bytes", "array", "map"};
    return type >= 0 && type <= EDDY_MAP ? names[type] : "unknown";
}
