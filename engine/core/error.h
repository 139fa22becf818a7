/* Error codes: 0 or a negative value from this one list, which also yields
 * each code's name and message (libuv's habit). Internal to the engine. */
#ifndef EDDY_ERROR_H
#define EDDY_ERROR_H

#include <stdarg.h>
#include <stddef.h>

#define EDDY_ERRNO_MAP(X)                                             \
    X(NOMEM, -1, "out of memory")                                     \
    X(INVAL, -2, "invalid argument")                                  \
    X(PARSE, -3, "malformed input")                                   \
    X(CONFIG, -4, "invalid configuration")                            \
    X(IO, -5, "input/output error")                                   \
    X(NOTFOUND, -6, "not found")                                      \
    X(ABI, -7, "plugin ABI mismatch")                                 \
    X(LIMIT, -8, "limit exceeded")                                    \
    X(TYPE, -9, "wrong type")                                         \
    X(EOF, -10, "end of input")                                       \
    X(AGAIN, -11, "try again")                                        \
    X(OPERATOR, -12, "operator failed")                               \
    X(UNSUPPORTED, -13, "not supported")

typedef enum eddy_err {
#define EDDY_ERR_ENUM_(name, val, msg) EDDY_E##name = val,
    EDDY_ERRNO_MAP(EDDY_ERR_ENUM_)
#undef EDDY_ERR_ENUM_
} eddy_err;

const char *eddy_strerror(int err);
const char *eddy_err_name(int err);

/* Writes a refusal sentence into a caller's buffer (err may be NULL or
 * errlen 0: then nothing is written). The one formatter for the
 * "char *err, size_t errlen" convention used across the tree. */
void eddy_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same for wrappers of their own: "who: message" (just the message when
 * who is NULL). A who that fills the buffer leaves no message. */
void eddy_verrf(char *err, size_t errlen, const char *who, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

#endif
