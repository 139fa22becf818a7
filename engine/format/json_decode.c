/* Hand-written JSON decoder writing straight into the batch arena.
 *
 * Why not jansson: it allocates a node per value and we would then copy
 * everything again; this parser makes one arena allocation for all string
 * bytes of a record (unescaping never grows a string, so the rest of the
 * payload bounds them), one per container and one for the field array.
 *
 * Semantics: the top level must be an object; its members become record
 * fields. Nested objects become EDDY_MAP, arrays EDDY_ARRAY. Integers without
 * fraction or exponent that fit int64 are EDDY_INT, every other number is
 * EDDY_DOUBLE. Duplicate keys (top level and nested): the last one wins and
 * keeps the position of the first. Strings must be valid UTF-8. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/error.h"
#include "engine/format/format_int.h"

typedef struct jp {
    const uint8_t *start, *cur, *end;
    eddy_batch *b;
    eddy_json_dec *d;
    char *sbuf; /* string bytes of this record; NULL until the first string */
    size_t sleft;
    const char *key; /* last object key, for messages */
    size_t keylen;
    char *reason;
    size_t reasonlen;
    uint64_t off;
    int rc;
} jp;

enum { C_WS = 1, C_STR_SPECIAL = 2, C_DIGIT = 4 };
static uint8_t g_cls[256];

static pthread_once_t g_cls_once = PTHREAD_ONCE_INIT;

static void cls_fill(void)
{
    for (int i = 0; i < 0x20; i++)
        g_cls[i] |= C_STR_SPECIAL;
    for (int i = 0x80; i < 0x100; i++)
        g_cls[i] |= C_STR_SPECIAL;
    g_cls['"'] |= C_STR_SPECIAL;
    g_cls['\\'] |= C_STR_SPECIAL;
    for (int i = '0'; i <= '9'; i++)
        g_cls[i] |= C_DIGIT;
    g_cls['\t'] |= C_WS;
    g_cls['\n'] |= C_WS;
    g_cls['\r'] |= C_WS;
    g_cls[' '] |= C_WS;
}

void eddy_json_dec_init(eddy_json_dec *d, uint32_t max_depth)
{
    memset(d, 0, sizeof *d);
    d->max_depth = max_depth ? max_depth : EDDY_FMT_DEFAULT_DEPTH;
    pthread_once(&g_cls_once, cls_fill);
}

void eddy_json_dec_free(eddy_json_dec *d)
{
    free(d->stack.data);
    d->stack.data = NULL;
    d->stack.len = d->stack.cap = 0;
}

static int fail(jp *j, const uint8_t *at, const char *fmt, ...) EDDY_PRINTF(3, 4);
static int fail(jp *j, const uint8_t *at, const char *fmt, ...)
{
    if (j->rc)
        return -1;
    size_t off = (size_t)(at - j->start);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(j->reason, j->reasonlen, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < j->reasonlen)
        snprintf(j->reason + n, j->reasonlen - (size_t)n, " at byte %zu", off);
    j->off = off;
    j->rc = EDDY_EPARSE;
    return -1;
}

static int nomem(jp *j)
{
    if (!j->rc) {
        snprintf(j->reason, j->reasonlen, "batch memory limit reached while decoding");
        j->off = (uint64_t)(j->cur - j->start);
        j->rc = EDDY_ENOMEM;
    }
    return -1;
}

/* A key shortened for messages: keys can be long or binary. */
#define KEYFMT "\"%.*s%s\""
#define KEYARG(j) (int)((j)->keylen > 40 ? 40 : (j)->keylen), (j)->key, ((j)->keylen > 40 ? "..." : "")

static const char *char_desc(const jp *j, const uint8_t *at, char *buf, size_t n)
{
    if (at >= j->end)
        return "end of input";
    if (*at >= 0x20 && *at < 0x7f)
        snprintf(buf, n, "'%c'", *at);
    else
        snprintf(buf, n, "byte 0x%02x", *at);
    return buf;
}

