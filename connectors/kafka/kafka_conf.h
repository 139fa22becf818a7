/* Shared by the Kafka source, sink, dead-letter output, `eddy topics` and
 * `eddy tail`: librdkafka client configuration from the top-level `kafka:`
 * section, and the embedded broker (librdkafka's in-process mock cluster)
 * behind `brokers: embedded`. */
#ifndef EDDY_KAFKA_CONF_H
#define EDDY_KAFKA_CONF_H
#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "engine/config/options.h"

/* The top-level `kafka:` section (for parsing, describe and docs). */
extern const eddy_option eddy_kafka_options[];

/* A new librdkafka config (caller owns it; librdkafka takes it on
 * rd_kafka_new success) with bootstrap.servers from kafka.brokers (the
 * embedded cluster's address for `embedded`), client.id, and every
 * kafka.properties entry, then every entry of `extra` (a connector's own
 * `properties` map, may be NULL) on top. kafka may be NULL: defaults.
 * NULL with the reason in err, naming the property (never its value when
 * it is a secret such as sasl.password or ssl.key.password). */
rd_kafka_conf_t *eddy_kafka_conf(const eddy_opts *kafka, const eddy_opts *extra,
                                 const char *extra_key, const char *client_suffix, char *err,
                                 size_t errlen);

/* Bootstrap servers of the embedded mock cluster, started on first use
 * (one per process, shared by every client). NULL with a reason on error. */
const char *eddy_kafka_embedded(char *err, size_t errlen);
/* Stops the embedded cluster (at exit, after every client is destroyed). */
void eddy_kafka_embedded_stop(void);

#endif
