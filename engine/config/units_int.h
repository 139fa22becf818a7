/* Unit parsing shared by config.h's eddy_parse_* and the option parser. */
#ifndef EDDY_UNITS_INTERNAL_H
#define EDDY_UNITS_INTERNAL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* As eddy_parse_duration / eddy_parse_size. With echo false the reason
 * never repeats the input (it may be a secret) and is "" when the input is
 * not a number at all, leaving the caller's "expected ..." to speak. */
int eddy_units_duration(const char *s, int64_t *ms, char *err, size_t errlen, bool echo);
int eddy_units_size(const char *s, int64_t *bytes, char *err, size_t errlen, bool echo);

#endif
