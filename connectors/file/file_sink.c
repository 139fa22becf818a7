/* `type: file` sink: NDJSON, msgpack stream, Avro object container file or
 * CSV, to a path or stdout. Records are encoded into one buffer per batch
 * and written with one write(2), so a batch reaches the file whole or not
 * at all (except Avro, whose writer buffers blocks itself). Dead letters
 * (EDDY_REC_ERROR) are written as the envelope of deadletter.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "connectors/deadletter.h"
#include "engine/connector.h"
#include "engine/format/codec.h"
#include "connectors/file/csv.h"
#include "engine/core/error.h"
#if EDDY_HAVE_AVRO
#include "engine/format/avro_value.h"
#endif
#include "engine/config/options.h"
#include "engine/core/sym.h"

#define AVRO_BLOCK (1u << 20)
#define SPILL (1u << 20) /* without flush: write once this much is buffered */

static const eddy_option file_sink_options[] = {
    {"path", EDDY_OPT_STRING, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_REQUIRED | EDDY_OPT_PATH,
     "File to write; '-' writes standard output."},
    {"format", EDDY_OPT_ENUM, "json", EDDY_NO_RANGE, "json|msgpack|avro|csv", 0,
     "json: one object per line. msgpack: concatenated maps. avro: an Avro object container "
     "file (needs schema). csv: a header from the first record's fields, then one row per "
     "record. Dead letters can be written as json or msgpack only."},
    {"schema", EDDY_OPT_STRING, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_PATH,
     "Avro schema file (.avsc) of the records; required with format avro."},
    {"append", EDDY_OPT_BOOL, "false", EDDY_NO_RANGE, NULL, 0,
     "Append to an existing file instead of replacing it (csv keeps the file's header, avro "
     "requires the file's schema to equal `schema`)."},
    {"flush", EDDY_OPT_BOOL, "true", EDDY_NO_RANGE, NULL, 0,
     "Hand every batch to the operating system as soon as it is written. When false, output "
     "is buffered up to 1 MiB (or one Avro block) between flushes."},
    {NULL, 0, NULL, 0, 0, NULL, 0, NULL},
};

typedef enum { FS_JSON, FS_MSGPACK, FS_AVRO, FS_CSV } fs_format;
static const char *const fs_names[] = {"json", "msgpack", "avro", "csv"};

typedef struct fsink {
    char *path;
    const char *name; /* path or "stdout" */
    int fd;
    bool own_fd, flush_each;
    fs_format fmt;
    eddy_codec *codec;
    eddy_buf out;
    eddy_sym *cols; /* csv */
    uint32_t ncols;
    bool header_done;
#if EDDY_HAVE_AVRO
    eddy_avro_schema *as; /* avro */
    avro_file_writer_t aw;
    avro_value_iface_t *aiface;
    avro_value_t aval;
    bool aval_ok;
#endif
} fsink;

static int write_out(fsink *s, char *err, size_t errlen)
{
    size_t off = 0;
    while (off < s->out.len) {
        ssize_t w = write(s->fd, s->out.data + off, s->out.len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (err)
                snprintf(err, errlen, "%s: write failed: %s", s->name, strerror(errno));
            s->out.len = 0;
            return EDDY_EIO;
        }
        off += (size_t)w;
    }
    s->out.len = 0;
    return 0;
}

/* Avro writer upkeep (none in a build without avro-c). */
#if EDDY_HAVE_AVRO
static int flush_avro(fsink *s) { return s->aw && avro_file_writer_flush(s->aw) != 0 ? -1 : 0; }

static void close_avro(fsink *s)
{
    if (s->aval_ok)
        avro_value_decref(&s->aval);
    if (s->aiface)
        avro_value_iface_decref(s->aiface);
    if (s->aw)
        avro_file_writer_close(s->aw);
    if (s->as)
        eddy_avro_schema_free(s->as);
}
#else
static int flush_avro(fsink *s) { (void)s; return 0; }
static void close_avro(fsink *s) { (void)s; }
#endif

static int fsink_flush(void *self)
{
    fsink *s = self;
    int rc = write_out(s, NULL, 0);
    if (flush_avro(s) != 0)
        rc = EDDY_EIO;
    return rc;
}

