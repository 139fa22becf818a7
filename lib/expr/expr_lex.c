/* Lexer of the expression language. */
#include "lib/expr/expr_lex.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int eddy_xblob_put_(xblob *b, const void *p, size_t n)
{
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap - b->len < n)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d)
            return -1;
        b->data = d;
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

__attribute__((format(printf, 4, 5))) static int lerr(char *err, size_t errlen, size_t pos,
                                                      const char *fmt, ...)
{
    if (err && errlen) {
        int n = snprintf(err, errlen, "expr:%zu: ", pos + 1);
        if (n >= 0 && (size_t)n < errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return -1;
}

static bool ident_start(unsigned char c) { return isalpha(c) || c == '_' || c >= 0x80; }
static bool ident_char(unsigned char c) { return isalnum(c) || c == '_' || c >= 0x80; }

static const struct {
    const char *word;
    ttype t;
} keywords[] = {
    {"and", T_AND},   {"or", T_OR},       {"not", T_NOT}, {"in", T_IN},
    {"true", T_TRUE}, {"false", T_FALSE}, {"null", T_NULL},
};

static int put_utf8(xblob *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else {
        u[0] = (char)(0xe0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    }
    return eddy_xblob_put_(b, u, n);
}

static int lex_string(const char *src, size_t *pos, xblob *blob, tok *t, char *err,
                      size_t errlen)
{
    size_t p = *pos;
    char q = src[p++];
    t->t = T_STR;
    t->soff = (uint32_t)blob->len;
    for (;;) {
        char c = src[p];
        if (c == '\0')
            return lerr(err, errlen, *pos, "unterminated string (missing closing %c)", q);
        if (c == q) {
            p++;
            break;
        }
        if (c != '\\') {
            size_t run = p;
            while (src[run] && src[run] != q && src[run] != '\\')
                run++;
            if (eddy_xblob_put_(blob, src + p, run - p) != 0)
                return lerr(err, errlen, p, "out of memory");
            p = run;
            continue;
        }
        char e = src[p + 1], out;
        switch (e) {
        case 'n': out = '\n'; break;
        case 't': out = '\t'; break;
        case 'r': out = '\r'; break;
        case '0': out = '\0'; break;
        case '\\': case '"': case '\'': case '/': case '`': out = e; break;
        case 'u': {
            uint32_t cp = 0;
            for (int k = 2; k < 6; k++) {
                char h = src[p + (size_t)k];
                if (!isxdigit((unsigned char)h))
                    return lerr(err, errlen, p, "\\u needs four hex digits");
                cp = cp * 16 + (uint32_t)(isdigit((unsigned char)h) ? h - '0'
                                                                    : (tolower((unsigned char)h) - 'a' + 10));
            }
            if (cp >= 0xd800 && cp <= 0xdfff)
                return lerr(err, errlen, p, "\\u%04X is a UTF-16 surrogate, not a character", cp);
            if (put_utf8(blob, cp) != 0)
                return lerr(err, errlen, p, "out of memory");
            p += 6;
            continue;
        }
        case '\0':
            return lerr(err, errlen, *pos, "unterminated string (missing closing %c)", q);
        default:
            if (isprint((unsigned char)e))
                return lerr(err, errlen, p, "unknown escape '\\%c' in string", e);
            return lerr(err, errlen, p, "unknown escape '\\' followed by byte 0x%02x", (unsigned char)e);
        }
        if (eddy_xblob_put_(blob, &out, 1) != 0)
            return lerr(err, errlen, p, "out of memory");
        p += 2;
    }
    if (blob->len - t->soff > UINT32_MAX)
        return lerr(err, errlen, *pos, "string too long");
    t->slen = (uint32_t)(blob->len - t->soff);
    *pos = p;
    return 0;
}

static int lex_quoted(const char *src, size_t *pos, xblob *blob, tok *t, char *err,
                      size_t errlen)
{
    size_t p = *pos + 1;
    t->t = T_QIDENT;
    t->soff = (uint32_t)blob->len;
    for (;;) {
        char c = src[p];
        if (c == '\0')
            return lerr(err, errlen, *pos, "unterminated `name` (missing closing `)");
        if (c == '`') {
            /* `` inside a quoted name stands for one backquote. */
            if (src[p + 1] != '`')
                break;
            p++;
        }
        if (eddy_xblob_put_(blob, &c, 1) != 0)
            return lerr(err, errlen, p, "out of memory");
        p++;
    }
    t->slen = (uint32_t)(blob->len - t->soff);
    if (!t->slen)
        return lerr(err, errlen, *pos, "empty field name ``");
    *pos = p + 1;
    return 0;
}

static int lex_number(const char *src, size_t *pos, tok *t, char *err, size_t errlen)
{
    size_t p = *pos;
    bool dbl = false;
    while (isdigit((unsigned char)src[p]))
        p++;
    if (src[p] == '.' && isdigit((unsigned char)src[p + 1])) {
        dbl = true;
        p++;
        while (isdigit((unsigned char)src[p]))
            p++;
    }
    if (src[p] == 'e' || src[p] == 'E') {
        size_t q = p + 1;
        if (src[q] == '+' || src[q] == '-')
            q++;
        if (!isdigit((unsigned char)src[q]))
            return lerr(err, errlen, *pos, "malformed number: exponent needs digits");
        while (isdigit((unsigned char)src[q]))
            q++;
        p = q;
        dbl = true;
    }
    if (ident_char((unsigned char)src[p]) || src[p] == '.') {
        size_t q = p;
        while (ident_char((unsigned char)src[q]) || src[q] == '.')
            q++;
        return lerr(err, errlen, *pos, "malformed number '%.*s'", (int)(q - *pos), src + *pos);
    }
    if (!dbl) {
        int64_t v = 0;
        bool overflow = false;
        for (size_t q = *pos; q < p; q++) {
            int d = src[q] - '0';
            if (v > (INT64_MAX - d) / 10) {
                overflow = true;
                break;
            }
            v = v * 10 + d;
        }
        if (!overflow) {
            t->t = T_INT;
            t->i = v;
            *pos = p;
            return 0;
        }
        /* Beyond int64 the literal is read as a double, like overflowing
         * arithmetic. */
    }
    char *end;
    double d = strtod(src + *pos, &end);
    if (!isfinite(d))
        return lerr(err, errlen, *pos, "number '%.*s' is out of range", (int)(p - *pos), src + *pos);
    t->t = T_DBL;
    t->d = d;
    *pos = p;
    return 0;
}

int eddy_xlex_(const char *src, size_t *pos, xblob *blob, tok *t, char *err, size_t errlen)
{
    size_t p = *pos;
    while (src[p] == ' ' || src[p] == '\t' || src[p] == '\n' || src[p] == '\r')
        p++;
    memset(t, 0, sizeof *t);
    t->col = (uint32_t)p + 1;
    t->start = (uint32_t)p;
    unsigned char c = (unsigned char)src[p];
    int rc = 0;
    if (c == '\0') {
        t->t = T_EOF;
    } else if (isdigit(c) || (c == '.' && isdigit((unsigned char)src[p + 1]))) {
        rc = lex_number(src, &p, t, err, errlen);
    } else if (c == '"' || c == '\'') {
        rc = lex_string(src, &p, blob, t, err, errlen);
    } else if (c == '`') {
        rc = lex_quoted(src, &p, blob, t, err, errlen);
    } else if (ident_start(c)) {
        size_t q = p;
        while (ident_char((unsigned char)src[q]))
            q++;
        t->t = T_IDENT;
        for (size_t k = 0; k < sizeof keywords / sizeof keywords[0]; k++) {
            if (strlen(keywords[k].word) == q - p && strncasecmp(keywords[k].word, src + p, q - p) == 0) {
                t->t = keywords[k].t;
                break;
            }
        }
        p = q;
    } else {
        char n = src[p + 1];
        size_t w = 1;
        switch (c) {
        case '(': t->t = T_LP; break;
        case ')': t->t = T_RP; break;
        case ',': t->t = T_COMMA; break;
        case '.': t->t = T_DOT; break;
        case '+': t->t = T_PLUS; break;
        case '-': t->t = T_MINUS; break;
        case '*': t->t = T_STAR; break;
        case '/': t->t = T_SLASH; break;
        case '%': t->t = T_PCT; break;
        case '<': t->t = n == '=' ? T_LE : T_LT; w = n == '=' ? 2 : 1; break;
        case '>': t->t = n == '=' ? T_GE : T_GT; w = n == '=' ? 2 : 1; break;
        case '!': t->t = n == '=' ? T_NE : T_NOT; w = n == '=' ? 2 : 1; break;
        case '=':
            if (n != '=')
                return lerr(err, errlen, p, "'=' is not an operator; use '==' to compare");
            t->t = T_EQ;
            w = 2;
            break;
        case '&':
            if (n != '&')
                return lerr(err, errlen, p, "unexpected character '&'; did you mean '&&' (and)?");
            t->t = T_AND;
            w = 2;
            break;
        case '|':
            if (n != '|')
                return lerr(err, errlen, p, "unexpected character '|'; did you mean '||' (or)?");
            t->t = T_OR;
            w = 2;
            break;
        default:
            if (isprint(c))
                return lerr(err, errlen, p, "unexpected character '%c'", c);
            return lerr(err, errlen, p, "unexpected byte 0x%02x", c);
        }
        p += w;
    }
    if (rc != 0)
        return rc;
    t->len = (uint32_t)(p - t->start);
    *pos = p;
    return 0;
}
