/* msgpack decoding: one pass from the payload straight into eddy values in
 * the batch arena.
 *
 * Why not msgpack-c's msgpack_unpack:
 * it builds its own object tree in a zone that then had to be copied again
 * into the batch, and it allocates count * sizeof(msgpack_object) as soon as
 * it reads an array or map header, so 5 hostile bytes could ask for 100 GB
 * unless a separate validation pass ran first. Here every length is checked
 * against the bytes that remain as it is read, and values are written where
 * they end up: one pass validates and converts.
 *
 * Bounded memory: a container is given slots only if its items, plus the
 * items still owed to the containers around it, could each take one of the
 * remaining bytes. One that cannot (certain to fail) is walked without
 * storing anything, so that the error still names the exact byte where the
 * payload runs out. Slots therefore never outnumber payload bytes; str, bin
 * and ext bytes go into one arena block per record, which is no bigger than
 * the payload either.
 *
 * Rules: the top level must be a map with string keys (record fields); nested
 * maps need string keys too (EDDY_MAP keys are strings); strings must be valid
 * UTF-8; ext values become EDDY_BYTES holding the data without the type byte;
 * uint64 above INT64_MAX becomes EDDY_DOUBLE. A duplicate key (top level or
 * nested) is an error: keeping either value would lose the other silently.
 *
 * Which error is reported: a structural one (truncation, invalid byte,
 * nesting too deep, trailing bytes) wins over a semantic one (top level not a
 * map, non-string or empty key, bad UTF-8, name table full), as when the
 * payload was validated before conversion: after a semantic error the rest is
 * still walked, storing nothing. Within a kind, the first in byte order.
 *
 * Error offsets: truncation -> first byte of the value that runs past the
 * end; invalid byte -> that byte; trailing bytes -> the first of them;
 * non-string or empty key -> that key; bad UTF-8 -> the offending byte; too
 * deep -> the container that opens one level too many. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/error.h"
#include "engine/format/format_int.h"

/* The nesting cap of the msgpack-c based decoder (its unpacker's fixed
 * stack of 32), kept so that the payloads accepted do not change. */
#define MP_DEPTH_CAP 32u

struct eddy_msgpack_state {
    eddy_symcache syms;
    const char *name[EDDY_SYMCACHE_SLOTS];
    uint32_t name_len[EDDY_SYMCACHE_SLOTS];
    uint32_t max_depth;
};

typedef struct mdec {
    eddy_msgpack_state *s;
    eddy_batch *b;
    const uint8_t *p;
    size_t len;
    size_t pos;
    char *sbuf; /* arena block for str/bin/ext bytes */
    size_t sleft;
    uint64_t need; /* values still owed, after the current one, to open containers */
    uint32_t skip; /* >0: walk only (a failure is certain, or already recorded) */
    int rc;
    int stands;    /* the recorded failure is structural (or ENOMEM): final */
    eddy_sym field_sym; /* the top-level field being decoded, for messages */
    uint64_t off;
    char reason[256];
} mdec;

int eddy_msgpack_new(eddy_msgpack_state **out, uint32_t max_depth, char *err, size_t errlen)
{
    eddy_msgpack_state *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return EDDY_ENOMEM;
    }
    s->max_depth = max_depth < MP_DEPTH_CAP ? max_depth : MP_DEPTH_CAP;
    *out = s;
    return 0;
}

void eddy_msgpack_free(eddy_msgpack_state *s)
{
    free(s);
}

static void vrecord(mdec *m, uint64_t off, const char *fmt, va_list ap)
{
    int n = vsnprintf(m->reason, sizeof m->reason, fmt, ap);
    if (n >= 0 && (size_t)n < sizeof m->reason)
        snprintf(m->reason + n, sizeof m->reason - (size_t)n, " at byte %llu",
                 (unsigned long long)off);
    m->off = off;
    m->rc = EDDY_EPARSE;
}

/* Structural failure: decoding stops (-1). */
static int sfail(mdec *m, uint64_t off, const char *fmt, ...) EDDY_PRINTF(3, 4);
static int sfail(mdec *m, uint64_t off, const char *fmt, ...)
{
    if (m->stands)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vrecord(m, off, fmt, ap);
    va_end(ap);
    m->stands = 1;
    return -1;
}

