/* Record formats: JSON, msgpack and Avro binary (with optional Confluent
 * framing), behind one interface. Implementations live in engine/format/.
 *
 * Decoding writes fields straight into the batch arena (no malloc per
 * record). A payload that cannot be decoded marks the record as an error
 * (EDDY_REC_ERROR) carrying the reason and the byte offset where decoding
 * failed, keeps the raw payload for the dead-letter output, and the call
 * returns EDDY_EPARSE: never a crash, never a silent skip.
 *
 * Owner: the caller owns the codec (one per source or sink, used by one
 * thread at a time). */
#ifndef EDDY_CODEC_H
#define EDDY_CODEC_H
#include <stddef.h>
#include <stdint.h>

#include "engine/core/batch.h"
#include "lib/buf/buf.h"

typedef enum eddy_format {
    EDDY_FMT_JSON = 0,
    EDDY_FMT_MSGPACK = 1,
    EDDY_FMT_AVRO = 2
} eddy_format;

typedef struct eddy_schema_ref {
    int32_t id;       /* Confluent schema registry id */
    const char *path; /* .avsc file */
} eddy_schema_ref;

typedef struct eddy_codec_conf {
    eddy_format format;
    /* Avro: the schema of plain (unframed) payloads, and of encoded output. */
    const char *avro_schema;
    /* Avro: payloads use the Confluent wire format (magic byte 0, 4-byte
     * big-endian schema id); ids resolve through `schemas`. When encoding,
     * `write_schema_id` is the id written (its schema must be in `schemas`
     * or be avro_schema). */
    int confluent;
    const eddy_schema_ref *schemas;
    size_t nschemas;
    int32_t write_schema_id;
    /* Maximum nesting depth of maps/arrays accepted (0 = 64). */
    uint32_t max_depth;
} eddy_codec_conf;

typedef struct eddy_codec eddy_codec;

/* NaN and infinite doubles written to JSON so far (as null: JSON has no
 * spelling for them), process-wide; the worker reports it as the metric
 * eddy_json_nonfinite_total and says so in the log the first time. */
uint64_t eddy_json_nonfinite(void);

/* The nesting depth every reader of a format accepts unless told otherwise
 * (codec max_depth 0; Avro object container files). */
#define EDDY_CODEC_DEFAULT_DEPTH 64u

/* 0, or <0 with a reason in err (e.g. "schema file x.avsc: ..."). */
int eddy_codec_new(const eddy_codec_conf *conf, eddy_codec **out, char *err, size_t errlen);
void eddy_codec_destroy(eddy_codec *c);
eddy_format eddy_codec_format(const eddy_codec *c);

/* Decodes one payload into the fields of r (which the caller appended to b).
 * 0, or EDDY_EPARSE with r marked as an error (see above). */
int eddy_codec_decode(eddy_codec *c, eddy_batch *b, eddy_record *r, const void *buf, size_t len);

/* Appends the encoding of r's fields to out. 0, or <0 with a reason in err
 * (e.g. a field missing that the Avro schema requires). */
int eddy_codec_encode(eddy_codec *c, const eddy_record *r, eddy_buf *out, char *err,
                      size_t errlen);

/* Parses "json" | "msgpack" | "avro". -1 if unknown. */
int eddy_format_parse(const char *name);
const char *eddy_format_name(eddy_format f);

/* JSON text of one value (for logs, console output, tools). */
int eddy_value_to_json(const eddy_value *v, eddy_buf *out);
/* A record's fields as one JSON object. */
int eddy_record_to_json(const eddy_record *r, eddy_buf *out);

#endif
