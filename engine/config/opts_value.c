/* One option value checked against its table row: type, range, enum. The
 * same checks serve YAML, name=value pairs and the table's own defaults, so
 * a default is held to the rules a user's value is. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/config/opts_int.h"
#include "engine/config/units_int.h"

#define SHOWN_MAX 40 /* characters of a value repeated in a message */

const char *eddy_opt_expected(const eddy_option *row, char *buf, size_t len)
{
    switch (row->type) {
    case EDDY_OPT_BOOL: return "true or false";
    case EDDY_OPT_INT: return "an integer";
    case EDDY_OPT_DOUBLE: return "a number";
    case EDDY_OPT_STRING: return "a string";
    case EDDY_OPT_DURATION: return "a duration like 500ms or 5m";
    case EDDY_OPT_SIZE: return "a size like 64MiB or 10kB";
    case EDDY_OPT_ENUM:
        snprintf(buf, len, "one of %s", row->enum_values ? row->enum_values : "(no values)");
        return buf;
    case EDDY_OPT_FIELD: return "a field name";
    case EDDY_OPT_EXPR: return "an expression";
    case EDDY_OPT_LIST: return "a list like [a, b]";
    case EDDY_OPT_MAP: return "a mapping like {key: value}";
    }
    return "a value";
}

/* "\"text\"" cut and escaped onto one line, or "<secret>". */
static void quote(const char *text, bool secret, char *buf, size_t len)
{
    if (secret) {
        snprintf(buf, len, "<secret>");
        return;
    }
    size_t o = 0, n = strlen(text);
    size_t shown = n > SHOWN_MAX ? SHOWN_MAX - 3 : n;
    if (len < 8)
        return;
    buf[o++] = '"';
    for (size_t i = 0; i < shown && o + 8 < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '"' || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
        } else {
            buf[o++] = (char)c;
        }
    }
    if (shown < n && o + 4 < len) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o++] = '"';
    buf[o] = '\0';
}

static void format_number(double v, char *buf, size_t len)
{
    if (v == floor(v) && fabs(v) < 1e15)
        snprintf(buf, len, "%.0f", v);
    else
        snprintf(buf, len, "%g", v);
}

void eddy_opt_format_bound(const eddy_option *row, double v, char *buf, size_t len)
{
    static const struct {
        const char *name;
        double scale;
    } durations[] = {{"w", 604800000.0}, {"d", 86400000.0}, {"h", 3600000.0},
                     {"m", 60000.0},     {"s", 1000.0},      {"ms", 1.0}},
      sizes[] = {{"TiB", 1099511627776.0}, {"GiB", 1073741824.0}, {"MiB", 1048576.0},
                 {"KiB", 1024.0},          {"TB", 1e12},           {"GB", 1e9},
                 {"MB", 1e6},              {"kB", 1e3},            {"B", 1.0}};
    const bool dur = row->type == EDDY_OPT_DURATION;
    if ((dur || row->type == EDDY_OPT_SIZE) && v > 0 && v == floor(v)) {
        size_t n = dur ? sizeof durations / sizeof durations[0] : sizeof sizes / sizeof sizes[0];
        for (size_t i = 0; i < n; i++) {
            double scale = dur ? durations[i].scale : sizes[i].scale;
            if (fmod(v, scale) == 0) {
                snprintf(buf, len, "%.0f%s", v / scale, dur ? durations[i].name : sizes[i].name);
                return;
            }
        }
    }
    format_number(v, buf, len);
    if (dur)
        strncat(buf, "ms", len - strlen(buf) - 1);
    else if (row->type == EDDY_OPT_SIZE)
        strncat(buf, "B", len - strlen(buf) - 1);
}

/* Huge bounds (INFINITY, or past what int64 holds) mean "no bound". */
static bool bounded(double v) { return isfinite(v) && fabs(v) < 9.2e18; }