/* Semantic failure: recorded unless one already is, then the walk goes on
 * storing nothing, in case a structural failure follows (0). */
static int efail(mdec *m, uint64_t off, const char *fmt, ...) EDDY_PRINTF(3, 4);
static int efail(mdec *m, uint64_t off, const char *fmt, ...)
{
    if (!m->rc) {
        va_list ap;
        va_start(ap, fmt);
        vrecord(m, off, fmt, ap);
        va_end(ap);
        m->skip++; /* never undone: nothing is stored from here on */
    }
    return 0;
}

static int nomem(mdec *m)
{
    snprintf(m->reason, sizeof m->reason, "batch memory limit reached while decoding");
    m->rc = EDDY_ENOMEM;
    m->stands = 1;
    return -1;
}

static int truncated(mdec *m, size_t at)
{
    return sfail(m, at, "truncated input: %zu-byte payload ends inside the value starting",
                 m->len);
}

static const char *type_name(uint8_t t)
{
    if (t <= 0x7f || t >= 0xe0 || (t >= 0xcc && t <= 0xd3))
        return "int";
    if (t <= 0x8f || t == 0xde || t == 0xdf)
        return "map";
    if (t <= 0x9f || t == 0xdc || t == 0xdd)
        return "array";
    if (t <= 0xbf || (t >= 0xd9 && t <= 0xdb))
        return "str";
    switch (t) {
    case 0xc0: return "nil";
    case 0xc2: case 0xc3: return "bool";
    case 0xca: case 0xcb: return "float";
    case 0xc4: case 0xc5: case 0xc6: return "bin";
    }
    return t == 0xc1 ? "invalid byte 0xc1" : "ext";
}

static inline uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t be32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}

static inline uint64_t be64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline int ascii(const uint8_t *p, size_t n)
{
    uint64_t acc = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        acc |= w;
    }
    for (; i < n; i++)
        acc |= p[i];
    return !(acc & 0x8080808080808080ull);
}

/* 0 when p[0..n) is valid UTF-8; otherwise a semantic failure at the
 * offending byte, and 1. */
static inline int bad_utf8(mdec *m, const uint8_t *p, size_t n)
{
    if (ascii(p, n))
        return 0;
    size_t ok = eddy_utf8_valid_prefix(p, n);
    if (ok == n)
        return 0;
    efail(m, (uint64_t)(p - m->p) + ok, "invalid UTF-8 in string");
    return 1;
}

/* Arena copy, NUL-terminated, of bytes of the payload. */
static const char *copy(mdec *m, const uint8_t *p, size_t n)
{
    if (m->sleft < n + 1) {
        /* One block per record: the payload bounds what all copies take
         * (each has at least a header byte to pay for its NUL). */
        if (m->sbuf || !(m->sbuf = eddy_batch_alloc(m->b, m->len + 1)))
            return nomem(m), NULL;
        m->sleft = m->len + 1;
    }
    char *o = m->sbuf;
    memcpy(o, p, n);
    o[n] = '\0';
    m->sbuf += n + 1;
    m->sleft -= n + 1;
    return o;
}

/* str, bin or ext data: hdr bytes from `at` up to the data, n bytes of it. */
static int raw(mdec *m, eddy_value *v, size_t at, size_t hdr, uint64_t n, uint8_t type)
{
    if ((uint64_t)hdr + n > m->len - at)
        return truncated(m, at);
    const uint8_t *d = m->p + at + hdr;
    m->pos = at + hdr + (size_t)n;
    if (m->skip)
        return 0;
    if (type == EDDY_STRING && bad_utf8(m, d, (size_t)n))
        return 0;
    memset(v, 0, sizeof *v);
    v->type = type;
    v->len = (uint32_t)n;
    return (v->u.s = copy(m, d, (size_t)n)) ? 0 : -1;
}

/* A str header at m->pos: 1 with its bytes (consumed); 0 when the value
 * there is no str (nothing consumed); -1 when it runs past the end. */
