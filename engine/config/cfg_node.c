/* Read access to the node tree. */
#include <stdio.h>
#include <string.h>

#include "engine/config/cfg_int.h"

eddy_cnode_kind eddy_cnode_kind_of(const eddy_cnode *n) { return n ? n->kind : EDDY_CNODE_NULL; }

const char *eddy_cnode_kind_name(const eddy_cnode *n)
{
    if (!n)
        return "nothing";
    if (n->desc)
        return n->desc;
    switch (n->kind) {
    case EDDY_CNODE_MAP: return "a mapping";
    case EDDY_CNODE_SEQ: return "a sequence";
    case EDDY_CNODE_NULL: return "null";
    default: return "a string";
    }
}

void eddy_cnode_where(const eddy_cfg *cfg, const eddy_cnode *n, char *buf, size_t len)
{
    if (!buf || len == 0)
        return;
    if (n)
        snprintf(buf, len, "%s:%d:%d", cfg->path, n->line, n->col);
    else
        snprintf(buf, len, "%s", cfg->path);
}

int eddy_cnode_line(const eddy_cnode *n) { return n ? n->line : 0; }

int eddy_cnode_col(const eddy_cnode *n) { return n ? n->col : 0; }

size_t eddy_cnode_map_len(const eddy_cnode *map)
{
    return map && map->kind == EDDY_CNODE_MAP ? map->n : 0;
}

const char *eddy_cnode_map_key(eddy_cfg *cfg, const eddy_cnode *map, size_t i,
                               eddy_cnode **key_node)
{
    if (key_node)
        *key_node = NULL;
    if (!map || map->kind != EDDY_CNODE_MAP || i >= map->n)
        return NULL;
    eddy_cnode *k = map->keys[i];
    if (key_node)
        *key_node = k;
    /* Keys are names, never resolved: a mapping or sequence used as a key
     * was already reported by the parser and reads as "". */
    return k->raw ? k->raw : "";
}

eddy_cnode *eddy_cnode_map_value(const eddy_cnode *map, size_t i)
{
    if (!map || map->kind != EDDY_CNODE_MAP || i >= map->n)
        return NULL;
    return map->items[i];
}

eddy_cnode *eddy_cnode_get(const eddy_cnode *map, const char *key)
{
    if (!map || map->kind != EDDY_CNODE_MAP || !key)
        return NULL;
    size_t len = strlen(key);
    for (size_t i = 0; i < map->n; i++) {
        const eddy_cnode *k = map->keys[i];
        if (k->raw && k->raw_len == len && memcmp(k->raw, key, len) == 0)
            return map->items[i];
    }
    return NULL;
}

size_t eddy_cnode_seq_len(const eddy_cnode *seq)
{
    return seq && seq->kind == EDDY_CNODE_SEQ ? seq->n : 0;
}

eddy_cnode *eddy_cnode_seq_at(const eddy_cnode *seq, size_t i)
{
    if (!seq || seq->kind != EDDY_CNODE_SEQ || i >= seq->n)
        return NULL;
    return seq->items[i];
}

bool eddy_cnode_secret(const eddy_cnode *n) { return n && n->secret; }
