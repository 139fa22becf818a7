/* Tokens of the expression language. Internal to lib/expr. */
#ifndef EDDY_EXPR_LEX_H
#define EDDY_EXPR_LEX_H
#include <stddef.h>
#include <stdint.h>

typedef enum {
    T_EOF,
    T_INT,
    T_DBL,
    T_STR,    /* text decoded into the blob at soff/slen */
    T_IDENT,  /* text is the source span */
    T_QIDENT, /* `quoted name`: text decoded into the blob */
    T_AND,
    T_OR,
    T_NOT,
    T_IN,
    T_TRUE,
    T_FALSE,
    T_NULL,
    T_LP,
    T_RP,
    T_COMMA,
    T_DOT,
    T_PLUS,
    T_MINUS,
    T_STAR,
    T_SLASH,
    T_PCT,
    T_EQ,
    T_NE,
    T_LT,
    T_LE,
    T_GT,
    T_GE
} ttype;

typedef struct tok {
    ttype t;
    uint32_t col;          /* 1-based */
    uint32_t start, len;   /* source span */
    int64_t i;
    double d;
    uint32_t soff, slen;   /* decoded text in the blob */
} tok;

/* Growable storage for decoded strings; pointers are fixed up at the end, so
 * tokens refer to it by offset. */
typedef struct xblob {
    char *data;
    size_t len, cap;
} xblob;

int eddy_xblob_put_(xblob *b, const void *p, size_t n);

/* Reads the token at *pos. On error returns -1 with "expr:COL: reason" in
 * err; errors name the column of the offending character. */
int eddy_xlex_(const char *src, size_t *pos, xblob *blob, tok *t, char *err, size_t errlen);

#endif