static void fsink_close(void *self)
{
    fsink *s = self;
    if (!s)
        return;
    if (s->fd >= 0)
        write_out(s, NULL, 0);
    close_avro(s);
    if (s->own_fd && s->fd >= 0)
        close(s->fd);
    if (s->codec)
        eddy_codec_destroy(s->codec);
    eddy_buf_free(&s->out);
    free(s->cols);
    free(s->path);
    free(s);
}

/* Appending to a CSV file continues its columns: read its header row. */
static int csv_existing_header(fsink *s, char *err, size_t errlen)
{
    int fd = open(s->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0; /* nothing to continue */
    char buf[65536];
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    if (n <= 0)
        return 0;
    size_t start = n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0, used;
    eddy_csv_row row = {0};
    int rc = eddy_csv_scan(buf + start, (size_t)n - start, (size_t)n < sizeof buf, &row, &used);
    if (rc != 1 || row.bad) {
        snprintf(err, errlen, "%s: append: cannot read the CSV header of the existing file%s",
                 s->name, rc == 0 ? " (no line break in its first 64 KiB)" : "");
        eddy_csv_row_free(&row);
        return EDDY_EPARSE;
    }
    s->cols = calloc(row.n, sizeof *s->cols);
    if (!s->cols) {
        eddy_csv_row_free(&row);
        snprintf(err, errlen, "%s: out of memory", s->name);
        return EDDY_ENOMEM;
    }
    for (uint32_t i = 0; i < row.n; i++) {
        /* Undoubling quotes only shrinks: the text fits where it was. */
        eddy_csv_cell *c = &row.cells[i];
        size_t len = eddy_csv_cell_text(buf + start, c, buf + start + c->start);
        s->cols[i] = eddy_sym_intern(buf + start + c->start, len);
    }
    s->ncols = row.n;
    s->header_done = true;
    eddy_csv_row_free(&row);
    return 0;
}

#if EDDY_HAVE_AVRO
static int open_avro(fsink *s, const char *schema_path, bool append, char *err, size_t errlen)
{
    if (!schema_path || !*schema_path) {
        snprintf(err, errlen, "file sink %s: format avro needs `schema` (an .avsc file)", s->name);
        return EDDY_ECONFIG;
    }
    int rc = eddy_avro_schema_load(schema_path, &s->as, err, errlen);
    if (rc != 0)
        return rc < 0 ? rc : EDDY_ECONFIG;
    avro_schema_t schema = eddy_avro_schema_get(s->as);
    struct stat st;
    bool to_stdout = strcmp(s->path, "-") == 0;
    if (to_stdout) {
        rc = avro_file_writer_create_with_codec_fp(stdout, "stdout", 0, schema, &s->aw, "null",
                                                   AVRO_BLOCK);
    } else if (append && stat(s->path, &st) == 0 && st.st_size > 0) {
        avro_file_reader_t rd;
        if (avro_file_reader(s->path, &rd) != 0) {
            snprintf(err, errlen, "%s: append: not an Avro container file: %s", s->name,
                     avro_strerror());
            return EDDY_EPARSE;
        }
        int same = avro_schema_equal(avro_file_reader_get_writer_schema(rd), schema);
        avro_file_reader_close(rd);
        if (!same) {
            snprintf(err, errlen,
                     "%s: append: the file was written with another schema than %s; write to a "
                     "new file or set append: false",
                     s->name, schema_path);
            return EDDY_ECONFIG;
        }
        rc = avro_file_writer_open_bs(s->path, &s->aw, AVRO_BLOCK);
    } else {
        /* avro-c refuses to overwrite: replacing the file is the sink's job. */
        if (unlink(s->path) != 0 && errno != ENOENT) {
            snprintf(err, errlen, "%s: cannot replace: %s", s->name, strerror(errno));
            return EDDY_EIO;
        }
        rc = avro_file_writer_create_with_codec(s->path, schema, &s->aw, "null", AVRO_BLOCK);
    }
    if (rc != 0) {
        s->aw = NULL;
        snprintf(err, errlen, "%s: cannot open for writing: %s", s->name, avro_strerror());
        return EDDY_EIO;
    }
    s->aiface = avro_generic_class_from_schema(schema);
    if (!s->aiface || avro_generic_value_new(s->aiface, &s->aval) != 0) {
        snprintf(err, errlen, "%s: schema %s: %s", s->name, schema_path, avro_strerror());
        return EDDY_ECONFIG;
    }
    s->aval_ok = true;
    return 0;
}
#else
/* The config loader refuses format avro in this build; this is for direct callers. */
static int open_avro(fsink *s, const char *schema_path, bool append, char *err, size_t errlen)
{
    (void)schema_path, (void)append;
    eddy_errf(err, errlen, "file sink %s: format avro is not built into this eddy (built "
              "without avro-c)", s->name);
    return EDDY_EUNSUPPORTED;
}
#endif

static int fsink_open(const eddy_opts *o, const char *name, const eddy_connector_env *env, void **self, char *err,
                      size_t errlen)
{
    (void)name;
    const char *path = eddy_opts_str(o, "path"), *fmt = eddy_opts_str(o, "format");
    if (!path || !*path) {
        snprintf(err, errlen, "file sink: path is required ('-' for stdout)");
        return EDDY_ECONFIG;
    }
    fsink *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        snprintf(err, errlen, "file sink: out of memory");
        return EDDY_ENOMEM;
    }
    s->fd = -1;
    s->name = strcmp(path, "-") == 0 ? "stdout" : s->path;
    s->flush_each = eddy_opts_bool(o, "flush");
    bool append = eddy_opts_bool(o, "append");
    int rc = 0;
    s->fmt = FS_JSON;
    for (int i = 0; fmt && i < 4; i++)
        if (strcmp(fmt, fs_names[i]) == 0)
            s->fmt = (fs_format)i;
    if (fmt && strcmp(fmt, fs_names[s->fmt]) != 0) {
        snprintf(err, errlen, "file sink %s: unknown format '%s'; expected json, msgpack, avro or "
                 "csv", s->name, fmt);
        rc = EDDY_ECONFIG;
    } else if (s->fmt == FS_AVRO) {
        rc = open_avro(s, eddy_opts_str(o, "schema"), append, err, errlen);
    } else {
        if (s->fmt != FS_CSV) {
            eddy_codec_conf conf = {0};
            conf.format = s->fmt == FS_JSON ? EDDY_FMT_JSON : EDDY_FMT_MSGPACK;
            rc = eddy_codec_new(&conf, &s->codec, err, errlen);
        } else if (append && strcmp(path, "-") != 0) {
            rc = csv_existing_header(s, err, errlen);
        }
        if (rc == 0 && strcmp(path, "-") == 0) {
            s->fd = 1;
        } else if (rc == 0) {
            s->fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC),
                         0644);
            if (s->fd < 0) {
                snprintf(err, errlen, "%s: cannot open for writing: %s", path, strerror(errno));
                rc = EDDY_EIO;
            }
            s->own_fd = true;
        }
    }
    if (rc != 0) {
        fsink_close(s);
        return rc;
    }
    *self = s;
    return 0;
}

