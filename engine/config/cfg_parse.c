/* YAML text -> eddy_cnode tree, driven by libfyaml's event parser.
 *
 * Events (not libfyaml's document API) because they carry every node's
 * start mark, let us see duplicate keys with both positions, and let us
 * refuse anchors, aliases and tags where they appear: an alias would make
 * one node answer for two places in the file, and errors must point at
 * exactly one place. Merge keys ("<<") need aliases, so they are refused
 * with them. */
#include <libfyaml.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/config/cfg_int.h"

typedef struct frame {
    eddy_cnode *node;
    char *path; /* dotted path of node, malloc'd */
    eddy_cnode **items, **keys;
    size_t nitems, nkeys, cap;
} frame;

typedef struct builder {
    eddy_cfg *cfg;
    frame *stack;
    size_t depth, cap;
    int docs;
    bool stop;
    bool too_deep; /* stopped at EDDY_CFG_MAX_DEPTH: the tree is partial */
} builder;

static char *path_join(const char *base, const char *key, long idx)
{
    size_t bl = base ? strlen(base) : 0;
    size_t n = bl + (key ? strlen(key) : 24) + 4;
    char *p = malloc(n);
    if (!p)
        return NULL;
    if (key)
        snprintf(p, n, "%s%s%s", bl ? base : "", bl ? "." : "", key);
    else
        snprintf(p, n, "%s[%ld]", bl ? base : "", idx);
    return p;
}

/* Path of the node about to be attached to the top frame. `key_text` is the
 * text of a scalar that will become a mapping key, else NULL. */
static char *child_path(builder *b, const char *key_text)
{
    if (b->depth == 0)
        return strdup("");
    frame *f = &b->stack[b->depth - 1];
    if (f->node->kind == EDDY_CNODE_SEQ)
        return path_join(f->path, NULL, (long)f->nitems);
    if (f->nkeys > f->nitems) /* a value: named by its key */
        return path_join(f->path, f->keys[f->nkeys - 1]->raw, 0);
    return key_text ? path_join(f->path, key_text, 0) : strdup(f->path);
}

static void event_pos(struct fy_event *e, builder *b, int *line, int *col)
{
    const struct fy_mark *m = fy_event_start_mark(e);
    if (m && m->line >= 0) {
        *line = m->line + 1;
        *col = m->column + 1;
        return;
    }
    /* An empty value has no mark of its own: point at its key, or at the
     * collection holding it. */
    *line = 1;
    *col = 1;
    if (b->depth > 0) {
        frame *f = &b->stack[b->depth - 1];
        eddy_cnode *at = f->node;
        if (f->node->kind == EDDY_CNODE_MAP && f->nkeys > f->nitems)
            at = f->keys[f->nkeys - 1];
        *line = at->line;
        *col = at->col;
    }
}

/* keys and items share one capacity: a mapping never has more values than
 * keys, nor more than one key ahead. */
static int vec_push(frame *f, eddy_cnode ***vec, size_t *n, eddy_cnode *node)
{
    if (*n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        eddy_cnode **a = realloc(f->items, cap * sizeof *a);
        if (!a)
            return -1;
        f->items = a;
        if (f->node->kind == EDDY_CNODE_MAP) {
            eddy_cnode **k = realloc(f->keys, cap * sizeof *k);
            if (!k)
                return -1;
            f->keys = k;
        }
        f->cap = cap;
    }
    (*vec)[(*n)++] = node;
    return 0;
}

static int attach(builder *b, eddy_cnode *n, const char *path)
{
    eddy_cfg *cfg = b->cfg;
    if (b->depth == 0) {
        cfg->root = n;
        return 0;
    }
    frame *f = &b->stack[b->depth - 1];
    if (f->node->kind == EDDY_CNODE_SEQ || f->nkeys > f->nitems)
        return vec_push(f, &f->items, &f->nitems, n);

    /* A mapping key. */
    if (n->kind == EDDY_CNODE_MAP || n->kind == EDDY_CNODE_SEQ) {
        eddy_cfg_fail_at(cfg, n->line, n->col, path, "mapping keys must be strings, found %s",
                         eddy_cnode_kind_name(n));
    } else {
        for (size_t i = 0; i < f->nkeys; i++) {
            eddy_cnode *k = f->keys[i];
            /* An empty key may have no bytes at all (raw NULL): compare
             * lengths first, bytes only when there are some. */
            if (k->raw_len == n->raw_len &&
                (n->raw_len == 0 || (k->raw && n->raw && memcmp(k->raw, n->raw, n->raw_len) == 0))) {
                eddy_cfg_fail_at(cfg, n->line, n->col, path,
                                 "duplicate key '%s' (first defined at %s:%d:%d)",
                                 n->raw ? n->raw : "", cfg->path, k->line, k->col);
                break;
            }
        }
    }
    return vec_push(f, &f->keys, &f->nkeys, n);
}