static int check_range(const eddy_option *row, double v, const char *text, bool secret, char *err,
                       size_t errlen)
{
    if (row->min > row->max)
        return 0;
    bool lo = bounded(row->min), hi = bounded(row->max);
    if ((!lo || v >= row->min) && (!hi || v <= row->max))
        return 0;
    char a[48], b[48], shown[64];
    eddy_opt_format_bound(row, row->min, a, sizeof a);
    eddy_opt_format_bound(row, row->max, b, sizeof b);
    if (secret)
        snprintf(shown, sizeof shown, "<secret>");
    else
        snprintf(shown, sizeof shown, "%.*s", SHOWN_MAX, text);
    const char *w = row->type == EDDY_OPT_INT        ? "an integer"
                    : row->type == EDDY_OPT_DURATION ? "a duration"
                    : row->type == EDDY_OPT_SIZE     ? "a size"
                                                     : "a number";
    if (lo && hi)
        snprintf(err, errlen, "expected %s between %s and %s, found %s", w, a, b, shown);
    else if (lo)
        snprintf(err, errlen, "expected %s >= %s, found %s", w, a, shown);
    else
        snprintf(err, errlen, "expected %s <= %s, found %s", w, b, shown);
    return -1;
}

static bool is_integer_text(const char *s)
{
    if (*s == '-' || *s == '+')
        s++;
    return *s && strspn(s, "0123456789") == strlen(s);
}

static bool enum_has(const char *values, const char *text)
{
    size_t len = strlen(text);
    for (const char *p = values; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == len && memcmp(p, text, n) == 0)
            return true;
        p = bar ? bar + 1 : NULL;
    }
    return false;
}

/* text, or the config file's folder joined to it when the row is a path
 * given relative (in o's arena; NULL when out of memory). */
static const char *resolve_path(eddy_opts *o, const eddy_option *row, const char *text)
{
    if (!(row->flags & EDDY_OPT_PATH) || !o->base_dir || !*o->base_dir || !*text ||
        text[0] == '/' || strcmp(text, "-") == 0)
        return eddy_arena_strdup(&o->arena, text, strlen(text));
    size_t bl = strlen(o->base_dir), tl = strlen(text);
    char *p = eddy_arena_alloc(&o->arena, bl + tl + 1);
    if (p) {
        memcpy(p, o->base_dir, bl);
        memcpy(p + bl, text, tl + 1);
    }
    return p;
}

int eddy_opt_set_scalar(eddy_opts *o, size_t r, const char *text, bool secret, const char *where,
                        char *err, size_t errlen)
{
    const eddy_option *row = &o->table[r];
    eddy_opt_value *v = &o->v[r];
    secret = secret || (row->flags & EDDY_OPT_SECRET);
    char exp[256], q[SHOWN_MAX * 4 + 16], reason[160] = "";
    quote(text, secret, q, sizeof q);
    int64_t i = 0;
    double d = 0;
    int bad = 0;
    bool numeric = true;
    switch (row->type) {
    case EDDY_OPT_BOOL: {
        int b = 0;
        bad = eddy_parse_bool(text, &b);
        i = b;
        d = b;
        numeric = false;
        break;
    }
    case EDDY_OPT_INT:
        bad = eddy_parse_int(text, &i);
        if (bad && !secret && is_integer_text(text))
            snprintf(reason, sizeof reason, " (beyond the 64-bit integer range)");
        d = (double)i;
        break;
    case EDDY_OPT_DOUBLE:
        bad = eddy_parse_double(text, &d);
        break;
    case EDDY_OPT_DURATION:
    case EDDY_OPT_SIZE: {
        char why[128];
        bad = row->type == EDDY_OPT_DURATION ? eddy_units_duration(text, &i, why, sizeof why, false)
                                             : eddy_units_size(text, &i, why, sizeof why, false);
        if (bad && !secret && why[0])
            snprintf(reason, sizeof reason, " (%s)", why);
        d = (double)i;
        break;
    }
    case EDDY_OPT_ENUM:
        numeric = false;
        if (!enum_has(row->enum_values, text)) {
            snprintf(err, errlen, "expected %s, found %s", eddy_opt_expected(row, exp, sizeof exp),
                     q);
            return -1;
        }
        break;
    case EDDY_OPT_FIELD:
    case EDDY_OPT_EXPR:
        numeric = false;
        if (!*text) {
            snprintf(err, errlen, "expected %s, found an empty string",
                     eddy_opt_expected(row, exp, sizeof exp));
            return -1;
        }
        break;
    case EDDY_OPT_STRING:
        numeric = false;
        break;
    case EDDY_OPT_LIST:
    case EDDY_OPT_MAP:
        numeric = false;
        bad = -1;
        break;
    }
    if (bad) {
        snprintf(err, errlen, "expected %s, found a string %s%s",
                 eddy_opt_expected(row, exp, sizeof exp), q, reason);
        return -1;
    }
    if (numeric && check_range(row, d, text, secret, err, errlen) != 0)
        return -1;
    const char *s = resolve_path(o, row, text);
    const char *w = eddy_arena_strdup(&o->arena, where, strlen(where));
    if (!s || !w) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    v->set = true;
    v->i = i;
    v->d = d;
    v->s = s;
    v->where = w;
    return 0;
}

