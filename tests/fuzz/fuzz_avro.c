/* libFuzzer: the Avro binary decoder (engine/format/avro_*.c) with a few
 * schemas, plain and in the Confluent wire format, and the encoder for what
 * decodes (round trip, fuzz_codec.h).
 *
 * Input: byte 0 picks the schema (bits 0-2) and the framing (bit 3); the
 * rest is the payload. Confluent payloads name their schema id themselves
 * (1..N, the schemas below in order). */
#include "tests/fuzz/fuzz_codec.h"

static const char *const schemas[] = {
    EDDY_SOURCE_ROOT "/tests/fixtures/format/event.avsc",
    EDDY_SOURCE_ROOT "/tests/fixtures/format/small.avsc",
    EDDY_SOURCE_ROOT "/tests/fixtures/kafka/rt.avsc",
    EDDY_SOURCE_ROOT "/configs/schemas/alert.avsc",
    EDDY_SOURCE_ROOT "/tests/fuzz/schemas/tree.avsc",
};
#define NSCHEMAS (sizeof schemas / sizeof schemas[0])

static eddy_codec *plain[NSCHEMAS], *confluent[NSCHEMAS];

/* At exit, so that LeakSanitizer's last check sees avro-c's memory freed:
 * values of a recursive schema are not all reachable from the codec. */
static void teardown(void)
{
    for (size_t i = 0; i < NSCHEMAS; i++) {
        eddy_codec_destroy(plain[i]);
        eddy_codec_destroy(confluent[i]);
    }
}

static void setup(void)
{
    static eddy_schema_ref refs[NSCHEMAS];
    char err[512];
    for (size_t i = 0; i < NSCHEMAS; i++)
        refs[i] = (eddy_schema_ref){(int32_t)i + 1, schemas[i]};
    for (size_t i = 0; i < NSCHEMAS; i++) {
        eddy_codec_conf p = {.format = EDDY_FMT_AVRO, .avro_schema = schemas[i]};
        eddy_codec_conf c = {.format = EDDY_FMT_AVRO, .confluent = 1, .schemas = refs,
                             .nschemas = NSCHEMAS, .write_schema_id = (int32_t)i + 1};
        FUZZ_CHECK(eddy_codec_new(&p, &plain[i], err, sizeof err) == 0, "%s", err);
        FUZZ_CHECK(eddy_codec_new(&c, &confluent[i], err, sizeof err) == 0, "%s", err);
    }
    atexit(teardown);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!plain[0])
        setup();
    if (size < 1)
        return 0;
    size_t which = (data[0] & 7) % NSCHEMAS;
    if (data[0] & 8) /* another schema id may decode: encoding it as `which` may fail */
        fuzz_codec_one(confluent[which], data + 1, size - 1, 0);
    else
        fuzz_codec_one(plain[which], data + 1, size - 1, 1);
    return 0;
}