static inline void skip_ws(jp *j)
{
    while (j->cur < j->end && (g_cls[*j->cur] & C_WS))
        j->cur++;
}

/* Length of one valid UTF-8 sequence at p (lead byte >= 0x80), 0 if invalid. */
static size_t utf8_seq(const uint8_t *p, const uint8_t *end)
{
    uint8_t c = p[0];
    size_t n;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

size_t eddy_utf8_valid_prefix(const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        /* ASCII runs, 8 bytes at a time: most names and values are ASCII. */
        while (len - i >= 8) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (w & 0x8080808080808080ull)
                break;
            i += 8;
        }
        if (i >= len)
            break;
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = utf8_seq(p + i, p + len);
        if (!n)
            return i;
        i += n;
    }
    return len;
}

static int hex4(const uint8_t *p, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Room for one more string of at most `need` bytes plus its NUL. */
static char *str_room(jp *j, const uint8_t *quote)
{
    if (!j->sbuf) {
        /* Every string (raw span including quotes) decodes to at most its
         * span including the NUL, so the rest of the payload bounds them all. */
        size_t n = (size_t)(j->end - quote);
        j->sbuf = eddy_batch_alloc(j->b, n);
        if (!j->sbuf) {
            nomem(j);
            return NULL;
        }
        j->sleft = n;
    }
    return j->sbuf;
}

static void str_commit(jp *j, size_t used)
{
    j->sbuf += used;
    j->sleft -= used;
}

/* Decodes the string at j->cur (a '"'). With copy == 0 and no escapes the
 * result may point into the payload (keys that are only interned). */
static int parse_string(jp *j, const char **out, uint32_t *outlen, int copy)
{
    const uint8_t *q = j->cur;
    const uint8_t *s = q + 1, *p = s, *end = j->end;
    while (p < end && !(g_cls[*p] & C_STR_SPECIAL))
        p++;
    if (p < end && *p == '"') {
        size_t n = (size_t)(p - s);
        if (n > UINT32_MAX)
            return fail(j, q, "string too long");
        if (!copy) {
            *out = (const char *)s;
        } else {
            char *o = str_room(j, q);
            if (!o)
                return -1;
            memcpy(o, s, n);
            o[n] = '\0';
            str_commit(j, n + 1);
            *out = o;
        }
        *outlen = (uint32_t)n;
        j->cur = p + 1;
        return 0;
    }
    /* Slow path: escapes, non-ASCII, control characters, or no end. */
    char *o = str_room(j, q);
    if (!o)
        return -1;
    size_t n = (size_t)(p - s);
    memcpy(o, s, n);
    while (1) {
        if (p >= end)
            return fail(j, q, "unterminated string starting");
        uint8_t c = *p;
        if (c == '"')
            break;
        if (c < 0x20)
            return fail(j, p, "unescaped control character 0x%02x in string", c);
        if (c >= 0x80) {
            size_t k = utf8_seq(p, end);
            if (!k)
                return fail(j, p, "invalid UTF-8 in string");
            memcpy(o + n, p, k);
            n += k;
            p += k;
            continue;
        }
        if (c != '\\') {
            o[n++] = (char)c;
            p++;
            continue;
        }
        if (p + 1 >= end)
            return fail(j, q, "unterminated string starting");
        uint8_t e = p[1];
        switch (e) {
        case '"': o[n++] = '"'; break;
        case '\\': o[n++] = '\\'; break;
        case '/': o[n++] = '/'; break;
        case 'b': o[n++] = '\b'; break;
        case 'f': o[n++] = '\f'; break;
        case 'n': o[n++] = '\n'; break;
        case 'r': o[n++] = '\r'; break;
        case 't': o[n++] = '\t'; break;
        case 'u': {
            uint32_t cp, lo;
            if (end - p < 6 || hex4(p + 2, &cp) != 0)
                return fail(j, p, "invalid \\u escape (expected 4 hex digits)");
            if (cp >= 0xdc00 && cp <= 0xdfff)
                return fail(j, p, "lone low surrogate \\u%04X in string", cp);
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (end - p < 12 || p[6] != '\\' || p[7] != 'u' || hex4(p + 8, &lo) != 0 ||
                    lo < 0xdc00 || lo > 0xdfff)
                    return fail(j, p, "lone high surrogate \\u%04X in string (no low surrogate follows)", cp);
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                p += 6;
            }
            n += put_utf8(o + n, cp);
            p += 6;
            continue;
        }
        default:
            if (e >= 0x20 && e < 0x7f)
                return fail(j, p, "invalid escape '\\%c' in string", e);
            return fail(j, p, "invalid escape (backslash followed by byte 0x%02x) in string", e);
        }
        p += 2;
    }
    if (n > UINT32_MAX)
        return fail(j, q, "string too long");
    o[n] = '\0';
    str_commit(j, n + 1);
    *out = o;
    *outlen = (uint32_t)n;
    j->cur = p + 1;
    return 0;
}

