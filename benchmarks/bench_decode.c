/* Decode + passthrough throughput of each codec on one thread, and (encode
 * mode) encode throughput.
 *
 * usage: bench_decode [records (default 2000000)] [json|msgpack|avro]
 *        bench_decode encode [records] [json|msgpack|avro]
 *
 * A pool of distinct 10-field records is generated and encoded in each
 * format in process (cycled through, so memory stays flat whatever the
 * count); the timed loop decodes each payload into a batch of 1024 records
 * and resets the batch when full, as the runtime does. Next to each figure,
 * a baseline measured in the same run with the bare library:
 *   json:    jansson json_loadb + json_decref (tree, no copy into a batch)
 *   msgpack: msgpack-c msgpack_unpack into a reused zone, no conversion
 *   avro:    avro-c avro_value_read into a reused generic value, no conversion
 *
 * Encode mode encodes the same pool of records (built once, cycled through)
 * into one output buffer, reset every 1024 records as a sink resets its
 * batch buffer. Baselines:
 *   json:    jansson json_dumpb (JSON_COMPACT) of trees built before timing
 *   msgpack: msgpack-c's packer writing the same values into a msgpack_sbuffer
 *   avro:    none
 */
#include <avro.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#ifdef HAVE_JANSSON
#include <jansson.h>
#endif

#include "engine/core/batch.h"
#include "engine/format/codec.h"
#include "engine/core/error.h"
#include "engine/core/sym.h"

#define POOL 4096
#define BATCH 1024

typedef struct payloads {
    uint8_t *data;
    size_t *off, *len;
    size_t n;
} payloads;

static uint64_t g_rng = 88172645463325252ull;
static uint64_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void set(eddy_batch *b, eddy_record *r, const char *name, eddy_value v)
{
    eddy_record_set(b, r, eddy_sym_intern(name, strlen(name)), &v);
}

static void make_record(eddy_batch *b, eddy_record *r)
{
    static const char *const merchants[] = {"acme-store", "globex", "initech", "umbrella-corp",
                                            "stark-industries", "wayne-enterprises"};
    static const char *const countries[] = {"FR", "DE", "US", "GB", "JP", "BR", "IN"};
    static const char *const cats[] = {"grocery", "electronics", "travel", "restaurants", "fuel"};
    char user[32];
    int n = snprintf(user, sizeof user, "user-%06llu", (unsigned long long)(rnd() % 1000000));
    const char *m = merchants[rnd() % 6], *c = countries[rnd() % 7], *k = cats[rnd() % 5];
    set(b, r, "user_id", eddy_batch_string(b, user, (size_t)n));
    set(b, r, "merchant", eddy_batch_string(b, m, strlen(m)));
    set(b, r, "amount", eddy_v_double((double)(rnd() % 1000000) / 100.0));
    set(b, r, "count", eddy_v_int((int64_t)(rnd() % 100)));
    set(b, r, "ts", eddy_v_int(1700000000000LL + (int64_t)(rnd() % 100000000)));
    set(b, r, "ok", eddy_v_bool(rnd() % 2));
    set(b, r, "country", eddy_batch_string(b, c, strlen(c)));
    set(b, r, "score", eddy_v_double((double)(rnd() % 100000) / 997.0));
    set(b, r, "category", eddy_batch_string(b, k, strlen(k)));
    set(b, r, "session", eddy_v_int((int64_t)(rnd() % 10000000000LL)));
}

static int build(eddy_codec *c, payloads *p)
{
    eddy_batch *b = eddy_batch_new(POOL, 0);
    eddy_buf out = {0};
    char err[256];
    p->off = calloc(POOL, sizeof *p->off);
    p->len = calloc(POOL, sizeof *p->len);
    if (!b || !p->off || !p->len)
        return -1;
    g_rng = 88172645463325252ull; /* the same records in every format */
    for (size_t i = 0; i < POOL; i++) {
        eddy_record *r = eddy_batch_append(b);
        make_record(b, r);
        p->off[i] = out.len;
        if (eddy_codec_encode(c, r, &out, err, sizeof err) != 0) {
            fprintf(stderr, "encode: %s\n", err);
            return -1;
        }
        p->len[i] = out.len - p->off[i];
    }
    p->data = out.data;
    p->n = POOL;
    eddy_batch_destroy(b);
    return 0;
}

typedef struct baseline {
    eddy_format f;
    msgpack_zone zone;
    avro_reader_t reader;
    avro_value_iface_t *iface;
    avro_value_t value;
} baseline;

