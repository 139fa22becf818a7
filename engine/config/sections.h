/* Option tables of the engine's own config sections (sections.c), for the
 * graph builder, `eddy describe` and the docs. Connector-owned sections
 * (`kafka:`, `topics:`) keep their tables in their connector. */
#ifndef EDDY_CONFIG_SECTIONS_H
#define EDDY_CONFIG_SECTIONS_H
#include "engine/config/options.h"

extern const eddy_option eddy_worker_options[];
extern const eddy_option eddy_admin_options[];
extern const eddy_option eddy_log_options[];
extern const eddy_option eddy_source_common_options[];
extern const eddy_option eddy_timestamp_options[];
extern const eddy_option eddy_watermark_options[];
extern const eddy_option eddy_pipeline_options[];

#endif
