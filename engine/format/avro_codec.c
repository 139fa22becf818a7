/* Avro binary through avro-c, plain or in the Confluent wire format.
 *
 * Each schema (avro_schema, and every id of `schemas`) is loaded once, at
 * codec creation, with one generic value and a symbol cache of its own. A
 * payload is first checked by avro_check.c (exact error offsets, and avro-c
 * never sees a length it could trip over), then read by avro_value_read into
 * the schema's reused value through one reused memory reader, then copied
 * into the batch. avro-c still mallocs each string and bytes value it reads
 * (its generic value API gives no way around that); everything else is reused.
 *
 * Error offsets count from the start of the payload, Confluent header
 * included. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/format/avro_int.h"
#include "engine/core/error.h"
#include "engine/format/format_int.h"

typedef struct av_entry {
    int32_t id;
    eddy_avro_schema *sch;
    avro_value_iface_t *iface;
    avro_value_t value;
    int has_value;
    eddy_symcache syms;
} av_entry;

struct eddy_avro_state {
    int confluent;
    uint32_t max_depth;
    int32_t write_id;
    av_entry *plain;   /* from avro_schema; NULL if not given */
    av_entry *ents;    /* Confluent ids */
    size_t nents;
    avro_reader_t reader;
    avro_writer_t writer;
};

static int entry_init(av_entry *e, int32_t id, const char *path, char *err, size_t errlen)
{
    memset(e, 0, sizeof *e);
    e->id = id;
    int rc = eddy_avro_schema_load(path, &e->sch, err, errlen);
    if (rc != 0)
        return rc;
    e->iface = avro_generic_class_from_schema(e->sch->schema);
    if (!e->iface || avro_generic_value_new(e->iface, &e->value) != 0) {
        snprintf(err, errlen, "schema file %s: avro-c could not build a value: %s", path,
                 avro_strerror());
        return EDDY_ECONFIG;
    }
    e->has_value = 1;
    return 0;
}

static void entry_free(av_entry *e)
{
    if (e->has_value)
        avro_value_decref(&e->value);
    if (e->iface)
        avro_value_iface_decref(e->iface);
    eddy_avro_schema_free(e->sch);
}

void eddy_avro_free(eddy_avro_state *s)
{
    if (!s)
        return;
    if (s->plain) {
        entry_free(s->plain);
        free(s->plain);
    }
    for (size_t i = 0; i < s->nents; i++)
        entry_free(&s->ents[i]);
    free(s->ents);
    if (s->reader)
        avro_reader_free(s->reader);
    if (s->writer)
        avro_writer_free(s->writer);
    free(s);
}