static inline int read_str(mdec *m, const uint8_t **kp, uint32_t *kl)
{
    size_t at = m->pos, left = m->len - at, hdr;
    if (left == 0)
        return truncated(m, at);
    uint8_t t = m->p[at];
    uint32_t n;
    if ((t & 0xe0) == 0xa0) {
        hdr = 1;
        n = t & 0x1fu;
    } else if (t >= 0xd9 && t <= 0xdb) {
        hdr = t == 0xd9 ? 2 : t == 0xda ? 3 : 5;
        if (left < hdr)
            return truncated(m, at);
        n = t == 0xd9 ? m->p[at + 1] : t == 0xda ? be16(m->p + at + 1) : be32(m->p + at + 1);
    } else {
        return 0;
    }
    if ((uint64_t)hdr + n > left)
        return truncated(m, at);
    *kp = m->p + at + hdr;
    *kl = n;
    m->pos = at + hdr + n;
    return 1;
}

static int value(mdec *m, eddy_value *v, uint32_t level);

/* Opens a container of nvals values (2 per map entry) whose header starts at
 * `at`: 1 when they get slots; 0 when they are walked only (when the walk
 * started here, *lied is set and m->skip raised, for the caller to lower);
 * -1 when it nests too deep. */
static int open_items(mdec *m, size_t at, uint64_t nvals, uint32_t level, int *lied)
{
    *lied = 0;
    if (level > m->s->max_depth)
        return sfail(m, at, "nesting deeper than %u levels", m->s->max_depth);
    if (m->skip)
        return 0;
    if (nvals + m->need > m->len - m->pos) {
        *lied = 1;
        m->skip++;
        return 0;
    }
    return 1;
}

static int array(mdec *m, eddy_value *v, size_t at, size_t hdr, uint32_t n, uint32_t level)
{
    m->pos = at + hdr;
    int lied = 0, store = 1;
    if (n && (store = open_items(m, at, n, level, &lied)) < 0)
        return -1;
    eddy_value *items = NULL, scratch;
    if (store && !m->skip && !(items = eddy_batch_alloc(m->b, sizeof *items * (n ? n : 1))))
        return nomem(m);
    uint64_t need = m->need;
    for (uint32_t i = 0; i < n; i++) {
        m->need = need + (n - 1 - i);
        if (value(m, items ? &items[i] : &scratch, level + 1) != 0)
            return -1;
    }
    m->need = need;
    m->skip -= (uint32_t)lied;
    if (items) {
        memset(v, 0, sizeof *v);
        v->type = EDDY_ARRAY;
        v->len = n;
        v->u.items = items;
    }
    return 0;
}