static const char *where(const eddy_record *r, char *buf, size_t len)
{
    snprintf(buf, len, "%s[%d]@%lld", r->topic ? r->topic : "?", (int)r->partition,
             (long long)r->offset);
    return buf;
}

static int csv_header(fsink *s, const eddy_record *r, char *err, size_t errlen)
{
    s->cols = calloc(r->nfields ? r->nfields : 1, sizeof *s->cols);
    if (!s->cols) {
        snprintf(err, errlen, "%s: out of memory", s->name);
        return EDDY_ENOMEM;
    }
    for (uint32_t i = 0; i < r->nfields; i++) {
        const char *n = eddy_sym_name(r->fields[i].name);
        if (i)
            eddy_buf_putc(&s->out, ',');
        eddy_csv_put_text(&s->out, n, strlen(n), false);
        s->cols[i] = r->fields[i].name;
    }
    s->ncols = r->nfields;
    s->header_done = true;
    return eddy_buf_putc(&s->out, '\n') == 0 ? 0 : EDDY_ENOMEM;
}

static int csv_row(fsink *s, const eddy_record *r, char *err, size_t errlen)
{
    char at[160];
    for (uint32_t i = 0; i < r->nfields; i++) {
        uint32_t k = 0;
        while (k < s->ncols && s->cols[k] != r->fields[i].name)
            k++;
        if (k == s->ncols) {
            snprintf(err, errlen,
                     "%s: record %s has field '%s' that is not a column; the CSV columns come "
                     "from the header (the first record), so every record needs the same fields",
                     s->name, where(r, at, sizeof at), eddy_sym_name(r->fields[i].name));
            return EDDY_ETYPE;
        }
    }
    int rc = 0;
    for (uint32_t k = 0; k < s->ncols; k++) {
        if (k)
            rc |= eddy_buf_putc(&s->out, ',');
        const eddy_value *v = eddy_record_get(r, s->cols[k]);
        if (v)
            rc |= eddy_csv_put_value(&s->out, v);
    }
    rc |= eddy_buf_putc(&s->out, '\n');
    return rc ? EDDY_ENOMEM : 0;
}

