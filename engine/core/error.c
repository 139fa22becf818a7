#include "engine/core/error.h"

#include <stdarg.h>
#include <stdio.h>

const char *eddy_strerror(int err)
{
    switch (err) {
    case 0: return "success";
#define EDDY_ERR_MSG_(name, val, msg) case val: return msg;
        EDDY_ERRNO_MAP(EDDY_ERR_MSG_)
#undef EDDY_ERR_MSG_
    }
    return "unknown error";
}

const char *eddy_err_name(int err)
{
    switch (err) {
    case 0: return "OK";
#define EDDY_ERR_NAME_(name, val, msg) case val: return "E" #name;
        EDDY_ERRNO_MAP(EDDY_ERR_NAME_)
#undef EDDY_ERR_NAME_
    }
    return "EUNKNOWN";
}

void eddy_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void eddy_verrf(char *err, size_t errlen, const char *who, const char *fmt, va_list ap)
{
    if (!err || errlen == 0)
        return;
    int n = who ? snprintf(err, errlen, "%s: ", who) : 0;
    if (n >= 0 && (size_t)n < errlen)
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
}
