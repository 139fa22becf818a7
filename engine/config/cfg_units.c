/* Durations, sizes, booleans and numbers as written in the configuration.
 * Durations and sizes are computed in integers (128-bit intermediates) so
 * "1.5s" is exactly 1500 and overflow is detected, not wrapped. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/core/error.h"
#include "engine/config/config.h"
#include "engine/config/units_int.h"

typedef struct unit {
    const char *name;
    uint64_t scale; /* nanoseconds or bytes */
} unit;

static const unit duration_units[] = {
    {"ns", 1ull},
    {"us", 1000ull},
    {"ms", 1000000ull},
    {"s", 1000000000ull},
    {"m", 60ull * 1000000000ull},
    {"h", 3600ull * 1000000000ull},
    {"d", 86400ull * 1000000000ull},
    {"w", 7ull * 86400ull * 1000000000ull},
    {NULL, 0},
};
static const char duration_list[] = "ns, us, ms, s, m, h, d or w";

static const unit size_units[] = {
    {"B", 1ull},
    {"kB", 1000ull},
    {"MB", 1000ull * 1000ull},
    {"GB", 1000ull * 1000ull * 1000ull},
    {"TB", 1000ull * 1000ull * 1000ull * 1000ull},
    {"KiB", 1ull << 10},
    {"MiB", 1ull << 20},
    {"GiB", 1ull << 30},
    {"TiB", 1ull << 40},
    {NULL, 0},
};
static const char size_list[] = "B, kB, MB, GB, TB, KiB, MiB, GiB or TiB";

typedef struct quantity_kind {
    const char *what;   /* "duration" */
    const unit *units;
    const char *list;
    uint64_t bare;      /* scale of a number without unit */
    uint64_t divisor;   /* scale of the result */
    const char *example;
} quantity_kind;

static const quantity_kind duration_kind = {
    "duration", duration_units, duration_list, 1000000ull, 1000000ull, "500ms or 5m",
};
static const quantity_kind size_kind = {
    "size", size_units, size_list, 1ull, 1ull, "64MiB or 10kB",
};

static int parse_quantity(const quantity_kind *k, const char *s, int64_t *out, char *err,
                          size_t errlen, bool echo)
{
    if (!s || !*s) {
        eddy_errf(err, errlen, "empty %s; expected a number with a unit like %s", k->what, k->example);
        return -1;
    }
    const char *p = s;
    while (*p == ' ')
        p++;
    if (*p == '-') {
        if (echo)
            eddy_errf(err, errlen, "negative %s '%s'; a %s must be 0 or more", k->what, s, k->what);
        else
            eddy_errf(err, errlen, "a %s must be 0 or more", k->what);
        return -1;
    }
    if (*p == '+')
        p++;
    if (!isdigit((unsigned char)*p)) {
        if (echo)
            eddy_errf(err, errlen, "'%s' is not a %s; expected a number with a unit like %s", s,
                k->what, k->example);
        else
            eddy_errf(err, errlen, "%s", "");
        return -1;
    }
    unsigned __int128 whole = 0;
    bool overflow = false;
    for (; isdigit((unsigned char)*p); p++) {
        whole = whole * 10 + (unsigned)(*p - '0');
        if (whole > UINT64_MAX)
            overflow = true, whole = UINT64_MAX;
    }
    /* Up to 18 fraction digits count; further ones are below any unit. */
    uint64_t frac = 0, frac_scale = 1;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p)) {
            if (echo)
                eddy_errf(err, errlen, "'%s' is not a %s: a digit must follow the '.'", s, k->what);
            else
                eddy_errf(err, errlen, "a digit must follow the '.'");
            return -1;
        }
        for (; isdigit((unsigned char)*p); p++) {
            if (frac_scale < 1000000000000000000ull) {
                frac = frac * 10 + (uint64_t)(*p - '0');
                frac_scale *= 10;
            }
        }
    }
    while (*p == ' ')
        p++;
    const char *uname = p, *uend = p + strlen(p);
    while (uend > uname && uend[-1] == ' ')
        uend--;
    size_t ulen = (size_t)(uend - uname);
    uint64_t scale = 0;
    if (ulen == 0) {
        scale = k->bare;
    } else {
        for (const unit *u = k->units; u->name; u++)
            if (strlen(u->name) == ulen && memcmp(u->name, uname, ulen) == 0)
                scale = u->scale;
    }
    if (!scale) {
        if (echo)
            eddy_errf(err, errlen, "unknown unit '%.*s' in '%s'; expected %s", (int)ulen, uname, s,
                k->list);
        else
            eddy_errf(err, errlen, "unknown unit; expected %s", k->list);
        return -1;
    }
    unsigned __int128 total = whole * scale + (unsigned __int128)frac * scale / frac_scale;
    unsigned __int128 result = total / k->divisor;
    if (total > 0 && result == 0)
        result = 1; /* a positive duration never rounds to "none" */
    if (overflow || result > INT64_MAX) {
        if (echo)
            eddy_errf(err, errlen, "%s '%s' is too large", k->what, s);
        else
            eddy_errf(err, errlen, "too large");
        return -1;
    }
    *out = (int64_t)result;
    return 0;
}

int eddy_units_duration(const char *s, int64_t *ms, char *err, size_t errlen, bool echo)
{
    return parse_quantity(&duration_kind, s, ms, err, errlen, echo);
}

int eddy_units_size(const char *s, int64_t *bytes, char *err, size_t errlen, bool echo)
{
    return parse_quantity(&size_kind, s, bytes, err, errlen, echo);
}

int eddy_parse_duration(const char *s, int64_t *ms, char *err, size_t errlen)
{
    return eddy_units_duration(s, ms, err, errlen, true);
}

int eddy_parse_size(const char *s, int64_t *bytes, char *err, size_t errlen)
{
    return eddy_units_size(s, bytes, err, errlen, true);
}

int eddy_parse_bool(const char *s, int *out)
{
    static const struct {
        const char *word;
        int value;
    } words[] = {{"true", 1}, {"false", 0}, {"yes", 1}, {"no", 0},
                 {"on", 1},   {"off", 0},   {"1", 1},   {"0", 0}};
    if (!s)
        return -1;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (strcasecmp(s, words[i].word) == 0) {
            *out = words[i].value;
            return 0;
        }
    }
    return -1;
}

int eddy_parse_int(const char *s, int64_t *out)
{
    if (!s || !(isdigit((unsigned char)s[0]) || s[0] == '-' || s[0] == '+'))
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || !isdigit((unsigned char)end[-1]))
        return -1;
    *out = (int64_t)v;
    return 0;
}

int eddy_parse_double(const char *s, double *out)
{
    if (!s || !*s || isspace((unsigned char)s[0]))
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}
