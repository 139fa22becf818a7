/* Scalar values: "${NAME}" from the environment, a whole "file:/path" from a
 * file, "$${" for a literal "${". Resolution happens on first read, so an
 * unset variable only matters where its value is used, and the path named in
 * the error is the caller's. Resolved values are secrets: no message ever
 * shows them, and a node's description is decided before resolution so it
 * cannot leak either. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf/buf.h"
#include "engine/config/cfg_int.h"

#define DESC_MAX 40                /* characters of a value shown in errors */
#define SECRET_FILE_MAX (1u << 20) /* a secret file is a key or a password */

static bool has_ref(const char *s)
{
    for (const char *p = s; (p = strchr(p, '$')) != NULL;) {
        if (p[1] == '$' && p[2] == '{') {
            p += 3;
            continue;
        }
        if (p[1] == '{')
            return true;
        p++;
    }
    return false;
}

/* The value with each "$${" turned into "${"; only called when has_ref() is
 * false, so no other "${" remains. */
static const char *unescape(eddy_cfg *cfg, const char *s, size_t len)
{
    if (!strstr(s, "$${"))
        return s;
    char *out = eddy_arena_alloc(&cfg->arena, len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '$' && i + 2 < len && s[i + 1] == '$' && s[i + 2] == '{')
            i++;
        out[o++] = s[i];
    }
    out[o] = '\0';
    return out;
}

/* "a string \"...\"", escaped onto one line and cut at DESC_MAX characters. */
static const char *describe(eddy_cfg *cfg, const char *s, size_t len)
{
    eddy_buf b = {0};
    int rc = eddy_buf_puts(&b, "a string \"");
    size_t shown = len > DESC_MAX ? DESC_MAX - 3 : len;
    for (size_t i = 0; rc == 0 && i < shown; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            rc = eddy_buf_printf(&b, "\\%c", c);
        else if (c == '\n')
            rc = eddy_buf_puts(&b, "\\n");
        else if (c == '\t')
            rc = eddy_buf_puts(&b, "\\t");
        else if (c < 0x20 || c == 0x7f)
            rc = eddy_buf_printf(&b, "\\x%02x", c);
        else
            rc = eddy_buf_putc(&b, (char)c);
    }
    if (rc == 0 && shown < len)
        rc = eddy_buf_puts(&b, "...");
    if (rc == 0)
        rc = eddy_buf_putc(&b, '"');
    const char *out = rc == 0 ? eddy_arena_strdup(&cfg->arena, (char *)b.data, b.len) : NULL;
    eddy_buf_free(&b);
    return out;
}

int eddy_cfg_scalar_init(eddy_cfg *cfg, eddy_cnode *n, bool is_key)
{
    if (n->kind == EDDY_CNODE_NULL) {
        n->desc = "null";
        return 0;
    }
    const char *raw = n->raw ? n->raw : "";
    if (!is_key && (strncmp(raw, "file:", 5) == 0 || has_ref(raw))) {
        n->secret = true;
        n->desc = "a string <secret>";
        return 0;
    }
    n->text = is_key ? raw : unescape(cfg, raw, n->raw_len);
    n->desc = describe(cfg, n->text ? n->text : "", n->text ? strlen(n->text) : 0);
    return n->text && n->desc ? 0 : -1;
}

static bool name_char(char c, bool first)
{
    return c == '_' || isalpha((unsigned char)c) || (!first && isdigit((unsigned char)c));
}

/* Expands ${NAME} in s into out; on failure records the error and returns -1. */
static int expand_env(eddy_cfg *cfg, const eddy_cnode *n, const char *path, const char *s,
                      eddy_buf *out)
{
    while (*s) {
        if (s[0] == '$' && s[1] == '$' && s[2] == '{') {
            if (eddy_buf_put(out, "${", 2) != 0)
                goto oom;
            s += 3;
            continue;
        }
        if (s[0] != '$' || s[1] != '{') {
            if (eddy_buf_putc(out, *s++) != 0)
                goto oom;
            continue;
        }
        const char *name = s + 2, *end = strchr(name, '}');
        if (!end) {
            eddy_cfg_fail(cfg, n, path, "unterminated '${' (write '$${' for a literal '${')");
            return -1;
        }
        size_t len = (size_t)(end - name);
        bool ok = len > 0 && len <= 255;
        for (size_t i = 0; ok && i < len; i++)
            ok = name_char(name[i], i == 0);
        if (!ok) {
            eddy_cfg_fail(cfg, n, path,
                          "'${...}' must hold an environment variable name (letters, digits, _)");
            return -1;
        }
        char var[256];
        memcpy(var, name, len);
        var[len] = '\0';
        const char *val = getenv(var);
        if (!val) {
            eddy_cfg_fail(cfg, n, path, "environment variable %s is not set", var);
            return -1;
        }
        if (*val && eddy_buf_puts(out, val) != 0)
            goto oom;
        s = end + 1;
    }
    if (eddy_buf_putc(out, '\0') != 0)
        goto oom;
    return 0;
oom:
    cfg->oom = true;
    eddy_cfg_fail(cfg, n, path, "out of memory");
    return -1;
}

