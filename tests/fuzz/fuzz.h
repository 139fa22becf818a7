/* Shared by the libFuzzer harnesses of tests/fuzz (benchmarks/fuzz/run.sh
 * runs them). A harness checks the contract of the code it feeds, not only
 * that it does not crash: a broken promise aborts, which libFuzzer reports
 * as a crash with the input that caused it. */
#ifndef EDDY_FUZZ_H
#define EDDY_FUZZ_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/core/batch.h"
#include "engine/core/error.h"
#include "engine/format/codec.h"
#include "lib/buf/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                             \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "fuzz check failed at %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                                 \
            fputc('\n', stderr);                                                          \
            abort();                                                                      \
        }                                                                                 \
    } while (0)

/* One batch per process, emptied before each input: the arena warms up once
 * as in the engine, and a limit turns a runaway allocation into an error. */
static inline eddy_batch *fuzz_batch(void)
{
    static eddy_batch *b;
    if (!b)
        b = eddy_batch_new(0, 64u << 20);
    eddy_batch_reset(b);
    return b;
}

/* The contract of eddy_codec_decode (engine/format/codec.h): 0 with a clean
 * record, or EDDY_EPARSE with the record marked, a reason, an offset inside
 * the payload, no fields, and the raw payload kept. */
static inline void fuzz_check_decoded(int rc, const eddy_record *r, size_t len)
{
    if (rc == 0) {
        FUZZ_CHECK(!(r->flags & EDDY_REC_ERROR), "rc 0 but the record is marked");
        return;
    }
    FUZZ_CHECK(rc == EDDY_EPARSE, "rc %d", rc);
    FUZZ_CHECK(r->flags & EDDY_REC_ERROR, "EDDY_EPARSE without the error flag");
    FUZZ_CHECK(r->err_reason && *r->err_reason, "no reason");
    FUZZ_CHECK(r->err_offset <= len, "offset %llu past %zu", (unsigned long long)r->err_offset,
               len);
    FUZZ_CHECK(r->nfields == 0, "%u fields left on a failed record", r->nfields);
    FUZZ_CHECK(r->raw_len == len, "raw %u bytes of %zu", r->raw_len, len);
}

/* A private temporary file per process (parallel fuzzing jobs must not
 * share one), rewritten with each input; its path stays the same. */
static char fuzz_tmp_path[256];

static inline void fuzz_tmp_unlink(void) { unlink(fuzz_tmp_path); }

static inline const char *fuzz_write_tmp(const char *suffix, const uint8_t *data, size_t size)
{
    char *path = fuzz_tmp_path;
    if (!path[0]) {
        const char *dir = getenv("TMPDIR");
        snprintf(path, sizeof fuzz_tmp_path, "%s/eddy-fuzz-%d%s", dir && *dir ? dir : "/tmp",
                 (int)getpid(), suffix);
        atexit(fuzz_tmp_unlink);
    }
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror(path);
        abort();
    }
    return path;
}

#endif
