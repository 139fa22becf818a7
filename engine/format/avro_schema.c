/* Loading a .avsc file: the avro-c schema, a compiled copy for validation,
 * and the fields' default values (avro-c drops them, so the file is also
 * read with our JSON decoder). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/format/avro_int.h"
#include "engine/core/error.h"
#include "engine/format/format_int.h"

const char *eddy_avro_type_name(avro_type_t t)
{
    switch (t) {
    case AVRO_STRING: return "string";
    case AVRO_BYTES: return "bytes";
    case AVRO_INT32: return "int";
    case AVRO_INT64: return "long";
    case AVRO_FLOAT: return "float";
    case AVRO_DOUBLE: return "double";
    case AVRO_BOOLEAN: return "boolean";
    case AVRO_NULL: return "null";
    case AVRO_RECORD: return "record";
    case AVRO_ENUM: return "enum";
    case AVRO_FIXED: return "fixed";
    case AVRO_MAP: return "map";
    case AVRO_ARRAY: return "array";
    case AVRO_UNION: return "union";
    case AVRO_LINK: return "link";
    }
    return "unknown";
}

static int read_file(const char *path, char **data, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "schema file %s: %s", path, strerror(errno));
        return EDDY_EIO;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (n + 1 < cap)
            break;
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int ioerr = ferror(f);
    fclose(f);
    if (!buf) {
        snprintf(err, errlen, "schema file %s: out of memory", path);
        return EDDY_ENOMEM;
    }
    if (ioerr) {
        free(buf);
        snprintf(err, errlen, "schema file %s: read error", path);
        return EDDY_EIO;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

/* ---- compiled schema ---------------------------------------------------- */

typedef struct compiler {
    eddy_avro_schema *s;
    size_t cap;
} compiler;

static eddy_av_node *node_new(compiler *c, avro_schema_t schema)
{
    if (c->s->nnodes == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        eddy_av_node **n = realloc(c->s->nodes, sizeof *n * cap);
        if (!n)
            return NULL;
        c->s->nodes = n;
        c->cap = cap;
    }
    eddy_av_node *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->schema = schema;
    n->type = avro_typeof(schema);
    c->s->nodes[c->s->nnodes++] = n;
    return n;
}

static eddy_av_node *compile(compiler *c, avro_schema_t schema, unsigned depth)
{
    while (avro_typeof(schema) == AVRO_LINK)
        schema = avro_schema_link_target(schema);
    /* Named types can refer to themselves: reuse the node already made. */
    avro_type_t t = avro_typeof(schema);
    if (t == AVRO_RECORD || t == AVRO_ENUM || t == AVRO_FIXED)
        for (size_t i = 0; i < c->s->nnodes; i++)
            if (c->s->nodes[i]->schema == schema)
                return c->s->nodes[i];
    if (depth > EDDY_FMT_MAX_DEPTH)
        return NULL;
    eddy_av_node *n = node_new(c, schema);
    if (!n)
        return NULL;
    switch (t) {
    case AVRO_NULL: n->minsize = 0; break;
    case AVRO_FLOAT: n->minsize = 4; break;
    case AVRO_DOUBLE: n->minsize = 8; break;
    case AVRO_ENUM:
        n->minsize = 1;
        n->n = (uint32_t)avro_schema_enum_number_of_symbols(schema);
        break;
    case AVRO_FIXED:
        n->fixed_size = avro_schema_fixed_size(schema);
        n->minsize = (uint64_t)n->fixed_size;
        break;
    case AVRO_ARRAY:
    case AVRO_MAP:
        n->minsize = 1;
        n->kids = calloc(1, sizeof *n->kids);
        if (!n->kids)
            return NULL;
        n->n = 1;
        n->kids[0] = compile(c, t == AVRO_ARRAY ? avro_schema_array_items(schema)
                                                : avro_schema_map_values(schema), depth + 1);
        if (!n->kids[0])
            return NULL;
        break;
    case AVRO_UNION:
        n->minsize = 1;
        n->n = (uint32_t)avro_schema_union_size(schema);
        n->kids = calloc(n->n ? n->n : 1, sizeof *n->kids);
        if (!n->kids)
            return NULL;
        for (uint32_t i = 0; i < n->n; i++)
            if (!(n->kids[i] = compile(c, avro_schema_union_branch(schema, i), depth + 1)))
                return NULL;
        break;
    case AVRO_RECORD: {
        n->n = (uint32_t)avro_schema_record_size(schema);
        n->kids = calloc(n->n ? n->n : 1, sizeof *n->kids);
        n->names = calloc(n->n ? n->n : 1, sizeof *n->names);
        if (!n->kids || !n->names)
            return NULL;
        uint64_t min = 0;
        for (uint32_t i = 0; i < n->n; i++) {
            n->names[i] = avro_schema_record_field_name(schema, (int)i);
            n->kids[i] = compile(c, avro_schema_record_field_get_by_index(schema, (int)i),
                                 depth + 1);
            if (!n->kids[i])
                return NULL;
            min += n->kids[i]->minsize; /* a record still being compiled counts 0 */
        }
        n->minsize = min;
        break;
    }
    default: n->minsize = 1; break;
    }
    return n;
}

