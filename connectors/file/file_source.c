/* `type: file` source: NDJSON, a msgpack stream, an Avro object container
 * file or CSV, from a path or stdin. One partition; offsets are line numbers
 * (1-based, as an editor shows them) for NDJSON and CSV, record indexes
 * (0-based) for msgpack and Avro. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/connector.h"
#include "engine/core/error.h"
#include "connectors/file/fsrc.h"
#include "engine/config/options.h"

#define CHUNK (1u << 20)

static const eddy_option file_source_options[] = {
    {"path", EDDY_OPT_STRING, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_REQUIRED | EDDY_OPT_PATH,
     "File to read; '-' reads standard input."},
    {"format", EDDY_OPT_ENUM, "json", EDDY_NO_RANGE, "json|msgpack|avro|csv", 0,
     "json: one object per line (NDJSON; blank lines skipped, CRLF accepted). msgpack: "
     "concatenated maps. avro: an Avro object container file (schema from the file). csv: "
     "RFC 4180 with a header row naming the fields; unquoted cells are typed (int, double, "
     "true/false, empty = null, else string), quoted cells are strings."},
    {"batch_size", EDDY_OPT_INT, "1024", 1, 1000000, NULL, 0,
     "Maximum records per poll."},
    {"follow", EDDY_OPT_BOOL, "false", EDDY_NO_RANGE, NULL, 0,
     "At the end of the file keep polling for appended data, like tail -f (not for avro; "
     "the end of a pipe is always final)."},
    {"max_record_size", EDDY_OPT_SIZE, "16MiB", 1024, 1073741824.0, NULL, 0,
     "Longest line or record accepted. A longer NDJSON line becomes an error record; a "
     "longer msgpack object or CSV row stops the source with an error."},
    {NULL, 0, NULL, 0, 0, NULL, 0, NULL},
};

eddy_record *eddy_fsrc_append(fsrc *s, eddy_batch *b, int64_t off)
{
    eddy_record *r = eddy_batch_append(b);
    if (r) {
        r->topic = s->topic;
        r->partition = 0;
        r->offset = off;
    }
    return r;
}

eddy_record *eddy_fsrc_too_big(fsrc *s, eddy_batch *b, int64_t off, const char *where,
                               const void *p, size_t len, size_t keep)
{
    eddy_batch_reset(b);
    eddy_record *r = eddy_fsrc_append(s, b, off);
    if (!r)
        return NULL;
    if (!p) { /* decoded by a library (Avro): no bytes of our own to show */
        eddy_record_fail(b, r, "decode", 0,
                         "%s: record does not fit in worker.batch_memory (%zu bytes) even in a "
                         "batch of its own; skipped",
                         where, b->arena.limit);
        return r;
    }
    if (keep > len)
        keep = len;
    eddy_record_keep_raw(b, r, p, keep);
    eddy_record_fail(b, r, "decode", 0,
                     "%s: record of %zu bytes does not fit in worker.batch_memory (%zu bytes) "
                     "even in a batch of its own; skipped (raw holds its first %zu bytes)",
                     where, len, b->arena.limit, keep);
    return r;
}

static void fsrc_close(void *self)
{
    fsrc *s = self;
    if (!s)
        return;
    eddy_reader_close(&s->rd);
    eddy_fsrc_close_avro(s);
    if (s->codec)
        eddy_codec_destroy(s->codec);
    eddy_csv_row_free(&s->row);
    free(s->cols);
    free(s->path);
    free(s->topic);
    free(s);
}

/* A file that is not there (or not readable) is said at validate, not only
 * when the worker starts; `follow` may wait for a file still to come. */
static int fsrc_check(const eddy_opts *o, char *err, size_t errlen)
{
    const char *path = eddy_opts_str(o, "path");
    if (!path || !*path || strcmp(path, "-") == 0 || eddy_opts_bool(o, "follow"))
        return 0;
    if (access(path, R_OK) != 0) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return EDDY_EIO;
    }
    return 0;
}

