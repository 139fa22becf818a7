/* RFC 4180 CSV: a scanner that finds one row in a buffer without copying
 * (cells are offsets into it), and the writer's quoting rules.
 *
 * Typing rule shared by reader and writer: an unquoted cell is typed by
 * eddy_scalar_infer (int, double, true/false, empty -> null, else string);
 * a quoted cell is always a string, so "01234" or "" stay text. The writer
 * quotes every string that would otherwise read back as another type, so a
 * file written by the sink reads back with the same types. */
#ifndef EDDY_CONN_CSV_H
#define EDDY_CONN_CSV_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf/buf.h"
#include "include/eddy/operator.h"

typedef struct eddy_csv_cell {
    size_t start, end; /* bytes of the cell, quotes excluded */
    bool quoted;
    bool escaped;      /* contains "" pairs to undouble */
} eddy_csv_cell;

typedef struct eddy_csv_row {
    eddy_csv_cell *cells; /* reused from row to row (owned by the row) */
    uint32_t n, cap;
    uint32_t newlines;    /* line breaks consumed, the terminator included */
    const char *bad;      /* NULL, or what is wrong with the quoting */
    uint32_t bad_cell;    /* 1-based cell number for `bad` */
} eddy_csv_row;

/* Scans one row at the start of p[0..n). at_eof: no more data follows, so
 * a row may end without a line break. Returns 1 with *used bytes consumed,
 * 0 when more data is needed (or n == 0 at EOF), -1 out of memory. A row
 * ends at LF or CRLF outside quotes. */
int eddy_csv_scan(const char *p, size_t n, bool at_eof, eddy_csv_row *row, size_t *used);
void eddy_csv_row_free(eddy_csv_row *row);
/* The cell's text with "" undoubled, written to dst (room for end-start
 * bytes); returns its length. */
size_t eddy_csv_cell_text(const char *p, const eddy_csv_cell *c, char *dst);

/* Appends one cell holding v (null -> empty). 0 or -1. */
int eddy_csv_put_value(eddy_buf *out, const eddy_value *v);
/* Appends s as a cell, quoted when needed. */
int eddy_csv_put_text(eddy_buf *out, const char *s, size_t len, bool force_quote);

#endif
