/* eddy_cfg lifecycle and its error list. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/config/cfg_int.h"

static eddy_cfg *cfg_new(const char *name)
{
    eddy_cfg *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return NULL;
    eddy_arena_init(&cfg->arena, 16 * 1024, 0);
    cfg->path = eddy_arena_strdup(&cfg->arena, name, strlen(name));
    if (!cfg->path) {
        eddy_cfg_free(cfg);
        return NULL;
    }
    return cfg;
}

static eddy_cfg *finish(eddy_cfg *cfg, int rc)
{
    if (rc != 0 || cfg->oom) {
        eddy_cfg_free(cfg);
        return NULL;
    }
    return cfg;
}

eddy_cfg *eddy_cfg_load_string(const char *name, const char *yaml, size_t len)
{
    eddy_cfg *cfg = cfg_new(name ? name : "<string>");
    if (!cfg)
        return NULL;
    return finish(cfg, eddy_cfg_parse(cfg, yaml ? yaml : "", yaml ? len : 0));
}

/* Reads the whole file so a read error is reported by us, with strerror. */
static char *read_file(const char *path, size_t *len, int *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *err = errno;
        return NULL;
    }
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        *err = ENOMEM;
        return NULL;
    }
    for (;;) {
        if (n > EDDY_CFG_MAX_BYTES)
            break; /* eddy_cfg_parse refuses it; /dev/zero would never end */
        if (n == cap) {
            char *p = realloc(buf, cap * 2);
            if (!p) {
                free(buf);
                fclose(f);
                *err = ENOMEM;
                return NULL;
            }
            buf = p;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                *err = errno ? errno : EIO;
                free(buf);
                fclose(f);
                return NULL;
            }
            break;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

eddy_cfg *eddy_cfg_load(const char *path)
{
    eddy_cfg *cfg = cfg_new(path);
    if (!cfg)
        return NULL;
    const char *slash = strrchr(path, '/');
    cfg->base_dir = slash ? eddy_arena_strdup(&cfg->arena, path, (size_t)(slash - path) + 1) : "";
    if (!cfg->base_dir)
        return finish(cfg, -1);
    size_t len = 0;
    int err = 0;
    char *text = read_file(path, &len, &err);
    if (!text) {
        if (err == ENOMEM)
            return finish(cfg, -1);
        eddy_cfg_fail_at(cfg, 0, 0, NULL, "cannot read the configuration: %s", strerror(err));
        return finish(cfg, 0);
    }
    int rc = eddy_cfg_parse(cfg, text, len);
    free(text);
    return finish(cfg, rc);
}

void eddy_cfg_free(eddy_cfg *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->nerrors; i++)
        free(cfg->errors[i]);
    free(cfg->errors);
    eddy_arena_free(&cfg->arena);
    free(cfg);
}

const char *eddy_cfg_path(const eddy_cfg *cfg) { return cfg->path; }

const char *eddy_cfg_base_dir(const eddy_cfg *cfg) { return cfg->base_dir ? cfg->base_dir : ""; }

eddy_cnode *eddy_cfg_root(eddy_cfg *cfg) { return cfg->root; }

size_t eddy_cfg_errors(const eddy_cfg *cfg) { return cfg->nerrors; }

const char *eddy_cfg_error(const eddy_cfg *cfg, size_t i)
{
    return i < cfg->nerrors ? cfg->errors[i] : NULL;
}

void eddy_cfg_add_error(eddy_cfg *cfg, const char *line)
{
    /* The same sentence at the same place once: a key checked by two
     * tables (a source's common keys and its connector's) said it twice. */
    for (size_t i = 0; i < cfg->nerrors; i++)
        if (strcmp(cfg->errors[i], line) == 0)
            return;
    if (cfg->nerrors == cfg->cap_errors) {
        size_t cap = cfg->cap_errors ? cfg->cap_errors * 2 : 8;
        char **e = realloc(cfg->errors, cap * sizeof *e);
        if (!e) {
            cfg->oom = true;
            return;
        }
        cfg->errors = e;
        cfg->cap_errors = cap;
    }
    char *copy = strdup(line);
    if (!copy) {
        cfg->oom = true;
        return;
    }
    cfg->errors[cfg->nerrors++] = copy;
}

static void vfail(eddy_cfg *cfg, int line, int col, const char *path, const char *fmt, va_list ap)
{
    char msg[1024], out[1536];
    vsnprintf(msg, sizeof msg, fmt, ap);
    int n;
    if (line > 0)
        n = snprintf(out, sizeof out, "%s:%d:%d: ", cfg->path, line, col);
    else
        n = snprintf(out, sizeof out, "%s: ", cfg->path);
    if (n < 0 || (size_t)n >= sizeof out)
        n = 0;
    snprintf(out + n, sizeof out - (size_t)n, "%s%s%s", path && *path ? path : "",
             path && *path ? ": " : "", msg);
    eddy_cfg_add_error(cfg, out);
}

void eddy_cfg_fail_at(eddy_cfg *cfg, int line, int col, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(cfg, line, col, path, fmt, ap);
    va_end(ap);
}

void eddy_cfg_fail(eddy_cfg *cfg, const eddy_cnode *n, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(cfg, n ? n->line : 0, n ? n->col : 0, path, fmt, ap);
    va_end(ap);
}
