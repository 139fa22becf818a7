/* msgpack through msgpack-c.
 *
 * Decoding: msgpack_unpack builds its objects in one reused zone, cleared per
 * call (records smaller than the zone's first chunk allocate nothing), and
 * the objects are converted into eddy values; str/bin/ext bytes are copied
 * into one arena block per record (their total cannot exceed the payload).
 * msgpack-c allocates count * sizeof(msgpack_object) as soon as it reads an
 * array or map header, so 5 garbage bytes could ask for 100 GB: a payload
 * holding any byte that may start an array16/32 or map16/32 header
 * (0xdc-0xdf) is first checked by the measuring walk of msgpack_locate.c,
 * which rejects counts the payload cannot hold. The same walk explains any
 * failure of msgpack-c with an exact offset.
 *
 * Rules: the top level must be a map with string keys (record fields); nested
 * maps need string keys too (EDDY_MAP keys are strings); strings must be valid
 * UTF-8; ext values become EDDY_BYTES holding the data without the type byte;
 * uint64 above INT64_MAX becomes EDDY_DOUBLE. Duplicate keys: the last wins.
 *
 * Error offsets: truncation -> first byte of the value that runs past the
 * end; invalid byte -> that byte; trailing bytes -> the first of them;
 * non-string key -> that key (top level) or the top-level field value that
 * contains it (nested); bad UTF-8 -> the offending byte; too deep -> the
 * container that opens one level too many. */
#include <msgpack.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "format_int.h"

/* msgpack-c's unpacker keeps its container stack in a fixed array of
 * MSGPACK_EMBED_STACK_SIZE (32, set in its private unpack_define.h). */
#define MP_LIB_DEPTH 32u

struct eddy_msgpack_state {
    msgpack_zone zone;
    eddy_symcache syms;
    const char *name[EDDY_SYMCACHE_SLOTS];
    uint32_t name_len[EDDY_SYMCACHE_SLOTS];
    uint32_t max_depth;
};

typedef struct mconv {
    eddy_msgpack_state *s;
    eddy_batch *b;
    const uint8_t *buf;
    size_t len;
    char *sbuf;
    size_t sleft;
    uint32_t field_idx; /* the top-level field being converted */
    eddy_sym field_sym;
    char reason[256];
    uint64_t off;
    int rc;
} mconv;

int eddy_msgpack_new(eddy_msgpack_state **out, uint32_t max_depth, char *err, size_t errlen)
{
    eddy_msgpack_state *s = calloc(1, sizeof *s);
    if (!s || !msgpack_zone_init(&s->zone, 64 * 1024)) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return EDDY_ENOMEM;
    }
    s->max_depth = max_depth < MP_LIB_DEPTH ? max_depth : MP_LIB_DEPTH;
    *out = s;
    return 0;
}

void eddy_msgpack_free(eddy_msgpack_state *s)
{
    if (!s)
        return;
    msgpack_zone_destroy(&s->zone);
    free(s);
}

static int mfail(mconv *m, uint64_t off, const char *fmt, ...) EDDY_PRINTF(3, 4);
static int mfail(mconv *m, uint64_t off, const char *fmt, ...)
{
    if (m->rc)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(m->reason, sizeof m->reason, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof m->reason)
        snprintf(m->reason + n, sizeof m->reason - (size_t)n, " at byte %llu",
                 (unsigned long long)off);
    m->off = off;
    m->rc = EDDY_EPARSE;
    return -1;
}

static int mnomem(mconv *m)
{
    if (!m->rc) {
        snprintf(m->reason, sizeof m->reason, "batch memory limit reached while decoding");
        m->rc = EDDY_ENOMEM;
    }
    return -1;
}