static int fsrc_open(const eddy_opts *o, const char *name, const eddy_connector_env *env, void **self, char *err,
                     size_t errlen)
{
    const char *path = eddy_opts_str(o, "path"), *fmt = eddy_opts_str(o, "format");
    if (!path || !*path) {
        snprintf(err, errlen, "file source: path is required ('-' for stdin)");
        return EDDY_ECONFIG;
    }
    fsrc *s = calloc(1, sizeof *s);
    if (!s || !(s->topic = strdup(name ? name : path)) || !(s->path = strdup(path))) {
        if (s)
            free(s->topic);
        free(s);
        snprintf(err, errlen, "file source: out of memory");
        return EDDY_ENOMEM;
    }
    s->rd.fd = -1;
    if (!fmt || strcmp(fmt, "json") == 0)
        s->format = FSRC_JSON;
    else if (strcmp(fmt, "msgpack") == 0)
        s->format = FSRC_MSGPACK;
    else if (strcmp(fmt, "avro") == 0)
        s->format = FSRC_AVRO;
    else if (strcmp(fmt, "csv") == 0)
        s->format = FSRC_CSV;
    else {
        snprintf(err, errlen, "file source %s: unknown format '%s'; expected json, msgpack, avro "
                 "or csv", path, fmt);
        fsrc_close(s);
        return EDDY_ECONFIG;
    }
    int64_t bs = eddy_opts_int(o, "batch_size"), mr = eddy_opts_int(o, "max_record_size");
    s->batch_size = bs > 0 && bs <= 1000000 ? (uint32_t)bs : 1024;
    s->max_record = mr >= 1024 ? (size_t)mr : 16u << 20;
    s->follow = eddy_opts_bool(o, "follow");
    int rc = 0;
    if (s->format == FSRC_AVRO) {
        if (s->follow) {
            snprintf(err, errlen, "file source %s: follow is not supported for avro files "
                     "(avro-c reads whole blocks); use json, msgpack or csv", path);
            rc = EDDY_ECONFIG;
        } else {
            rc = eddy_fsrc_open_avro(s, err, errlen);
        }
    } else {
        if (s->format != FSRC_CSV) {
            eddy_codec_conf conf = {0};
            conf.format = s->format == FSRC_JSON ? EDDY_FMT_JSON : EDDY_FMT_MSGPACK;
            rc = eddy_codec_new(&conf, &s->codec, err, errlen);
        }
        /* The buffer must hold a whole record, plus a little for the
         * chunk read that found its end. */
        size_t chunk = CHUNK < s->max_record ? CHUNK : s->max_record;
        if (rc == 0 && eddy_reader_open(&s->rd, s->path, s->follow, chunk,
                                        s->max_record + 4096, err, errlen) != 0)
            rc = EDDY_EIO;
    }
    if (rc != 0) {
        fsrc_close(s);
        return rc < 0 ? rc : EDDY_EIO;
    }
    *self = s;
    return 0;
}

static int32_t fsrc_partitions(void *self) { (void)self; return 1; }

static int fsrc_poll(void *self, eddy_batch *b, uint32_t max, int timeout_ms, char *err,
                     size_t errlen)
{
    fsrc *s = self;
    if (s->done)
        return EDDY_EEOF;
    b->partition = 0;
    if (max == 0 || max > s->batch_size)
        max = s->batch_size;
    int rc;
    switch (s->format) {
    case FSRC_JSON: rc = eddy_fsrc_poll_json(s, b, max, timeout_ms, err, errlen); break;
    case FSRC_CSV: rc = eddy_fsrc_poll_csv(s, b, max, timeout_ms, err, errlen); break;
    case FSRC_MSGPACK: rc = eddy_fsrc_poll_msgpack(s, b, max, timeout_ms, err, errlen); break;
    default: rc = eddy_fsrc_poll_avro(s, b, max, err, errlen); break;
    }
    if (rc == EDDY_EEOF)
        s->done = true;
    return rc;
}

const eddy_source_ops eddy_file_source = {
    .type = "file",
    .summary = "Reads NDJSON, msgpack, Avro container or CSV files (or stdin)",
    .options = file_source_options,
    .check = fsrc_check,
    .open = fsrc_open,
    .partitions = fsrc_partitions,
    .poll = fsrc_poll,
    .commit = NULL,
    .close = fsrc_close,
};
