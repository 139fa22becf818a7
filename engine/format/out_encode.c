/* The encoders' output cursor and symbol-name cache (see format_int.h). */
#include "engine/format/format_int.h"

_Thread_local eddy_fmt_name eddy_fmt_names[EDDY_FMT_NAME_CACHE];

int eddy_fmt_out_begin(eddy_fmt_out *w, eddy_buf *b)
{
    w->buf = b;
    /* An empty buffer has data == NULL; the cursor is never computed from it. */
    if (!b->data && eddy_buf_grow(b, 64) != 0)
        return -1;
    w->o = b->data + b->len;
    w->end = b->data + b->cap;
    return 0;
}

int eddy_fmt_out_grow(eddy_fmt_out *w, size_t n)
{
    eddy_buf *b = w->buf;
    b->len = (size_t)(w->o - b->data);
    if (eddy_buf_grow(b, n) != 0)
        return -1;
    w->o = b->data + b->len;
    w->end = b->data + b->cap;
    return 0;
}

const char *eddy_fmt_sym_slow(eddy_sym s, size_t *len)
{
    const char *p = eddy_sym_name(s);
    *len = eddy_sym_len(s);
    /* Only symbols that exist: a bogus one reads as "" now but may be
     * interned later under a real name. */
    if (s != 0 && s < EDDY_FMT_NAME_CACHE && s <= eddy_sym_count())
        eddy_fmt_names[s] = (eddy_fmt_name){p, *len};
    return p;
}