/* Reads a secret file into out (NUL-terminated, one trailing newline
 * dropped). Errors name the file and the reason, never its contents. */
static int read_secret(eddy_cfg *cfg, const eddy_cnode *n, const char *path, const char *file,
                       eddy_buf *out)
{
    if (!*file) {
        eddy_cfg_fail(cfg, n, path, "'file:' must be followed by a path");
        return -1;
    }
    eddy_buf full = {0};
    /* A relative path is relative to the configuration file, like an
     * include would be; from a string, to the working directory. */
    const char *dir = file[0] != '/' && cfg->base_dir ? cfg->base_dir : "";
    if ((*dir && eddy_buf_puts(&full, dir) != 0) || eddy_buf_puts(&full, file) != 0 ||
        eddy_buf_putc(&full, '\0') != 0) {
        eddy_buf_free(&full);
        cfg->oom = true;
        return -1;
    }
    const char *fname = (const char *)full.data;
    int rc = -1;
    FILE *f = fopen(fname, "rb");
    if (!f) {
        eddy_cfg_fail(cfg, n, path, "cannot read file '%s': %s", fname, strerror(errno));
        goto out;
    }
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (out->len + got > SECRET_FILE_MAX) {
            eddy_cfg_fail(cfg, n, path, "file '%s' is larger than %u bytes", fname,
                          SECRET_FILE_MAX);
            goto out;
        }
        if (eddy_buf_put(out, chunk, got) != 0) {
            cfg->oom = true;
            goto out;
        }
    }
    if (ferror(f)) {
        eddy_cfg_fail(cfg, n, path, "cannot read file '%s': %s", fname, strerror(errno));
        goto out;
    }
    if (out->len && memchr(out->data, '\0', out->len)) {
        eddy_cfg_fail(cfg, n, path, "file '%s' contains a NUL byte", fname);
        goto out;
    }
    if (out->len && out->data[out->len - 1] == '\n') {
        out->len--;
        if (out->len && out->data[out->len - 1] == '\r')
            out->len--;
    }
    if (eddy_buf_putc(out, '\0') != 0) {
        cfg->oom = true;
        goto out;
    }
    rc = 0;
out:
    if (f)
        fclose(f);
    eddy_buf_free(&full);
    return rc;
}

const char *eddy_cnode_str(eddy_cfg *cfg, const eddy_cnode *cn, const char *path)
{
    if (!cn || cn->kind != EDDY_CNODE_SCALAR)
        return NULL;
    if (cn->text || cn->failed)
        return cn->text;
    /* Nodes are owned by cfg; resolution fills the node's cache. */
    eddy_cnode *n = (eddy_cnode *)cn;
    bool is_file = strncmp(n->raw, "file:", 5) == 0;
    eddy_buf val = {0}, content = {0};
    int rc = expand_env(cfg, n, path, is_file ? n->raw + 5 : n->raw, &val);
    if (rc == 0 && is_file) {
        rc = read_secret(cfg, n, path, (const char *)val.data, &content);
        if (rc == 0) {
            eddy_buf tmp = val;
            val = content;
            content = tmp;
        }
    }
    if (rc == 0) {
        n->text = eddy_arena_strdup(&cfg->arena, (const char *)val.data, strlen((char *)val.data));
        if (!n->text)
            cfg->oom = true;
    }
    /* Scrub the secret copies before giving the memory back. */
    if (val.data)
        memset(val.data, 0, val.cap);
    if (content.data)
        memset(content.data, 0, content.cap);
    eddy_buf_free(&val);
    eddy_buf_free(&content);
    n->failed = n->text == NULL;
    return n->text;
}
