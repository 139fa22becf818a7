/* The file source's binary formats: a stream of concatenated msgpack maps,
 * and Avro object container files (through avro-c's file reader). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/error.h"
#if EDDY_HAVE_AVRO
#include "engine/format/avro_value.h"
#include "connectors/file/avro_scan.h"
#endif
#include "connectors/file/fsrc.h"
#if EDDY_HAVE_AVRO
#include "connectors/file/avro_header.h"
#endif

#define RAW_PREVIEW 4096

static int batch_full(uint32_t n, const char *name, char *err, size_t errlen)
{
    if (n)
        return (int)n;
    snprintf(err, errlen, "%s: one record does not fit in the batch memory limit", name);
    return EDDY_ELIMIT;
}

/* A record that does not fit even in an empty batch (worker.batch_memory)
 * becomes a dead letter with the reason and its first bytes instead of
 * stopping the worker; the batch is emptied of its half-decoded values. */
static uint64_t be(const uint8_t *p, int k)
{
    uint64_t v = 0;
    for (int i = 0; i < k; i++)
        v = v << 8 | p[i];
    return v;
}

/* Size of the msgpack object at p[0..n) without decoding it: 1 with *size,
 * 0 when it continues past n, -1 on a byte that starts no object (at
 * *size). Iterative (a count of pending objects), so nesting depth costs no
 * stack; each pending object takes at least one byte, so a huge claimed
 * count in a truncated stream ends at n. */
static int mp_extent(const uint8_t *p, size_t n, size_t *size)
{
    size_t i = 0;
    uint64_t pending = 1;
    while (pending) {
        if (i >= n)
            return 0;
        uint8_t c = p[i++];
        pending--;
        uint64_t items = 0, skip = 0;
        int lenbytes = 0, extra = 0;
        if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3) {
            /* fixint, nil, bool */
        } else if (c <= 0x8f) {
            items = 2u * (c & 0x0f);
        } else if (c <= 0x9f) {
            items = c & 0x0f;
        } else if (c <= 0xbf) {
            skip = c & 0x1f;
        } else {
            switch (c) {
            case 0xc4: case 0xd9: lenbytes = 1; break;          /* bin8, str8 */
            case 0xc5: case 0xda: lenbytes = 2; break;          /* bin16, str16 */
            case 0xc6: case 0xdb: lenbytes = 4; break;          /* bin32, str32 */
            case 0xc7: lenbytes = 1; extra = 1; break;          /* ext8 + type */
            case 0xc8: lenbytes = 2; extra = 1; break;
            case 0xc9: lenbytes = 4; extra = 1; break;
            case 0xcc: case 0xd0: skip = 1; break;
            case 0xcd: case 0xd1: skip = 2; break;
            case 0xca: case 0xce: case 0xd2: skip = 4; break;
            case 0xcb: case 0xcf: case 0xd3: skip = 8; break;
            case 0xd4: skip = 2; break;                          /* fixext: type + data */
            case 0xd5: skip = 3; break;
            case 0xd6: skip = 5; break;
            case 0xd7: skip = 9; break;
            case 0xd8: skip = 17; break;
            case 0xdc: case 0xde: lenbytes = -2; break;          /* array16, map16 */
            case 0xdd: case 0xdf: lenbytes = -4; break;          /* array32, map32 */
            default: *size = i - 1; return -1;                   /* 0xc1 */
            }
        }
        if (lenbytes) {
            int k = lenbytes < 0 ? -lenbytes : lenbytes;
            if (n - i < (size_t)k)
                return 0;
            uint64_t v = be(p + i, k);
            i += (size_t)k;
            if (lenbytes > 0)
                skip = v + (uint64_t)extra;
            else
                items = c == 0xde || c == 0xdf ? 2 * v : v;
        }
        if ((uint64_t)(n - i) < skip)
            return 0;
        i += (size_t)skip;
        pending += items;
    }
    *size = i;
    return 1;
}

