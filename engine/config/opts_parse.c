/* Option mappings from the YAML tree, and name=value pairs for tools. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/error.h"
#include "engine/config/opts_int.h"

static char *join(const char *path, const char *key, long idx)
{
    size_t n = strlen(path) + (key ? strlen(key) : 24) + 4;
    char *p = malloc(n);
    if (!p)
        return NULL;
    if (key)
        snprintf(p, n, "%s%s%s", path, *path ? "." : "", key);
    else
        snprintf(p, n, "%s[%ld]", path, idx);
    return p;
}

/* What was found, for "expected ..., found ..." about a whole node. */
static const char *found(const eddy_option *row, const eddy_cnode *n)
{
    if ((row->flags & EDDY_OPT_SECRET) && eddy_cnode_kind_of(n) == EDDY_CNODE_SCALAR)
        return "a string <secret>";
    return eddy_cnode_kind_name(n);
}

/* The strings of a sequence (keys NULL) or mapping (keys set); items that
 * are not scalars are reported at their own path. */
static int collect(eddy_cfg *cfg, const eddy_option *row, const eddy_cnode *n, const char *path,
                   const char **keys, const char **items)
{
    bool is_map = keys != NULL;
    size_t count = is_map ? eddy_cnode_map_len(n) : eddy_cnode_seq_len(n);
    int rc = 0;
    for (size_t i = 0; i < count; i++) {
        const char *k = is_map ? eddy_cnode_map_key(cfg, n, i, NULL) : NULL;
        const eddy_cnode *item = is_map ? eddy_cnode_map_value(n, i) : eddy_cnode_seq_at(n, i);
        char *ipath = join(path, k, (long)i);
        if (!ipath) {
            eddy_cfg_fail(cfg, item, path, "out of memory");
            return -1;
        }
        const char *s = NULL;
        if (eddy_cnode_kind_of(item) != EDDY_CNODE_SCALAR)
            eddy_cfg_fail(cfg, item, ipath, "expected a string, found %s", found(row, item));
        else
            s = eddy_cnode_str(cfg, item, ipath);
        free(ipath);
        if (!s) {
            rc = -1;
            continue;
        }
        items[i] = s;
        if (is_map)
            keys[i] = k;
    }
    return rc;
}

static void parse_items(eddy_cfg *cfg, eddy_opts *o, size_t r, const eddy_cnode *n,
                        const char *path, const char *where)
{
    const eddy_option *row = &o->table[r];
    bool is_map = row->type == EDDY_OPT_MAP;
    eddy_cnode_kind want = is_map ? EDDY_CNODE_MAP : EDDY_CNODE_SEQ;
    char exp[256];
    if (eddy_cnode_kind_of(n) != want) {
        eddy_cfg_fail(cfg, n, path, "expected %s, found %s",
                      eddy_opt_expected(row, exp, sizeof exp), found(row, n));
        return;
    }
    size_t count = is_map ? eddy_cnode_map_len(n) : eddy_cnode_seq_len(n);
    const char **items = calloc(count ? count : 1, sizeof *items);
    const char **keys = is_map ? calloc(count ? count : 1, sizeof *keys) : NULL;
    if (!items || (is_map && !keys)) {
        eddy_cfg_fail(cfg, n, path, "out of memory");
    } else if (collect(cfg, row, n, path, keys, items) == 0 &&
               eddy_opt_set_items(o, r, keys, items, count, where) != 0) {
        eddy_cfg_fail(cfg, n, path, "out of memory");
    }
    free(items);
    free(keys);
}

static void parse_value(eddy_cfg *cfg, eddy_opts *o, size_t r, const eddy_cnode *n,
                        const char *path)
{
    const eddy_option *row = &o->table[r];
    char where[512], exp[256], err[1024];
    eddy_cnode_where(cfg, n, where, sizeof where);
    if (row->type == EDDY_OPT_LIST || row->type == EDDY_OPT_MAP) {
        parse_items(cfg, o, r, n, path, where);
        return;
    }
    if (eddy_cnode_kind_of(n) != EDDY_CNODE_SCALAR) {
        eddy_cfg_fail(cfg, n, path, "expected %s, found %s",
                      eddy_opt_expected(row, exp, sizeof exp), found(row, n));
        return;
    }
    const char *text = eddy_cnode_str(cfg, n, path);
    if (!text)
        return; /* ${ENV} or file: failed and said so */
    if (eddy_opt_set_scalar(o, r, text, eddy_cnode_secret(n), where, err, sizeof err) != 0)
        eddy_cfg_fail(cfg, n, path, "%s", err);
}

