/* The JSON encoder gives the same bytes as its first version, which is kept
 * below (ref_*) exactly as it was: doubles through snprintf %.15g/%.16g/%.17g
 * + strtod, strings through eddy_buf_json_str (as it was: ref_json_str), every piece through
 * eddy_buf_put. Compared on millions of doubles (random bits, decimal-looking
 * values, integers, neighbours of powers of 2 and 10, extremes), on strings
 * with every byte value, and on random nested records; plus appending to a
 * used buffer, growth from an empty one, the depth guard, and round trips
 * through the decoder. */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "tests/unit/engine/format/fmt_util.h"
#include "engine/format/format_int.h"

/* ---- the first version ------------------------------------------------- */

/* eddy_buf_json_str as it was then (it now also replaces bytes that are not
 * UTF-8, which the record encoder leaves to the decoders that check). */
static int ref_json_str(eddy_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    if (eddy_buf_putc(b, '"') != 0)
        return -1;
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (eddy_buf_put(b, s + start, i - start) != 0)
            return -1;
        char esc[6] = {'\\', 0};
        size_t n = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
            esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
            n = 6;
        }
        if (eddy_buf_put(b, esc, n) != 0)
            return -1;
        start = i + 1;
    }
    if (eddy_buf_put(b, s + start, len - start) != 0)
        return -1;
    return eddy_buf_putc(b, '"');
}

static int ref_put_double(eddy_buf *out, double d)
{
    if (!isfinite(d))
        return eddy_buf_put(out, "null", 4);
    char tmp[40];
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (prec == 17 || strtod(tmp, NULL) == d)
            break;
    }
    if (n <= 0 || (size_t)n >= sizeof tmp)
        return -1;
    if (!strpbrk(tmp, ".eEn")) {
        tmp[n++] = '.';
        tmp[n++] = '0';
    }
    return eddy_buf_put(out, tmp, (size_t)n);
}

static int ref_put_int(eddy_buf *out, int64_t v)
{
    char tmp[24];
    char *e = tmp + sizeof tmp, *p = e;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    return eddy_buf_put(out, p, (size_t)(e - p));
}

static int ref_base64(eddy_buf *out, const uint8_t *p, size_t len)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t need = (len + 2) / 3 * 4;
    if (out->cap - out->len < need && eddy_buf_grow(out, need) != 0)
        return -1;
    char *o = (char *)out->data + out->len;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t w = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = tab[w >> 18];
        *o++ = tab[(w >> 12) & 63];
        *o++ = tab[(w >> 6) & 63];
        *o++ = tab[w & 63];
    }
    if (i < len) {
        uint32_t w = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);
        *o++ = tab[w >> 18];
        *o++ = tab[(w >> 12) & 63];
        *o++ = i + 1 < len ? tab[(w >> 6) & 63] : '=';
        *o++ = '=';
    }
    out->len += need;
    return 0;
}

static int ref_value_json(const eddy_value *v, eddy_buf *out, unsigned depth)
{
    if (depth > EDDY_FMT_MAX_DEPTH)
        return -1;
    switch (v->type) {
    case EDDY_NULL: return eddy_buf_put(out, "null", 4);
    case EDDY_BOOL: return v->u.b ? eddy_buf_put(out, "true", 4) : eddy_buf_put(out, "false", 5);
    case EDDY_INT: return ref_put_int(out, v->u.i);
    case EDDY_DOUBLE: return ref_put_double(out, v->u.d);
    case EDDY_STRING: return ref_json_str(out, v->u.s, v->len);
    case EDDY_BYTES:
        if (eddy_buf_putc(out, '"') != 0 || ref_base64(out, v->u.bytes, v->len) != 0)
            return -1;
        return eddy_buf_putc(out, '"');
    case EDDY_ARRAY:
        if (eddy_buf_putc(out, '[') != 0)
            return -1;
        for (uint32_t i = 0; i < v->len; i++) {
            if ((i && eddy_buf_putc(out, ',') != 0) ||
                ref_value_json(&v->u.items[i], out, depth + 1) != 0)
                return -1;
        }
        return eddy_buf_putc(out, ']');
    case EDDY_MAP:
        if (eddy_buf_putc(out, '{') != 0)
            return -1;
        for (uint32_t i = 0; i < v->len; i++) {
            const eddy_kv *kv = &v->u.kvs[i];
            if (i && eddy_buf_putc(out, ',') != 0)
                return -1;
            if (kv->key.type == EDDY_STRING) {
                if (ref_json_str(out, kv->key.u.s, kv->key.len) != 0)
                    return -1;
            } else {
                eddy_buf tmp = {0};
                int rc = ref_value_json(&kv->key, &tmp, depth + 1);
                if (rc == 0)
                    rc = ref_json_str(out, (const char *)tmp.data, tmp.len);
                eddy_buf_free(&tmp);
                if (rc != 0)
                    return -1;
            }
            if (eddy_buf_putc(out, ':') != 0 || ref_value_json(&kv->val, out, depth + 1) != 0)
                return -1;
        }
        return eddy_buf_putc(out, '}');
    }
    return eddy_buf_put(out, "null", 4);
}

