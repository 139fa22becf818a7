/* Built-in connectors by `type:`. New connectors (Kafka, ...) add one line
 * to each list. */
#include <string.h>

#include "connectors/builtin.h"
#include "engine/connector.h"

static const eddy_source_ops *const sources[] = {
    &eddy_file_source,
    &eddy_generator_source,
    &eddy_kafka_source,
    NULL,
};

static const eddy_sink_ops *const sinks[] = {
    &eddy_file_sink,
    &eddy_console_sink,
    &eddy_kafka_sink,
    &eddy_feature_store_sink,
    &eddy_webhook_sink,
    NULL,
};

const eddy_source_ops *eddy_source_find(const char *type)
{
    if (!type)
        return NULL;
    for (size_t i = 0; sources[i]; i++)
        if (strcmp(sources[i]->type, type) == 0)
            return sources[i];
    return NULL;
}

const eddy_sink_ops *eddy_sink_find(const char *type)
{
    if (!type)
        return NULL;
    for (size_t i = 0; sinks[i]; i++)
        if (strcmp(sinks[i]->type, type) == 0)
            return sinks[i];
    return NULL;
}

const eddy_source_ops *const *eddy_sources_all(void) { return sources; }
const eddy_sink_ops *const *eddy_sinks_all(void) { return sinks; }