static int map(mdec *m, eddy_value *v, size_t at, size_t hdr, uint32_t n, uint32_t level)
{
    m->pos = at + hdr;
    int lied = 0, store = 1;
    uint64_t nvals = 2 * (uint64_t)n;
    if (n && (store = open_items(m, at, nvals, level, &lied)) < 0)
        return -1;
    eddy_kv *kvs = NULL, scratch;
    if (store && !m->skip && !(kvs = eddy_batch_alloc(m->b, sizeof *kvs * (n ? n : 1))))
        return nomem(m);
    uint64_t need = m->need;
    uint32_t k = 0;
    /* Duplicate keys (an error) are found by a linear scan in small maps;
     * large ones get a hash index in the arena, so a hostile map of many
     * keys costs linear, not quadratic, time. n is bounded by the payload. */
    uint32_t *index = NULL, mask = 0;
    if (kvs && n > 16) {
        uint32_t size = 32;
        while (size < 2 * n)
            size *= 2;
        if (!(index = eddy_batch_alloc(m->b, sizeof *index * size)))
            return nomem(m);
        memset(index, 0xff, sizeof *index * size);
        mask = size - 1;
    }
    for (uint32_t i = 0; i < n; i++) {
        size_t kat = m->pos;
        m->need = need + nvals - 1 - 2 * (uint64_t)i;
        eddy_kv *dst = &scratch;
        if (!m->skip) {
            const uint8_t *kp = NULL;
            uint32_t kl = 0;
            int ks = read_str(m, &kp, &kl);
            if (ks < 0)
                return -1;
            if (ks == 0) {
                efail(m, kat,
                      "nested map key in field \"%s\" is %s, expected str (map keys must be "
                      "strings)",
                      eddy_sym_name(m->field_sym), type_name(m->p[kat]));
            } else {
                uint32_t j = 0, slot = 0;
                if (index) {
                    uint32_t h = 2166136261u;
                    for (uint32_t c = 0; c < kl; c++)
                        h = (h ^ kp[c]) * 16777619u;
                    for (slot = h & mask; index[slot] != UINT32_MAX; slot = (slot + 1) & mask) {
                        const eddy_kv *e = &kvs[index[slot]];
                        if (e->key.len == kl && memcmp(e->key.u.s, kp, kl) == 0)
                            break;
                    }
                    j = index[slot] != UINT32_MAX ? index[slot] : k;
                } else {
                    while (j < k &&
                           !(kvs[j].key.len == kl && memcmp(kvs[j].key.u.s, kp, kl) == 0))
                        j++;
                }
                if (j < k)
                    efail(m, kat, "duplicate key \"%.*s\" in a nested map of field \"%s\"",
                          (int)(kl > 40 ? 40 : kl), (const char *)kp,
                          eddy_sym_name(m->field_sym));
                else if (!bad_utf8(m, kp, kl)) {
                    if (index)
                        index[slot] = k;
                    dst = &kvs[k++];
                    dst->key = eddy_v_str(copy(m, kp, kl), kl);
                    if (!dst->key.u.s)
                        return -1;
                }
            }
        }
        if (m->skip && m->pos == kat && value(m, &scratch.key, level + 1) != 0)
            return -1;
        m->need = need + nvals - 2 - 2 * (uint64_t)i;
        if (value(m, m->skip ? &scratch.val : &dst->val, level + 1) != 0)
            return -1;
    }
    m->need = need;
    m->skip -= (uint32_t)lied;
    if (kvs) {
        memset(v, 0, sizeof *v);
        v->type = EDDY_MAP;
        v->len = k;
        v->u.kvs = kvs;
    }
    return 0;
}

/* One value at m->pos into *v (into nothing while m->skip). level: its
 * nesting level, the top-level value being 1. */
