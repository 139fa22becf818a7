/* Internals shared by the Avro files of engine/format/. */
#ifndef EDDY_AVRO_INT_H
#define EDDY_AVRO_INT_H
#include <avro.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/format/avro_value.h"
#include "engine/core/sym.h"

/* A schema compiled for the validating pass (avro_check.c): plain structs
 * instead of avro-c's hash-table lookups, links resolved. */
typedef struct eddy_av_node eddy_av_node;
struct eddy_av_node {
    avro_type_t type;      /* never AVRO_LINK */
    uint32_t n;            /* record fields, union branches, enum symbols */
    int64_t fixed_size;
    uint64_t minsize;      /* fewest bytes an encoded value takes */
    eddy_av_node **kids;   /* fields / branches; kids[0] = array items, map values */
    const char **names;    /* record field names (owned by the avro schema) */
    avro_schema_t schema;
};

struct eddy_avro_schema {
    avro_schema_t schema;
    eddy_av_node *root;
    eddy_av_node **nodes; /* every node, for freeing */
    size_t nnodes;
    eddy_batch *json;     /* the .avsc parsed, holding the default values */
    struct eddy_avro_default {
        char *record;     /* full name */
        const char *field;
        const eddy_value *value;
    } *defaults;
    size_t ndefaults;
};

const eddy_value *eddy_avro_default(const eddy_avro_schema *s, avro_schema_t record,
                                    const char *field);

/* Checks that p[0..len) holds exactly one value of `root`, with every length,
 * count, index and varint in bounds and strings valid UTF-8, so that avro-c
 * (which trusts lengths) can read it. base is added to offsets in messages.
 * 0, or EDDY_EPARSE with reason and *off set. */
int eddy_avro_check(const eddy_av_node *root, const uint8_t *p, size_t len, size_t base,
                    uint32_t max_depth, char *reason, size_t reasonlen, uint64_t *off);

/* eddy_avro_to_record with a symbol cache (may be NULL) and a UTF-8 check
 * switch (off when eddy_avro_check already did it). */
int eddy_avro_conv_record(avro_value_t *v, eddy_batch *b, eddy_record *r, eddy_symcache *syms,
                          int check_utf8, char *err, size_t errlen);

const char *eddy_avro_type_name(avro_type_t t);

#endif
