/* Reading a Kafka topic to the end (or following it) without joining a
 * consumer group, decoding each message with the engine's codecs: shared by
 * `eddy tail` and `eddy alerts tail`, which differ only in how a decoded
 * record is printed. */
#ifndef EDDY_CLI_TAIL_UTIL_H
#define EDDY_CLI_TAIL_UTIL_H
#include <librdkafka/rdkafka.h>
#include <signal.h>

#include "engine/core/batch.h"
#include "lib/buf/buf.h"

#define TAIL_MAX_SCHEMAS 32

typedef struct tail_opts {
    const char *prog; /* prefix of every message, e.g. "eddy tail" */
    const char *topic, *config, *brokers, *format;
    const char *schemas[TAIL_MAX_SCHEMAS];
    int nschemas;
    int confluent, json, follow, from_beginning;
    /* With confluent and one plain --schema: any schema id in the
     * Confluent header decodes with that schema (one known record type). */
    int confluent_any;
    long long count; /* 0: no limit */
    int timeout_ms;
} tail_opts;

/* What a formatter did with one message. */
enum {
    TAIL_PRINTED = 0,   /* a record */
    TAIL_MALFORMED = 1, /* an error line, counted towards --count */
    TAIL_SKIPPED = 2,   /* an error line, not counted towards --count */
};

/* Appends the output for message m to line; r is its decoded record (NULL:
 * tombstone), ts its Kafka timestamp (-1: none). TAIL_* or <0 when out of
 * memory. */
typedef int (*tail_format_fn)(void *arg, const tail_opts *o, const rd_kafka_message_t *m,
                              int64_t ts, const eddy_record *r, eddy_buf *line);

typedef struct tail_stats {
    long long printed, errors;
    int nparts;
    int ran; /* connected and read: the counts mean something */
} tail_stats;

/* Reads the topic, printing each message through fmt to stdout. Returns an
 * exit code (EXIT_*), having said why on stderr. */
int tail_run(const tail_opts *o, tail_format_fn fmt, void *arg, tail_stats *st);

/* SIGINT / SIGTERM set tail_interrupted instead of killing the process,
 * so output is flushed and the summary printed. */
extern volatile sig_atomic_t tail_interrupted;
void tail_catch_signals(void);

/* Parses a --timeout / --interval value within [1ms, 1h]; prints the
 * reason and returns -1 when it is not. */
int tail_parse_duration_opt(const char *prog, const char *opt, const char *s, int *out_ms);

#endif
