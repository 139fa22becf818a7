/* Avro values <-> eddy records, for the Avro codec and for the file
 * connector's object container files. Owner: the caller owns every
 * avro_value_t and schema passed in; results go into the caller's batch. */
#ifndef EDDY_AVRO_VALUE_H
#define EDDY_AVRO_VALUE_H
#include <avro.h>
#include <stddef.h>

#include "engine/core/batch.h"

/* Appends the fields of v (a record value) to r; strings, bytes and nested
 * values are copied into b's arena, so v may be reused afterwards.
 * int/long -> INT, float/double -> DOUBLE, boolean -> BOOL, string -> STRING,
 * bytes/fixed -> BYTES, enum -> STRING (the symbol), null -> NULL, union ->
 * the value of its branch, array -> ARRAY, map and nested record -> MAP.
 * 0, or <0 with a reason in err (EDDY_ENOMEM when the batch is full). */
int eddy_avro_to_record(avro_value_t *v, eddy_batch *b, eddy_record *r, char *err,
                        size_t errlen);

/* Fills out (a value of a record schema created by the caller; reset it
 * first when reusing it) from r's fields, matched by name. A missing field
 * (or a null one the schema does not allow) takes the null branch of a union
 * that has one, else it is an error naming the field; type mismatches are
 * errors naming the field and both types. 0, or <0 with a reason in err. */
int eddy_record_to_avro(const eddy_record *r, avro_value_t *out, char *err, size_t errlen);

/* A schema loaded from a .avsc file together with its fields' "default"
 * values, which avro-c does not keep. Owner: the caller (free with
 * eddy_avro_schema_free); the avro_schema_t stays owned by it. */
typedef struct eddy_avro_schema eddy_avro_schema;

/* 0, or <0 with "schema file x.avsc: ..." in err. The top-level schema must
 * be a record. */
int eddy_avro_schema_load(const char *path, eddy_avro_schema **out, char *err, size_t errlen);
/* The same from a schema already parsed (an object container file's
 * writer schema), without defaults; s holds its own reference to schema. */
int eddy_avro_schema_compile(avro_schema_t schema, eddy_avro_schema **out, char *err,
                             size_t errlen);
avro_schema_t eddy_avro_schema_get(const eddy_avro_schema *s);
void eddy_avro_schema_free(eddy_avro_schema *s);

/* As eddy_record_to_avro, and a missing field that is not nullable takes its
 * default from s (the schema out was created from) when it has one. */
int eddy_record_to_avro_with(const eddy_record *r, avro_value_t *out, const eddy_avro_schema *s,
                             char *err, size_t errlen);

/* Checks the values concatenated in p[0..len) (the records of an object
 * container file's block), one after the other, as the Kafka path checks a
 * message before avro-c reads it: lengths, counts, branches, UTF-8, and
 * nesting up to max_depth (avro-c reads recursively: data nested 100,000
 * deep overflows its stack). Returns the number of values that passed;
 * if that is below `count`, the reason (with the byte offset from base) of
 * the first that did not is in reason. */
uint64_t eddy_avro_check_values(const eddy_avro_schema *s, const uint8_t *p, size_t len,
                                uint64_t count, size_t base, uint32_t max_depth, char *reason,
                                size_t reasonlen);

#endif
