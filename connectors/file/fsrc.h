/* State of the file source (`type: file`), shared by its per-format
 * readers. Internal to connectors/file. */
#ifndef EDDY_CONN_FSRC_H
#define EDDY_CONN_FSRC_H
#include <stdbool.h>
#include <stdint.h>

#include "engine/core/batch.h"
#include "engine/format/codec.h"
#include "connectors/file/csv.h"
#include "connectors/file/reader.h"
#if EDDY_HAVE_AVRO
#include <avro.h>
#endif

typedef enum { FSRC_JSON, FSRC_MSGPACK, FSRC_AVRO, FSRC_CSV } fsrc_format;

typedef struct fsrc {
    char *topic;
    char *path;
    fsrc_format format;
    uint32_t batch_size;
    bool follow;
    bool done;
    size_t max_record;
    eddy_codec *codec;  /* json, msgpack */
    eddy_reader rd;     /* json, msgpack, csv */
    int64_t line;       /* json, csv: lines consumed so far */
    int64_t index;      /* msgpack, avro: records read so far */
    bool skipping;      /* json: inside an over-long line */

    eddy_csv_row row;   /* csv */
    eddy_sym *cols;
    uint32_t ncols;
    bool header_done;

#if EDDY_HAVE_AVRO
    avro_file_reader_t areader; /* avro */
    avro_value_iface_t *aiface;
    avro_value_t aval;
    bool aval_ok;
    bool apending;      /* aval holds a record a full batch could not take */
    bool aended;        /* the end of the file or a read error: no more reads */
    int64_t agood;      /* records avro-c may read (avro_scan.c); -1: all */
    char *abad;         /* why the record at index agood may not be read */
#endif
} fsrc;

/* Each returns the number of records appended, EDDY_EEOF, or <0 fatal. */
int eddy_fsrc_poll_json(fsrc *s, eddy_batch *b, uint32_t max, int timeout_ms, char *err,
                        size_t errlen);
int eddy_fsrc_poll_csv(fsrc *s, eddy_batch *b, uint32_t max, int timeout_ms, char *err,
                       size_t errlen);
int eddy_fsrc_poll_msgpack(fsrc *s, eddy_batch *b, uint32_t max, int timeout_ms, char *err,
                           size_t errlen);
int eddy_fsrc_poll_avro(fsrc *s, eddy_batch *b, uint32_t max, char *err, size_t errlen);
int eddy_fsrc_open_avro(fsrc *s, char *err, size_t errlen);
void eddy_fsrc_close_avro(fsrc *s);

/* A new record of the source at offset off (NULL when the batch is full). */
eddy_record *eddy_fsrc_append(fsrc *s, eddy_batch *b, int64_t off);
/* A record that does not fit worker.batch_memory even alone: empties the
 * batch and appends it as one dead letter at offset off, saying where
 * ("file:line", "file: record N at byte offset M") and its size, with its
 * first `keep` bytes as raw. NULL when not even that fits. */
eddy_record *eddy_fsrc_too_big(fsrc *s, eddy_batch *b, int64_t off, const char *where,
                               const void *p, size_t len, size_t keep);

#endif