static eddy_cnode *node_new(builder *b, eddy_cnode_kind kind, int line, int col)
{
    eddy_cnode *n = eddy_arena_alloc(&b->cfg->arena, sizeof *n);
    if (!n)
        return NULL;
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->line = line;
    n->col = col;
    return n;
}

/* libfyaml marks an anchor or alias after its '&' or '*', and a quoted
 * scalar after its quote; users count from the indicator. */
static void token_pos(struct fy_token *t, int back, int *line, int *col)
{
    const struct fy_mark *m = fy_token_start_mark(t);
    if (m && m->line >= 0) {
        *line = m->line + 1;
        *col = m->column + 1 - (m->column >= back ? back : 0);
    }
}

/* Anchors and tags are refused (see the top of this file). */
static void check_props(builder *b, struct fy_token *anchor, struct fy_token *tag,
                        const eddy_cnode *n, const char *path)
{
    int line = n->line, col = n->col;
    if (anchor) {
        token_pos(anchor, 1, &line, &col);
        eddy_cfg_fail_at(b->cfg, line, col, path,
                         "anchors (&name) and aliases (*name) are not supported; write the value out");
    }
    if (tag) {
        line = n->line;
        col = n->col;
        token_pos(tag, 0, &line, &col);
        eddy_cfg_fail_at(b->cfg, line, col, path,
                         "tags (such as !!str) are not supported; quote a value to make it a string");
    }
}

static bool is_null_text(const char *s, size_t len)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
    for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
        if (strlen(nulls[i]) == len && memcmp(nulls[i], s, len) == 0)
            return true;
    return false;
}

static int on_scalar(builder *b, struct fy_event *e)
{
    eddy_cfg *cfg = b->cfg;
    size_t len = 0;
    const char *text = fy_token_get_text(e->scalar.value, &len);
    if (!text) {
        text = "";
        len = 0;
    }
    int line, col;
    event_pos(e, b, &line, &col);
    enum fy_scalar_style style = fy_token_scalar_style(e->scalar.value);
    bool plain = style == FYSS_PLAIN;
    if ((style == FYSS_SINGLE_QUOTED || style == FYSS_DOUBLE_QUOTED) && col > 1)
        col--;
    eddy_cnode *n = node_new(b, plain && is_null_text(text, len) ? EDDY_CNODE_NULL : EDDY_CNODE_SCALAR,
                             line, col);
    if (!n)
        return -1;
    n->raw = eddy_arena_strdup(&cfg->arena, text, len);
    if (!n->raw)
        return -1;
    n->raw_len = len;
    bool is_key = b->depth > 0 && b->stack[b->depth - 1].node->kind == EDDY_CNODE_MAP &&
                  b->stack[b->depth - 1].nkeys == b->stack[b->depth - 1].nitems;
    char *path = child_path(b, is_key ? n->raw : NULL);
    if (!path)
        return -1;
    int rc = -1;
    if (eddy_cfg_scalar_init(cfg, n, is_key) != 0)
        goto out;
    check_props(b, e->scalar.anchor, e->scalar.tag, n, path);
    if (memchr(text, '\0', len))
        eddy_cfg_fail_at(cfg, line, col, path, "value contains a NUL character");
    rc = attach(b, n, path);
out:
    free(path);
    return rc;
}

static int on_start(builder *b, struct fy_event *e, eddy_cnode_kind kind)
{
    int line, col;
    event_pos(e, b, &line, &col);
    eddy_cnode *n = node_new(b, kind, line, col);
    if (!n)
        return -1;
    n->desc = kind == EDDY_CNODE_MAP ? "a mapping" : "a sequence";
    if (b->depth >= EDDY_CFG_MAX_DEPTH) {
        eddy_cfg_fail_at(b->cfg, line, col, NULL,
                         "mappings and sequences nested deeper than %d levels; a configuration "
                         "needs a handful (is this the right file?)", EDDY_CFG_MAX_DEPTH);
        b->stop = true;
        b->too_deep = true;
        return 0;
    }
    char *path = child_path(b, NULL);
    if (!path)
        return -1;
    if (kind == EDDY_CNODE_MAP)
        check_props(b, e->mapping_start.anchor, e->mapping_start.tag, n, path);
    else
        check_props(b, e->sequence_start.anchor, e->sequence_start.tag, n, path);
    if (b->depth == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        frame *s = realloc(b->stack, cap * sizeof *s);
        if (!s) {
            free(path);
            return -1;
        }
        b->stack = s;
        b->cap = cap;
    }
    frame *f = &b->stack[b->depth++];
    memset(f, 0, sizeof *f);
    f->node = n;
    f->path = path;
    return 0;
}

