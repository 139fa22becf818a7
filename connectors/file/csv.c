#include "connectors/file/csv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/format/codec.h"
#include "connectors/deadletter.h"
#include "connectors/scalar.h"

static int push(eddy_csv_row *row, const eddy_csv_cell *c)
{
    if (row->n == row->cap) {
        uint32_t cap = row->cap ? row->cap * 2 : 16;
        eddy_csv_cell *cells = realloc(row->cells, sizeof *cells * cap);
        if (!cells)
            return -1;
        row->cells = cells;
        row->cap = cap;
    }
    row->cells[row->n++] = *c;
    return 0;
}

static uint32_t count_lf(const char *p, size_t from, size_t to)
{
    uint32_t k = 0;
    for (const char *q = p + from; (q = memchr(q, '\n', (size_t)(p + to - q))) != NULL; q++)
        k++;
    return k;
}

/* First ',' or '\n' at or after i, or n. */
static size_t next_sep(const char *p, size_t i, size_t n)
{
    while (i < n && p[i] != ',' && p[i] != '\n')
        i++;
    return i;
}

int eddy_csv_scan(const char *p, size_t n, bool at_eof, eddy_csv_row *row, size_t *used)
{
    row->n = 0;
    row->newlines = 0;
    row->bad = NULL;
    row->bad_cell = 0;
    if (n == 0)
        return 0;
    size_t i = 0;
    for (;;) {
        eddy_csv_cell c = {0};
        if (i < n && p[i] == '"') {
            c.quoted = true;
            c.start = ++i;
            for (;;) {
                const char *q = memchr(p + i, '"', n - i);
                if (!q) {
                    if (!at_eof)
                        return 0;
                    row->newlines += count_lf(p, i, n);
                    c.end = n;
                    if (!row->bad) {
                        row->bad = "unterminated quoted cell (the file ends inside it)";
                        row->bad_cell = row->n + 1;
                    }
                    if (push(row, &c) != 0)
                        return -1;
                    *used = n;
                    return 1;
                }
                size_t j = (size_t)(q - p);
                row->newlines += count_lf(p, i, j);
                if (j + 1 == n && !at_eof)
                    return 0; /* a doubled quote may follow */
                if (j + 1 < n && p[j + 1] == '"') {
                    c.escaped = true;
                    i = j + 2;
                    continue;
                }
                c.end = j;
                i = j + 1;
                break;
            }
            bool crlf = i + 1 < n && p[i] == '\r' && p[i + 1] == '\n';
            if (i + 1 == n && p[i] == '\r' && !at_eof)
                return 0;
            if (i < n && p[i] != ',' && p[i] != '\n' && !crlf &&
                !(at_eof && i + 1 == n && p[i] == '\r')) {
                if (!row->bad) {
                    row->bad = "unexpected text after the closing quote of a cell";
                    row->bad_cell = row->n + 1;
                }
                i = next_sep(p, i, n);
                if (i == n && !at_eof)
                    return 0;
            } else if (crlf) {
                i++;
            } else if (i + 1 == n && p[i] == '\r') {
                i++;
            }
        } else {
            c.start = i;
            i = next_sep(p, i, n);
            if (i == n && !at_eof)
                return 0;
            c.end = i;
            /* CR of a CRLF (or of a last line at EOF) is not cell text. */
            if (c.end > c.start && p[c.end - 1] == '\r' && (i == n || p[i] == '\n'))
                c.end--;
        }
        if (push(row, &c) != 0)
            return -1;
        if (i >= n) {
            *used = n;
            return 1;
        }
        if (p[i] == ',') {
            i++;
            continue;
        }
        /* p[i] == '\n' */
        row->newlines++;
        *used = i + 1;
        return 1;
    }
}

void eddy_csv_row_free(eddy_csv_row *row)
{
    free(row->cells);
    memset(row, 0, sizeof *row);
}

size_t eddy_csv_cell_text(const char *p, const eddy_csv_cell *c, char *dst)
{
    size_t len = c->end - c->start;
    if (!c->escaped) {
        memmove(dst, p + c->start, len); /* dst may be the cell itself */
        return len;
    }
    size_t k = 0;
    for (size_t i = c->start; i < c->end; i++) {
        dst[k++] = p[i];
        if (p[i] == '"' && i + 1 < c->end && p[i + 1] == '"')
            i++;
    }
    return k;
}

int eddy_csv_put_text(eddy_buf *out, const char *s, size_t len, bool force_quote)
{
    if (!len)
        s = "";
    bool quote = force_quote;
    for (size_t i = 0; i < len && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote)
        return eddy_buf_put(out, s, len);
    if (eddy_buf_putc(out, '"') != 0)
        return -1;
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '"')
            continue;
        if (eddy_buf_put(out, s + start, i + 1 - start) != 0 || eddy_buf_putc(out, '"') != 0)
            return -1;
        start = i + 1;
    }
    if (eddy_buf_put(out, s + start, len - start) != 0)
        return -1;
    return eddy_buf_putc(out, '"');
}

/* Shortest text that reads back as the same double, and as a double (a
 * bare "3" would come back as an int). */
static int put_double(eddy_buf *out, double d)
{
    char tmp[40];
    if (!isfinite(d))
        return eddy_buf_puts(out, isnan(d) ? "nan" : d > 0 ? "inf" : "-inf");
    snprintf(tmp, sizeof tmp, "%.15g", d);
    if (strtod(tmp, NULL) != d)
        snprintf(tmp, sizeof tmp, "%.17g", d);
    if (!strpbrk(tmp, ".eE"))
        strcat(tmp, ".0");
    return eddy_buf_puts(out, tmp);
}

int eddy_csv_put_value(eddy_buf *out, const eddy_value *v)
{
    switch (v->type) {
    case EDDY_NULL: return 0;
    case EDDY_BOOL: return eddy_buf_puts(out, v->u.b ? "true" : "false");
    case EDDY_INT: return eddy_buf_printf(out, "%lld", (long long)v->u.i);
    case EDDY_DOUBLE: return put_double(out, v->u.d);
    case EDDY_STRING: {
        eddy_value typed;
        eddy_scalar_infer(v->u.s, v->len, &typed);
        return eddy_csv_put_text(out, v->u.s, v->len, typed.type != EDDY_STRING || v->len == 0);
    }
    case EDDY_BYTES: {
        eddy_buf tmp = {0};
        int rc = eddy_base64_put(&tmp, v->u.bytes, v->len);
        if (rc == 0)
            rc = eddy_csv_put_text(out, (const char *)tmp.data, tmp.len, true);
        eddy_buf_free(&tmp);
        return rc;
    }
    default: {
        /* Nested values as JSON text in one quoted cell. */
        eddy_buf tmp = {0};
        int rc = eddy_value_to_json(v, &tmp);
        if (rc == 0)
            rc = eddy_csv_put_text(out, (const char *)tmp.data, tmp.len, true);
        eddy_buf_free(&tmp);
        return rc;
    }
    }
}