static const double g_pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

#if defined(__x86_64__) && LDBL_MANT_DIG == 64
/* 10^k for k <= 27: 5^27 < 2^64, so every one is exact in a long double. */
static const long double g_pow10l[] = {
    1e0L,  1e1L,  1e2L,  1e3L,  1e4L,  1e5L,  1e6L,  1e7L,  1e8L,  1e9L,
    1e10L, 1e11L, 1e12L, 1e13L, 1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L,
    1e20L, 1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L};
#endif

static int slow_double(jp *j, const uint8_t *s, size_t n, double *out)
{
    char small[128];
    char *buf = n < sizeof small ? small : malloc(n + 1);
    if (!buf)
        return nomem(j);
    memcpy(buf, s, n);
    buf[n] = '\0';
    errno = 0;
    double d = strtod(buf, NULL);
    int range = errno == ERANGE && isinf(d);
    if (buf != small)
        free(buf);
    if (range)
        return fail(j, s, "number out of range (%.*s%s)", (int)(n > 32 ? 32 : n), (const char *)s,
                    n > 32 ? "..." : "");
    *out = d;
    return 0;
}

static int parse_number(jp *j, eddy_value *v)
{
    const uint8_t *s = j->cur, *p = s, *end = j->end;
    int neg = 0;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    if (p >= end || !(g_cls[*p] & C_DIGIT))
        return fail(j, p, "invalid number: expected a digit after '-'");
    uint64_t m = 0;
    int digits = 0, overflow = 0;
    if (*p == '0') {
        p++;
        if (p < end && (g_cls[*p] & C_DIGIT))
            return fail(j, s, "invalid number: leading zero");
    } else {
        while (p < end && (g_cls[*p] & C_DIGIT)) {
            unsigned dg = (unsigned)(*p - '0');
            if (m > (UINT64_MAX - dg) / 10)
                overflow = 1;
            else
                m = m * 10 + dg;
            digits++;
            p++;
        }
    }
    int is_int = 1, exp10 = 0;
    if (p < end && *p == '.') {
        is_int = 0;
        p++;
        if (p >= end || !(g_cls[*p] & C_DIGIT))
            return fail(j, p, "invalid number: expected a digit after '.'");
        while (p < end && (g_cls[*p] & C_DIGIT)) {
            if (!overflow && m <= (UINT64_MAX - 9) / 10) {
                m = m * 10 + (unsigned)(*p - '0');
                exp10--;
            } else {
                overflow = 1;
            }
            p++;
        }
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        is_int = 0;
        p++;
        int eneg = 0;
        if (p < end && (*p == '+' || *p == '-')) {
            eneg = *p == '-';
            p++;
        }
        if (p >= end || !(g_cls[*p] & C_DIGIT))
            return fail(j, p, "invalid number: expected a digit in the exponent");
        int e = 0;
        while (p < end && (g_cls[*p] & C_DIGIT)) {
            if (e < 100000)
                e = e * 10 + (*p - '0');
            p++;
        }
        exp10 += eneg ? -e : e;
    }
    j->cur = p;
    if (is_int && !overflow) {
        if (!neg && m <= (uint64_t)INT64_MAX) {
            *v = eddy_v_int((int64_t)m);
            return 0;
        }
        if (neg && m <= (uint64_t)INT64_MAX + 1) {
            *v = eddy_v_int(m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m);
            return 0;
        }
    }
    /* Exact when both operands are exact doubles (Clinger's fast path). */
    if (!overflow && m <= (1ull << 53) && exp10 >= -22 && exp10 <= 22) {
        double d = (double)m;
        d = exp10 < 0 ? d / g_pow10[-exp10] : d * g_pow10[exp10];
        *v = eddy_v_double(neg ? -d : d);
        return 0;
    }
#if defined(__x86_64__) && LDBL_MANT_DIG == 64
    /* 16 to 19 significant digits (a shortest round-trip printer writes
     * 16-17 for most doubles) overflow Clinger's 2^53 but fit the 64-bit
     * significand of the x87 long double, as do 10^0..10^27. One long
     * double operation rounds the exact value correctly to 64 bits;
     * rounding that to double is then the correctly rounded double unless
     * the 64-bit value lies exactly half-way between two doubles (a
     * double-rounding tie: its 11 low bits 10000000000), which goes to
     * strtod. Why: strtod took ~20 % of decoding a 10-field record of
     * generated 17-digit doubles; test_json.c compares this path with
     * strtod on a million random numbers. */
    if (!overflow && exp10 >= -27 && exp10 <= 27) {
        long double x = (long double)m;
        x = exp10 < 0 ? x / g_pow10l[-exp10] : x * g_pow10l[exp10];
        uint64_t sig;
        memcpy(&sig, &x, sizeof sig); /* the x87 format's significand word */
        if ((sig & 0x7ff) != 0x400) {
            double d = (double)x;
            *v = eddy_v_double(neg ? -d : d);
            return 0;
        }
    }
#endif
    double d = 0;
    if (slow_double(j, s, (size_t)(p - s), &d) != 0)
        return -1;
    *v = eddy_v_double(d);
    return 0;
}