static const char *obj_type_name(msgpack_object_type t)
{
    switch (t) {
    case MSGPACK_OBJECT_NIL: return "nil";
    case MSGPACK_OBJECT_BOOLEAN: return "bool";
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return "int";
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: return "float";
    case MSGPACK_OBJECT_STR: return "str";
    case MSGPACK_OBJECT_ARRAY: return "array";
    case MSGPACK_OBJECT_MAP: return "map";
    case MSGPACK_OBJECT_BIN: return "bin";
    case MSGPACK_OBJECT_EXT: return "ext";
    }
    return "unknown";
}

/* Arena copy of string/bin bytes, NUL-terminated. */
static const char *mcopy(mconv *m, const char *p, uint32_t n)
{
    if (m->sleft < (size_t)n + 1) {
        if (m->sbuf) /* the payload bound was wrong: cannot happen, but never overrun */
            return mnomem(m), NULL;
        m->sleft = m->len + 1;
        m->sbuf = eddy_batch_alloc(m->b, m->sleft);
        if (!m->sbuf)
            return mnomem(m), NULL;
        if (m->sleft < (size_t)n + 1)
            return mnomem(m), NULL;
    }
    char *o = m->sbuf;
    memcpy(o, p, n);
    o[n] = '\0';
    m->sbuf += n + 1;
    m->sleft -= (size_t)n + 1;
    return o;
}

static inline int ascii(const char *p, uint32_t n)
{
    uint64_t acc = 0;
    uint32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        acc |= w;
    }
    for (; i < n; i++)
        acc |= (uint8_t)p[i];
    return !(acc & 0x8080808080808080ull);
}

static int check_utf8(mconv *m, const char *p, uint32_t n)
{
    size_t ok = eddy_utf8_valid_prefix((const uint8_t *)p, n);
    if (ok == n)
        return 0;
    return mfail(m, (uint64_t)((const uint8_t *)p - m->buf) + ok, "invalid UTF-8 in string");
}

/* Offset of the idx-th key of the top-level map, or of its value with
 * value=1. Walks the payload again: only error messages need it. */
static size_t top_offset(mconv *m, uint32_t idx, int value)
{
    size_t pos = 0, where;
    uint8_t t = m->buf[0];
    pos = t >= 0x80 && t <= 0x8f ? 1 : t == 0xde ? 3 : 5;
    for (uint32_t i = 0; i < 2 * idx + (value ? 1u : 0u); i++)
        if (eddy_mp_skip(m->buf, m->len, &pos, 1, EDDY_FMT_MAX_DEPTH, &where) != EDDY_MP_OK)
            return where;
    return pos;
}

static int too_deep(mconv *m);