static int ref_record_to_json(const eddy_record *r, eddy_buf *out)
{
    size_t mark = out->len;
    if (eddy_buf_putc(out, '{') != 0)
        goto fail;
    for (uint32_t i = 0; i < r->nfields; i++) {
        const eddy_field *f = &r->fields[i];
        if (i && eddy_buf_putc(out, ',') != 0)
            goto fail;
        if (ref_json_str(out, eddy_sym_name(f->name), eddy_sym_len(f->name)) != 0 ||
            eddy_buf_putc(out, ':') != 0 || ref_value_json(&f->v, out, 1) != 0)
            goto fail;
    }
    if (eddy_buf_putc(out, '}') != 0)
        goto fail;
    return 0;
fail:
    out->len = mark;
    return EDDY_ENOMEM;
}

/* ---- helpers ------------------------------------------------------------ */

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

static int same(const eddy_buf *a, const eddy_buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static eddy_buf g_ours, g_ref;
static unsigned g_double_fail;

static void check_double(double d)
{
    eddy_buf_reset(&g_ours);
    eddy_buf_reset(&g_ref);
    int a = eddy_json_put_double(&g_ours, d), b = ref_put_double(&g_ref, d);
    if (a == 0 && b == 0 && same(&g_ours, &g_ref)) {
        test_passed_++;
        return;
    }
    test_failed_++;
    if (g_double_fail++ < 20)
        fprintf(stderr, "double %a: ours \"%.*s\" (rc %d), reference \"%.*s\" (rc %d)\n", d,
                (int)g_ours.len, (const char *)g_ours.data, a, (int)g_ref.len,
                (const char *)g_ref.data, b);
}

static double bits_double(uint64_t u)
{
    double d;
    memcpy(&d, &u, 8);
    return d;
}

static void test_doubles(void)
{
    static const double fixed[] = {0.0, -0.0, 1.0, -1.0, 0.5, 0.1, 0.2, 0.3, 1e15, 1e16, 1e17,
                                   1e21, 1e22, 1e23, 123456789012345678.0, 1e-4, 1e-5, 9.5e-5,
                                   0.000123456789, 1e-15, 1e-16, 1e-300, 1e300, 2.5, 12.5, 1e100,
                                   DBL_MAX, -DBL_MAX, DBL_MIN, DBL_TRUE_MIN, 4.9e-324, 5e-324,
                                   9007199254740992.0, 9007199254740993.0, 4503599627370496.5,
                                   0.30000000000000004, 1.7976931348623157e308, 99999.99,
                                   999999999999999.9, 9999999999999999.0, 0.99999999999999999,
                                   HUGE_VAL, -HUGE_VAL, NAN, 1.0 / 3.0, 2.0 / 3.0, 100.0, 1e14,
                                   123456.0, 1234567890123456.0, 5e-5, 5e-4, 3.14159265358979};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        check_double(fixed[i]);
        check_double(-fixed[i]);
    }
    /* Every power of 2 and 10 in range, and their neighbours. */
    for (int e = -1074; e <= 1023; e++) {
        double p = ldexp(1.0, e);
        check_double(p);
        check_double(nextafter(p, 0));
        check_double(nextafter(p, INFINITY));
    }
    for (int e = -323; e <= 308; e++) {
        char t[16];
        snprintf(t, sizeof t, "1e%d", e);
        double p = strtod(t, NULL);
        check_double(p);
        check_double(nextafter(p, 0));
        check_double(nextafter(p, INFINITY));
        check_double(nextafter(nextafter(p, INFINITY), INFINITY));
    }
    unsigned n = 300000;
    for (unsigned i = 0; i < n; i++) {
        /* Any bits at all: every exponent, subnormals, NaNs. */
        check_double(bits_double(rnd()));
        /* The common range, uniformly in the exponent. */
        uint64_t be = 1023 - 60 + rnd() % 140;
        check_double(bits_double((rnd() & 0x800fffffffffffffull) | be << 52));
        /* Values that look decimal: few digits, many, prices, ratios. */
        int64_t m = (int64_t)(rnd() % 10000000000000000ull) >> (rnd() % 56);
        check_double((double)m / pow(10.0, (double)(rnd() % 25)));
        check_double((double)m * pow(10.0, (double)(rnd() % 25)));
        check_double((double)(rnd() % 1000000) / 100.0);
        check_double((double)(rnd() % 100000) / 997.0);
        check_double((double)(int64_t)rnd());
        check_double((double)(rnd() >> (rnd() % 64)));
    }
    if (g_double_fail)
        fprintf(stderr, "%u doubles differ\n", g_double_fail);
}

