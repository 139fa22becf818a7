/* Feeding bytes to the file source (connectors/file) as a whole file, the
 * way `type: file` reads it: shared by the CSV and Avro-file harnesses. */
#ifndef EDDY_FUZZ_FILE_H
#define EDDY_FUZZ_FILE_H
#include "engine/config/options.h"
#include "engine/connector.h"
#include "tests/fuzz/fuzz.h"

/* Reads the whole file in batches of 3 records (so batch boundaries fall
 * everywhere) with the smallest max_record_size (1 KiB), checking every
 * record: an error record carries a reason. Returns the records read. */
static inline uint64_t fuzz_file_source(const char *format, const uint8_t *data, size_t size)
{
    static const eddy_source_ops *F;
    if (!F)
        F = eddy_source_find("file");
    FUZZ_CHECK(F, "no file source");
    char fmt[32], path[300], err[1024] = "";
    snprintf(path, sizeof path, "path=%s", fuzz_write_tmp(".in", data, size));
    snprintf(fmt, sizeof fmt, "format=%s", format);
    const char *pairs[] = {path, fmt, "batch_size=3", "max_record_size=1KiB"};
    eddy_opts *o = eddy_opts_from_pairs(F->options, pairs, 4, err, sizeof err);
    FUZZ_CHECK(o, "options: %s", err);
    void *s = NULL;
    int rc = F->open(o, "in", NULL, &s, err, sizeof err);
    eddy_opts_free(o);
    if (rc != 0) {
        FUZZ_CHECK(rc < 0 && err[0], "open failed (%d) without a reason", rc);
        return 0;
    }
    uint64_t n = 0;
    /* Every poll of a regular file makes progress: a bound far above any
     * input's record count turns a loop that does not into a finding. */
    for (int polls = 0; polls < 1000000; polls++) {
        eddy_batch *b = fuzz_batch();
        err[0] = '\0';
        rc = F->poll(s, b, 0, 0, err, sizeof err);
        if (rc == EDDY_EEOF)
            break;
        if (rc < 0) {
            FUZZ_CHECK(err[0], "poll failed (%d) without a reason", rc);
            break;
        }
        FUZZ_CHECK((uint32_t)rc == b->n, "poll said %d records, the batch has %u", rc, b->n);
        for (uint32_t i = 0; i < b->n; i++) {
            const eddy_record *r = &b->recs[i];
            if (r->flags & EDDY_REC_ERROR)
                FUZZ_CHECK(r->err_reason && *r->err_reason, "error record without a reason");
            eddy_buf json = {0};
            FUZZ_CHECK(eddy_record_to_json(r, &json) == 0, "record_to_json");
            eddy_buf_free(&json);
        }
        n += b->n;
        FUZZ_CHECK(polls < 999999, "the source does not reach the end of the file");
    }
    F->close(s);
    return n;
}

#endif
