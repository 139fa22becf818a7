/* libFuzzer: Avro object container files through the file source
 * (connectors/file/src_binary.c over avro-c's file reader): the header and
 * its schema, blocks, codecs, records converted to eddy values. */
#include "tests/fuzz/fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_file_source("avro", data, size);
    return 0;
}