/* ---- defaults ------------------------------------------------------------ */

static const eddy_value *map_get(const eddy_value *m, const char *key)
{
    if (!m || m->type != EDDY_MAP)
        return NULL;
    size_t kl = strlen(key);
    for (uint32_t i = 0; i < m->len; i++)
        if (m->u.kvs[i].key.len == kl && memcmp(m->u.kvs[i].key.u.s, key, kl) == 0)
            return &m->u.kvs[i].val;
    return NULL;
}

static int is_str(const eddy_value *v, const char *s)
{
    return v && v->type == EDDY_STRING && v->len == strlen(s) && memcmp(v->u.s, s, v->len) == 0;
}

static int add_default(eddy_avro_schema *s, const char *full, const eddy_value *field)
{
    const eddy_value *name = map_get(field, "name");
    const eddy_value *dv = map_get(field, "default");
    if (!dv || !name || name->type != EDDY_STRING)
        return 0;
    struct eddy_avro_default *d = realloc(s->defaults, sizeof *d * (s->ndefaults + 1));
    if (!d)
        return -1;
    s->defaults = d;
    d = &s->defaults[s->ndefaults];
    if (!(d->record = strdup(full)))
        return -1;
    d->field = name->u.s; /* NUL-terminated by the JSON decoder */
    d->value = dv;
    s->ndefaults++;
    return 0;
}

static int walk_type(eddy_avro_schema *s, const eddy_value *t, const char *ns, unsigned depth)
{
    if (!t || depth > EDDY_FMT_MAX_DEPTH)
        return 0;
    if (t->type == EDDY_ARRAY) {
        for (uint32_t i = 0; i < t->len; i++)
            if (walk_type(s, &t->u.items[i], ns, depth + 1) != 0)
                return -1;
        return 0;
    }
    if (t->type != EDDY_MAP)
        return 0;
    const eddy_value *type = map_get(t, "type");
    if (is_str(type, "array"))
        return walk_type(s, map_get(t, "items"), ns, depth + 1);
    if (is_str(type, "map"))
        return walk_type(s, map_get(t, "values"), ns, depth + 1);
    if (!is_str(type, "record") && !is_str(type, "error"))
        return walk_type(s, type, ns, depth + 1);
    const eddy_value *name = map_get(t, "name");
    const eddy_value *space = map_get(t, "namespace");
    if (!name || name->type != EDDY_STRING)
        return 0;
    char full[1024], inner[512];
    const char *dot = strrchr(name->u.s, '.');
    if (dot) {
        snprintf(full, sizeof full, "%s", name->u.s);
        snprintf(inner, sizeof inner, "%.*s", (int)(dot - name->u.s), name->u.s);
    } else {
        if (space && space->type == EDDY_STRING)
            ns = space->u.s;
        snprintf(inner, sizeof inner, "%s", ns ? ns : "");
        snprintf(full, sizeof full, "%s%s%s", inner, inner[0] ? "." : "", name->u.s);
    }
    const eddy_value *fields = map_get(t, "fields");
    if (!fields || fields->type != EDDY_ARRAY)
        return 0;
    for (uint32_t i = 0; i < fields->len; i++) {
        const eddy_value *f = &fields->u.items[i];
        if (add_default(s, full, f) != 0 ||
            walk_type(s, map_get(f, "type"), inner[0] ? inner : NULL, depth + 1) != 0)
            return -1;
    }
    return 0;
}

