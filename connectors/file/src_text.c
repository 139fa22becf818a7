/* The file source's line formats: NDJSON and CSV. Records are cut out of
 * the reader's buffer in place; only decoded values go to the batch arena. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/error.h"
#include "connectors/deadletter.h"
#include "connectors/file/fsrc.h"
#include "connectors/scalar.h"
#include "engine/core/sym.h"

#define RAW_PREVIEW 1024 /* raw bytes kept for a line too long to keep whole */

static bool blank(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t')
            return false;
    return true;
}

static int batch_full(uint32_t n, const fsrc *s, char *err, size_t errlen)
{
    if (n)
        return (int)n;
    snprintf(err, errlen, "%s: one record does not fit in the batch memory limit",
             s->rd.name);
    return EDDY_ELIMIT;
}

/* A record that does not fit even in an empty batch (worker.batch_memory):
 * the batch is emptied of its half-decoded values and carries the record as
 * a dead letter with the reason and its first bytes, so it is neither lost
 * silently nor stops the worker. Returns 1 (records in the batch) or, if not
 * even that fits, EDDY_ELIMIT with the reason in err. */
int eddy_fsrc_poll_json(fsrc *s, eddy_batch *b, uint32_t max, int timeout_ms, char *err,
                        size_t errlen)
{
    eddy_reader *rd = &s->rd;
    uint32_t n = 0;
    while (n < max) {
        uint8_t *p = rd->buf + rd->pos;
        size_t avail = rd->len - rd->pos;
        uint8_t *nl = avail ? memchr(p, '\n', avail) : NULL;
        size_t linelen, consumed;
        if (nl && (s->skipping || (size_t)(nl - p) <= s->max_record)) {
            linelen = (size_t)(nl - p);
            consumed = linelen + 1;
        } else {
            if (s->skipping) {
                rd->pos = rd->len;
            } else if (avail > s->max_record) {
                eddy_record *r = eddy_fsrc_append(s, b, s->line + 1);
                if (!r)
                    return batch_full(n, s, err, errlen);
                eddy_record_keep_raw(b, r, p, RAW_PREVIEW);
                eddy_record_fail(b, r, "decode", 0,
                                 "%s:%lld: line longer than max_record_size (%zu bytes); skipped "
                                 "(raw holds its first %d bytes)",
                                 rd->name, (long long)(s->line + 1), s->max_record, RAW_PREVIEW);
                s->line++;
                n++;
                if (nl) { /* the whole line is here: skip it */
                    rd->pos += (size_t)(nl - p) + 1;
                } else {
                    s->skipping = true;
                    rd->pos = rd->len;
                }
                continue;
            }
            int m = eddy_reader_more(rd, n ? 0 : timeout_ms, err, errlen);
            if (m < 0 && n)
                return (int)n; /* the records before first; the error recurs next poll */
            if (m < 0)
                return m == EDDY_ELIMIT ? EDDY_EIO : m;
            if (m > 0)
                continue;
            if (!rd->eof)
                return (int)n;
            avail = rd->len - rd->pos;
            if (avail == 0 || s->skipping)
                return n ? (int)n : EDDY_EEOF;
            p = rd->buf + rd->pos;
            linelen = consumed = avail; /* last line, no line break */
        }
        if (s->skipping) { /* the end of the over-long line: already counted */
            s->skipping = false;
            rd->pos += consumed;
            continue;
        }
        size_t len = linelen;
        if (len && p[len - 1] == '\r')
            len--;
        if (blank(p, len)) {
            rd->pos += consumed;
            s->line++;
            continue;
        }
        long long lineno = s->line + 1;
        eddy_record *r = eddy_fsrc_append(s, b, lineno);
        if (!r)
            return batch_full(n, s, err, errlen);
        int rc = eddy_codec_decode(s->codec, b, r, p, len);
        if (rc == EDDY_ENOMEM) {
            /* The batch memory is full: this batch ends here and the record
             * starts the next one; only a record that cannot fit alone is
             * a dead letter. Checked before the error flag: the decoder
             * also flags the half-decoded record. */
            eddy_batch_pop(b);
            if (n)
                return (int)n;
            char where[320];
            snprintf(where, sizeof where, "%s:%lld", rd->name, lineno);
            if (!eddy_fsrc_too_big(s, b, lineno, where, p, len, RAW_PREVIEW))
                return batch_full(0, s, err, errlen);
            rd->pos += consumed;
            s->line++;
            return 1;
        }
        if (rc == EDDY_EPARSE || (r->flags & EDDY_REC_ERROR)) {
            if (!r->raw)
                eddy_record_keep_raw(b, r, p, len);
            eddy_record_fail(b, r, "decode", r->err_offset, "%s:%lld: %s", rd->name, lineno,
                             r->err_reason ? r->err_reason : "malformed JSON");
        } else if (rc < 0) {
            eddy_batch_pop(b);
            return batch_full(n, s, err, errlen);
        }
        rd->pos += consumed;
        s->line++;
        n++;
    }
    return (int)n;
}

