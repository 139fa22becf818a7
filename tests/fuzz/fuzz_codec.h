/* The round trip shared by the codec harnesses (JSON, msgpack, Avro): a
 * payload that decodes must encode again, and decoding that encoding must
 * give the same record (compared through a second encoding). */
#ifndef EDDY_FUZZ_CODEC_H
#define EDDY_FUZZ_CODEC_H
#include "tests/fuzz/fuzz.h"

/* must_encode: the codec can encode every record it decodes (JSON,
 * msgpack, Avro with the same schema). */
static inline void fuzz_codec_one(eddy_codec *c, const uint8_t *data, size_t size,
                                  int must_encode)
{
    eddy_batch *b = fuzz_batch();
    /* A private copy of exactly `size` bytes so ASan sees a read past it. */
    uint8_t *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    eddy_record *r = eddy_batch_append(b);
    int rc = eddy_codec_decode(c, b, r, copy, size);
    free(copy);
    fuzz_check_decoded(rc, r, size);
    if (rc != 0)
        return;
    eddy_buf json = {0}, e1 = {0}, e2 = {0};
    FUZZ_CHECK(eddy_record_to_json(r, &json) == 0, "record_to_json");
    char err[256] = "";
    int erc = eddy_codec_encode(c, r, &e1, err, sizeof err);
    FUZZ_CHECK(erc == 0 || !must_encode, "encoding a decoded record: %s", err);
    if (erc == 0) {
        eddy_record *r2 = eddy_batch_append(b);
        rc = eddy_codec_decode(c, b, r2, e1.data, e1.len);
        FUZZ_CHECK(rc == 0, "decoding our own encoding: %s",
                   r2->err_reason ? r2->err_reason : "?");
        FUZZ_CHECK(eddy_codec_encode(c, r2, &e2, err, sizeof err) == 0, "re-encoding: %s", err);
        FUZZ_CHECK(e1.len == e2.len && memcmp(e1.data, e2.data, e1.len) == 0,
                   "the round trip changed the record (%zu vs %zu bytes)", e1.len, e2.len);
    }
    eddy_buf_free(&json);
    eddy_buf_free(&e1);
    eddy_buf_free(&e2);
}

#endif
