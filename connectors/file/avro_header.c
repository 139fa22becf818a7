/* The header of an Avro object container file, checked before avro-c reads
 * it: avro-c 1.11 allocates each metadata string at the length the file
 * claims (a damaged length asked it for 13 GB; found by
 * tests/fuzz/fuzz_avro_file.c) and leaks on most of its header errors.
 * Header: "Obj\x01", a map<bytes> of metadata (blocks of `long count`,
 * a negative count followed by the block's byte size, then count pairs of
 * length-prefixed key and value; a 0 count ends it), a 16-byte sync marker. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "connectors/file/avro_header.h"
#include "engine/core/error.h"

/* An Avro long (zigzag varint); -1 at the end of the file or past 10 bytes. */
static int read_long(FILE *f, int64_t *v)
{
    uint64_t u = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        int c = fgetc(f);
        if (c == EOF)
            return -1;
        u |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
            return 0;
        }
    }
    return -1;
}

/* After the metadata map: skips the 16-byte sync marker (false at the end
 * of the file). */
static bool skip_sync(FILE *f)
{
    return fseek(f, 16, SEEK_CUR) == 0;
}

int eddy_avro_header_check(const char *path, const char *name, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", name, strerror(errno));
        return EDDY_EIO;
    }
    struct stat st;
    char magic[4] = {0};
    const char *bad = NULL;
    if (fread(magic, 1, 4, f) != 4 || memcmp(magic, "Obj\x01", 4) != 0) {
        fclose(f);
        snprintf(err, errlen,
                 "%s: not an Avro object container file (it does not start with \"Obj\\x01\")",
                 name);
        return EDDY_EPARSE;
    }
    /* A pipe or a growing file has no size to check against: avro-c's. */
    int64_t size = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) ? (int64_t)st.st_size : -1;
    while (size >= 0) {
        int64_t count, skip;
        if (read_long(f, &count) != 0) {
            bad = "its metadata is cut short";
            break;
        }
        if (count == 0)
            break;
        if (count < 0) {
            count = count == INT64_MIN ? INT64_MAX : -count;
            if (read_long(f, &skip) != 0) {
                bad = "its metadata is cut short";
                break;
            }
        }
        /* Each key and value takes a byte at least: a count larger than the
         * file is damage, and the loop below stays bounded by the file. */
        if (count > size) {
            bad = "a metadata count is larger than the file";
            break;
        }
        for (int64_t i = 0; i < count * 2 && !bad; i++) { /* keys and values */
            int64_t len;
            long at = ftell(f);
            if (read_long(f, &len) != 0)
                bad = "its metadata is cut short";
            else if (len < 0 || len > size - at)
                bad = "a metadata length points past the end of the file";
            else if (fseek(f, (long)len, SEEK_CUR) != 0)
                bad = "its metadata is cut short";
        }
        if (bad)
            break;
    }
    /* avro-c's open also reads the first block's count and size and
     * allocates that size (15.7 GB for a damaged one; found by the fuzz
     * smoke run). The blocks after it are checked by avro_scan.c before
     * avro-c reaches them. */
    if (!bad && size >= 0 && skip_sync(f)) {
        int64_t count, bsize;
        long at = ftell(f);
        if (at >= 0 && at < size) {
            if (read_long(f, &count) != 0 || read_long(f, &bsize) != 0)
                bad = "its first block is cut short";
            else if (count < 0 || bsize < 0 || bsize > size - ftell(f))
                bad = "its first block claims more bytes than the file holds";
        }
    }
    fclose(f);
    if (bad) {
        snprintf(err, errlen, "%s: damaged Avro object container file header: %s", name, bad);
        return EDDY_EPARSE;
    }
    return 0;
}