static int value(mdec *m, eddy_value *v, uint32_t level)
{
    size_t at = m->pos;
    if (at >= m->len)
        return truncated(m, at);
    const uint8_t *q = m->p + at + 1; /* after the type byte */
    size_t left = m->len - at - 1;
    uint8_t t = m->p[at];
    if (t <= 0x7f || t >= 0xe0) {
        *v = eddy_v_int((int8_t)t);
        m->pos = at + 1;
        return 0;
    }
    if (t >= 0xa0 && t <= 0xbf)
        return raw(m, v, at, 1, t & 0x1fu, EDDY_STRING);
    if (t <= 0x8f)
        return map(m, v, at, 1, t & 0x0fu, level);
    if (t <= 0x9f)
        return array(m, v, at, 1, t & 0x0fu, level);
    /* Fixed-size values: type byte + `size` bytes. */
    static const uint8_t fixed[32] = {
        [0xc0 - 0xc0] = 0, [0xc2 - 0xc0] = 0, [0xc3 - 0xc0] = 0, [0xca - 0xc0] = 4,
        [0xcb - 0xc0] = 8, [0xcc - 0xc0] = 1, [0xcd - 0xc0] = 2, [0xce - 0xc0] = 4,
        [0xcf - 0xc0] = 8, [0xd0 - 0xc0] = 1, [0xd1 - 0xc0] = 2, [0xd2 - 0xc0] = 4,
        [0xd3 - 0xc0] = 8,
        /* the rest: the smallest header, checked here so that each case
         * below can read its length field */
        [0xc4 - 0xc0] = 1, [0xc5 - 0xc0] = 2, [0xc6 - 0xc0] = 4, [0xc7 - 0xc0] = 2,
        [0xc8 - 0xc0] = 3, [0xc9 - 0xc0] = 5, [0xd4 - 0xc0] = 2, [0xd5 - 0xc0] = 3,
        [0xd6 - 0xc0] = 5, [0xd7 - 0xc0] = 9, [0xd8 - 0xc0] = 17, [0xd9 - 0xc0] = 1,
        [0xda - 0xc0] = 2, [0xdb - 0xc0] = 4, [0xdc - 0xc0] = 2, [0xdd - 0xc0] = 4,
        [0xde - 0xc0] = 2, [0xdf - 0xc0] = 4,
    };
    if (t == 0xc1)
        return sfail(m, at, "parse error: invalid type byte 0x%02x", t);
    if (left < fixed[t - 0xc0])
        return truncated(m, at);
    m->pos = at + 1 + fixed[t - 0xc0];
    switch (t) {
    case 0xc0: *v = eddy_v_null(); return 0;
    case 0xc2: *v = eddy_v_bool(0); return 0;
    case 0xc3: *v = eddy_v_bool(1); return 0;
    case 0xca: {
        uint32_t w = be32(q);
        float f;
        memcpy(&f, &w, 4);
        *v = eddy_v_double((double)f);
        return 0;
    }
    case 0xcb: {
        uint64_t w = be64(q);
        double d;
        memcpy(&d, &w, 8);
        *v = eddy_v_double(d);
        return 0;
    }
    case 0xcc: *v = eddy_v_int(q[0]); return 0;
    case 0xcd: *v = eddy_v_int(be16(q)); return 0;
    case 0xce: *v = eddy_v_int(be32(q)); return 0;
    case 0xcf: {
        uint64_t u = be64(q);
        *v = u > (uint64_t)INT64_MAX ? eddy_v_double((double)u) : eddy_v_int((int64_t)u);
        return 0;
    }
    case 0xd0: *v = eddy_v_int((int8_t)q[0]); return 0;
    case 0xd1: *v = eddy_v_int((int16_t)be16(q)); return 0;
    case 0xd2: *v = eddy_v_int((int32_t)be32(q)); return 0;
    case 0xd3: *v = eddy_v_int((int64_t)be64(q)); return 0;
    case 0xd9: return raw(m, v, at, 2, q[0], EDDY_STRING);
    case 0xda: return raw(m, v, at, 3, be16(q), EDDY_STRING);
    case 0xdb: return raw(m, v, at, 5, be32(q), EDDY_STRING);
    case 0xc4: return raw(m, v, at, 2, q[0], EDDY_BYTES);
    case 0xc5: return raw(m, v, at, 3, be16(q), EDDY_BYTES);
    case 0xc6: return raw(m, v, at, 5, be32(q), EDDY_BYTES);
    /* ext: the type byte (q[lb]) is dropped */
    case 0xc7: return raw(m, v, at, 3, q[0], EDDY_BYTES);
    case 0xc8: return raw(m, v, at, 4, be16(q), EDDY_BYTES);
    case 0xc9: return raw(m, v, at, 6, be32(q), EDDY_BYTES);
    case 0xd4: return raw(m, v, at, 2, 1, EDDY_BYTES);
    case 0xd5: return raw(m, v, at, 2, 2, EDDY_BYTES);
    case 0xd6: return raw(m, v, at, 2, 4, EDDY_BYTES);
    case 0xd7: return raw(m, v, at, 2, 8, EDDY_BYTES);
    case 0xd8: return raw(m, v, at, 2, 16, EDDY_BYTES);
    case 0xdc: return array(m, v, at, 3, be16(q), level);
    case 0xdd: return array(m, v, at, 5, be32(q), level);
    case 0xde: return map(m, v, at, 3, be16(q), level);
    default: return map(m, v, at, 5, be32(q), level); /* 0xdf */
    }
}

/* Field name at position i: the names seen last time at each position are
 * kept with their lengths, so a repeated name costs one short compare and no
 * call into the symbol table. 0 after a (semantic) failure. */
static inline eddy_sym field_sym(mdec *m, uint32_t i, const uint8_t *kp, uint32_t kl, size_t at)
{
    eddy_msgpack_state *s = m->s;
    if (i < EDDY_SYMCACHE_SLOTS && s->name_len[i] == kl && s->syms.sym[i]) {
        /* Names are short: an inline loop beats a call to memcmp. */
        const char *a = s->name[i];
        uint32_t k = 0;
        while (k < kl && (uint8_t)a[k] == kp[k])
            k++;
        if (k == kl)
            return s->syms.sym[i];
    }
    if (bad_utf8(m, kp, kl))
        return 0;
    eddy_sym sym = eddy_symcache_get(&s->syms, i, (const char *)kp, kl);
    if (!sym)
        return efail(m, at, "field name table is full (%u names)", eddy_sym_count()), 0;
    if (i < EDDY_SYMCACHE_SLOTS) {
        s->name[i] = eddy_sym_name(sym);
        s->name_len[i] = kl;
    }
    return sym;
}

