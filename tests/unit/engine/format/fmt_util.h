/* Helpers shared by the format tests. */
#ifndef EDDY_FMT_UTIL_H
#define EDDY_FMT_UTIL_H
#include <stdio.h>
#include <string.h>

#include "engine/core/batch.h"
#include "engine/format/codec.h"
#include "engine/core/error.h"
#include "engine/core/sym.h"
#include "tests/unit/test.h"

static inline const eddy_value *fget(const eddy_record *r, const char *name)
{
    eddy_sym s = eddy_sym_lookup(name, strlen(name));
    return s ? eddy_record_get(r, s) : NULL;
}

static inline int vstr_eq(const eddy_value *v, const char *s)
{
    return v && (v->type == EDDY_STRING || v->type == EDDY_BYTES) && v->len == strlen(s) &&
           memcmp(v->u.s, s, v->len) == 0;
}

static inline const eddy_value *mget(const eddy_value *m, const char *key)
{
    if (!m || m->type != EDDY_MAP)
        return NULL;
    for (uint32_t i = 0; i < m->len; i++)
        if (vstr_eq(&m->u.kvs[i].key, key))
            return &m->u.kvs[i].val;
    return NULL;
}

static inline eddy_codec *codec_of(const eddy_codec_conf *conf)
{
    char err[256] = "";
    eddy_codec *c = NULL;
    int rc = eddy_codec_new(conf, &c, err, sizeof err);
    CHECK_MSG(rc == 0 && c, "codec_new: %s", err);
    return c;
}

static inline void set_field(eddy_batch *b, eddy_record *r, const char *name, eddy_value v)
{
    eddy_sym s = eddy_sym_intern(name, strlen(name));
    CHECK(eddy_record_set(b, r, s, &v) == 0);
}

static inline eddy_value str_v(eddy_batch *b, const char *s)
{
    return eddy_batch_string(b, s, strlen(s));
}

/* Decodes and expects failure with `reason` in the message at byte `off`. */
#define EXPECT_FAIL(c, b, payload, plen, reason, off)                                    \
    do {                                                                                 \
        eddy_record *r_ = eddy_batch_append(b);                                          \
        int rc_ = eddy_codec_decode(c, b, r_, payload, plen);                            \
        CHECK_MSG(rc_ == EDDY_EPARSE, "rc %d for %s", rc_, reason);                      \
        CHECK(r_->flags & EDDY_REC_ERROR);                                               \
        CHECK(r_->nfields == 0);                                                         \
        CHECK_STR(r_->err_step, "decode");                                               \
        CHECK_CONTAINS(r_->err_reason, reason);                                          \
        CHECK_MSG(r_->err_offset == (uint64_t)(off), "offset %llu != %llu (%s)",         \
                  (unsigned long long)r_->err_offset, (unsigned long long)(off),         \
                  r_->err_reason ? r_->err_reason : "");                                 \
        CHECK(r_->raw_len == (uint32_t)(plen) && (plen == 0 || (r_->raw &&               \
              memcmp(r_->raw, payload, plen) == 0)));                                    \
    } while (0)

#endif
