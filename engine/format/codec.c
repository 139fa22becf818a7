/* The codec front: configuration, dispatch by format, failure marking. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/error.h"
#include "engine/format/format_int.h"

int eddy_format_parse(const char *name)
{
    if (!name)
        return -1;
    if (strcmp(name, "json") == 0)
        return EDDY_FMT_JSON;
    if (strcmp(name, "msgpack") == 0)
        return EDDY_FMT_MSGPACK;
    if (strcmp(name, "avro") == 0)
        return EDDY_FMT_AVRO;
    return -1;
}

const char *eddy_format_name(eddy_format f)
{
    switch (f) {
    case EDDY_FMT_JSON: return "json";
    case EDDY_FMT_MSGPACK: return "msgpack";
    case EDDY_FMT_AVRO: return "avro";
    }
    return "unknown";
}

int eddy_codec_new(const eddy_codec_conf *conf, eddy_codec **out, char *err, size_t errlen)
{
    *out = NULL;
    if (conf->format != EDDY_FMT_JSON && conf->format != EDDY_FMT_MSGPACK &&
        conf->format != EDDY_FMT_AVRO) {
        snprintf(err, errlen, "unknown format %d (expected json, msgpack or avro)",
                 (int)conf->format);
        return EDDY_EINVAL;
    }
    if (conf->max_depth > EDDY_FMT_MAX_DEPTH) {
        snprintf(err, errlen, "max_depth %u is above the limit of %u", conf->max_depth,
                 EDDY_FMT_MAX_DEPTH);
        return EDDY_EINVAL;
    }
    eddy_codec *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return EDDY_ENOMEM;
    }
    c->format = conf->format;
    c->max_depth = conf->max_depth ? conf->max_depth : EDDY_FMT_DEFAULT_DEPTH;
    eddy_json_dec_init(&c->json, c->max_depth);
    int rc = 0;
    if (c->format == EDDY_FMT_MSGPACK)
        rc = eddy_msgpack_new(&c->mp, c->max_depth, err, errlen);
    else if (c->format == EDDY_FMT_AVRO)
        rc = eddy_avro_new(conf, c->max_depth, &c->avro, err, errlen);
    if (rc != 0) {
        eddy_codec_destroy(c);
        return rc;
    }
    *out = c;
    return 0;
}

void eddy_codec_destroy(eddy_codec *c)
{
    if (!c)
        return;
    eddy_json_dec_free(&c->json);
    eddy_msgpack_free(c->mp);
    eddy_avro_free(c->avro);
    free(c);
}

eddy_format eddy_codec_format(const eddy_codec *c) { return c->format; }

int eddy_codec_decode(eddy_codec *c, eddy_batch *b, eddy_record *r, const void *buf, size_t len)
{
    switch (c->format) {
    case EDDY_FMT_JSON: return eddy_json_decode(c, b, r, buf, len);
    case EDDY_FMT_MSGPACK: return eddy_msgpack_decode(c->mp, b, r, buf, len);
    case EDDY_FMT_AVRO: return eddy_avro_decode(c->avro, b, r, buf, len);
    }
    return EDDY_EINVAL;
}

int eddy_codec_encode(eddy_codec *c, const eddy_record *r, eddy_buf *out, char *err,
                      size_t errlen)
{
    switch (c->format) {
    case EDDY_FMT_JSON: return eddy_json_encode(c, r, out, err, errlen);
    case EDDY_FMT_MSGPACK: return eddy_msgpack_encode(c->mp, r, out, err, errlen);
    case EDDY_FMT_AVRO: return eddy_avro_encode(c->avro, r, out, err, errlen);
    }
    return EDDY_EINVAL;
}

int eddy_fmt_fail(eddy_batch *b, eddy_record *r, const void *raw, size_t len, uint64_t off,
                  const char *reason)
{
    /* A half-decoded record must not look like a smaller valid one. */
    r->nfields = 0;
    if (raw && eddy_record_keep_raw(b, r, raw, len) != 0) {
        r->raw = NULL;
        r->raw_len = 0;
    }
    eddy_record_fail(b, r, "decode", off, "%s", reason);
    return EDDY_EPARSE;
}