static const char *const g_names[] = {"a", "user_id", "with \"quote\"", "tab\there", "",
                                      "ünïcødé", "ctl\x01\x1f", "back\\slash", "x"};

static void rand_bytes(uint8_t *p, size_t n)
{
    unsigned mode = (unsigned)(rnd() % 4);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)rnd();
        if (mode == 0)
            c = (uint8_t)('a' + c % 26); /* all safe: the 8-byte path */
        else if (mode == 1 && c % 8)
            c = (uint8_t)(' ' + c % 95); /* mostly printable */
        else if (mode == 2)
            c = "\"\\\n\r\t\b\f\x01\x1f\x7f\xc3\xa9 z"[c % 15];
        p[i] = c;
    }
}

static eddy_value rand_value(eddy_batch *b, unsigned depth)
{
    unsigned t = (unsigned)(rnd() % (depth < 4 ? 9 : 7));
    eddy_value v = {0};
    switch (t) {
    case 0: v.type = EDDY_NULL; break;
    case 1: v = eddy_v_bool((int)(rnd() % 2)); break;
    case 2: {
        static const int64_t edge[] = {0, -1, 1, 9, 10, 99, 100, INT64_MAX, INT64_MIN, INT64_MIN + 1,
                                       999999999999999999ll, 1000000000000000000ll, -10};
        v = eddy_v_int(rnd() % 3 ? (int64_t)rnd() >> (rnd() % 64)
                                 : edge[rnd() % (sizeof edge / sizeof edge[0])]);
        break;
    }
    case 3: v = eddy_v_double(rnd() % 2 ? bits_double(rnd()) : (double)(rnd() % 100000) / 997.0); break;
    case 4:
    case 5: {
        size_t n = rnd() % 8 ? rnd() % 40 : rnd() % 3000;
        uint8_t *p = eddy_batch_alloc(b, n + 1);
        CHECK(p != NULL);
        rand_bytes(p, n);
        v = t == 4 ? eddy_batch_string(b, (const char *)p, n) : eddy_v_str((const char *)p, (uint32_t)n);
        if (t == 5)
            v.type = EDDY_BYTES;
        break;
    }
    case 6: v = eddy_v_double((double)(rnd() % 1000000) / 100.0); break;
    case 7: {
        uint32_t n = (uint32_t)(rnd() % 6);
        eddy_value *items = eddy_batch_alloc(b, (n + 1) * sizeof *items);
        for (uint32_t i = 0; i < n; i++)
            items[i] = rand_value(b, depth + 1);
        v.type = EDDY_ARRAY;
        v.len = n;
        v.u.items = items;
        break;
    }
    case 8: {
        uint32_t n = (uint32_t)(rnd() % 6);
        eddy_kv *kvs = eddy_batch_alloc(b, (n + 1) * sizeof *kvs);
        for (uint32_t i = 0; i < n; i++) {
            /* Keys are strings by contract; some are not, on purpose. */
            kvs[i].key = rnd() % 5 ? rand_value(b, 9) : eddy_v_int((int64_t)rnd());
            if (rnd() % 2) {
                const char *k = g_names[rnd() % (sizeof g_names / sizeof g_names[0])];
                kvs[i].key = eddy_v_str(k, (uint32_t)strlen(k));
            }
            kvs[i].val = rand_value(b, depth + 1);
        }
        v.type = EDDY_MAP;
        v.len = n;
        v.u.kvs = kvs;
        break;
    }
    }
    return v;
}