/* ---- CSV ---------------------------------------------------------------- */

static int csv_header(fsrc *s, const char *p, char *err, size_t errlen)
{
    const eddy_csv_row *row = &s->row;
    if (row->bad) {
        snprintf(err, errlen, "%s:%lld: header, cell %u: %s", s->rd.name,
                 (long long)(s->line + 1), row->bad_cell, row->bad);
        return EDDY_EPARSE;
    }
    s->cols = calloc(row->n, sizeof *s->cols);
    char *name = malloc(s->rd.len + 1);
    if (!s->cols || !name) {
        free(name);
        snprintf(err, errlen, "%s: out of memory reading the CSV header", s->rd.name);
        return EDDY_ENOMEM;
    }
    for (uint32_t i = 0; i < row->n; i++) {
        size_t len = eddy_csv_cell_text(p, &row->cells[i], name);
        eddy_sym sym = len ? eddy_sym_intern(name, len) : 0;
        if (!sym) {
            snprintf(err, errlen, "%s:%lld: header, column %u has %s", s->rd.name,
                     (long long)(s->line + 1), i + 1, len ? "a name the symbol table cannot take"
                                                          : "no name; every column needs one");
            free(name);
            return EDDY_EPARSE;
        }
        for (uint32_t k = 0; k < i; k++) {
            if (s->cols[k] == sym) {
                snprintf(err, errlen, "%s:%lld: header, columns %u and %u are both named '%s'",
                         s->rd.name, (long long)(s->line + 1), k + 1, i + 1, eddy_sym_name(sym));
                free(name);
                return EDDY_EPARSE;
            }
        }
        s->cols[i] = sym;
    }
    free(name);
    s->ncols = row->n;
    s->header_done = true;
    return 0;
}

/* Fills r from the scanned row. 0, or -1 when the batch memory is full. */
static int csv_record(fsrc *s, eddy_batch *b, eddy_record *r, const char *p, size_t used,
                      long long lineno)
{
    const eddy_csv_row *row = &s->row;
    if (row->bad || row->n != s->ncols) {
        size_t rawlen = used;
        while (rawlen && (p[rawlen - 1] == '\n' || p[rawlen - 1] == '\r'))
            rawlen--;
        eddy_record_keep_raw(b, r, p, rawlen);
        if (row->bad)
            eddy_record_fail(b, r, "decode", row->cells[row->bad_cell - 1].start,
                             "%s:%lld: cell %u: %s", s->rd.name, lineno, row->bad_cell, row->bad);
        else
            eddy_record_fail(b, r, "decode", 0,
                             "%s:%lld: expected %u cells (one per header column), found %u",
                             s->rd.name, lineno, s->ncols, row->n);
        return 0;
    }
    /* Text goes out as JSON strings: bytes that are not UTF-8 would make
     * invalid JSON (the JSON and msgpack decoders refuse them too). */
    for (uint32_t i = 0; i < row->n; i++) {
        const eddy_csv_cell *c = &row->cells[i];
        if (!eddy_utf8_valid((const uint8_t *)p + c->start, c->end - c->start)) {
            size_t rawlen = used;
            while (rawlen && (p[rawlen - 1] == '\n' || p[rawlen - 1] == '\r'))
                rawlen--;
            eddy_record_keep_raw(b, r, p, rawlen);
            eddy_record_fail(b, r, "decode", c->start,
                             "%s:%lld: cell %u (column %s) is not valid UTF-8", s->rd.name,
                             lineno, i + 1, eddy_sym_name(s->cols[i]));
            return 0;
        }
    }
    if (eddy_record_reserve(b, r, s->ncols) != 0)
        return -1;
    for (uint32_t i = 0; i < row->n; i++) {
        const eddy_csv_cell *c = &row->cells[i];
        eddy_value v;
        if (c->quoted) {
            char *t = eddy_batch_alloc(b, c->end - c->start + 1);
            if (!t)
                return -1;
            size_t len = eddy_csv_cell_text(p, c, t);
            t[len] = '\0';
            v = eddy_v_str(t, (uint32_t)len);
        } else {
            eddy_scalar_infer(p + c->start, c->end - c->start, &v);
            if (v.type == EDDY_STRING) {
                v = eddy_batch_string(b, v.u.s, v.len);
                if (v.type != EDDY_STRING)
                    return -1;
            }
        }
        eddy_record_push(b, r, s->cols[i], v);
    }
    return 0;
}

