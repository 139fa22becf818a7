/* The msgpack encoder writes the same bytes as msgpack-c's packer (the
 * encoder it replaced, kept below as ref_*): compared on every integer width
 * boundary, every str/bin/array/map header size, and many random nested
 * records. Also: output appended to a used buffer, growth from an empty one,
 * the depth guard, and round trips through eddy's msgpack decoder. */
#include <math.h>
#include <msgpack.h>
#include <stdlib.h>

#include "tests/unit/engine/format/fmt_util.h"
#include "engine/format/format_int.h"

/* ---- the packer-based encoder it replaced -------------------------------- */

static int ref_write(void *data, const char *p, size_t n)
{
    return eddy_buf_put(data, p, n);
}

static int ref_pack(msgpack_packer *pk, const eddy_value *v)
{
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
            if (ref_pack(pk, &v->u.items[i]) != 0)
                return -1;
        return 0;
    case EDDY_MAP:
        if (msgpack_pack_map(pk, v->len) != 0)
            return -1;
        for (uint32_t i = 0; i < v->len; i++)
            if (ref_pack(pk, &v->u.kvs[i].key) != 0 || ref_pack(pk, &v->u.kvs[i].val) != 0)
                return -1;
        return 0;
    }
    return msgpack_pack_nil(pk);
}

static int ref_record(const eddy_record *r, eddy_buf *out)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, ref_write);
    int rc = msgpack_pack_map(&pk, r->nfields);
    for (uint32_t i = 0; rc == 0 && i < r->nfields; i++) {
        size_t n = eddy_sym_len(r->fields[i].name);
        rc = msgpack_pack_str(&pk, n) ||
             msgpack_pack_str_body(&pk, eddy_sym_name(r->fields[i].name), n) ||
             ref_pack(&pk, &r->fields[i].v);
    }
    return rc;
}

/* ---- helpers ------------------------------------------------------------ */

static uint64_t g_rng = 0x2545f4914f6cdd1dull;
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

static eddy_codec *g_c;
static unsigned g_bad;

/* Encodes r both ways and (with decode_back) decodes ours back and encodes
 * it again: same bytes. */
static void compare(eddy_batch *b, const eddy_record *r, const char *what, int decode_back)
{
    eddy_buf ours = {0}, ref = {0}, again = {0};
    char err[256] = "";
    int rc1 = eddy_codec_encode(g_c, r, &ours, err, sizeof err);
    int rc2 = ref_record(r, &ref);
    if (rc1 != 0 || rc2 != 0 || !same(&ours, &ref)) {
        if (g_bad++ < 10) {
            fprintf(stderr, "%s: rc %d/%d (%s), %zu vs %zu bytes:", what, rc1, rc2, err, ours.len,
                    ref.len);
            for (size_t i = 0; i < ours.len && i < 24; i++)
                fprintf(stderr, " %02x/%02x", ours.data[i], i < ref.len ? ref.data[i] : 0);
            fputc('\n', stderr);
        }
        test_failed_++;
    } else {
        test_passed_++;
    }
    eddy_record *back = decode_back ? eddy_batch_append(b) : NULL;
    int rc = !decode_back ? -1 : back ? eddy_codec_decode(g_c, b, back, ours.data, ours.len) : -1;
    CHECK_MSG(!decode_back || rc == 0, "%s: decode back: %s", what,
              back && back->err_reason ? back->err_reason : "");
    if (rc == 0) {
        CHECK(eddy_codec_encode(g_c, back, &again, err, sizeof err) == 0);
        CHECK_MSG(same(&ours, &again), "%s: differs after a round trip", what);
    }
    eddy_buf_free(&ours);
    eddy_buf_free(&ref);
    eddy_buf_free(&again);
}

static void one_value(eddy_value v, const char *what)
{
    eddy_batch *b = eddy_batch_new(4, 0);
    eddy_record *r = eddy_batch_append(b);
    set_field(b, r, "v", v);
    compare(b, r, what, 1);
    eddy_batch_destroy(b);
}

