/* Every decoder on random bytes, truncations and bit flips of valid
 * payloads: each call must return 0 or EDDY_EPARSE with the record marked,
 * never crash, read out of bounds or leak (run under ASan). Seeded, so a
 * failure reproduces. */
#include <stdlib.h>

#include "tests/unit/engine/format/fmt_util.h"

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (uint32_t)(g_rng >> 11);
}

static int g_bad;

static void feed(eddy_codec *c, eddy_batch *b, const uint8_t *p, size_t len)
{
    if (b->n >= 512)
        eddy_batch_reset(b);
    /* A private copy so ASan sees any read past len. */
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, p, len);
    eddy_record *r = eddy_batch_append(b);
    int rc = eddy_codec_decode(c, b, r, copy, len);
    free(copy);
    if (rc == 0) {
        eddy_buf out = {0};
        if (r->flags & EDDY_REC_ERROR || eddy_record_to_json(r, &out) != 0)
            g_bad++;
        eddy_buf_free(&out);
    } else if (rc != EDDY_EPARSE || !(r->flags & EDDY_REC_ERROR) || !r->err_reason ||
               r->err_offset > len || r->nfields != 0 || r->raw_len != len) {
        fprintf(stderr, "bad failure: rc %d offset %llu len %zu reason %s\n", rc,
                (unsigned long long)r->err_offset, len, r->err_reason ? r->err_reason : "(none)");
        g_bad++;
    }
}

static void torture(const char *what, eddy_codec *c, eddy_batch *b, const uint8_t *valid,
                    size_t vlen, const uint8_t *alphabet, size_t alen)
{
    g_bad = 0;
    uint8_t buf[512];
    for (size_t cut = 0; cut <= vlen; cut++)
        feed(c, b, valid, cut);
    for (int i = 0; i < 20000; i++) {
        size_t len = vlen <= sizeof buf ? vlen : sizeof buf;
        memcpy(buf, valid, len);
        int flips = 1 + (int)(rnd() % 4);
        for (int k = 0; k < flips; k++) {
            size_t at = rnd() % len;
            if (alen && rnd() % 2)
                buf[at] = alphabet[rnd() % alen];
            else
                buf[at] ^= (uint8_t)(1u << (rnd() % 8));
        }
        if (rnd() % 4 == 0)
            len = rnd() % (len + 1);
        feed(c, b, buf, len);
    }
    for (int i = 0; i < 20000; i++) {
        size_t len = rnd() % 96;
        for (size_t k = 0; k < len; k++)
            buf[k] = alen && rnd() % 2 ? alphabet[rnd() % alen] : (uint8_t)rnd();
        feed(c, b, buf, len);
    }
    CHECK_MSG(g_bad == 0, "%s: %d bad results", what, g_bad);
}

static eddy_record *sample(eddy_batch *b)
{
    eddy_record *r = eddy_batch_append(b);
    eddy_value *tags = eddy_batch_alloc(b, sizeof *tags * 2);
    tags[0] = str_v(b, "caf\xc3\xa9");
    tags[1] = str_v(b, "b");
    eddy_kv *ctr = eddy_batch_alloc(b, sizeof *ctr);
    ctr[0].key = str_v(b, "x");
    ctr[0].val = eddy_v_int(-70000);
    eddy_kv *addr = eddy_batch_alloc(b, sizeof *addr * 2);
    addr[0].key = str_v(b, "city");
    addr[0].val = str_v(b, "Lyon");
    addr[1].key = str_v(b, "zip");
    addr[1].val = eddy_v_int(69001);
    set_field(b, r, "user_id", str_v(b, "user-42"));
    set_field(b, r, "amount", eddy_v_double(12.75));
    set_field(b, r, "count", eddy_v_int(123456789));
    set_field(b, r, "ok", eddy_v_bool(1));
    set_field(b, r, "color", str_v(b, "RED"));
    set_field(b, r, "note", eddy_v_null());
    set_field(b, r, "tags", (eddy_value){.type = EDDY_ARRAY, .len = 2, .u.items = tags});
    set_field(b, r, "counters", (eddy_value){.type = EDDY_MAP, .len = 1, .u.kvs = ctr});
    set_field(b, r, "address", (eddy_value){.type = EDDY_MAP, .len = 2, .u.kvs = addr});
    return r;
}

static void run(const char *what, const eddy_codec_conf *conf, const uint8_t *alphabet,
                size_t alen)
{
    eddy_batch *b = eddy_batch_new(0, 0);
    eddy_codec *c = codec_of(conf);
    if (!c) {
        eddy_batch_destroy(b);
        return;
    }
    eddy_buf out = {0};
    char err[256] = "";
    CHECK_MSG(eddy_codec_encode(c, sample(b), &out, err, sizeof err) == 0, "%s: %s", what, err);
    eddy_batch_reset(b);
    torture(what, c, b, out.data, out.len, alphabet, alen);
    eddy_buf_free(&out);
    eddy_codec_destroy(c);
    eddy_batch_destroy(b);
}

int main(void)
{
    static const uint8_t json_alpha[] = "{}[]\":,\\u0123456789.eE+-tfnrl \xc3\xa9\xed\xa0\x80\x01";
    static const uint8_t mp_alpha[] = {0x80, 0x81, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1,
                                       0xc4, 0xc7, 0xd4, 0xd8, 0xd9, 0xdc, 0xdd, 0xde, 0xdf,
                                       0xff, 0x00, 0x7f, 0xcf, 0xd3, 0xcb};
    static const uint8_t avro_alpha[] = {0x00, 0x01, 0x02, 0x7f, 0x80, 0xff, 0xfe, 0x81, 0x03};
    eddy_codec_conf json = {.format = EDDY_FMT_JSON};
    eddy_codec_conf mp = {.format = EDDY_FMT_MSGPACK};
    eddy_codec_conf avro = {.format = EDDY_FMT_AVRO, .avro_schema = FMT_DATA_DIR "/event.avsc"};
    static const eddy_schema_ref refs[] = {{2, FMT_DATA_DIR "/event.avsc"}};
    eddy_codec_conf conf = {.format = EDDY_FMT_AVRO, .confluent = 1, .schemas = refs,
                            .nschemas = 1, .write_schema_id = 2};
    run("json", &json, json_alpha, sizeof json_alpha - 1);
    run("msgpack", &mp, mp_alpha, sizeof mp_alpha);
#if EDDY_HAVE_AVRO
    run("avro", &avro, avro_alpha, sizeof avro_alpha);
    run("avro-confluent", &conf, avro_alpha, sizeof avro_alpha);
#else
    (void)avro, (void)conf, (void)avro_alpha;
#endif
    return test_report();
}