static int parse_value(jp *j, eddy_value *v, uint32_t depth);

static const eddy_kv g_empty_kv;
static const eddy_value g_empty_item;

/* Duplicate keys of a large object are an error (as for small objects):
 * found with a hash index in the arena, so many keys cost linear time. */
static int dedup_members(jp *j, const uint8_t *open, eddy_kv *kvs, size_t *np)
{
    size_t n = *np, size = 32;
    while (size < 2 * n)
        size *= 2;
    uint32_t *index = eddy_batch_alloc(j->b, sizeof *index * size);
    if (!index)
        return nomem(j);
    memset(index, 0xff, sizeof *index * size);
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t h = 2166136261u;
        for (uint32_t c = 0; c < kvs[i].key.len; c++)
            h = (h ^ (uint8_t)kvs[i].key.u.s[c]) * 16777619u;
        size_t slot = h & (size - 1);
        while (index[slot] != UINT32_MAX) {
            eddy_kv *e = &kvs[index[slot]];
            if (e->key.len == kvs[i].key.len && memcmp(e->key.u.s, kvs[i].key.u.s, e->key.len) == 0)
                break;
            slot = (slot + 1) & (size - 1);
        }
        if (index[slot] != UINT32_MAX) {
            j->key = kvs[i].key.u.s;
            j->keylen = kvs[i].key.len;
            return fail(j, open, "duplicate key " KEYFMT " in the object starting", KEYARG(j));
        } else {
            index[slot] = (uint32_t)out;
            kvs[out++] = kvs[i];
        }
    }
    *np = out;
    return 0;
}