int eddy_fsrc_poll_msgpack(fsrc *s, eddy_batch *b, uint32_t max, int timeout_ms, char *err,
                           size_t errlen)
{
    eddy_reader *rd = &s->rd;
    uint32_t n = 0;
    while (n < max) {
        const uint8_t *p = rd->buf + rd->pos;
        size_t avail = rd->len - rd->pos, size = 0;
        unsigned long long at = (unsigned long long)(rd->base + rd->pos);
        int ext = avail ? mp_extent(p, avail, &size) : 0;
        if (ext == 0) {
            if (rd->eof && avail == 0)
                return n ? (int)n : EDDY_EEOF;
            if (!rd->eof) {
                if (avail > s->max_record) {
                    if (n) /* deliver the records before; the error comes next poll */
                        return (int)n;
                    snprintf(err, errlen,
                             "%s: msgpack object at byte offset %llu is larger than "
                             "max_record_size (%zu bytes)",
                             rd->name, at, s->max_record);
                    return EDDY_EPARSE;
                }
                int m = eddy_reader_more(rd, n ? 0 : timeout_ms, err, errlen);
                if (m < 0 && n)
                    return (int)n; /* the records before first; the error recurs */
                if (m < 0)
                    return m == EDDY_ELIMIT ? EDDY_EIO : m;
                if (m == 0 && !rd->eof)
                    return (int)n;
                continue;
            }
        }
        eddy_record *r = eddy_fsrc_append(s, b, s->index);
        if (!r)
            return batch_full(n, rd->name, err, errlen);
        if (ext <= 0) {
            /* Without a length prefix there is no way to find where the next
             * object starts: the rest of the stream becomes one error record. */
            size_t keep = avail < RAW_PREVIEW ? avail : RAW_PREVIEW;
            eddy_record_keep_raw(b, r, p, keep);
            if (ext == 0)
                eddy_record_fail(b, r, "decode", avail,
                                 "%s: record %lld (byte offset %llu): truncated msgpack object, "
                                 "the file ends inside it",
                                 rd->name, (long long)s->index, at);
            else
                eddy_record_fail(b, r, "decode", size,
                                 "%s: record %lld (byte offset %llu): invalid msgpack byte 0x%02x "
                                 "at byte offset %llu; the rest of the stream cannot be read",
                                 rd->name, (long long)s->index, at, p[size], at + size);
            rd->pos = rd->len;
            rd->eof = true;
            s->index++;
            return (int)(n + 1);
        }
        int rc = eddy_codec_decode(s->codec, b, r, p, size);
        if (rc == EDDY_ENOMEM) {
            /* The batch memory is full: the batch ends here and the record
             * starts the next one (checked before the error flag, which the
             * decoder also sets). Alone and still too big: a dead letter. */
            eddy_batch_pop(b);
            if (n)
                return (int)n;
            char where[320];
            snprintf(where, sizeof where, "%s: record %lld at byte offset %llu", rd->name,
                     (long long)s->index, at);
            if (!eddy_fsrc_too_big(s, b, s->index, where, p, size, RAW_PREVIEW))
                return batch_full(0, rd->name, err, errlen);
            rd->pos += size;
            s->index++;
            return 1;
        }
        if (rc == EDDY_EPARSE || (r->flags & EDDY_REC_ERROR)) {
            if (!r->raw)
                eddy_record_keep_raw(b, r, p, size);
            eddy_record_fail(b, r, "decode", r->err_offset, "%s: record %lld (byte offset %llu): %s",
                             rd->name, (long long)s->index, at,
                             r->err_reason ? r->err_reason : "malformed msgpack");
        } else if (rc < 0) {
            eddy_batch_pop(b);
            return batch_full(n, rd->name, err, errlen);
        }
        rd->pos += size;
        s->index++;
        n++;
    }
    return (int)n;
}

/* ---- Avro object container files ---------------------------------------- */

#if EDDY_HAVE_AVRO

int eddy_fsrc_open_avro(fsrc *s, char *err, size_t errlen)
{
    bool std = strcmp(s->path, "-") == 0;
    const char *name = std ? "stdin" : s->path;
    if (!std) {
        /* Checked here: clearer messages, and avro-c trusts the header's
         * lengths and leaks on its errors (avro_header.c). */
        int hrc = eddy_avro_header_check(s->path, name, err, errlen);
        if (hrc != 0)
            return hrc;
    }
    int rc = std ? avro_file_reader_fp(stdin, "stdin", 0, &s->areader)
                 : avro_file_reader(s->path, &s->areader);
    if (rc != 0) {
        s->areader = NULL;
        snprintf(err, errlen, "%s: cannot read as an Avro object container file: %s", name,
                 avro_strerror());
        return EDDY_EIO;
    }
    avro_schema_t schema = avro_file_reader_get_writer_schema(s->areader);
    if (!schema || avro_typeof(schema) != AVRO_RECORD) {
        snprintf(err, errlen, "%s: the file's schema is %s, expected a record", name,
                 schema ? avro_schema_type_name(schema) : "missing");
        return EDDY_EPARSE;
    }
    /* avro-c's reader trusts lengths and recurses with the data's nesting:
     * check the records first (avro_scan.c). */
    s->agood = -1;
    if (std) {
        if (eddy_avro_schema_refers(schema, 0)) {
            snprintf(err, errlen,
                     "stdin: the schema refers to a named type (it may be recursive), so "
                     "records could nest without bound, and Avro from stdin cannot be checked "
                     "before avro-c reads it; read the file by its path instead");
            return EDDY_EUNSUPPORTED;
        }
    } else {
        char why[400];
        int64_t good;
        int sc = eddy_avro_scan_file(s->path, schema, EDDY_CODEC_DEFAULT_DEPTH, &good, why,
                                     sizeof why);
        if (sc == EDDY_EUNSUPPORTED && eddy_avro_schema_refers(schema, 0)) {
            snprintf(err, errlen,
                     "%s: the schema refers to a named type (it may be recursive) and the "
                     "file's %s cannot be checked for nesting depth before avro-c reads it; "
                     "write it with codec null or deflate", name, why);
            return EDDY_EUNSUPPORTED;
        }
        if (sc != 0 && sc != EDDY_EUNSUPPORTED) {
            snprintf(err, errlen, "%s: %s", name, why);
            return sc;
        }
        if (sc == 0 && good >= 0) {
            s->agood = good;
            s->abad = strdup(why);
        }
    }
    s->aiface = avro_generic_class_from_schema(schema);
    if (!s->aiface || avro_generic_value_new(s->aiface, &s->aval) != 0) {
        snprintf(err, errlen, "%s: cannot build a reader for the file's schema: %s", name,
                 avro_strerror());
        return EDDY_EPARSE;
    }
    s->aval_ok = true;
    s->rd.name = name;
    return 0;
}

