/* Changelog record framing, step ids, fingerprints and option texts
 * (see changelog.h). Byte order is little endian whatever the host's. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "engine/config/options.h"
#include "engine/state/changelog.h"

uint32_t eddy_cl_fnv(const void *p, size_t n, uint32_t h)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u;
    return h;
}

uint32_t eddy_cl_step_id(const char *topic, const char *pipeline, const char *step)
{
    uint32_t h = eddy_cl_fnv(topic, strlen(topic), EDDY_CL_FNV_INIT);
    h = eddy_cl_fnv("\x1f", 1, h);
    h = eddy_cl_fnv(pipeline, strlen(pipeline), h);
    h = eddy_cl_fnv("/", 1, h);
    return eddy_cl_fnv(step, strlen(step), h);
}

static int put_le(eddy_buf *b, uint64_t v, int n)
{
    uint8_t t[8];
    for (int i = 0; i < n; i++)
        t[i] = (uint8_t)(v >> (8 * i));
    return eddy_buf_put(b, t, (size_t)n);
}

static uint64_t get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

int eddy_cl_key(eddy_buf *b, int kind, uint32_t step, const void *k, size_t klen)
{
    uint8_t c = (uint8_t)kind;
    if (eddy_buf_put(b, &c, 1) || put_le(b, step, 4))
        return -1;
    return klen ? eddy_buf_put(b, k, klen) : 0;
}

int eddy_cl_value_hdr(eddy_buf *b, uint32_t fingerprint, int version)
{
    uint8_t c = EDDY_CL_FORMAT;
    return eddy_buf_put(b, &c, 1) || put_le(b, fingerprint, 4) || put_le(b, (uint16_t)version, 2)
               ? -1
               : 0;
}

int eddy_cl_key_parse(const void *p, size_t n, int *kind, uint32_t *step, const uint8_t **k,
                      size_t *klen)
{
    const uint8_t *b = p;
    if (!p || n < EDDY_CL_KEY_HDR || b[0] > EDDY_CL_TIMERS)
        return -1;
    *kind = b[0];
    *step = (uint32_t)get_le(b + 1, 4);
    *k = b + EDDY_CL_KEY_HDR;
    *klen = n - EDDY_CL_KEY_HDR;
    return 0;
}

int eddy_cl_value_parse(const void *p, size_t n, uint32_t *fingerprint, int *version,
                        const uint8_t **payload, size_t *plen)
{
    const uint8_t *b = p;
    if (!p || n < EDDY_CL_VALUE_HDR || b[0] != EDDY_CL_FORMAT)
        return -1;
    *fingerprint = (uint32_t)get_le(b + 1, 4);
    *version = (int)get_le(b + 5, 2);
    *payload = b + EDDY_CL_VALUE_HDR;
    *plen = n - EDDY_CL_VALUE_HDR;
    return 0;
}

void eddy_cl_marker_put(eddy_buf *b, const eddy_cl_marker *m)
{
    uint8_t c = EDDY_CL_FORMAT;
    eddy_buf_put(b, &c, 1);
    put_le(b, (uint64_t)m->last_offset, 8);
    put_le(b, (uint64_t)m->max_ts, 8);
    put_le(b, (uint64_t)m->watermark, 8);
    put_le(b, m->seq, 8);
}

int eddy_cl_marker_get(const void *p, size_t n, eddy_cl_marker *m)
{
    const uint8_t *b = p;
    if (!p || n < EDDY_CL_MARKER_LEN || b[0] != EDDY_CL_FORMAT)
        return -1;
    m->last_offset = (int64_t)get_le(b + 1, 8);
    m->max_ts = (int64_t)get_le(b + 9, 8);
    m->watermark = (int64_t)get_le(b + 17, 8);
    m->seq = get_le(b + 25, 8);
    return 0;
}

/* Durations as a person writes them, so a refusal reads "size=5m". */
static void put_duration(eddy_buf *b, int64_t ms)
{
    static const struct { int64_t unit; const char *name; } u[] = {
        {86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++)
        if (ms != 0 && ms % u[i].unit == 0) {
            eddy_buf_printf(b, "%" PRId64 "%s", ms / u[i].unit, u[i].name);
            return;
        }
    eddy_buf_printf(b, "%" PRId64 "ms", ms);
}

int eddy_cl_opts_text(const eddy_option *table, const eddy_opts *o, eddy_buf *b)
{
    for (const eddy_option *opt = table; opt && opt->name; opt++) {
        if ((opt->flags & (EDDY_OPT_NO_STATE | EDDY_OPT_SECRET)) || !eddy_opts_has(o, opt->name))
            continue;
        eddy_buf_printf(b, "%s=", opt->name);
        switch (opt->type) {
        case EDDY_OPT_BOOL:
            eddy_buf_puts(b, eddy_opts_bool(o, opt->name) ? "true" : "false");
            break;
        case EDDY_OPT_INT:
        case EDDY_OPT_SIZE:
            eddy_buf_printf(b, "%" PRId64, eddy_opts_int(o, opt->name));
            break;
        case EDDY_OPT_DURATION:
            put_duration(b, eddy_opts_int(o, opt->name));
            break;
        case EDDY_OPT_DOUBLE:
            eddy_buf_printf(b, "%.17g", eddy_opts_double(o, opt->name));
            break;
        case EDDY_OPT_LIST:
        case EDDY_OPT_MAP: {
            uint32_t n = eddy_opts_count(o, opt->name);
            eddy_buf_putc(b, opt->type == EDDY_OPT_LIST ? '[' : '{');
            for (uint32_t i = 0; i < n; i++) {
                if (i)
                    eddy_buf_puts(b, ", ");
                if (opt->type == EDDY_OPT_MAP) {
                    const char *k = eddy_opts_key(o, opt->name, i);
                    eddy_buf_printf(b, "%s: ", k ? k : "");
                }
                const char *v = eddy_opts_item(o, opt->name, i);
                eddy_buf_puts(b, v ? v : "");
            }
            eddy_buf_putc(b, opt->type == EDDY_OPT_LIST ? ']' : '}');
            break;
        }
        default: {
            const char *v = eddy_opts_str(o, opt->name);
            eddy_buf_puts(b, v ? v : "");
            break;
        }
        }
        eddy_buf_putc(b, '\n');
    }
    return 0;
}

uint32_t eddy_cl_fingerprint(const char *op, const char *version, const char *text, size_t n)
{
    uint32_t h = eddy_cl_fnv(op, strlen(op) + 1, EDDY_CL_FNV_INIT);
    h = eddy_cl_fnv(version ? version : "", (version ? strlen(version) : 0) + 1, h);
    return eddy_cl_fnv(text, n, h);
}

/* The line of `text` for option `name` ("name=..."), or NULL. */
static const char *find_line(const char *text, size_t n, const char *name, size_t nl,
                             size_t *len)
{
    for (const char *p = text, *end = text + n; p < end;) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        size_t l = e ? (size_t)(e - p) : (size_t)(end - p);
        if (l > nl && memcmp(p, name, nl) == 0 && p[nl] == '=') {
            *len = l;
            return p;
        }
        p += l + 1;
    }
    return NULL;
}