static void test_ints(void)
{
    static const int64_t edge[] = {0, 1, 31, 32, 127, 128, 255, 256, 65535, 65536, 4294967295ll,
                                   4294967296ll, INT64_MAX, -1, -31, -32, -33, -127, -128, -129,
                                   -32767, -32768, -32769, INT32_MIN + 1ll, INT32_MIN,
                                   INT32_MIN - 1ll, INT64_MIN + 1, INT64_MIN};
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
        one_value(eddy_v_int(edge[i]), "edge int");
    /* Random integers of every width, both signs. */
    for (unsigned i = 0; i < 3000; i++)
        one_value(eddy_v_int((int64_t)rnd() >> (rnd() % 64)), "random int");
    /* The exact bytes for a few, not only "as msgpack-c does". */
    eddy_batch *b = eddy_batch_new(4, 0);
    eddy_record *r = eddy_batch_append(b);
    set_field(b, r, "i", eddy_v_int(-33));
    eddy_buf out = {0};
    char err[128];
    CHECK(eddy_codec_encode(g_c, r, &out, err, sizeof err) == 0);
    CHECK(out.len == 5 && memcmp(out.data, "\x81\xa1i\xd0\xdf", 5) == 0);
    eddy_buf_reset(&out);
    set_field(b, r, "i", eddy_v_int(200));
    CHECK(eddy_codec_encode(g_c, r, &out, err, sizeof err) == 0);
    CHECK(out.len == 5 && memcmp(out.data, "\x81\xa1i\xcc\xc8", 5) == 0);
    eddy_buf_reset(&out);
    set_field(b, r, "i", eddy_v_double(1.5));
    CHECK(eddy_codec_encode(g_c, r, &out, err, sizeof err) == 0);
    CHECK(out.len == 12 && memcmp(out.data, "\x81\xa1i\xcb\x3f\xf8\0\0\0\0\0\0", 12) == 0);
    eddy_buf_free(&out);
    eddy_batch_destroy(b);
}

static void test_scalars(void)
{
    eddy_value nul = {0};
    one_value(nul, "null");
    one_value(eddy_v_bool(1), "true");
    one_value(eddy_v_bool(0), "false");
    one_value(eddy_v_bool(7), "true (7)");
    static const double dbl[] = {0.0, -0.0, 1.5, -1e300, 1e-310, HUGE_VAL, 3.0};
    for (size_t i = 0; i < sizeof dbl / sizeof dbl[0]; i++)
        one_value(eddy_v_double(dbl[i]), "double");
    /* NaN does not compare equal after a round trip, but its bytes do. */
    one_value(eddy_v_double(NAN), "nan");
    /* An unknown type encodes as nil, as the packer-based encoder did. */
    eddy_batch *b = eddy_batch_new(4, 0);
    eddy_record *r = eddy_batch_append(b);
    eddy_value odd = {0};
    odd.type = 99;
    set_field(b, r, "odd", odd);
    eddy_buf ours = {0}, ref = {0};
    char err[128];
    CHECK(eddy_codec_encode(g_c, r, &ours, err, sizeof err) == 0);
    CHECK(ref_record(r, &ref) == 0);
    CHECK(same(&ours, &ref) && ours.data[ours.len - 1] == 0xc0);
    eddy_buf_free(&ours);
    eddy_buf_free(&ref);
    eddy_batch_destroy(b);
}

static void test_sizes(void)
{
    /* Each header size of str, bin, array and map, at both ends. */
    static const uint32_t lens[] = {0, 1, 15, 16, 31, 32, 255, 256, 65535, 65536, 70000};
    size_t max = 70000;
    char *s = malloc(max), *keys = malloc(max * 8);
    eddy_value *items = calloc(max, sizeof *items);
    eddy_kv *kvs = calloc(max, sizeof *kvs);
    CHECK(s && keys && items && kvs);
    if (!s || !keys || !items || !kvs)
        return;
    for (size_t i = 0; i < max; i++) {
        s[i] = (char)('a' + i % 26);
        items[i] = eddy_v_int((int64_t)i);
        /* Distinct keys: the decoder keeps the last of duplicates. */
        snprintf(keys + 8 * i, 8, "k%06u", (unsigned)i);
        kvs[i].key = eddy_v_str(keys + 8 * i, 7);
        kvs[i].val = eddy_v_bool((int)(i & 1));
    }
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        uint32_t n = lens[i];
        char what[64];
        snprintf(what, sizeof what, "str of %u", n);
        one_value(eddy_v_str(s, n), what);
        eddy_value v = eddy_v_str(s, n);
        v.type = EDDY_BYTES;
        snprintf(what, sizeof what, "bin of %u", n);
        one_value(v, what);
        v.type = EDDY_ARRAY;
        v.u.items = items;
        snprintf(what, sizeof what, "array of %u", n);
        one_value(v, what);
        v.type = EDDY_MAP;
        v.u.kvs = kvs;
        snprintf(what, sizeof what, "map of %u", n);
        one_value(v, what);
    }
    /* Top-level maps: fixmap and map16 headers. */
    eddy_batch *b = eddy_batch_new(4, 0);
    for (unsigned n = 0; n <= 20; n++) {
        eddy_record *r = eddy_batch_append(b);
        for (unsigned k = 0; k < n; k++) {
            char name[16];
            snprintf(name, sizeof name, "field_%u", k);
            set_field(b, r, name, eddy_v_int(k));
        }
        compare(b, r, "top-level map", 1);
    }
    eddy_batch_destroy(b);
    free(s);
    free(keys);
    free(items);
    free(kvs);
}

