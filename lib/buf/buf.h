/* Growable byte buffer (malloc). Owner: whoever embeds it; reuse it across
 * records with eddy_buf_reset so the hot path stops allocating. */
#ifndef EDDY_BUF_H
#define EDDY_BUF_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct eddy_buf {
    uint8_t *data;
    size_t len, cap;
} eddy_buf;

int eddy_buf_grow(eddy_buf *b, size_t extra); /* 0 or -1 */
void eddy_buf_free(eddy_buf *b);
int eddy_buf_printf(eddy_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal, quotes included. */
int eddy_buf_json_str(eddy_buf *b, const char *s, size_t len);

static inline void eddy_buf_reset(eddy_buf *b) { b->len = 0; }
static inline int eddy_buf_put(eddy_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    if (b->cap - b->len < n && eddy_buf_grow(b, n) != 0)
        return -1;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}
static inline int eddy_buf_putc(eddy_buf *b, char c)
{
    if (b->len == b->cap && eddy_buf_grow(b, 1) != 0)
        return -1;
    b->data[b->len++] = (uint8_t)c;
    return 0;
}
static inline int eddy_buf_puts(eddy_buf *b, const char *s) { return eddy_buf_put(b, s, strlen(s)); }

#endif
