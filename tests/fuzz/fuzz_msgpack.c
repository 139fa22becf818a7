/* libFuzzer: the msgpack decoder (engine/format/msgpack_decode.c) and, for
 * what decodes, the msgpack encoder (round trip, fuzz_codec.h). */
#include "tests/fuzz/fuzz_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static eddy_codec *c;
    if (!c) {
        char err[256];
        eddy_codec_conf conf = {.format = EDDY_FMT_MSGPACK};
        FUZZ_CHECK(eddy_codec_new(&conf, &c, err, sizeof err) == 0, "%s", err);
    }
    fuzz_codec_one(c, data, size, 1);
    return 0;
}
