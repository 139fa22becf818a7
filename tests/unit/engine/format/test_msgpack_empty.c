/* An empty msgpack map is a record without fields. Decoding it once
 * computed `fields + nfields` with fields still NULL (nothing reserved for
 * zero fields): undefined behaviour that clang's UBSan reports (found by
 * tests/fuzz/fuzz_msgpack.c; gcc's UBSan does not check it). */
#include "tests/unit/engine/format/fmt_util.h"

int main(void)
{
    eddy_codec_conf conf = {.format = EDDY_FMT_MSGPACK};
    eddy_codec *c = codec_of(&conf);
    eddy_batch *b = eddy_batch_new(0, 0);
    if (!c || !b)
        return test_report();
    static const struct {
        const char *bytes;
        size_t len;
    } maps[] = {{"\x80", 1}, {"\xde\x00\x00", 3}, {"\xdf\x00\x00\x00\x00", 5}};
    for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++) {
        eddy_record *r = eddy_batch_append(b);
        CHECK_MSG(eddy_codec_decode(c, b, r, maps[i].bytes, maps[i].len) == 0, "map %zu", i);
        CHECK(r->nfields == 0 && !(r->flags & EDDY_REC_ERROR));
    }
    /* And the encoder writes it back as an empty map. */
    eddy_buf out = {0};
    char err[128];
    CHECK(eddy_codec_encode(c, &b->recs[0], &out, err, sizeof err) == 0);
    CHECK(out.len == 1 && out.data[0] == 0x80);
    eddy_buf_free(&out);
    eddy_batch_destroy(b);
    eddy_codec_destroy(c);
    return test_report();
}