static void rand_record(eddy_batch *b, eddy_record *r)
{
    unsigned n = (unsigned)(rnd() % 14);
    for (unsigned i = 0; i < n; i++) {
        char name[32];
        if (rnd() % 3)
            snprintf(name, sizeof name, "f%u", (unsigned)(rnd() % 40));
        else
            snprintf(name, sizeof name, "%s", g_names[rnd() % (sizeof g_names / sizeof g_names[0])]);
        eddy_value v = rand_value(b, 1);
        CHECK(eddy_record_set(b, r, eddy_sym_intern(name, strlen(name)), &v) == 0);
    }
}

static void test_records(eddy_codec *c)
{
    eddy_batch *b = eddy_batch_new(256, 0);
    eddy_buf ours = {0}, ref = {0}, fresh = {0}, val_ours = {0}, val_ref = {0};
    char err[256];
    unsigned bad = 0;
    for (unsigned round = 0; round < 200; round++) {
        eddy_batch_reset(b);
        /* A reused buffer with earlier output in it: encoders append. */
        eddy_buf_reset(&ours);
        eddy_buf_reset(&ref);
        CHECK(eddy_buf_put(&ours, "prefix\n", 7) == 0 && eddy_buf_put(&ref, "prefix\n", 7) == 0);
        for (unsigned i = 0; i < 200; i++) {
            eddy_record *r = eddy_batch_append(b);
            rand_record(b, r);
            int rc1 = eddy_codec_encode(c, r, &ours, err, sizeof err);
            int rc2 = ref_record_to_json(r, &ref);
            if (rc1 != 0 || rc2 != 0 || !same(&ours, &ref)) {
                if (bad++ < 5)
                    fprintf(stderr, "record differs: ours %.*s\nreference %.*s\n",
                            (int)ours.len, (const char *)ours.data, (int)ref.len,
                            (const char *)ref.data);
            }
            /* From an empty buffer: the growth path on every record. */
            eddy_buf_free(&fresh);
            size_t len = ours.len;
            CHECK(eddy_record_to_json(r, &fresh) == 0);
            CHECK(fresh.len <= len && memcmp(fresh.data, ours.data + len - fresh.len, fresh.len) == 0);
            /* One value at a time, through eddy_value_to_json. */
            for (uint32_t k = 0; k < r->nfields; k++) {
                eddy_buf_reset(&val_ours);
                eddy_buf_reset(&val_ref);
                CHECK(eddy_value_to_json(&r->fields[k].v, &val_ours) == 0);
                CHECK(ref_value_json(&r->fields[k].v, &val_ref, 0) == 0);
                if (!same(&val_ours, &val_ref))
                    bad++;
            }
            CHECK(eddy_buf_putc(&ours, '\n') == 0 && eddy_buf_putc(&ref, '\n') == 0);
        }
    }
    CHECK_MSG(bad == 0, "%u records or values differ from the first version", bad);
    eddy_buf_free(&ours);
    eddy_buf_free(&ref);
    eddy_buf_free(&fresh);
    eddy_buf_free(&val_ours);
    eddy_buf_free(&val_ref);
    eddy_batch_destroy(b);
}

static void test_strings(void)
{
    /* Every byte value, alone and inside runs crossing the 8-byte steps. */
    eddy_buf ours = {0}, ref = {0};
    char s[64];
    unsigned bad = 0;
    for (unsigned c = 0; c < 256; c++) {
        for (unsigned pos = 0; pos < 20; pos++) {
            size_t len = pos + 1 + c % 13;
            memset(s, 'k', len);
            s[pos] = (char)c;
            eddy_value v = eddy_v_str(s, (uint32_t)len);
            eddy_buf_reset(&ours);
            eddy_buf_reset(&ref);
            CHECK(eddy_value_to_json(&v, &ours) == 0);
            CHECK(ref_json_str(&ref, s, len) == 0);
            bad += !same(&ours, &ref);
        }
    }
    CHECK_MSG(bad == 0, "%u strings escaped differently", bad);
    static const char in[] = "a\"b\\c\nd\re\tf\x01g\x1fh\x7f\xc3\xa9";
    static const char want[] = "\"a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u001fh\x7f\xc3\xa9\"";
    eddy_value v = eddy_v_str(in, sizeof in - 1);
    eddy_buf_reset(&ours);
    CHECK(eddy_value_to_json(&v, &ours) == 0);
    CHECK(ours.len == sizeof want - 1 && memcmp(ours.data, want, sizeof want - 1) == 0);
    /* A long string of escapes only: 6 bytes out per byte in. */
    char big[5000];
    memset(big, 1, sizeof big);
    v = eddy_v_str(big, sizeof big);
    eddy_buf_free(&ours);
    eddy_buf_reset(&ref);
    CHECK(eddy_value_to_json(&v, &ours) == 0);
    CHECK(ref_json_str(&ref, big, sizeof big) == 0);
    CHECK(ours.len == 6 * sizeof big + 2 && same(&ours, &ref));
    eddy_buf_free(&ours);
    eddy_buf_free(&ref);
}