void eddy_fsrc_close_avro(fsrc *s)
{
    if (s->aval_ok)
        avro_value_decref(&s->aval);
    if (s->aiface)
        avro_value_iface_decref(s->aiface);
    if (s->areader)
        avro_file_reader_close(s->areader);
    s->aval_ok = false;
    s->aiface = NULL;
    s->areader = NULL;
    free(s->abad);
    s->abad = NULL;
}

int eddy_fsrc_poll_avro(fsrc *s, eddy_batch *b, uint32_t max, char *err, size_t errlen)
{
    uint32_t n = 0;
    char why[256];
    while (n < max) {
        if (s->aended)
            return n ? (int)n : EDDY_EEOF;
        eddy_record *r = eddy_fsrc_append(s, b, s->index);
        if (!r)
            return batch_full(n, s->rd.name, err, errlen);
        if (!s->apending && s->agood >= 0 && s->index >= s->agood) {
            /* The check found this record unreadable (avro-c would crash or
             * allocate without bound); it cannot resynchronise after it. */
            eddy_record_fail(b, r, "decode", 0, "%s: record %lld: %s; reading stops here",
                             s->rd.name, (long long)s->index, s->abad ? s->abad : "invalid");
            s->aended = true;
            s->index++;
            n++;
            continue;
        }
        if (!s->apending) {
            avro_value_reset(&s->aval);
            int rc = avro_file_reader_read_value(s->areader, &s->aval);
            if (rc == EOF) { /* reading again after EOF would be an error */
                s->aended = true;
                eddy_batch_pop(b);
                return n ? (int)n : EDDY_EEOF;
            }
            if (rc != 0) {
                /* avro-c cannot resynchronise inside a damaged block. */
                eddy_record_fail(b, r, "decode", 0, "%s: record %lld: %s; reading stops here",
                                 s->rd.name, (long long)s->index, avro_strerror());
                s->aended = true;
                s->index++;
                n++;
                continue;
            }
        }
        s->apending = false;
        int rc = eddy_avro_to_record(&s->aval, b, r, why, sizeof why);
        if (rc == EDDY_ENOMEM) {
            eddy_batch_pop(b);
            if (n) {
                s->apending = true; /* convert the value already read in the next batch */
                return (int)n;
            }
            char where[320];
            snprintf(where, sizeof where, "%s: record %lld", s->rd.name, (long long)s->index);
            if (!eddy_fsrc_too_big(s, b, s->index, where, NULL, 0, 0))
                return batch_full(0, s->rd.name, err, errlen);
            s->index++;
            return 1;
        }
        if (rc < 0)
            eddy_record_fail(b, r, "decode", 0, "%s: record %lld: %s", s->rd.name,
                             (long long)s->index, why);
        s->index++;
        n++;
    }
    return (int)n;
}
#else
/* A build without avro-c: the config loader refuses format avro; this is for
 * direct callers. */
int eddy_fsrc_open_avro(fsrc *s, char *err, size_t errlen)
{
    eddy_errf(err, errlen, "file source %s: format avro is not built into this eddy (built "
              "without avro-c)", s->path);
    return EDDY_EUNSUPPORTED;
}

void eddy_fsrc_close_avro(fsrc *s) { (void)s; }

int eddy_fsrc_poll_avro(fsrc *s, eddy_batch *b, uint32_t max, char *err, size_t errlen)
{
    (void)s, (void)b, (void)max, (void)err, (void)errlen;
    return EDDY_EUNSUPPORTED; /* unreachable: open refused */
}
#endif
