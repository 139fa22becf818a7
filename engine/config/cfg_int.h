/* Internals shared by the config loader (cfg_load.c) and the node accessors
 * (cfg_node.c). The document is copied out of libfyaml into this tree at load
 * time, so nothing of libfyaml outlives eddy_cfg_load and every node and
 * string lives in the cfg's arena. */
#ifndef EDDY_CFG_INTERNAL_H
#define EDDY_CFG_INTERNAL_H
#include <stdbool.h>
#include <stddef.h>

#include "engine/core/arena.h"
#include "engine/config/config.h"

struct eddy_cnode {
    eddy_cnode_kind kind;
    int line, col; /* 1-based */
    /* Scalars. raw is the text as parsed (escapes and folding done by
     * libfyaml); text is the resolved value, set at load for plain values
     * and on first read for ${ENV} / file: values. */
    const char *raw;
    size_t raw_len;
    const char *text;
    const char *desc;  /* eddy_cnode_kind_name() */
    bool secret;       /* needs ${ENV} or file: resolution */
    bool failed;       /* resolution failed (error already recorded) */
    /* Sequences (items) and mappings (keys[i] -> items[i]). */
    size_t n;
    eddy_cnode **items;
    eddy_cnode **keys;
};

struct eddy_cfg {
    eddy_arena arena;
    const char *path;
    const char *base_dir; /* directory of the file, for relative file: paths */
    eddy_cnode *root;
    char **errors;
    size_t nerrors, cap_errors;
    bool oom;
};

/* Builds the node's description and decides whether it needs resolution;
 * for plain values also sets text. -1 when out of memory. */
int eddy_cfg_scalar_init(eddy_cfg *cfg, eddy_cnode *n, bool is_key);
/* Records a preformatted error line (copied). */
void eddy_cfg_add_error(eddy_cfg *cfg, const char *line);
/* Records "file:line:col: path: message"; line <= 0 drops the position and
 * an empty or NULL path drops the path. */
void eddy_cfg_fail_at(eddy_cfg *cfg, int line, int col, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Parses one YAML document into cfg->root; syntax and structure errors go
 * to the error list. -1 only when out of memory. */
int eddy_cfg_parse(eddy_cfg *cfg, const char *yaml, size_t len);

#endif