static bool in_list(const char *const *list, const char *key)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strcmp(list[i], key) == 0)
            return true;
    return false;
}

eddy_opts *eddy_opts_parse(eddy_cfg *cfg, const eddy_option *table, const eddy_cnode *map,
                           const char *path, const char *const *skip)
{
    if (!path)
        path = "";
    size_t errors = eddy_cfg_errors(cfg);
    eddy_opts *o = eddy_opts_new(table);
    if (!o) {
        eddy_cfg_fail(cfg, map, path, "out of memory");
        return NULL;
    }
    o->base_dir = eddy_cfg_base_dir(cfg); /* lives as long as cfg, which outlives o */
    if (eddy_cnode_kind_of(map) == EDDY_CNODE_NULL)
        map = NULL; /* "filter:" with nothing after it: no options given */
    if (map && eddy_cnode_kind_of(map) != EDDY_CNODE_MAP) {
        eddy_cfg_fail(cfg, map, path, "expected a mapping of options, found %s",
                      eddy_cnode_kind_name(map));
        eddy_opts_free(o);
        return NULL;
    }
    for (size_t i = 0; i < eddy_cnode_map_len(map); i++) {
        eddy_cnode *key_node;
        const char *key = eddy_cnode_map_key(cfg, map, i, &key_node);
        if (in_list(skip, key))
            continue;
        char *kpath = join(path, key, 0);
        if (!kpath) {
            eddy_cfg_fail(cfg, key_node, path, "out of memory");
            continue;
        }
        long r = eddy_opts_row(o, key);
        if (r < 0) {
            char hint[1024];
            eddy_opt_suggest(table, skip, key, hint, sizeof hint);
            eddy_cfg_fail(cfg, key_node, kpath, "unknown key '%s'%s", key, hint);
        } else {
            o->v[r].given = true;
            parse_value(cfg, o, (size_t)r, eddy_cnode_map_value(map, i), kpath);
        }
        free(kpath);
    }
    for (size_t r = 0; r < o->n; r++) {
        if (o->v[r].given)
            continue; /* set, or its bad value was reported */
        char err[1024];
        if (o->table[r].flags & EDDY_OPT_REQUIRED)
            eddy_cfg_fail(cfg, map, path, "missing required key '%s'", o->table[r].name);
        else if (eddy_opt_default(o, r, err, sizeof err) != 0)
            eddy_cfg_fail(cfg, NULL, path, "%s", err);
    }
    if (eddy_cfg_errors(cfg) > errors) {
        eddy_opts_free(o);
        return NULL;
    }
    return o;
}

eddy_opts *eddy_opts_from_pairs(const eddy_option *table, const char *const *pairs,
                                size_t npairs, char *err, size_t errlen)
{
    eddy_opts *o = eddy_opts_new(table);
    if (!o) {
        eddy_errf(err, errlen, "out of memory");
        return NULL;
    }
    char why[1024];
    for (size_t i = 0; i < npairs; i++) {
        const char *pair = pairs[i], *eq = pair ? strchr(pair, '=') : NULL;
        if (!eq) {
            eddy_errf(err, errlen, "expected name=value, found \"%.40s\"", pair ? pair : "");
            goto fail;
        }
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(eq - pair), pair);
        long r = eddy_opts_row(o, name);
        if (r < 0) {
            eddy_opt_suggest(table, NULL, name, why, sizeof why);
            eddy_errf(err, errlen, "unknown option '%s'%s", name, why);
            goto fail;
        }
        o->v[r].given = true;
        eddy_opt_type t = table[r].type;
        int rc = t == EDDY_OPT_LIST || t == EDDY_OPT_MAP
                     ? eddy_opt_set_text_items(o, (size_t)r, eq + 1, "", why, sizeof why)
                     : eddy_opt_set_scalar(o, (size_t)r, eq + 1, false, "", why, sizeof why);
        if (rc != 0) {
            eddy_errf(err, errlen, "%s: %s", name, why);
            goto fail;
        }
    }
    for (size_t r = 0; r < o->n; r++) {
        if (o->v[r].set)
            continue;
        if (table[r].flags & EDDY_OPT_REQUIRED) {
            eddy_errf(err, errlen, "missing required option '%s'", table[r].name);
            goto fail;
        }
        if (eddy_opt_default(o, r, why, sizeof why) != 0) {
            eddy_errf(err, errlen, "%s", why);
            goto fail;
        }
    }
    return o;
fail:
    eddy_opts_free(o);
    return NULL;
}