int eddy_fsrc_poll_csv(fsrc *s, eddy_batch *b, uint32_t max, int timeout_ms, char *err,
                       size_t errlen)
{
    eddy_reader *rd = &s->rd;
    uint32_t n = 0;
    while (n < max) {
        const char *p = (const char *)rd->buf + rd->pos;
        size_t avail = rd->len - rd->pos, used = 0;
        if (rd->base + rd->pos == 0 && avail >= 3 &&
            memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
            rd->pos += 3; /* a UTF-8 byte order mark, as spreadsheets write */
            continue;
        }
        int rc = eddy_csv_scan(p, avail, rd->eof, &s->row, &used);
        if (rc < 0) {
            snprintf(err, errlen, "%s: out of memory scanning a CSV row", rd->name);
            return EDDY_ENOMEM;
        }
        if (rc == 0) {
            if (rd->eof)
                return n ? (int)n : EDDY_EEOF;
            if (avail > s->max_record) {
                if (n) /* deliver the rows before; the error comes at the next poll */
                    return (int)n;
                snprintf(err, errlen,
                         "%s:%lld: CSV row longer than max_record_size (%zu bytes); is a quote "
                         "left open?",
                         rd->name, (long long)(s->line + 1), s->max_record);
                return EDDY_EPARSE;
            }
            int m = eddy_reader_more(rd, n ? 0 : timeout_ms, err, errlen);
            if (m < 0 && n)
                return (int)n; /* the rows before first; the error recurs next poll */
            if (m < 0)
                return m == EDDY_ELIMIT ? EDDY_EIO : m;
            if (m == 0 && !rd->eof)
                return (int)n;
            continue;
        }
        long long lineno = s->line + 1;
        const eddy_csv_row *row = &s->row;
        if (!s->header_done) {
            int hr = csv_header(s, p, err, errlen);
            if (hr != 0)
                return hr;
        } else if (!(row->n == 1 && !row->cells[0].quoted &&
                     row->cells[0].start == row->cells[0].end)) {
            eddy_record *r = eddy_fsrc_append(s, b, lineno);
            if (!r)
                return batch_full(n, s, err, errlen);
            if (csv_record(s, b, r, p, used, lineno) != 0) {
                eddy_batch_pop(b);
                if (n)
                    return (int)n;
                char where[320];
                snprintf(where, sizeof where, "%s:%lld", rd->name, lineno);
                if (!eddy_fsrc_too_big(s, b, lineno, where, p, used, RAW_PREVIEW))
                    return batch_full(0, s, err, errlen);
                rd->pos += used;
                s->line += row->newlines ? row->newlines : 1;
                return 1;
            }
            n++;
        }
        rd->pos += used;
        s->line += row->newlines ? row->newlines : 1;
    }
    return (int)n;
}