void eddy_cl_opts_diff(const char *old_text, size_t oldn, const char *new_text, size_t newn,
                       char *out, size_t outlen)
{
    size_t w = 0;
    out[0] = '\0';
    /* Every option of either text whose line differs, once. */
    for (int pass = 0; pass < 2 && w < outlen; pass++) {
        const char *t = pass ? new_text : old_text;
        size_t tn = pass ? newn : oldn;
        for (const char *p = t, *end = t + tn; p < end && w < outlen;) {
            const char *e = memchr(p, '\n', (size_t)(end - p));
            size_t l = e ? (size_t)(e - p) : (size_t)(end - p);
            const char *eq = memchr(p, '=', l);
            if (eq) {
                /* The name is read in place: the texts come from the changelog,
                 * and a name of any length must not overrun a copy. */
                size_t nl = (size_t)(eq - p), ol = 0, cl = 0;
                const char *name = p;
                const char *o = find_line(old_text, oldn, name, nl, &ol);
                const char *c = find_line(new_text, newn, name, nl, &cl);
                int same = o && c && ol == cl && memcmp(o, c, ol) == 0;
                /* The second pass reports only options the old text lacks. */
                if (!same && (pass == 0 || !o))
                    w += (size_t)snprintf(out + w, outlen - w, "%s%s%.*s, the config says %s%.*s",
                                          w ? "; " : "", o ? "" : "no ", o ? (int)ol : (int)nl,
                                          o ? o : name, c ? "" : "no ", c ? (int)cl : (int)nl,
                                          c ? c : name);
            }
            p += l + 1;
        }
    }
    if (!out[0])
        snprintf(out, outlen, "the operator's version or state format differs");
}