static void frame_free(frame *f)
{
    free(f->path);
    free(f->items);
    free(f->keys);
}

static int on_end(builder *b)
{
    if (b->depth == 0)
        return 0;
    frame f = b->stack[--b->depth];
    eddy_cnode *n = f.node;
    int rc = -1;
    /* Counting values keeps keys and values paired even if a key were left
     * without one. */
    n->n = f.nitems;
    if (n->n) {
        n->items = eddy_arena_alloc(&b->cfg->arena, n->n * sizeof *n->items);
        if (!n->items)
            goto out;
        memcpy(n->items, f.items, n->n * sizeof *n->items);
        if (n->kind == EDDY_CNODE_MAP) {
            n->keys = eddy_arena_alloc(&b->cfg->arena, n->n * sizeof *n->keys);
            if (!n->keys)
                goto out;
            memcpy(n->keys, f.keys, n->n * sizeof *n->keys);
        }
    }
    char *path = child_path(b, NULL);
    if (!path)
        goto out;
    rc = attach(b, n, path);
    free(path);
out:
    frame_free(&f);
    return rc;
}

static int on_event(builder *b, struct fy_event *e)
{
    int line, col;
    switch (e->type) {
    case FYET_DOCUMENT_START:
        if (++b->docs > 1) {
            event_pos(e, b, &line, &col);
            eddy_cfg_fail_at(b->cfg, line, col, NULL,
                             "only one YAML document is allowed per file, found a second one");
            b->stop = true;
        }
        return 0;
    case FYET_MAPPING_START:
        return on_start(b, e, EDDY_CNODE_MAP);
    case FYET_SEQUENCE_START:
        return on_start(b, e, EDDY_CNODE_SEQ);
    case FYET_MAPPING_END:
    case FYET_SEQUENCE_END:
        return on_end(b);
    case FYET_SCALAR:
        return on_scalar(b, e);
    case FYET_ALIAS: {
        event_pos(e, b, &line, &col);
        if (col > 1)
            col--;
        eddy_cnode *n = node_new(b, EDDY_CNODE_NULL, line, col);
        if (!n || eddy_cfg_scalar_init(b->cfg, n, false) != 0)
            return -1;
        char *path = child_path(b, NULL);
        if (!path)
            return -1;
        eddy_cfg_fail_at(b->cfg, line, col, path,
                         "anchors (&name) and aliases (*name) are not supported; write the value out");
        int rc = attach(b, n, path);
        free(path);
        return rc;
    }
    default:
        return 0;
    }
}

static void diag_sink(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
    /* Errors are collected and reported through eddy_cfg_errors, never
     * printed by libfyaml. */
}

static void report_syntax_error(eddy_cfg *cfg, struct fy_diag *diag)
{
    void *it = NULL;
    struct fy_diag_error *err, *first = NULL;
    while ((err = fy_diag_errors_iterate(diag, &it)) != NULL) {
        if (err->type >= FYET_ERROR) {
            first = err;
            break;
        }
        if (!first)
            first = err;
    }
    if (first && first->line > 0)
        eddy_cfg_fail_at(cfg, first->line, first->column > 0 ? first->column : 1, NULL,
                         "YAML syntax error: %s", first->msg ? first->msg : "malformed document");
    else
        eddy_cfg_fail_at(cfg, 0, 0, NULL, "YAML syntax error: %s",
                         first && first->msg ? first->msg : "malformed document");
}

/* libfyaml 0.8 (Debian 12) loops forever scanning a directive line ('%' at
 * the start of a line) that holds a byte outside printable ASCII (found by
 * tests/fuzz/fuzz_config.c). Directives are ASCII by definition (%YAML,
 * %TAG), so such a line is refused here, before libfyaml sees it. */
/* Length of the line break at yaml[i], 0 when none: \n, \r\n, a lone \r
 * (a line break to YAML too: the fuzzer's second hang had "%\xd0" after a
 * lone \r), and YAML 1.1's NEL, LS and PS in UTF-8. */