static int conv(mconv *m, const msgpack_object *o, eddy_value *v, uint32_t depth)
{
    memset(v, 0, sizeof *v);
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: return 0;
    case MSGPACK_OBJECT_BOOLEAN: *v = eddy_v_bool(o->via.boolean); return 0;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (o->via.u64 > (uint64_t)INT64_MAX)
            *v = eddy_v_double((double)o->via.u64);
        else
            *v = eddy_v_int((int64_t)o->via.u64);
        return 0;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: *v = eddy_v_int(o->via.i64); return 0;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: *v = eddy_v_double(o->via.f64); return 0;
    case MSGPACK_OBJECT_STR:
        if (!ascii(o->via.str.ptr, o->via.str.size) &&
            check_utf8(m, o->via.str.ptr, o->via.str.size) != 0)
            return -1;
        v->type = EDDY_STRING;
        v->len = o->via.str.size;
        return (v->u.s = mcopy(m, o->via.str.ptr, o->via.str.size)) ? 0 : -1;
    case MSGPACK_OBJECT_BIN:
        v->type = EDDY_BYTES;
        v->len = o->via.bin.size;
        return (v->u.s = mcopy(m, o->via.bin.ptr, o->via.bin.size)) ? 0 : -1;
    case MSGPACK_OBJECT_EXT:
        v->type = EDDY_BYTES;
        v->len = o->via.ext.size;
        return (v->u.s = mcopy(m, o->via.ext.ptr, o->via.ext.size)) ? 0 : -1;
    case MSGPACK_OBJECT_ARRAY: {
        uint32_t n = o->via.array.size;
        if (n && depth + 1 > m->s->max_depth)
            return too_deep(m);
        eddy_value *items = eddy_batch_alloc(m->b, sizeof *items * (n ? n : 1));
        if (!items)
            return mnomem(m);
        for (uint32_t i = 0; i < n; i++)
            if (conv(m, &o->via.array.ptr[i], &items[i], depth + 1) != 0)
                return -1;
        v->type = EDDY_ARRAY;
        v->len = n;
        v->u.items = items;
        return 0;
    }
    case MSGPACK_OBJECT_MAP: {
        uint32_t n = o->via.map.size, k = 0;
        if (n && depth + 1 > m->s->max_depth)
            return too_deep(m);
        eddy_kv *kvs = eddy_batch_alloc(m->b, sizeof *kvs * (n ? n : 1));
        if (!kvs)
            return mnomem(m);
        for (uint32_t i = 0; i < n; i++) {
            const msgpack_object_kv *src = &o->via.map.ptr[i];
            if (src->key.type != MSGPACK_OBJECT_STR)
                return mfail(m, top_offset(m, m->field_idx, 1),
                             "nested map key in field \"%s\" is %s, expected str (map keys must "
                             "be strings)",
                             eddy_sym_name(m->field_sym), obj_type_name(src->key.type));
            const char *kp = src->key.via.str.ptr;
            uint32_t kl = src->key.via.str.size;
            uint32_t j = 0;
            while (j < k && !(kvs[j].key.len == kl && memcmp(kvs[j].key.u.s, kp, kl) == 0))
                j++;
            eddy_kv *dst = &kvs[j];
            if (j == k) {
                if (check_utf8(m, kp, kl) != 0)
                    return -1;
                dst->key.type = EDDY_STRING;
                memset(dst->key.reserved_, 0, sizeof dst->key.reserved_);
                dst->key.len = kl;
                if (!(dst->key.u.s = mcopy(m, kp, kl)))
                    return -1;
                k++;
            }
            if (conv(m, &src->val, &dst->val, depth + 1) != 0)
                return -1;
        }
        v->type = EDDY_MAP;
        v->len = k;
        v->u.kvs = kvs;
        return 0;
    }
    }
    return mfail(m, top_offset(m, m->field_idx, 1), "unsupported msgpack type %d in field \"%s\"",
                 (int)o->type, eddy_sym_name(m->field_sym));
}

/* Field name at position i: the names seen last time at each position are
 * kept with their lengths, so a repeated name costs one memcmp and no call
 * into the symbol table. */
static eddy_sym field_sym(mconv *m, uint32_t i, const char *kp, uint32_t kl)
{
    eddy_msgpack_state *s = m->s;
    if (i < EDDY_SYMCACHE_SLOTS && s->name_len[i] == kl && s->syms.sym[i]) {
        /* Names are short: an inline loop beats a call to memcmp. */
        const char *a = s->name[i];
        uint32_t k = 0;
        while (k < kl && a[k] == kp[k])
            k++;
        if (k == kl)
            return s->syms.sym[i];
    }
    if (check_utf8(m, kp, kl) != 0)
        return 0;
    eddy_sym sym = eddy_symcache_get(&s->syms, i, kp, kl);
    if (!sym)
        return mfail(m, top_offset(m, i, 0), "field name table is full (%u names)",
                     eddy_sym_count()), 0;
    if (i < EDDY_SYMCACHE_SLOTS) {
        s->name[i] = eddy_sym_name(sym);
        s->name_len[i] = kl;
    }
    return sym;
}