static int parse_object(jp *j, eddy_value *v, uint32_t depth)
{
    const uint8_t *open = j->cur;
    if (depth > j->d->max_depth)
        return fail(j, open, "nesting deeper than %u levels", j->d->max_depth);
    eddy_scratch *st = &j->d->stack;
    size_t base = st->len;
    j->cur++;
    skip_ws(j);
    if (j->cur < j->end && *j->cur == '}') {
        j->cur++;
        v->type = EDDY_MAP;
        v->len = 0;
        v->u.kvs = &g_empty_kv;
        return 0;
    }
    while (1) {
        char cb[16];
        if (j->cur >= j->end || *j->cur != '"') {
            if (j->cur >= j->end)
                return fail(j, j->cur, "unexpected end of input inside object (expected a string key)");
            return fail(j, j->cur, "expected a string key, found %s",
                        char_desc(j, j->cur, cb, sizeof cb));
        }
        eddy_kv kv;
        memset(&kv, 0, sizeof kv);
        kv.key.type = EDDY_STRING;
        const uint8_t *kat = j->cur;
        if (parse_string(j, &kv.key.u.s, &kv.key.len, 1) != 0)
            return -1;
        skip_ws(j);
        if (j->cur >= j->end || *j->cur != ':') {
            j->key = kv.key.u.s;
            j->keylen = kv.key.len;
            return fail(j, j->cur, "expected ':' after object key " KEYFMT ", found %s", KEYARG(j),
                        char_desc(j, j->cur, cb, sizeof cb));
        }
        j->cur++;
        skip_ws(j);
        if (parse_value(j, &kv.val, depth) != 0)
            return -1;
        j->key = kv.key.u.s;
        j->keylen = kv.key.len;
        size_t n = (st->len - base) / sizeof(eddy_kv), i;
        /* No members yet may mean no scratch memory yet: no NULL + 0. */
        eddy_kv *kvs = n ? (eddy_kv *)(st->data + base) : NULL;
        /* Small objects find a duplicate key (an error: either value would
         * be lost silently) by scanning; past 16 members keys are appended
         * and dedup_members() checks them once, so a hostile object of many
         * keys costs linear time, not quadratic. */
        for (i = 0; i < n && n <= 16; i++)
            if (kvs[i].key.len == kv.key.len && memcmp(kvs[i].key.u.s, kv.key.u.s, kv.key.len) == 0)
                break;
        if (n > 16)
            i = n;
        if (i < n) {
            return fail(j, kat, "duplicate key " KEYFMT, KEYARG(j));
        } else {
            eddy_kv *slot = eddy_scratch_push(st, sizeof kv);
            if (!slot)
                return nomem(j);
            *slot = kv;
        }
        skip_ws(j);
        if (j->cur < j->end && *j->cur == ',') {
            j->cur++;
            skip_ws(j);
            continue;
        }
        if (j->cur < j->end && *j->cur == '}') {
            j->cur++;
            break;
        }
        if (j->cur >= j->end)
            return fail(j, j->cur, "unexpected end of input inside object (expected ',' or '}' after value of " KEYFMT ")", KEYARG(j));
        return fail(j, j->cur, "expected ',' or '}' after value of " KEYFMT ", found %s",
                    KEYARG(j), char_desc(j, j->cur, cb, sizeof cb));
    }
    size_t n = (st->len - base) / sizeof(eddy_kv);
    if (n > 16 && dedup_members(j, open, (eddy_kv *)(st->data + base), &n) != 0)
        return -1;
    if (n > UINT32_MAX)
        return fail(j, open, "object has too many members");
    eddy_kv *kvs = eddy_batch_alloc(j->b, n * sizeof *kvs);
    if (!kvs)
        return nomem(j);
    memcpy(kvs, st->data + base, n * sizeof *kvs);
    st->len = base;
    v->type = EDDY_MAP;
    v->len = (uint32_t)n;
    v->u.kvs = kvs;
    return 0;
}

