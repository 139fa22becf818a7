#include "lib/buf/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int eddy_buf_grow(eddy_buf *b, size_t extra)
{
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra)
        cap *= 2;
    if (cap == b->cap)
        return 0;
    uint8_t *p = realloc(b->data, cap);
    if (!p)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

void eddy_buf_free(eddy_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int eddy_buf_printf(eddy_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    /* An empty buffer has no memory yet: NULL + 0 is undefined, so measure. */
    int n = vsnprintf(b->data ? (char *)b->data + b->len : NULL, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n >= b->cap - b->len) {
        if (eddy_buf_grow(b, (size_t)n + 1) != 0)
            return -1;
        va_start(ap, fmt);
        vsnprintf((char *)b->data + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
    return 0;
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), 0 if there is none. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t k;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)
        k = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        k = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        k = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (n < k || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < k; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return k;
}

/* A JSON string literal of s. Bytes that are not UTF-8 (a URL's %ff, a
 * corrupt record echoed in an error) become U+FFFD: the text stays valid
 * JSON whatever it quotes. */
int eddy_buf_json_str(eddy_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    if (eddy_buf_grow(b, len + 2) != 0)
        return -1;
    eddy_buf_putc(b, '"');
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            size_t k = utf8_seq((const unsigned char *)s + i, len - i);
            if (k) {
                i += k - 1;
                continue;
            }
            if (eddy_buf_put(b, s + start, i - start) != 0 || eddy_buf_puts(b, "\\ufffd") != 0)
                return -1;
            start = i + 1;
            continue;
        }
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (eddy_buf_put(b, s + start, i - start) != 0)
            return -1;
        char esc[6] = {'\\', 0};
        size_t n = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
            esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
            n = 6;
        }
        if (eddy_buf_put(b, esc, n) != 0)
            return -1;
        start = i + 1;
    }
    if (eddy_buf_put(b, s + start, len - start) != 0)
        return -1;
    return eddy_buf_putc(b, '"');
}
