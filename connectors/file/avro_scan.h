/* Checking an Avro object container file before avro-c reads it
 * (avro_scan.c). Internal to connectors/file. */
#ifndef EDDY_CONN_AVRO_SCAN_H
#define EDDY_CONN_AVRO_SCAN_H
#include <avro.h>
#include <stdbool.h>
#include <stdint.h>

/* Reads the whole file at path (codec null or deflate) and checks every
 * record against schema (the file's writer schema) with nesting up to
 * max_depth. 0 with *good = -1 when every record passed, or *good = the
 * number of records before the first that did not (or before damaged
 * framing) and the reason in why; EDDY_EUNSUPPORTED (why: "codec X") for
 * other codecs; another <0 when the file cannot be read (why). */
int eddy_avro_scan_file(const char *path, avro_schema_t schema, uint32_t max_depth,
                        int64_t *good, char *why, size_t whylen);
/* Whether schema refers to a named type (it may then be recursive, and the
 * data's nesting is bounded only by the data). */
bool eddy_avro_schema_refers(avro_schema_t schema, unsigned depth);

#endif