static int parse_array(jp *j, eddy_value *v, uint32_t depth)
{
    const uint8_t *open = j->cur;
    if (depth > j->d->max_depth)
        return fail(j, open, "nesting deeper than %u levels", j->d->max_depth);
    eddy_scratch *st = &j->d->stack;
    size_t base = st->len;
    j->cur++;
    skip_ws(j);
    if (j->cur < j->end && *j->cur == ']') {
        j->cur++;
        v->type = EDDY_ARRAY;
        v->len = 0;
        v->u.items = &g_empty_item;
        return 0;
    }
    while (1) {
        char cb[16];
        eddy_value item;
        if (parse_value(j, &item, depth) != 0)
            return -1;
        eddy_value *slot = eddy_scratch_push(st, sizeof item);
        if (!slot)
            return nomem(j);
        *slot = item;
        skip_ws(j);
        if (j->cur < j->end && *j->cur == ',') {
            j->cur++;
            skip_ws(j);
            continue;
        }
        if (j->cur < j->end && *j->cur == ']') {
            j->cur++;
            break;
        }
        if (j->cur >= j->end)
            return fail(j, j->cur, "unexpected end of input inside array (expected ',' or ']')");
        return fail(j, j->cur, "expected ',' or ']' in array, found %s",
                    char_desc(j, j->cur, cb, sizeof cb));
    }
    size_t n = (st->len - base) / sizeof(eddy_value);
    if (n > UINT32_MAX)
        return fail(j, open, "array has too many items");
    eddy_value *items = eddy_batch_alloc(j->b, n * sizeof *items);
    if (!items)
        return nomem(j);
    memcpy(items, st->data + base, n * sizeof *items);
    st->len = base;
    v->type = EDDY_ARRAY;
    v->len = (uint32_t)n;
    v->u.items = items;
    return 0;
}

static int literal(jp *j, const char *word, size_t n)
{
    if ((size_t)(j->end - j->cur) < n || memcmp(j->cur, word, n) != 0)
        return fail(j, j->cur, "invalid literal (expected %s)", word);
    j->cur += n;
    return 0;
}

static int parse_value(jp *j, eddy_value *v, uint32_t depth)
{
    char cb[16];
    if (j->cur >= j->end)
        return fail(j, j->cur, "unexpected end of input (expected a value)");
    memset(v, 0, sizeof *v);
    switch (*j->cur) {
    case '"':
        v->type = EDDY_STRING;
        return parse_string(j, &v->u.s, &v->len, 1);
    case '{': return parse_object(j, v, depth + 1);
    case '[': return parse_array(j, v, depth + 1);
    case 't':
        *v = eddy_v_bool(1);
        return literal(j, "true", 4);
    case 'f':
        *v = eddy_v_bool(0);
        return literal(j, "false", 5);
    case 'n':
        return literal(j, "null", 4);
    case '-':
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        return parse_number(j, v);
    default:
        return fail(j, j->cur, "expected a value, found %s", char_desc(j, j->cur, cb, sizeof cb));
    }
}

/* The top-level object: members become fields, names interned through the
 * per-decoder cache (same position, same name: no lock). */