static int conv_top(mconv *m, const msgpack_object *o, eddy_record *r)
{
    if (o->type != MSGPACK_OBJECT_MAP)
        return mfail(m, 0, "top level must be a map, found %s", obj_type_name(o->type));
    uint32_t n = o->via.map.size;
    if (n > UINT32_MAX / 2 || eddy_record_reserve(m->b, r, n) != 0)
        return mnomem(m);
    eddy_field *fs = r->fields + r->nfields;
    uint32_t k = 0;
    uint64_t seen = 0;
    for (uint32_t i = 0; i < n; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_STR)
            return mfail(m, top_offset(m, i, 0), "map key %u is %s, expected str", i,
                         obj_type_name(kv->key.type));
        const char *kp = kv->key.via.str.ptr;
        uint32_t kl = kv->key.via.str.size;
        if (kl == 0)
            return mfail(m, top_offset(m, i, 0), "empty field name");
        eddy_sym sym = field_sym(m, i, kp, kl);
        if (!sym)
            return -1;
        uint32_t j = k;
        uint64_t bit = 1ull << (sym & 63);
        if (seen & bit)
            for (j = 0; j < k && fs[j].name != sym; j++)
                ;
        seen |= bit;
        if (j == k) {
            fs[k].name = sym;
            fs[k].reserved_ = 0;
            k++;
        }
        m->field_idx = i;
        m->field_sym = sym;
        if (conv(m, &kv->val, &fs[j].v, 1) != 0)
            return -1;
    }
    r->nfields += k;
    return 0;
}

/* Turns a walker verdict into the record's reason. */
static int describe(mconv *m, eddy_mp_status st, size_t where, size_t pos)
{
    switch (st) {
    case EDDY_MP_TRUNCATED:
        return mfail(m, where, "truncated input: %zu-byte payload ends inside the value starting",
                     m->len);
    case EDDY_MP_BADBYTE:
        return mfail(m, where, "parse error: invalid type byte 0x%02x", m->buf[where]);
    case EDDY_MP_DEEP:
        return mfail(m, where, "nesting deeper than %u levels", m->s->max_depth);
    case EDDY_MP_OK:
        if (pos < m->len)
            return mfail(m, pos, "%zu trailing bytes after the top-level value", m->len - pos);
        break;
    }
    return 0;
}

static int too_deep(mconv *m)
{
    size_t pos = 0, where = 0;
    eddy_mp_status st = eddy_mp_skip(m->buf, m->len, &pos, 0, m->s->max_depth, &where);
    if (st == EDDY_MP_OK)
        return mfail(m, 0, "nesting deeper than %u levels", m->s->max_depth);
    return describe(m, st, where, pos);
}

/* Only array16/32 and map16/32 headers (0xdc-0xdf) can declare more items
 * than the payload holds, and make msgpack-c allocate for them. Without any
 * such byte anywhere, msgpack-c may go first; this loop vectorises. */
static int may_have_big_containers(const uint8_t *p, size_t len)
{
    size_t i = 0;
#ifdef __SSE2__
    const __m128i mask = _mm_set1_epi8((char)0xfc), want = _mm_set1_epi8((char)0xdc);
    for (; i + 16 <= len; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        if (_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_and_si128(v, mask), want)))
            return 1;
    }
#endif
    for (; i < len; i++)
        if ((p[i] & 0xfcu) == 0xdcu)
            return 1;
    return 0;
}