static eddy_value rand_value(eddy_batch *b, unsigned depth)
{
    eddy_value v = {0};
    unsigned t = (unsigned)(rnd() % (depth < 4 ? 8 : 6));
    switch (t) {
    case 0: v.type = EDDY_NULL; break;
    case 1: v = eddy_v_bool((int)(rnd() % 2)); break;
    case 2: v = eddy_v_int((int64_t)rnd() >> (rnd() % 64)); break;
    case 3: {
        double d;
        uint64_t u = rnd();
        memcpy(&d, &u, 8);
        v = eddy_v_double(rnd() % 2 ? d : (double)(rnd() % 100000) / 997.0);
        break;
    }
    case 4:
    case 5: {
        size_t n = rnd() % 32 ? rnd() % 40 : rnd() % 70000;
        char *p = eddy_batch_alloc(b, n + 1);
        CHECK(p != NULL);
        /* Letters only: valid UTF-8, for the decoder. */
        memset(p, 'A' + (int)(rnd() % 26), n);
        for (size_t i = 0; i < n && i < 64; i++)
            p[i] = (char)('A' + rnd() % 26);
        p[n] = '\0';
        v = eddy_v_str(p, (uint32_t)n);
        if (t == 5 && rnd() % 2)
            v.type = EDDY_BYTES;
        break;
    }
    case 6: {
        uint32_t n = (uint32_t)(rnd() % 20);
        eddy_value *items = eddy_batch_alloc(b, (n + 1) * sizeof *items);
        for (uint32_t i = 0; i < n; i++)
            items[i] = rand_value(b, depth + 1);
        v.type = EDDY_ARRAY;
        v.len = n;
        v.u.items = items;
        break;
    }
    case 7: {
        uint32_t n = (uint32_t)(rnd() % 20);
        eddy_kv *kvs = eddy_batch_alloc(b, (n + 1) * sizeof *kvs);
        for (uint32_t i = 0; i < n; i++) {
            char *k = eddy_batch_alloc(b, 8);
            snprintf(k, 8, "k%u", (unsigned)i);
            kvs[i].key = eddy_v_str(k, (uint32_t)strlen(k));
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

static void test_random(void)
{
    eddy_batch *b = eddy_batch_new(64, 0);
    eddy_buf ours = {0}, ref = {0};
    char err[256];
    unsigned bad = 0;
    for (unsigned round = 0; round < 100; round++) {
        eddy_batch_reset(b);
        /* Many records into one reused buffer that already holds bytes. */
        eddy_buf_reset(&ours);
        eddy_buf_reset(&ref);
        CHECK(eddy_buf_put(&ours, "head", 4) == 0 && eddy_buf_put(&ref, "head", 4) == 0);
        for (unsigned i = 0; i < 30; i++) {
            eddy_record *r = eddy_batch_append(b);
            unsigned n = (unsigned)(rnd() % 24);
            for (unsigned k = 0; k < n; k++) {
                char name[16];
                snprintf(name, sizeof name, "f%u", (unsigned)(rnd() % 30));
                set_field(b, r, name, rand_value(b, 1));
            }
            CHECK(eddy_codec_encode(g_c, r, &ours, err, sizeof err) == 0);
            CHECK(ref_record(r, &ref) == 0);
            if (i % 10 == 0)
                compare(b, r, "random record", 1);
        }
        bad += !same(&ours, &ref);
    }
    CHECK_MSG(bad == 0, "%u buffers of random records differ from msgpack-c's packer", bad);
    eddy_buf_free(&ours);
    eddy_buf_free(&ref);
    eddy_batch_destroy(b);
}

static void test_depth_guard(void)
{
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
    CHECK(eddy_codec_encode(g_c, r, &out, err, sizeof err) == EDDY_ENOMEM);
    CHECK_CONTAINS(err, "nested deeper than");
    CHECK(out.len == 4 && memcmp(out.data, "kept", 4) == 0);
    /* At the limit it encodes. */
    set_field(b, r, "deep", chain[DEEP - EDDY_FMT_MAX_DEPTH]);
    CHECK(eddy_codec_encode(g_c, r, &out, err, sizeof err) == 0);
    CHECK(out.len == 4 + 6 + (size_t)EDDY_FMT_MAX_DEPTH);
    eddy_buf_free(&out);
    eddy_batch_destroy(b);
    free(chain);
}

int main(void)
{
    eddy_codec_conf conf = {.format = EDDY_FMT_MSGPACK};
    g_c = codec_of(&conf);
    test_scalars();
    test_ints();
    test_sizes();
    test_random();
    test_depth_guard();
    CHECK_MSG(g_bad == 0, "%u records differ from msgpack-c's packer", g_bad);
    eddy_codec_destroy(g_c);
    return test_report();
}
