/* Typing of bare text values: CSV cells and generator constants both say
 * "123" for an int and "true" for a bool, so they share one rule. */
#ifndef EDDY_CONN_SCALAR_H
#define EDDY_CONN_SCALAR_H
#include <stddef.h>

#include "include/eddy/operator.h"

/* Infers the type of s[0..len): "" -> null, an integer that fits int64 ->
 * int, a decimal number (digits, optional fraction and exponent; no inf, nan
 * or hex) -> double, true/false (any case) -> bool, anything else -> a string
 * pointing at s (the caller copies it where it must live). */
void eddy_scalar_infer(const char *s, size_t len, eddy_value *out);

#endif
