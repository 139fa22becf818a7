/* The check of an Avro object container file before avro-c reads it.
 *
 * avro-c's file reader trusts the data: a recursive schema with a record
 * nested 100,000 deep overflows its (recursive) reader's stack, and a
 * garbage string length becomes a huge allocation that it leaks. The Kafka
 * path checks each message with eddy_avro_check_values first; a file's
 * records are only reachable through avro-c's reader, so this walks the
 * file's own framing (header, then blocks: count, size, data, sync marker;
 * codec null or deflate), checks every record the same way, and tells the
 * source how many records are safe to hand to avro-c. */
#if EDDY_HAVE_AVRO
#include "connectors/file/avro_scan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "engine/core/error.h"
#include "engine/format/avro_value.h"

#define BLOCK_MAX ((uint64_t)1 << 30)       /* compressed block bytes */
#define INFLATED_MAX ((size_t)256 << 20)    /* a deflate block, decompressed */

typedef struct scan {
    FILE *f;
    const char *name;
    uint64_t pos; /* byte offset in the file */
    char *why;
    size_t whylen;
} scan;

static int sfail(scan *s, const char *fmt, ...) EDDY_PRINTF(2, 3);
static int sfail(scan *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->why, s->whylen, fmt, ap);
    va_end(ap);
    return -1;
}

/* 0, 1 at a clean end of file (only where allowed), -1 with the reason. */
static int rd_long(scan *s, int64_t *out, const char *what, bool eof_ok)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        int c = getc(s->f);
        if (c == EOF) {
            if (eof_ok && shift == 0)
                return 1;
            return sfail(s, "byte offset %llu: the file ends inside the %s",
                         (unsigned long long)s->pos, what);
        }
        s->pos++;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
            return 0;
        }
    }
    return sfail(s, "byte offset %llu: the %s is a varint longer than 10 bytes",
                 (unsigned long long)s->pos, what);
}

static int rd_bytes(scan *s, void *dst, size_t n, const char *what)
{
    if (n && fread(dst, 1, n, s->f) != n)
        return sfail(s, "byte offset %llu: the file ends inside the %s",
                     (unsigned long long)s->pos, what);
    s->pos += n;
    return 0;
}

/* The header's metadata map: the codec name goes to codec. */
static int header(scan *s, char *codec, size_t codeclen, uint8_t sync[16])
{
    uint8_t magic[4];
    if (rd_bytes(s, magic, 4, "header") != 0)
        return -1;
    snprintf(codec, codeclen, "null");
    for (;;) {
        int64_t n;
        if (rd_long(s, &n, "header's metadata count", false) != 0)
            return -1;
        if (n == 0)
            break;
        if (n < 0) {
            int64_t size;
            if (rd_long(s, &size, "header's metadata block size", false) != 0)
                return -1;
            n = -n;
        }
        for (int64_t i = 0; i < n; i++) {
            int64_t kl, vl;
            char key[64];
            if (rd_long(s, &kl, "metadata key length", false) != 0)
                return -1;
            if (kl < 0 || kl > (int64_t)(1 << 20))
                return sfail(s, "byte offset %llu: metadata key length %lld",
                             (unsigned long long)s->pos, (long long)kl);
            size_t keep = (size_t)kl < sizeof key - 1 ? (size_t)kl : sizeof key - 1;
            if (rd_bytes(s, key, keep, "metadata key") != 0)
                return -1;
            key[keep] = '\0';
            if ((size_t)kl > keep && fseek(s->f, (long)((size_t)kl - keep), SEEK_CUR) != 0)
                return sfail(s, "cannot seek: %s", strerror(errno));
            s->pos += (size_t)kl - keep;
            if (rd_long(s, &vl, "metadata value length", false) != 0)
                return -1;
            if (vl < 0 || vl > (int64_t)(64 << 20))
                return sfail(s, "byte offset %llu: metadata value length %lld",
                             (unsigned long long)s->pos, (long long)vl);
            if (strcmp(key, "avro.codec") == 0 && (size_t)vl < codeclen) {
                if (rd_bytes(s, codec, (size_t)vl, "codec name") != 0)
                    return -1;
                codec[vl] = '\0';
            } else {
                if (vl && fseek(s->f, (long)vl, SEEK_CUR) != 0)
                    return sfail(s, "cannot seek: %s", strerror(errno));
                s->pos += (uint64_t)vl;
            }
        }
    }
    return rd_bytes(s, sync, 16, "header's sync marker");
}

