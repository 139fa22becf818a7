#include "connectors/scalar.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <strings.h>

#include "engine/core/batch.h"

/* strtod/strtoll accept leading blanks, "inf", "nan" and hex; a CSV cell
 * "nan" or " 12" should stay text, so the shape is checked first. */
static bool decimal_shape(const char *s, size_t len, bool *is_int)
{
    size_t i = 0, digits = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        i++;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++, digits++;
    *is_int = i == len && digits > 0;
    if (*is_int)
        return true;
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++, digits++;
    }
    if (!digits)
        return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t exp = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++, exp++;
        if (!exp)
            return false;
    }
    return i == len;
}

void eddy_scalar_infer(const char *s, size_t len, eddy_value *out)
{
    if (len == 0) {
        *out = eddy_v_null();
        return;
    }
    bool is_int;
    if (len < 64 && decimal_shape(s, len, &is_int)) {
        char tmp[64];
        for (size_t i = 0; i < len; i++)
            tmp[i] = s[i];
        tmp[len] = '\0';
        errno = 0;
        if (is_int) {
            long long v = strtoll(tmp, NULL, 10);
            if (errno == 0) {
                *out = eddy_v_int(v);
                return;
            }
            errno = 0;
        }
        double d = strtod(tmp, NULL);
        if (errno == 0) {
            *out = eddy_v_double(d);
            return;
        }
    }
    if (len == 4 && strncasecmp(s, "true", 4) == 0) {
        *out = eddy_v_bool(1);
        return;
    }
    if (len == 5 && strncasecmp(s, "false", 5) == 0) {
        *out = eddy_v_bool(0);
        return;
    }
    *out = eddy_v_str(s, (uint32_t)len);
}