int eddy_avro_new(const eddy_codec_conf *conf, uint32_t max_depth, eddy_avro_state **out,
                  char *err, size_t errlen)
{
    *out = NULL;
    if (!conf->confluent && !conf->avro_schema) {
        snprintf(err, errlen, "avro: avro_schema (a .avsc file) is required");
        return EDDY_ECONFIG;
    }
    if (conf->confluent && !conf->avro_schema && !conf->nschemas) {
        snprintf(err, errlen, "avro: confluent framing needs schemas (id -> .avsc file)");
        return EDDY_ECONFIG;
    }
    eddy_avro_state *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return EDDY_ENOMEM;
    }
    s->confluent = conf->confluent;
    s->max_depth = max_depth;
    s->write_id = conf->write_schema_id;
    int rc = 0;
    if (conf->avro_schema) {
        if (!(s->plain = malloc(sizeof *s->plain))) {
            rc = EDDY_ENOMEM;
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        if ((rc = entry_init(s->plain, -1, conf->avro_schema, err, errlen)) != 0) {
            entry_free(s->plain);
            free(s->plain);
            s->plain = NULL;
            goto fail;
        }
    }
    if (conf->confluent && conf->nschemas) {
        if (!(s->ents = calloc(conf->nschemas, sizeof *s->ents))) {
            rc = EDDY_ENOMEM;
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        for (size_t i = 0; i < conf->nschemas; i++) {
            const eddy_schema_ref *ref = &conf->schemas[i];
            for (size_t j = 0; j < i; j++) {
                if (conf->schemas[j].id == ref->id) {
                    snprintf(err, errlen, "avro: schema id %d is listed twice", (int)ref->id);
                    rc = EDDY_ECONFIG;
                    goto fail;
                }
            }
            if (!ref->path) {
                snprintf(err, errlen, "avro: schema id %d has no file", (int)ref->id);
                rc = EDDY_ECONFIG;
                goto fail;
            }
            rc = entry_init(&s->ents[i], ref->id, ref->path, err, errlen);
            s->nents = i + 1;
            if (rc != 0)
                goto fail;
        }
    }
    s->reader = avro_reader_memory("", 0);
    if (!s->reader) {
        snprintf(err, errlen, "out of memory");
        rc = EDDY_ENOMEM;
        goto fail;
    }
    *out = s;
    return 0;
fail:
    eddy_avro_free(s);
    return rc;
}

static av_entry *find_id(eddy_avro_state *s, int32_t id)
{
    for (size_t i = 0; i < s->nents; i++)
        if (s->ents[i].id == id)
            return &s->ents[i];
    return NULL;
}

int eddy_avro_decode(eddy_avro_state *s, eddy_batch *b, eddy_record *r, const void *buf,
                     size_t len)
{
    const uint8_t *p = buf;
    char reason[320];
    uint64_t off = 0;
    size_t base = 0;
    av_entry *e = s->plain;
    uint32_t nf = r->nfields;
    int rc;
    if (len == 0) {
        snprintf(reason, sizeof reason, "empty payload");
        goto fail;
    }
    if (s->confluent) {
        if (p[0] != 0) {
            snprintf(reason, sizeof reason,
                     "bad magic byte 0x%02x (the Confluent wire format starts with 0x00) at byte 0",
                     p[0]);
            goto fail;
        }
        if (len < 5) {
            off = len;
            snprintf(reason, sizeof reason,
                     "truncated Confluent header: %zu of 5 bytes (magic + schema id) at byte %zu",
                     len, len);
            goto fail;
        }
        int32_t id = (int32_t)((uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4]);
        if (!(e = find_id(s, id))) {
            off = 1;
            snprintf(reason, sizeof reason, "unknown schema id %d at byte 1", (int)id);
            goto fail;
        }
        base = 5;
    }
    if (eddy_avro_check(e->sch->root, p + base, len - base, base, s->max_depth, reason,
                        sizeof reason, &off) != 0)
        goto fail;
    avro_reader_memory_set_source(s->reader, (const char *)p + base, (int64_t)(len - base));
    if (avro_value_read(s->reader, &e->value) != 0) {
        off = base;
        snprintf(reason, sizeof reason, "avro-c could not read the record: %s at byte %zu",
                 avro_strerror(), base);
        goto fail;
    }
    char err[256];
    rc = eddy_avro_conv_record(&e->value, b, r, &e->syms, 0, err, sizeof err);
    if (rc == 0)
        return 0;
    r->nfields = nf;
    off = base;
    if (rc == EDDY_ENOMEM) {
        eddy_fmt_fail(b, r, buf, len, off, err);
        return EDDY_ENOMEM;
    }
    snprintf(reason, sizeof reason, "%s (record starting at byte %zu)", err, base);
fail:
    r->nfields = nf;
    return eddy_fmt_fail(b, r, buf, len, off, reason);
}

int eddy_avro_encode(eddy_avro_state *s, const eddy_record *r, eddy_buf *out, char *err,
                     size_t errlen)
{
    av_entry *w = s->plain;
    if (s->confluent) {
        av_entry *byid = find_id(s, s->write_id);
        if (byid)
            w = byid;
        if (!w) {
            snprintf(err, errlen, "avro: no schema for write_schema_id %d", (int)s->write_id);
            return EDDY_ECONFIG;
        }
    }
    avro_value_reset(&w->value);
    int rc = eddy_record_to_avro_with(r, &w->value, w->sch, err, errlen);
    if (rc != 0)
        return rc;
    size_t size = 0;
    if (avro_value_sizeof(&w->value, &size) != 0) {
        snprintf(err, errlen, "avro-c could not size the record: %s", avro_strerror());
        return EDDY_EINVAL;
    }
    size_t hdr = s->confluent ? 5 : 0;
    if (eddy_buf_grow(out, hdr + size + 1) != 0) {
        snprintf(err, errlen, "out of memory");
        return EDDY_ENOMEM;
    }
    if (hdr) {
        uint32_t id = (uint32_t)s->write_id;
        uint8_t h[5] = {0, (uint8_t)(id >> 24), (uint8_t)(id >> 16), (uint8_t)(id >> 8), (uint8_t)id};
        memcpy(out->data + out->len, h, 5);
    }
    char *dst = (char *)out->data + out->len + hdr;
    if (!s->writer) {
        if (!(s->writer = avro_writer_memory(dst, (int64_t)size))) {
            snprintf(err, errlen, "out of memory");
            return EDDY_ENOMEM;
        }
    } else {
        avro_writer_memory_set_dest(s->writer, dst, (int64_t)size);
    }
    if (avro_value_write(s->writer, &w->value) != 0) {
        snprintf(err, errlen, "avro-c could not write the record: %s", avro_strerror());
        return EDDY_EINVAL;
    }
    out->len += hdr + size;
    return 0;
}
