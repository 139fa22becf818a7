/* libFuzzer: CSV files through the file source (connectors/file/csv.c and
 * src_text.c): header row, quoting, typing, rows split across reads. */
#include "tests/fuzz/fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_file_source("csv", data, size);
    return 0;
}
