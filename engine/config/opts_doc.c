/* Documentation generated from an option table: the Markdown rows of
 * docs/CONFIG.md and the aligned text of `eddy describe`. Both come from the
 * table the parser uses, so the docs cannot drift from the behaviour. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/config/opts_int.h"

const char *eddy_opt_type_name(eddy_opt_type t)
{
    switch (t) {
    case EDDY_OPT_BOOL: return "bool";
    case EDDY_OPT_INT: return "int";
    case EDDY_OPT_DOUBLE: return "double";
    case EDDY_OPT_STRING: return "string";
    case EDDY_OPT_DURATION: return "duration";
    case EDDY_OPT_SIZE: return "size";
    case EDDY_OPT_ENUM: return "enum";
    case EDDY_OPT_FIELD: return "field";
    case EDDY_OPT_EXPR: return "expr";
    case EDDY_OPT_LIST: return "list";
    case EDDY_OPT_MAP: return "map";
    }
    return "unknown";
}

static bool bounded(double v) { return isfinite(v) && fabs(v) < 9.2e18; }

/* "0 to 1", ">= 1s", "json, msgpack, avro" or "". */
static void range_text(const eddy_option *row, char *buf, size_t len)
{
    buf[0] = '\0';
    if (row->type == EDDY_OPT_ENUM && row->enum_values) {
        size_t o = 0;
        for (const char *p = row->enum_values; *p && o + 3 < len; p++) {
            if (*p == '|') {
                buf[o++] = ',';
                buf[o++] = ' ';
            } else {
                buf[o++] = *p;
            }
        }
        buf[o] = '\0';
        return;
    }
    bool numeric = row->type == EDDY_OPT_INT || row->type == EDDY_OPT_DOUBLE ||
                   row->type == EDDY_OPT_DURATION || row->type == EDDY_OPT_SIZE;
    if (!numeric || row->min > row->max)
        return;
    char a[48], b[48];
    eddy_opt_format_bound(row, row->min, a, sizeof a);
    eddy_opt_format_bound(row, row->max, b, sizeof b);
    bool lo = bounded(row->min), hi = bounded(row->max);
    if (lo && hi)
        snprintf(buf, len, "%s to %s", a, b);
    else if (lo)
        snprintf(buf, len, ">= %s", a);
    else if (hi)
        snprintf(buf, len, "<= %s", b);
}

/* The default column: never a secret's value. */
static const char *default_text(const eddy_option *row)
{
    if (row->flags & EDDY_OPT_REQUIRED)
        return "required";
    if (!row->default_value)
        return "";
    if (row->flags & EDDY_OPT_SECRET)
        return "(hidden)";
    return NULL; /* show the value */
}

/* A Markdown table cell: pipes escaped, line breaks as spaces. */
static int md_cell(eddy_buf *out, const char *s, bool code)
{
    if (eddy_buf_puts(out, code ? " `" : " ") != 0)
        return -1;
    for (; *s; s++) {
        int rc = *s == '|'    ? eddy_buf_puts(out, "\\|")
                 : *s == '\n' ? eddy_buf_putc(out, ' ')
                              : eddy_buf_putc(out, *s);
        if (rc != 0)
            return -1;
    }
    return eddy_buf_puts(out, code ? "` |" : " |");
}

int eddy_options_markdown(const eddy_option *table, eddy_buf *out)
{
    if (eddy_buf_puts(out, "| option | type | default | range / values | description |\n"
                           "| --- | --- | --- | --- | --- |\n") != 0)
        return -1;
    for (size_t i = 0; table && table[i].name; i++) {
        const eddy_option *row = &table[i];
        char type[64], range[512];
        snprintf(type, sizeof type, "%s%s", eddy_opt_type_name(row->type),
                 row->flags & EDDY_OPT_SECRET ? ", secret" : "");
        range_text(row, range, sizeof range);
        const char *def = default_text(row);
        bool show_code = def == NULL && *row->default_value;
        char desc[2048];
        snprintf(desc, sizeof desc, "%s%s", row->description ? row->description : "",
                 row->flags & EDDY_OPT_PATH
                     ? " A relative path is taken from the config file's folder."
                     : "");
        if (eddy_buf_putc(out, '|') != 0 || md_cell(out, row->name, true) != 0 ||
            md_cell(out, type, false) != 0 ||
            md_cell(out, def ? def : row->default_value, show_code) != 0 ||
            md_cell(out, range, false) != 0 ||
            md_cell(out, desc, false) != 0 || eddy_buf_putc(out, '\n') != 0)
            return -1;
    }
    return 0;
}

int eddy_options_text(const eddy_option *table, eddy_buf *out)
{
    int wname = (int)strlen("OPTION"), wtype = (int)strlen("TYPE"), wdef = (int)strlen("DEFAULT");
    for (size_t i = 0; table && table[i].name; i++) {
        const eddy_option *row = &table[i];
        const char *def = default_text(row);
        int n = (int)strlen(row->name), t = (int)strlen(eddy_opt_type_name(row->type)),
            d = (int)strlen(def ? def : row->default_value);
        wname = n > wname ? n : wname;
        wtype = t > wtype ? t : wtype;
        wdef = d > wdef ? d : wdef;
    }
    if (eddy_buf_printf(out, "  %-*s  %-*s  %-*s  %s\n", wname, "OPTION", wtype, "TYPE", wdef,
                        "DEFAULT", "DESCRIPTION") != 0)
        return -1;
    for (size_t i = 0; table && table[i].name; i++) {
        const eddy_option *row = &table[i];
        const char *def = default_text(row);
        char range[512], extra[600] = "";
        range_text(row, range, sizeof range);
        if (range[0])
            snprintf(extra, sizeof extra, " (%s%s)", row->type == EDDY_OPT_ENUM ? "one of: " : "",
                     range);
        if (row->flags & EDDY_OPT_SECRET)
            strncat(extra, " [secret]", sizeof extra - strlen(extra) - 1);
        if (row->flags & EDDY_OPT_PATH)
            strncat(extra, " [relative to the config file's folder]",
                    sizeof extra - strlen(extra) - 1);
        if (eddy_buf_printf(out, "  %-*s  %-*s  %-*s  %s%s\n", wname, row->name, wtype,
                            eddy_opt_type_name(row->type), wdef, def ? def : row->default_value,
                            row->description ? row->description : "", extra) != 0)
            return -1;
    }
    return 0;
}