static int inflate_block(scan *s, const uint8_t *in, size_t len, uint8_t **out, size_t *outlen,
                         size_t *cap)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -15) != Z_OK) /* Avro's deflate: raw, no zlib header */
        return sfail(s, "cannot start zlib");
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    size_t used = 0;
    int rc;
    do {
        if (used == *cap) {
            size_t ncap = *cap ? *cap * 2 : len * 4 + 4096;
            if (ncap > INFLATED_MAX)
                ncap = INFLATED_MAX;
            uint8_t *nb = ncap > *cap ? realloc(*out, ncap) : NULL;
            if (!nb) {
                inflateEnd(&z);
                return sfail(s, "a deflate block at byte offset %llu decompresses to more "
                             "than %zu MiB", (unsigned long long)s->pos, INFLATED_MAX >> 20);
            }
            *out = nb;
            *cap = ncap;
        }
        z.next_out = *out + used;
        z.avail_out = (uInt)(*cap - used);
        rc = inflate(&z, Z_NO_FLUSH);
        used = *cap - z.avail_out;
    } while (rc == Z_OK);
    inflateEnd(&z);
    if (rc != Z_STREAM_END)
        return sfail(s, "the deflate block before byte offset %llu is corrupt (zlib: %s)",
                     (unsigned long long)s->pos, z.msg ? z.msg : "truncated");
    *outlen = used;
    return 0;
}

int eddy_avro_scan_file(const char *path, avro_schema_t schema, uint32_t max_depth,
                        int64_t *good, char *why, size_t whylen)
{
    *good = -1;
    scan s = {.name = path, .why = why, .whylen = whylen};
    eddy_avro_schema *sch = NULL;
    if (eddy_avro_schema_compile(schema, &sch, why, whylen) != 0)
        return EDDY_ENOMEM;
    if (!(s.f = fopen(path, "rb"))) {
        eddy_avro_schema_free(sch);
        snprintf(why, whylen, "cannot open: %s", strerror(errno));
        return EDDY_EIO;
    }
    char codec[32];
    uint8_t sync[16], mark[16];
    uint8_t *block = NULL, *plain = NULL;
    size_t bcap = 0, pcap = 0;
    int rc = 0;
    int64_t index = 0;
    if (header(&s, codec, sizeof codec, sync) != 0) {
        *good = 0;
        goto done;
    }
    if (strcmp(codec, "null") != 0 && strcmp(codec, "deflate") != 0) {
        snprintf(why, whylen, "codec %s", codec);
        rc = EDDY_EUNSUPPORTED;
        goto done;
    }
    for (;;) {
        int64_t count, size;
        uint64_t at = s.pos;
        int r = rd_long(&s, &count, "block's record count", true);
        if (r == 1)
            break; /* the end of the file, between blocks */
        if (r != 0 || rd_long(&s, &size, "block's size", false) != 0)
            goto bad;
        if (count < 0 || size < 0 || (uint64_t)size > BLOCK_MAX) {
            sfail(&s, "byte offset %llu: a block of %lld records in %lld bytes",
                  (unsigned long long)at, (long long)count, (long long)size);
            goto bad;
        }
        if ((size_t)size > bcap) {
            uint8_t *nb = realloc(block, (size_t)size);
            if (!nb) {
                sfail(&s, "out of memory for a block of %lld bytes", (long long)size);
                goto bad;
            }
            block = nb;
            bcap = (size_t)size;
        }
        if (rd_bytes(&s, block, (size_t)size, "block") != 0 ||
            rd_bytes(&s, mark, 16, "block's sync marker") != 0)
            goto bad;
        if (memcmp(mark, sync, 16) != 0) {
            sfail(&s, "byte offset %llu: the block's sync marker does not match the header's",
                  (unsigned long long)(s.pos - 16));
            goto bad;
        }
        const uint8_t *data = block;
        size_t len = (size_t)size;
        if (strcmp(codec, "deflate") == 0) {
            if (inflate_block(&s, block, (size_t)size, &plain, &len, &pcap) != 0)
                goto bad;
            data = plain;
        }
        char reason[256];
        uint64_t ok = eddy_avro_check_values(sch, data, len, (uint64_t)count, 0, max_depth,
                                             reason, sizeof reason);
        if (ok < (uint64_t)count) {
            *good = index + (int64_t)ok;
            snprintf(why, whylen, "%s (in the block at byte offset %llu)", reason,
                     (unsigned long long)at);
            goto done;
        }
        index += count;
    }
    goto done;
bad:
    *good = index; /* every record of the blocks before passed */
done:
    fclose(s.f);
    free(block);
    free(plain);
    eddy_avro_schema_free(sch);
    return rc;
}

bool eddy_avro_schema_refers(avro_schema_t schema, unsigned depth)
{
    if (depth > 1024)
        return true;
    switch (avro_typeof(schema)) {
    case AVRO_LINK: return true;
    case AVRO_RECORD:
        for (size_t i = 0; i < avro_schema_record_size(schema); i++)
            if (eddy_avro_schema_refers(avro_schema_record_field_get_by_index(schema, (int)i),
                                        depth + 1))
                return true;
        return false;
    case AVRO_UNION:
        for (size_t i = 0; i < avro_schema_union_size(schema); i++)
            if (eddy_avro_schema_refers(avro_schema_union_branch(schema, i), depth + 1))
                return true;
        return false;
    case AVRO_ARRAY: return eddy_avro_schema_refers(avro_schema_array_items(schema), depth + 1);
    case AVRO_MAP: return eddy_avro_schema_refers(avro_schema_map_values(schema), depth + 1);
    default: return false;
    }
}
#endif