static int top(mdec *m, eddy_record *r)
{
    uint8_t t = m->p[0];
    size_t hdr = t == 0xde ? 3 : t == 0xdf ? 5 : 1;
    if ((t & 0xf0) != 0x80 && t != 0xde && t != 0xdf) {
        efail(m, 0, "top level must be a map, found %s", type_name(t));
        eddy_value scratch;
        return value(m, &scratch, 1);
    }
    if (m->len < hdr)
        return truncated(m, 0);
    uint32_t n = hdr == 1 ? t & 0x0fu : hdr == 3 ? be16(m->p + 1) : be32(m->p + 1);
    uint64_t nvals = 2 * (uint64_t)n;
    m->pos = hdr;
    eddy_field *fs = NULL;
    int lied = nvals > m->len - hdr;
    if (lied)
        m->skip++;
    else if (eddy_record_reserve(m->b, r, n) != 0)
        return nomem(m);
    else if (n) /* an empty map reserves nothing: fields may still be NULL */
        fs = r->fields + r->nfields;
    eddy_value scratch;
    uint32_t k = 0;
    uint64_t seen = 0;
    for (uint32_t i = 0; i < n; i++) {
        size_t kat = m->pos;
        m->need = nvals - 1 - 2 * (uint64_t)i;
        eddy_value *dst = &scratch;
        if (!m->skip) {
            const uint8_t *kp = NULL;
            uint32_t kl = 0;
            int ks = read_str(m, &kp, &kl);
            eddy_sym sym;
            if (ks < 0)
                return -1;
            if (ks == 0) {
                efail(m, kat, "map key %u is %s, expected str", i, type_name(m->p[kat]));
            } else if (kl == 0) {
                efail(m, kat, "empty field name");
            } else if ((sym = field_sym(m, i, kp, kl, kat)) != 0) {
                uint32_t j = k;
                uint64_t bit = 1ull << (sym & 63);
                if (seen & bit)
                    for (j = 0; j < k && fs[j].name != sym; j++)
                        ;
                seen |= bit;
                if (j < k) {
                    efail(m, kat, "duplicate field name \"%s\"", eddy_sym_name(sym));
                } else {
                    fs[k].name = sym;
                    fs[k].reserved_ = 0;
                    k++;
                    m->field_sym = sym;
                    dst = &fs[j].v;
                }
            }
        }
        if (m->skip && m->pos == kat && value(m, &scratch, 2) != 0)
            return -1;
        m->need = nvals - 2 - 2 * (uint64_t)i;
        if (value(m, m->skip ? &scratch : dst, 2) != 0)
            return -1;
    }
    m->need = 0;
    if (!m->skip)
        r->nfields += k;
    return 0;
}

int eddy_msgpack_decode(eddy_msgpack_state *s, eddy_batch *b, eddy_record *r, const void *buf,
                        size_t len)
{
    mdec m; /* not zeroed whole: the reason buffer is written only on failure */
    m.s = s;
    m.b = b;
    m.p = buf;
    m.len = len;
    m.pos = 0;
    m.sbuf = NULL;
    m.sleft = 0;
    m.need = 0;
    m.skip = 0;
    m.rc = 0;
    m.stands = 0;
    m.field_sym = 0;
    m.off = 0;
    uint32_t nf = r->nfields;
    if (len == 0)
        sfail(&m, 0, "empty payload");
    else if (top(&m, r) == 0 && m.pos < len)
        sfail(&m, m.pos, "%zu trailing bytes after the top-level value", len - m.pos);
    if (m.rc == 0)
        return 0;
    r->nfields = nf;
    int prc = eddy_fmt_fail(b, r, buf, len, m.off, m.reason);
    return m.rc == EDDY_ENOMEM ? m.rc : prc;
}