int eddy_opt_set_items(eddy_opts *o, size_t r, const char *const *keys, const char *const *items,
                       size_t n, const char *where)
{
    eddy_opt_value *v = &o->v[r];
    const char **it = eddy_arena_alloc(&o->arena, (n ? n : 1) * sizeof *it);
    const char **ks = keys ? eddy_arena_alloc(&o->arena, (n ? n : 1) * sizeof *ks) : NULL;
    const char *w = eddy_arena_strdup(&o->arena, where, strlen(where));
    if (!it || (keys && !ks) || !w)
        return -1;
    for (size_t i = 0; i < n; i++) {
        it[i] = resolve_path(o, &o->table[r], items[i]);
        if (!it[i])
            return -1;
        if (keys) {
            ks[i] = eddy_arena_strdup(&o->arena, keys[i], strlen(keys[i]));
            if (!ks[i])
                return -1;
        }
    }
    v->set = true;
    v->items = it;
    v->keys = ks;
    v->count = (uint32_t)n;
    v->where = w;
    v->s = NULL;
    return 0;
}

/* Trims blanks and one pair of matching quotes, in place. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0]) {
        s[n - 1] = '\0';
        s++;
    }
    return s;
}

int eddy_opt_set_text_items(eddy_opts *o, size_t r, const char *text, const char *where,
                            char *err, size_t errlen)
{
    const eddy_option *row = &o->table[r];
    bool is_map = row->type == EDDY_OPT_MAP;
    char *copy = strdup(text);
    size_t cap = 1;
    for (const char *p = text; *p; p++)
        cap += *p == ',';
    const char **keys = calloc(cap, sizeof *keys), **items = calloc(cap, sizeof *items);
    int rc = -1;
    if (!copy || !keys || !items) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    char *body = trim(copy);
    size_t blen = strlen(body);
    char open = is_map ? '{' : '[', close = is_map ? '}' : ']';
    if (blen >= 2 && body[0] == open && body[blen - 1] == close) {
        body[blen - 1] = '\0';
        body = trim(body + 1);
    }
    size_t n = 0;
    char *save = NULL;
    /* An empty text is an empty list; otherwise every piece counts, so
     * "a,,b" is reported rather than silently read as [a, b]. */
    for (char *piece = *body ? body : NULL; piece; piece = save) {
        char *comma = strchr(piece, ',');
        save = comma ? comma + 1 : NULL;
        if (comma)
            *comma = '\0';
        char *item = trim(piece);
        if (is_map) {
            char *colon = strchr(item, ':');
            if (!colon) {
                snprintf(err, errlen, "expected key:value pairs separated by commas, found \"%.*s\"",
                         SHOWN_MAX, item);
                goto out;
            }
            *colon = '\0';
            keys[n] = trim(item);
            items[n] = trim(colon + 1);
        } else {
            items[n] = item;
        }
        if (!*items[n] && !is_map) {
            snprintf(err, errlen, "empty item in the list");
            goto out;
        }
        n++;
    }
    if (eddy_opt_set_items(o, r, is_map ? keys : NULL, items, n, where) != 0) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    rc = 0;
out:
    free(copy);
    free(keys);
    free(items);
    return rc;
}

int eddy_opt_default(eddy_opts *o, size_t r, char *err, size_t errlen)
{
    const eddy_option *row = &o->table[r];
    if (!row->default_value || (row->flags & EDDY_OPT_REQUIRED))
        return 0;
    char why[512];
    int rc = row->type == EDDY_OPT_LIST || row->type == EDDY_OPT_MAP
                 ? eddy_opt_set_text_items(o, r, row->default_value, "", why, sizeof why)
                 : eddy_opt_set_scalar(o, r, row->default_value, false, "", why, sizeof why);
    if (rc != 0) {
        /* The table is code: a bad default is the operator author's bug. */
        snprintf(err, errlen, "bug in the option table: the default of '%s' is invalid: %s",
                 row->name, why);
        return -1;
    }
    return 0;
}