static void test_depth_guard(eddy_codec *c)
{
    /* Hand-built nesting deeper than any decoder allows: an error, and the
     * buffer back to what it held before. */
    enum { DEEP = EDDY_FMT_MAX_DEPTH + 5 };
    eddy_value *chain = calloc(DEEP, sizeof *chain);
    CHECK(chain != NULL);
    if (!chain)
        return;
    for (unsigned i = 0; i < DEEP; i++) {
        chain[i].type = EDDY_ARRAY;
        chain[i].len = i + 1 < DEEP ? 1 : 0;
        chain[i].u.items = i + 1 < DEEP ? &chain[i + 1] : NULL;
    }
    eddy_batch *b = eddy_batch_new(4, 0);
    eddy_record *r = eddy_batch_append(b);
    set_field(b, r, "deep", chain[0]);
    eddy_buf out = {0};
    char err[256] = "";
    CHECK(eddy_buf_put(&out, "kept", 4) == 0);
    CHECK(eddy_codec_encode(c, r, &out, err, sizeof err) == EDDY_ENOMEM);
    CHECK_CONTAINS(err, "nested deeper than");
    CHECK(out.len == 4 && memcmp(out.data, "kept", 4) == 0);
    CHECK(eddy_value_to_json(&chain[0], &out) == EDDY_ENOMEM);
    CHECK(out.len == 4);
    /* Just inside the limit it works. */
    eddy_buf_reset(&out);
    CHECK(eddy_value_to_json(&chain[DEEP - EDDY_FMT_MAX_DEPTH - 1], &out) == 0);
    CHECK(out.len == 2 * ((size_t)EDDY_FMT_MAX_DEPTH + 1));
    eddy_buf_free(&out);
    eddy_batch_destroy(b);
    free(chain);
}

static void test_roundtrip(eddy_codec *c)
{
    /* Decode what we wrote and write it again: same text (key order kept,
     * doubles stay doubles). */
    eddy_batch *b = eddy_batch_new(64, 0);
    eddy_buf one = {0}, two = {0};
    char err[256];
    for (unsigned i = 0; i < 500; i++) {
        eddy_batch_reset(b);
        eddy_record *r = eddy_batch_append(b);
        /* Duplicate and non-string keys do not survive a JSON round trip;
         * scalar fields with distinct names do. */
        unsigned n = (unsigned)(rnd() % 12);
        for (unsigned k = 0; k < n; k++) {
            char name[16];
            snprintf(name, sizeof name, "k%u", k);
            eddy_value v = rand_value(b, 9);
            if (v.type == EDDY_BYTES)
                v.type = EDDY_STRING;
            if (v.type == EDDY_DOUBLE && !isfinite(v.u.d))
                v.u.d = 1.5;
            if (v.type == EDDY_STRING && eddy_utf8_valid_prefix((const uint8_t *)v.u.s, v.len) != v.len)
                v = eddy_v_str("plain", 5);
            set_field(b, r, name, v);
        }
        eddy_buf_reset(&one);
        eddy_buf_reset(&two);
        CHECK(eddy_codec_encode(c, r, &one, err, sizeof err) == 0);
        eddy_record *back = eddy_batch_append(b);
        int rc = eddy_codec_decode(c, b, back, one.data, one.len);
        CHECK_MSG(rc == 0, "decode of %.*s: %s", (int)one.len, (const char *)one.data,
                  back->err_reason ? back->err_reason : "");
        CHECK(eddy_codec_encode(c, back, &two, err, sizeof err) == 0);
        CHECK_MSG(same(&one, &two), "%.*s became %.*s", (int)one.len, (const char *)one.data,
                  (int)two.len, (const char *)two.data);
    }
    eddy_buf_free(&one);
    eddy_buf_free(&two);
    eddy_batch_destroy(b);
}

int main(void)
{
    eddy_codec_conf conf = {.format = EDDY_FMT_JSON};
    eddy_codec *c = codec_of(&conf);
    test_doubles();
    test_strings();
    test_records(c);
    test_depth_guard(c);
    test_roundtrip(c);
    eddy_buf_free(&g_ours);
    eddy_buf_free(&g_ref);
    eddy_codec_destroy(c);
    return test_report();
}