static size_t line_break(const char *yaml, size_t len, size_t i)
{
    const unsigned char *u = (const unsigned char *)yaml;
    if (u[i] == '\n')
        return 1;
    if (u[i] == '\r')
        return i + 1 < len && u[i + 1] == '\n' ? 2 : 1;
    if (u[i] == 0xc2 && i + 1 < len && u[i + 1] == 0x85)
        return 2;
    if (u[i] == 0xe2 && i + 2 < len && u[i + 1] == 0x80 && (u[i + 2] == 0xa8 || u[i + 2] == 0xa9))
        return 3;
    return 0;
}

/* Also refuses control characters anywhere: YAML allows none but tab and
 * line breaks (its c-printable set), and libfyaml 0.8 crashes on some (the
 * config fuzzer's "? w:\t\0": a NULL dereference in fy_parser_destroy). */
static int check_directives(eddy_cfg *cfg, const char *yaml, size_t len)
{
    int line = 1;
    size_t i = 0;
    while (i < len) {
        /* libfyaml skips byte order marks at the start of a line, so
         * "\xef\xbb\xbf%..." is a directive line too (and hung it). */
        size_t k = i;
        while (k + 2 < len && (unsigned char)yaml[k] == 0xef &&
               (unsigned char)yaml[k + 1] == 0xbb && (unsigned char)yaml[k + 2] == 0xbf)
            k += 3;
        int directive = k < len && yaml[k] == '%';
        size_t j = i, br = 0;
        /* A directive line ends only at \r or \n: libfyaml's directive
         * scanner does not stop at NEL, LS or PS (the fuzzer's third hang:
         * "%: " then LS then non-ASCII), so inside one they are non-ASCII
         * bytes like any other. Any break starts a line, to be safe. */
        for (; j < len; j++) {
            br = line_break(yaml, len, j);
            if (br && (!directive || yaml[j] == '\n' || yaml[j] == '\r'))
                break;
            br = 0;
            unsigned char c = (unsigned char)yaml[j];
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                eddy_cfg_fail_at(cfg, line, (int)(j - i) + 1, NULL,
                                 "control character 0x%02x: YAML allows only tab, line breaks "
                                 "and printable characters (is this a binary file?)",
                                 c);
                return -1;
            }
            if (directive && c > 0x7e && j >= k) {
                eddy_cfg_fail_at(cfg, line, (int)(j - i) + 1, NULL,
                                 "a YAML directive ('%%' line) must be ASCII text; found "
                                 "byte 0x%02x",
                                 c);
                return -1;
            }
        }
        i = j + br;
        line++;
    }
    return 0;
}

int eddy_cfg_parse(eddy_cfg *cfg, const char *yaml, size_t len)
{
    if (len > EDDY_CFG_MAX_BYTES) {
        eddy_cfg_fail_at(cfg, 0, 0, NULL,
                         "the configuration is larger than %zu MiB; a configuration is a few KB "
                         "(is this the right file?)", EDDY_CFG_MAX_BYTES >> 20);
        return 0;
    }
    if (check_directives(cfg, yaml, len) != 0)
        return 0; /* the error is recorded; nothing to parse */
    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.output_fn = diag_sink;
    dcfg.colorize = false;
    struct fy_diag *diag = fy_diag_create(&dcfg);
    if (!diag)
        return -1;
    fy_diag_set_collect_errors(diag, true);

    struct fy_parse_cfg pcfg = {
        .flags = FYPCF_QUIET | FYPCF_JSON_NONE,
        .diag = diag,
    };
    struct fy_parser *fyp = fy_parser_create(&pcfg);
    if (!fyp) {
        fy_diag_destroy(diag);
        return -1;
    }
    int rc = 0;
    builder b = {.cfg = cfg};
    if (fy_parser_set_string(fyp, yaml, len) != 0) {
        rc = -1;
        goto out;
    }
    struct fy_event *e;
    while (!b.stop && (e = fy_parser_parse(fyp)) != NULL) {
        rc = on_event(&b, e);
        fy_parser_event_free(fyp, e);
        if (rc != 0)
            goto out;
    }
    if (b.too_deep) {
        cfg->root = NULL; /* a half-built tree would only add misleading errors */
    } else if (fy_parser_get_stream_error(fyp)) {
        report_syntax_error(cfg, diag);
        /* A half-built tree would only add misleading errors. */
        cfg->root = NULL;
    }
out:
    while (b.depth > 0)
        frame_free(&b.stack[--b.depth]);
    free(b.stack);
    fy_parser_destroy(fyp);
    fy_diag_destroy(diag);
    return rc;
}