static int load_defaults(eddy_avro_schema *s, const char *path, const char *text, size_t len,
                         char *err, size_t errlen)
{
    s->json = eddy_batch_new(4, 0);
    if (!s->json)
        goto nomem;
    eddy_json_dec d;
    eddy_json_dec_init(&d, EDDY_FMT_MAX_DEPTH);
    eddy_record *r = eddy_batch_append(s->json);
    char reason[256];
    uint64_t off;
    int rc = r ? eddy_json_parse(&d, s->json, r, (const uint8_t *)text, len, reason, sizeof reason,
                                 &off)
               : EDDY_ENOMEM;
    eddy_json_dec_free(&d);
    if (rc == EDDY_ENOMEM)
        goto nomem;
    if (rc != 0) {
        /* avro-c accepted it, so this is JSON avro-c tolerates and we do not. */
        snprintf(err, errlen, "schema file %s: %s", path, reason);
        return EDDY_ECONFIG;
    }
    /* The top level as a map, so one walker serves every level. */
    eddy_kv *kvs = eddy_batch_alloc(s->json, sizeof *kvs * (r->nfields ? r->nfields : 1));
    if (!kvs)
        goto nomem;
    for (uint32_t i = 0; i < r->nfields; i++) {
        kvs[i].key = eddy_v_str(eddy_sym_name(r->fields[i].name),
                                (uint32_t)eddy_sym_len(r->fields[i].name));
        kvs[i].val = r->fields[i].v;
    }
    eddy_value top = {.type = EDDY_MAP, .len = r->nfields, .u.kvs = kvs};
    if (walk_type(s, &top, NULL, 0) != 0)
        goto nomem;
    return 0;
nomem:
    snprintf(err, errlen, "schema file %s: out of memory", path);
    return EDDY_ENOMEM;
}

const eddy_value *eddy_avro_default(const eddy_avro_schema *s, avro_schema_t record,
                                    const char *field)
{
    if (!s)
        return NULL;
    const char *name = avro_schema_name(record);
    const char *space = avro_schema_namespace(record);
    if (!name)
        return NULL;
    char full[512];
    snprintf(full, sizeof full, "%s%s%s", space ? space : "", space && *space ? "." : "", name);
    const eddy_value *loose = NULL;
    for (size_t i = 0; i < s->ndefaults; i++) {
        const struct eddy_avro_default *d = &s->defaults[i];
        if (strcmp(d->field, field) != 0)
            continue;
        if (strcmp(d->record, full) == 0)
            return d->value;
        /* avro-c may not report an inherited namespace: match the short name. */
        const char *dot = strrchr(d->record, '.');
        if (!loose && strcmp(dot ? dot + 1 : d->record, name) == 0)
            loose = d->value;
    }
    return loose;
}

int eddy_avro_schema_load(const char *path, eddy_avro_schema **out, char *err, size_t errlen)
{
    *out = NULL;
    char *text;
    size_t len;
    int rc = read_file(path, &text, &len, err, errlen);
    if (rc != 0)
        return rc;
    eddy_avro_schema *s = calloc(1, sizeof *s);
    if (!s) {
        free(text);
        snprintf(err, errlen, "schema file %s: out of memory", path);
        return EDDY_ENOMEM;
    }
    if (avro_schema_from_json_length(text, len, &s->schema) != 0) {
        snprintf(err, errlen, "schema file %s: %s", path, avro_strerror());
        rc = EDDY_ECONFIG;
        goto fail;
    }
    if (avro_typeof(s->schema) != AVRO_RECORD) {
        snprintf(err, errlen, "schema file %s: the top-level schema must be a record, not %s",
                 path, eddy_avro_type_name(avro_typeof(s->schema)));
        rc = EDDY_ECONFIG;
        goto fail;
    }
    compiler c = {s, 0};
    if (!(s->root = compile(&c, s->schema, 0))) {
        snprintf(err, errlen, "schema file %s: out of memory (or nested deeper than %u)", path,
                 EDDY_FMT_MAX_DEPTH);
        rc = EDDY_ENOMEM;
        goto fail;
    }
    if ((rc = load_defaults(s, path, text, len, err, errlen)) != 0)
        goto fail;
    free(text);
    *out = s;
    return 0;
fail:
    free(text);
    eddy_avro_schema_free(s);
    return rc;
}

int eddy_avro_schema_compile(avro_schema_t schema, eddy_avro_schema **out, char *err,
                             size_t errlen)
{
    *out = NULL;
    eddy_avro_schema *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return EDDY_ENOMEM;
    }
    s->schema = avro_schema_incref(schema);
    compiler c = {s, 0};
    if (!(s->root = compile(&c, s->schema, 0))) {
        snprintf(err, errlen, "out of memory (or the schema is nested deeper than %u)",
                 EDDY_FMT_MAX_DEPTH);
        eddy_avro_schema_free(s);
        return EDDY_ENOMEM;
    }
    *out = s;
    return 0;
}

avro_schema_t eddy_avro_schema_get(const eddy_avro_schema *s) { return s->schema; }

void eddy_avro_schema_free(eddy_avro_schema *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nnodes; i++) {
        free(s->nodes[i]->kids);
        free(s->nodes[i]->names);
        free(s->nodes[i]);
    }
    free(s->nodes);
    for (size_t i = 0; i < s->ndefaults; i++)
        free(s->defaults[i].record);
    free(s->defaults);
    eddy_batch_destroy(s->json);
    if (s->schema)
        avro_schema_decref(s->schema);
    free(s);
}