#if EDDY_HAVE_AVRO
static int write_avro(fsink *s, const eddy_record *r, char *err, size_t errlen)
{
    char why[512], at[160];
    avro_value_reset(&s->aval);
    if (eddy_record_to_avro_with(r, &s->aval, s->as, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: record %s: %s", s->name, where(r, at, sizeof at), why);
        return EDDY_ETYPE;
    }
    if (avro_file_writer_append_value(s->aw, &s->aval) != 0) {
        snprintf(err, errlen, "%s: write failed: %s", s->name, avro_strerror());
        return EDDY_EIO;
    }
    return 0;
}
#else
static int write_avro(fsink *s, const eddy_record *r, char *err, size_t errlen)
{
    (void)s, (void)r, (void)err, (void)errlen;
    return EDDY_EUNSUPPORTED; /* unreachable: open_avro refused */
}
#endif

static int fsink_write(void *self, const eddy_batch *b, char *err, size_t errlen)
{
    fsink *s = self;
    char at[160];
    if (s->fmt == FS_AVRO || s->fmt == FS_CSV) {
        for (uint32_t i = 0; i < b->n; i++) {
            const eddy_record *r = &b->recs[i];
            if ((r->flags & EDDY_REC_ERROR) && !(r->flags & EDDY_REC_DROPPED)) {
                snprintf(err, errlen,
                         "%s: record %s is a dead letter (%s); format %s cannot hold dead "
                         "letters: write them with format json or msgpack",
                         s->name, where(r, at, sizeof at), r->err_reason ? r->err_reason : "error",
                         fs_names[s->fmt]);
                return EDDY_EUNSUPPORTED;
            }
        }
    }
    size_t mark = s->out.len;
    bool had_header = s->header_done;
    int rc = 0;
    for (uint32_t i = 0; i < b->n && rc == 0; i++) {
        const eddy_record *r = &b->recs[i];
        if (r->flags & EDDY_REC_DROPPED)
            continue;
        switch (s->fmt) {
        case FS_JSON:
        case FS_MSGPACK:
            if (r->flags & EDDY_REC_ERROR)
                rc = s->fmt == FS_JSON ? eddy_deadletter_json(r, &s->out)
                                       : eddy_deadletter_msgpack(r, &s->out);
            else
                rc = eddy_codec_encode(s->codec, r, &s->out, err, errlen);
            if (rc == 0 && s->fmt == FS_JSON)
                rc = eddy_buf_putc(&s->out, '\n');
            if (rc == -1) {
                snprintf(err, errlen, "%s: out of memory encoding record %s", s->name,
                         where(r, at, sizeof at));
                rc = EDDY_ENOMEM;
            }
            break;
        case FS_CSV:
            if (!s->header_done)
                rc = csv_header(s, r, err, errlen);
            if (rc == 0)
                rc = csv_row(s, r, err, errlen);
            if (rc == EDDY_ENOMEM)
                snprintf(err, errlen, "%s: out of memory", s->name);
            break;
        case FS_AVRO:
            rc = write_avro(s, r, err, errlen);
            break;
        }
    }
    if (rc != 0) {
        s->out.len = mark; /* no half batch in the file */
        if (s->fmt == FS_CSV && !had_header) { /* the header went with it */
            s->header_done = false;
            free(s->cols);
            s->cols = NULL;
            s->ncols = 0;
        }
        return rc;
    }
    if (s->fmt == FS_AVRO)
        return s->flush_each && flush_avro(s) != 0 ? EDDY_EIO : 0;
    if (s->flush_each || s->out.len >= SPILL)
        return write_out(s, err, errlen);
    return 0;
}

const eddy_sink_ops eddy_file_sink = {
    .type = "file",
    .summary = "Writes NDJSON, msgpack, Avro container or CSV files (or stdout)",
    .options = file_sink_options,
    .open = fsink_open,
    .write = fsink_write,
    .flush = fsink_flush,
    .close = fsink_close,
};