static int parse_top(jp *j, eddy_record *r)
{
    eddy_scratch *st = &j->d->stack;
    char cb[16];
    uint64_t seen = 0; /* bloom of symbols so far: duplicates are rare */
    unsigned pos = 0;
    j->cur++;
    skip_ws(j);
    if (j->cur < j->end && *j->cur == '}') {
        j->cur++;
        return 0;
    }
    while (1) {
        if (j->cur >= j->end || *j->cur != '"') {
            if (j->cur >= j->end)
                return fail(j, j->cur, "unexpected end of input inside object (expected a string key)");
            return fail(j, j->cur, "expected a string key, found %s",
                        char_desc(j, j->cur, cb, sizeof cb));
        }
        const uint8_t *kat = j->cur;
        const char *key;
        uint32_t klen;
        if (parse_string(j, &key, &klen, 0) != 0)
            return -1;
        j->key = key;
        j->keylen = klen;
        skip_ws(j);
        if (j->cur >= j->end || *j->cur != ':')
            return fail(j, j->cur, "expected ':' after object key " KEYFMT ", found %s", KEYARG(j),
                        char_desc(j, j->cur, cb, sizeof cb));
        if (klen == 0)
            return fail(j, kat, "empty field name");
        eddy_sym sym = eddy_symcache_get(&j->d->syms, pos++, key, klen);
        if (!sym)
            return fail(j, kat, "field name table is full (%u names); cannot add " KEYFMT,
                        eddy_sym_count(), KEYARG(j));
        j->cur++;
        skip_ws(j);
        eddy_field f;
        f.name = sym;
        f.reserved_ = 0;
        if (parse_value(j, &f.v, 1) != 0)
            return -1;
        j->key = key;
        j->keylen = klen;
        uint64_t bit = 1ull << (sym & 63);
        eddy_field *dup = NULL;
        if (seen & bit) {
            eddy_field *fs = (eddy_field *)st->data;
            for (size_t i = 0, n = st->len / sizeof *fs; i < n; i++)
                if (fs[i].name == sym)
                    dup = &fs[i];
        }
        seen |= bit;
        if (dup) {
            return fail(j, kat, "duplicate field name " KEYFMT " (a record's names must be "
                        "unique: one of the values would be lost)", KEYARG(j));
        } else {
            eddy_field *slot = eddy_scratch_push(st, sizeof f);
            if (!slot)
                return nomem(j);
            *slot = f;
        }
        skip_ws(j);
        if (j->cur < j->end && *j->cur == ',') {
            j->cur++;
            skip_ws(j);
            continue;
        }
        if (j->cur < j->end && *j->cur == '}') {
            j->cur++;
            break;
        }
        if (j->cur >= j->end)
            return fail(j, j->cur, "unexpected end of input inside object (expected ',' or '}' after value of " KEYFMT ")", KEYARG(j));
        return fail(j, j->cur, "expected ',' or '}' after value of " KEYFMT ", found %s",
                    KEYARG(j), char_desc(j, j->cur, cb, sizeof cb));
    }
    size_t n = st->len / sizeof(eddy_field);
    if (n > UINT32_MAX / 2)
        return fail(j, j->start, "object has too many members");
    if (eddy_record_reserve(j->b, r, (uint32_t)n) != 0)
        return nomem(j);
    if (n)
        memcpy(r->fields + r->nfields, st->data, n * sizeof(eddy_field));
    r->nfields += (uint32_t)n;
    return 0;
}

int eddy_json_parse(eddy_json_dec *d, eddy_batch *b, eddy_record *r, const uint8_t *p, size_t len,
                    char *reason, size_t reasonlen, uint64_t *off)
{
    jp j;
    memset(&j, 0, sizeof j);
    j.start = j.cur = p;
    j.end = p + len;
    j.b = b;
    j.d = d;
    j.reason = reason;
    j.reasonlen = reasonlen;
    d->stack.len = 0;
    char cb[16];
    skip_ws(&j);
    if (j.cur >= j.end) {
        fail(&j, j.start, len ? "empty payload (only whitespace)" : "empty payload");
    } else if (*j.cur != '{') {
        fail(&j, j.cur, "top level must be an object, found %s",
             *j.cur == '[' ? "an array" : char_desc(&j, j.cur, cb, sizeof cb));
    } else if (parse_top(&j, r) == 0) {
        skip_ws(&j);
        if (j.cur < j.end)
            fail(&j, j.cur, "trailing data after the top-level object (%s)",
                 char_desc(&j, j.cur, cb, sizeof cb));
    }
    d->stack.len = 0;
    *off = j.off;
    return j.rc;
}

int eddy_json_decode(eddy_codec *c, eddy_batch *b, eddy_record *r, const void *buf, size_t len)
{
    char reason[256];
    uint64_t off = 0;
    uint32_t nf = r->nfields;
    int rc = eddy_json_parse(&c->json, b, r, buf, len, reason, sizeof reason, &off);
    if (rc == 0)
        return 0;
    r->nfields = nf;
    int prc = eddy_fmt_fail(b, r, buf, len, off, reason);
    return rc == EDDY_ENOMEM ? rc : prc;
}