/* One decode with the bare library; 0 or -1. */
static int base_decode(baseline *bl, const uint8_t *p, size_t len)
{
    switch (bl->f) {
    case EDDY_FMT_JSON: {
#ifdef HAVE_JANSSON
        json_error_t e;
        json_t *j = json_loadb((const char *)p, len, 0, &e);
        if (!j)
            return -1;
        json_decref(j);
        return 0;
#else
        return -1;
#endif
    }
    case EDDY_FMT_MSGPACK: {
        msgpack_object o;
        size_t off = 0;
        msgpack_zone_clear(&bl->zone);
        return msgpack_unpack((const char *)p, len, &off, &bl->zone, &o) == MSGPACK_UNPACK_SUCCESS
                   ? 0
                   : -1;
    }
    case EDDY_FMT_AVRO:
        avro_reader_memory_set_source(bl->reader, (const char *)p, (int64_t)len);
        return avro_value_read(bl->reader, &bl->value) == 0 ? 0 : -1;
    }
    return -1;
}

typedef struct result {
    double ours_s, base_s;
    uint64_t errors;
} result;

static result run(eddy_format f, uint64_t count)
{
    result res = {0, 0, 0};
    eddy_codec_conf conf = {.format = f, .avro_schema = BENCH_AVSC};
    eddy_codec *c;
    char err[256];
    if (eddy_codec_new(&conf, &c, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", eddy_format_name(f), err);
        exit(1);
    }
    payloads p = {0};
    if (build(c, &p) != 0) {
        fprintf(stderr, "%s: cannot build payloads\n", eddy_format_name(f));
        exit(1);
    }
    eddy_batch *b = eddy_batch_new(BATCH, 0);
    /* Warm-up: arena chunks, symbol cache, branch predictors. */
    for (uint64_t i = 0; i < 2 * POOL; i++) {
        if (b->n == BATCH)
            eddy_batch_reset(b);
        eddy_record *r = eddy_batch_append(b);
        eddy_codec_decode(c, b, r, p.data + p.off[i % POOL], p.len[i % POOL]);
    }
    eddy_batch_reset(b);
    double t0 = now();
    for (uint64_t i = 0; i < count; i++) {
        if (b->n == BATCH)
            eddy_batch_reset(b);
        eddy_record *r = eddy_batch_append(b);
        size_t k = i % POOL;
        if (eddy_codec_decode(c, b, r, p.data + p.off[k], p.len[k]) != 0)
            res.errors++;
    }
    res.ours_s = now() - t0;

    baseline bl = {.f = f};
    msgpack_zone_init(&bl.zone, 64 * 1024);
    if (f == EDDY_FMT_AVRO) {
        avro_schema_t schema;
        FILE *fp = fopen(BENCH_AVSC, "rb");
        char text[8192];
        size_t n = fp ? fread(text, 1, sizeof text - 1, fp) : 0;
        if (fp)
            fclose(fp);
        text[n] = '\0';
        if (avro_schema_from_json_length(text, n, &schema) != 0) {
            fprintf(stderr, "avro schema: %s\n", avro_strerror());
            exit(1);
        }
        bl.iface = avro_generic_class_from_schema(schema);
        avro_generic_value_new(bl.iface, &bl.value);
        bl.reader = avro_reader_memory("", 0);
        avro_schema_decref(schema);
    }
    int have_base = 1;
#ifndef HAVE_JANSSON
    if (f == EDDY_FMT_JSON)
        have_base = 0;
#endif
    if (have_base) {
        for (uint64_t i = 0; i < 2 * POOL; i++)
            base_decode(&bl, p.data + p.off[i % POOL], p.len[i % POOL]);
        t0 = now();
        for (uint64_t i = 0; i < count; i++) {
            size_t k = i % POOL;
            if (base_decode(&bl, p.data + p.off[k], p.len[k]) != 0)
                res.errors++;
        }
        res.base_s = now() - t0;
    }
    if (f == EDDY_FMT_AVRO) {
        avro_value_decref(&bl.value);
        avro_value_iface_decref(bl.iface);
        avro_reader_free(bl.reader);
    }
    msgpack_zone_destroy(&bl.zone);
    size_t bytes = 0;
    for (size_t i = 0; i < p.n; i++)
        bytes += p.len[i];
    printf("%-8s  %5.0f B  %10.0f  %7.1f   %10.0f  %7.1f   %5.2fx\n", eddy_format_name(f),
           (double)bytes / (double)p.n, (double)count / res.ours_s, res.ours_s * 1e9 / (double)count,
           res.base_s > 0 ? (double)count / res.base_s : 0.0,
           res.base_s > 0 ? res.base_s * 1e9 / (double)count : 0.0,
           res.base_s > 0 ? res.base_s / res.ours_s : 0.0);
    fflush(stdout);
    free(p.data);
    free(p.off);
    free(p.len);
    eddy_batch_destroy(b);
    eddy_codec_destroy(c);
    return res;
}

/* ---- encode mode ------------------------------------------------------- */

static int mp_pack(msgpack_packer *pk, const eddy_value *v)
{
    switch (v->type) {
    case EDDY_NULL: return msgpack_pack_nil(pk);
    case EDDY_BOOL: return v->u.b ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    case EDDY_INT: return msgpack_pack_int64(pk, v->u.i);
    case EDDY_DOUBLE: return msgpack_pack_double(pk, v->u.d);
    case EDDY_STRING:
        return msgpack_pack_str(pk, v->len) || msgpack_pack_str_body(pk, v->u.s, v->len);
    case EDDY_BYTES:
        return msgpack_pack_bin(pk, v->len) || msgpack_pack_bin_body(pk, v->u.bytes, v->len);
    case EDDY_ARRAY:
        if (msgpack_pack_array(pk, v->len) != 0)
            return -1;
        for (uint32_t i = 0; i < v->len; i++)
            if (mp_pack(pk, &v->u.items[i]) != 0)
                return -1;
        return 0;
    case EDDY_MAP:
        if (msgpack_pack_map(pk, v->len) != 0)
            return -1;
        for (uint32_t i = 0; i < v->len; i++)
            if (mp_pack(pk, &v->u.kvs[i].key) != 0 || mp_pack(pk, &v->u.kvs[i].val) != 0)
                return -1;
        return 0;
    }
    return -1;
}

static int mp_record(msgpack_packer *pk, const eddy_record *r)
{
    if (msgpack_pack_map(pk, r->nfields) != 0)
        return -1;
    for (uint32_t i = 0; i < r->nfields; i++) {
        size_t n = eddy_sym_len(r->fields[i].name);
        if (msgpack_pack_str(pk, n) || msgpack_pack_str_body(pk, eddy_sym_name(r->fields[i].name), n) ||
            mp_pack(pk, &r->fields[i].v))
            return -1;
    }
    return 0;
}

#ifdef HAVE_JANSSON
/* The bench's records hold only scalars. */
static json_t *jn_record(const eddy_record *r)
{
    json_t *o = json_object();
    for (uint32_t i = 0; o && i < r->nfields; i++) {
        const eddy_value *v = &r->fields[i].v;
        json_t *j = NULL;
        switch (v->type) {
        case EDDY_NULL: j = json_null(); break;
        case EDDY_BOOL: j = json_boolean(v->u.b); break;
        case EDDY_INT: j = json_integer(v->u.i); break;
        case EDDY_DOUBLE: j = json_real(v->u.d); break;
        case EDDY_STRING: j = json_stringn(v->u.s, v->len); break;
        default: break;
        }
        if (!j || json_object_set_new(o, eddy_sym_name(r->fields[i].name), j) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}
#endif

static void run_encode(eddy_format f, uint64_t count)
{
    eddy_codec_conf conf = {.format = f, .avro_schema = BENCH_AVSC};
    eddy_codec *c;
    char err[256];
    if (eddy_codec_new(&conf, &c, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", eddy_format_name(f), err);
        exit(1);
    }
    eddy_batch *b = eddy_batch_new(POOL, 0);
    if (!b) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    g_rng = 88172645463325252ull;
    for (size_t i = 0; i < POOL; i++)
        make_record(b, eddy_batch_append(b));
    eddy_buf out = {0};
    uint64_t errors = 0, bytes = 0;
    for (uint64_t i = 0; i < 2 * POOL; i++) {
        if (i % BATCH == 0)
            eddy_buf_reset(&out);
        if (eddy_codec_encode(c, &b->recs[i % POOL], &out, err, sizeof err) != 0)
            errors++;
    }
    double t0 = now();
    for (uint64_t i = 0; i < count; i++) {
        if (i % BATCH == 0) {
            bytes += out.len;
            eddy_buf_reset(&out);
        }
        if (eddy_codec_encode(c, &b->recs[i % POOL], &out, err, sizeof err) != 0)
            errors++;
    }
    double ours = now() - t0;
    bytes += out.len;

    double base = 0;
    if (f == EDDY_FMT_MSGPACK) {
        msgpack_sbuffer sb;
        msgpack_packer pk;
        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        for (uint64_t i = 0; i < 2 * POOL; i++) {
            if (i % BATCH == 0)
                msgpack_sbuffer_clear(&sb);
            mp_record(&pk, &b->recs[i % POOL]);
        }
        t0 = now();
        for (uint64_t i = 0; i < count; i++) {
            if (i % BATCH == 0)
                msgpack_sbuffer_clear(&sb);
            if (mp_record(&pk, &b->recs[i % POOL]) != 0)
                errors++;
        }
        base = now() - t0;
        msgpack_sbuffer_destroy(&sb);
    }
#ifdef HAVE_JANSSON
    if (f == EDDY_FMT_JSON) {
        json_t **trees = calloc(POOL, sizeof *trees);
        static char jbuf[4096];
        for (size_t i = 0; trees && i < POOL; i++)
            if (!(trees[i] = jn_record(&b->recs[i])))
                errors++;
        if (!trees || errors) {
            fprintf(stderr, "jansson: cannot build trees\n");
            exit(1);
        }
        for (uint64_t i = 0; i < 2 * POOL; i++)
            json_dumpb(trees[i % POOL], jbuf, sizeof jbuf, JSON_COMPACT);
        t0 = now();
        for (uint64_t i = 0; i < count; i++)
            if (json_dumpb(trees[i % POOL], jbuf, sizeof jbuf, JSON_COMPACT) == 0)
                errors++;
        base = now() - t0;
        for (size_t i = 0; i < POOL; i++)
            json_decref(trees[i]);
        free(trees);
    }
#endif
    printf("%-8s  %5.0f B  %10.0f  %7.1f", eddy_format_name(f), (double)bytes / (double)count,
           (double)count / ours, ours * 1e9 / (double)count);
    if (base > 0)
        printf("   %10.0f  %7.1f   %5.2fx\n", (double)count / base, base * 1e9 / (double)count,
               base / ours);
    else
        printf("   (no baseline)\n");
    fflush(stdout);
    if (errors) {
        fprintf(stderr, "%s: %llu encode errors\n", eddy_format_name(f), (unsigned long long)errors);
        exit(1);
    }
    eddy_buf_free(&out);
    eddy_batch_destroy(b);
    eddy_codec_destroy(c);
}

int main(int argc, char **argv)
{
    uint64_t count = 2000000;
    int only = -1;
    int encode = argc > 1 && strcmp(argv[1], "encode") == 0;
    if (encode) {
        argc--;
        argv++;
    }
    if (argc > 1) {
        char *end;
        count = strtoull(argv[1], &end, 10);
        if (*end || !count) {
            fprintf(stderr, "usage: bench_decode [encode] [records] [json|msgpack|avro]\n");
            return 2;
        }
    }
    if (argc > 2 && (only = eddy_format_parse(argv[2])) < 0) {
        fprintf(stderr, "unknown format %s (json, msgpack or avro)\n", argv[2]);
        return 2;
    }
    if (encode) {
        printf("encode, 1 thread, %llu records (pool of %d distinct), buffer reset every %d\n",
               (unsigned long long)count, POOL, BATCH);
        printf("format    avg size    events/s  ns/event   baseline/s  ns/event   eddy vs baseline\n");
        for (int f = EDDY_FMT_JSON; f <= EDDY_FMT_AVRO; f++)
            if (only < 0 || only == f)
                run_encode((eddy_format)f, count);
        printf("baselines: json = jansson json_dumpb (JSON_COMPACT) of prebuilt trees; msgpack = "
               "msgpack-c packer into a msgpack_sbuffer; avro = none\n");
        return 0;
    }
    printf("decode + passthrough, 1 thread, %llu records (pool of %d distinct), batch %d\n",
           (unsigned long long)count, POOL, BATCH);
    printf("format    avg size    events/s  ns/event   baseline/s  ns/event   eddy vs baseline\n");
    uint64_t errors = 0;
    for (int f = EDDY_FMT_JSON; f <= EDDY_FMT_AVRO; f++)
        if (only < 0 || only == f)
            errors += run((eddy_format)f, count).errors;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS: %.1f MiB\n", (double)ru.ru_maxrss / 1024.0);
    printf("baselines: json = jansson json_loadb+json_decref; msgpack = msgpack_unpack (no "
           "conversion); avro = avro_value_read into a reused value (no conversion)\n");
    if (errors) {
        fprintf(stderr, "%llu decode errors\n", (unsigned long long)errors);
        return 1;
    }
    return 0;
}
