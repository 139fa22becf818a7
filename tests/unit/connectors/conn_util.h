/* Helpers for the connector tests: options from pairs or YAML, temp files,
 * draining a source. */
#ifndef EDDY_TEST_CONN_UTIL_H
#define EDDY_TEST_CONN_UTIL_H
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/core/batch.h"
#include "engine/format/codec.h"
#include "engine/config/config.h"
#include "engine/connector.h"
#include "engine/core/error.h"
#include "engine/config/options.h"
#include "engine/core/sym.h"
#include "tests/unit/test.h"

/* Options from YAML (map values with commas need it). NULL with the first
 * error in err. */
static inline eddy_opts *opts_yaml(const eddy_option *table, const char *yaml, char *err,
                                   size_t errlen)
{
    eddy_cfg *cfg = eddy_cfg_load_string("test.yaml", yaml, strlen(yaml));
    if (!cfg)
        return NULL;
    eddy_opts *o = eddy_cfg_errors(cfg) ? NULL
                                        : eddy_opts_parse(cfg, table, eddy_cfg_root(cfg), "opts", NULL);
    err[0] = '\0';
    if (!o && eddy_cfg_errors(cfg))
        snprintf(err, errlen, "%s", eddy_cfg_error(cfg, 0));
    eddy_cfg_free(cfg);
    return o;
}

static inline eddy_opts *opts_pairs(const eddy_option *table, const char *const *pairs,
                                    size_t n)
{
    char err[512];
    eddy_opts *o = eddy_opts_from_pairs(table, pairs, n, err, sizeof err);
    if (!o)
        fprintf(stderr, "opts: %s\n", err);
    return o;
}

static inline void tmp_path(char *buf, size_t len, const char *name)
{
    const char *dir = getenv("TMPDIR");
    snprintf(buf, len, "%s/eddy-conn-%d-%s", dir && *dir ? dir : "/tmp", (int)getpid(), name);
}

static inline void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len) {
        perror(path);
        exit(2);
    }
    fclose(f);
}

/* Whole file, NUL-terminated; *len without the NUL. Caller frees. */
static inline char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t k;
    while (buf && (k = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += k;
        if (cap - n - 1 == 0) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* Polls src until EOF (or error) and deep-copies every record into *all.
 * Returns the last poll's code (EDDY_EEOF when it ran to the end). */
static inline int drain(const eddy_source_ops *ops, void *src, eddy_batch *all, uint32_t max,
                        char *err, size_t errlen)
{
    eddy_batch *b = eddy_batch_new(64, 0);
    int rc;
    for (int guard = 0; guard < 1000000; guard++) {
        eddy_batch_reset(b);
        rc = ops->poll(src, b, max, 10, err, errlen);
        if (rc <= 0 && rc != 0)
            break;
        for (uint32_t i = 0; i < b->n; i++) {
            eddy_record *r = eddy_batch_append(all);
            if (!r || eddy_record_copy(all, r, &b->recs[i]) != 0) {
                rc = EDDY_ENOMEM;
                goto out;
            }
            r->partition = b->recs[i].partition;
        }
    }
out:
    eddy_batch_destroy(b);
    return rc;
}

static inline const eddy_value *field(const eddy_record *r, const char *name)
{
    return eddy_record_get(r, eddy_sym_intern(name, strlen(name)));
}

static inline int64_t field_int(const eddy_record *r, const char *name)
{
    const eddy_value *v = field(r, name);
    return v && v->type == EDDY_INT ? v->u.i : -999999;
}

static inline double field_num(const eddy_record *r, const char *name)
{
    const eddy_value *v = field(r, name);
    double d;
    return v && eddy_value_number(v, &d) ? d : -999999.0;
}

/* 1 when field `name` is a string equal to s. */
static inline int field_is(const eddy_record *r, const char *name, const char *s)
{
    const eddy_value *v = field(r, name);
    return v && v->type == EDDY_STRING && v->len == strlen(s) && memcmp(v->u.s, s, v->len) == 0;
}

static inline void push_str(eddy_batch *b, eddy_record *r, const char *name, const char *s)
{
    eddy_record_push(b, r, eddy_sym_intern(name, strlen(name)), eddy_batch_string(b, s, strlen(s)));
}

static inline void push_val(eddy_batch *b, eddy_record *r, const char *name, eddy_value v)
{
    eddy_record_push(b, r, eddy_sym_intern(name, strlen(name)), v);
}

#endif
