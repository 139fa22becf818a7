/* The built-in connectors, gathered by conn_registry.c. */
#ifndef EDDY_CONN_BUILTIN_H
#define EDDY_CONN_BUILTIN_H
#include "engine/connector.h"

extern const eddy_source_ops eddy_file_source;
extern const eddy_source_ops eddy_generator_source;
extern const eddy_source_ops eddy_kafka_source;
extern const eddy_sink_ops eddy_file_sink;
extern const eddy_sink_ops eddy_console_sink;
extern const eddy_sink_ops eddy_kafka_sink;
extern const eddy_sink_ops eddy_feature_store_sink;
extern const eddy_sink_ops eddy_webhook_sink;

#endif