int eddy_msgpack_decode(eddy_msgpack_state *s, eddy_batch *b, eddy_record *r, const void *buf,
                        size_t len)
{
    mconv m; /* not zeroed whole: the reason buffer is written only on failure */
    m.s = s;
    m.b = b;
    m.buf = buf;
    m.len = len;
    m.sbuf = NULL;
    m.sleft = 0;
    m.field_idx = 0;
    m.field_sym = 0;
    m.off = 0;
    m.rc = 0;
    uint32_t nf = r->nfields;
    size_t pos = 0, where = 0;
    int checked = 0;
    if (len == 0) {
        mfail(&m, 0, "empty payload");
    } else if (may_have_big_containers(buf, len)) {
        checked = 1;
        eddy_mp_status st = eddy_mp_skip(buf, len, &pos, 0, s->max_depth, &where);
        describe(&m, st, where, pos);
    }
    if (!m.rc) {
        msgpack_object obj;
        size_t off = 0;
        msgpack_zone_clear(&s->zone);
        msgpack_unpack_return ret = msgpack_unpack(buf, len, &off, &s->zone, &obj);
        if (ret == MSGPACK_UNPACK_SUCCESS) {
            conv_top(&m, &obj, r);
        } else if (!checked) {
            /* msgpack-c says only that it failed: the walker says where. */
            pos = 0;
            eddy_mp_status st = eddy_mp_skip(buf, len, &pos, 0, s->max_depth, &where);
            if (st != EDDY_MP_OK || pos < len)
                describe(&m, st, where, pos);
        }
        if (!m.rc && ret != MSGPACK_UNPACK_SUCCESS) {
            if (ret == MSGPACK_UNPACK_NOMEM_ERROR) {
                snprintf(m.reason, sizeof m.reason, "msgpack-c ran out of memory while unpacking");
                m.rc = EDDY_ENOMEM;
            } else {
                mfail(&m, off, "parse error (msgpack-c status %d)", (int)ret);
            }
        }
    }
    if (m.rc == 0)
        return 0;
    r->nfields = nf;
    int prc = eddy_fmt_fail(b, r, buf, len, m.off, m.reason);
    return m.rc == EDDY_ENOMEM ? m.rc : prc;
}

static int buf_write(void *data, const char *p, size_t n)
{
    return eddy_buf_put(data, p, n);
}

static int pack(msgpack_packer *pk, const eddy_value *v, unsigned depth)
{
    if (depth > EDDY_FMT_MAX_DEPTH)
        return -1;
    switch (v->type) {
    case EDDY_NULL: return msgpack_pack_nil(pk);
    case EDDY_BOOL: return v->u.b ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    case EDDY_INT: return msgpack_pack_int64(pk, v->u.i);
    case EDDY_DOUBLE: return msgpack_pack_double(pk, v->u.d);
    case EDDY_STRING:
        return msgpack_pack_str(pk, v->len) || msgpack_pack_str_body(pk, v->u.s, v->len);
    case EDDY_BYTES:
        return msgpack_pack_bin(pk, v->len) || msgpack_pack_bin_body(pk, v->u.bytes, v->len);
    case EDDY_ARRAY:
        if (msgpack_pack_array(pk, v->len) != 0)
            return -1;
        for (uint32_t i = 0; i < v->len; i++)
            if (pack(pk, &v->u.items[i], depth + 1) != 0)
                return -1;
        return 0;
    case EDDY_MAP:
        if (msgpack_pack_map(pk, v->len) != 0)
            return -1;
        for (uint32_t i = 0; i < v->len; i++)
            if (pack(pk, &v->u.kvs[i].key, depth + 1) != 0 ||
                pack(pk, &v->u.kvs[i].val, depth + 1) != 0)
                return -1;
        return 0;
    }
    return msgpack_pack_nil(pk);
}

int eddy_msgpack_encode(eddy_msgpack_state *s, const eddy_record *r, eddy_buf *out, char *err,
                        size_t errlen)
{
    (void)s;
    size_t mark = out->len;
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, buf_write);
    int rc = msgpack_pack_map(&pk, r->nfields);
    for (uint32_t i = 0; rc == 0 && i < r->nfields; i++) {
        const eddy_field *f = &r->fields[i];
        size_t n = eddy_sym_len(f->name);
        rc = msgpack_pack_str(&pk, n) || msgpack_pack_str_body(&pk, eddy_sym_name(f->name), n) ||
             pack(&pk, &f->v, 1);
    }
    if (rc != 0) {
        out->len = mark;
        snprintf(err, errlen, "out of memory while encoding msgpack (or values nested deeper than %u)",
                 EDDY_FMT_MAX_DEPTH);
        return EDDY_ENOMEM;
    }
    return 0;
}
