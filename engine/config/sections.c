/* Option tables of the engine's own config sections. Like every option
 * table they drive parsing, validation, defaults, `eddy describe` and
 * docs/CONFIG.md. */
#include "engine/config/sections.h"

const eddy_option eddy_worker_options[] = {
    {"name", EDDY_OPT_STRING, "eddy", EDDY_NO_RANGE, NULL, 0,
     "Worker name, used in logs, metrics and alerts."},
    {"threads", EDDY_OPT_INT, "1", 1, 64, NULL, 0,
     "Processing threads. A Kafka source reads with one consumer of its group per thread, so "
     "its partitions spread over the threads (more threads than partitions leaves some idle); "
     "other sources are each owned by one thread, spread over them."},
    {"batch_size", EDDY_OPT_INT, "1024", 1, 1000000, NULL, 0,
     "Maximum records a source hands to the pipelines at once."},
    {"batch_memory", EDDY_OPT_SIZE, "64MiB", 65536, 17179869184.0, NULL, 0,
     "Maximum arena memory of one batch; a record that does not fit is a dead letter."},
    {"plugin_dirs", EDDY_OPT_LIST, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_PATH,
     "Directories whose *.so operator plugins are loaded. Plugins load from these only."},
    {"exit_on_eof", EDDY_OPT_BOOL, "true", EDDY_NO_RANGE, NULL, 0,
     "Exit once every source has ended (files, bounded generators)."},
    {"flush_interval", EDDY_OPT_DURATION, "1s", 1, 3600000, NULL, 0,
     "How often input offsets are committed (and durable state written). Without durable state "
     "or exactly-once the thread does not stop for it: offsets are committed once the sinks "
     "have acknowledged the outputs before them. With exactly_once the default is 100ms instead "
     "(read_committed consumers see outputs at each commit). A crash repeats at most this much "
     "input (at-least-once); each commit with durable state writes every changed key's state."},
    {"run_for", EDDY_OPT_DURATION, "0ms", 0, 31536000000.0, NULL, 0,
     "Drain and exit after this long, as on SIGTERM (demos, benchmarks); 0: run until the input "
     "ends or a signal."},
    {"shutdown_timeout", EDDY_OPT_DURATION, "30s", 0, 86400000, NULL, 0,
     "On SIGTERM, how long draining may take before eddy exits anyway (exit code 1)."},
    {NULL, 0, NULL, 0, 0, NULL, 0, NULL},
};

const eddy_option eddy_admin_options[] = {
    {"enabled", EDDY_OPT_BOOL, "true", EDDY_NO_RANGE, NULL, 0, "Serve the admin HTTP endpoints."},
    {"listen", EDDY_OPT_STRING, "127.0.0.1:9464", EDDY_NO_RANGE, NULL, 0,
     "host:port of /healthz, /readyz, /metrics and /v1/... (port 0: any free port; IPv6 as "
     "[::1]:9464). On loopback (127.0.0.1, localhost, [::1]) only this machine can connect; any "
     "other address (0.0.0.0: every interface) needs `token`. \":9464\" without a host is an "
     "error: write 127.0.0.1:9464 or 0.0.0.0:9464."},
    {"token", EDDY_OPT_STRING, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_SECRET,
     "Bearer token of the admin API, 16 to 1024 visible ASCII characters (use ${ENV} or "
     "file:). With it, every request but GET /healthz and /readyz must send `Authorization: "
     "Bearer <token>`. Without it, POST requests (operator requests) are refused (403), and "
     "listen must be on loopback."},
    {"allowed_hosts", EDDY_OPT_LIST, NULL, EDDY_NO_RANGE, NULL, 0,
     "Host header names (no port) accepted besides the listen host; on loopback localhost, "
     "127.0.0.1 and [::1] always are; off loopback any IP address is too (probes and "
     "scrapers name the pod's address; DNS rebinding needs a name). Empty off loopback: "
     "any Host (the token guards the server). Others get 421, which stops DNS rebinding."},
    {"tls_cert", EDDY_OPT_STRING, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_PATH,
     "PEM certificate chain: with tls_key, the admin server speaks HTTPS only (TLS 1.2 or "
     "later)."},
    {"tls_key", EDDY_OPT_STRING, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_PATH,
     "PEM private key of tls_cert (a path; keep the file readable by eddy only)."},
    {NULL, 0, NULL, 0, 0, NULL, 0, NULL},
};

const eddy_option eddy_log_options[] = {
    {"level", EDDY_OPT_ENUM, "info", EDDY_NO_RANGE, "error|warn|info|debug", 0, "Lowest level logged."},
    {"format", EDDY_OPT_ENUM, "logfmt", EDDY_NO_RANGE, "logfmt|json", 0,
     "Log line format: logfmt or JSON lines, on stderr."},
    {NULL, 0, NULL, 0, 0, NULL, 0, NULL},
};

const eddy_option eddy_source_common_options[] = {
    {"name", EDDY_OPT_STRING, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_REQUIRED,
     "Source name; pipelines name it in `from`."},
    {"type", EDDY_OPT_STRING, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_REQUIRED,
     "Connector type (see Sources)."},
    {"key", EDDY_OPT_FIELD, NULL, EDDY_NO_RANGE, NULL, 0,
     "Field whose value becomes the record key (state, partitioning)."},
    {NULL, 0, NULL, 0, 0, NULL, 0, NULL},
};

const eddy_option eddy_timestamp_options[] = {
    {"field", EDDY_OPT_FIELD, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_REQUIRED,
     "Field holding the event time. A record without it is a dead letter."},
    {"unit", EDDY_OPT_ENUM, "ms", EDDY_NO_RANGE, "ms|s|us|ns|iso8601", 0,
     "Unit of a numeric field, or iso8601 for strings like 2026-01-01T00:00:00.5Z."},
    {NULL, 0, NULL, 0, 0, NULL, 0, NULL},
};

const eddy_option eddy_watermark_options[] = {
    {"max_out_of_order", EDDY_OPT_DURATION, "0ms", 0, 31536000000.0, NULL, 0,
     "Watermark = highest event time seen minus this."},
    {"idle_timeout", EDDY_OPT_DURATION, "0ms", 0, 31536000000.0, NULL, 0,
     "When a partition has received nothing for this long, its watermark advances with the "
     "wall clock, so windows of a quiet stream still close. 0: never."},
    {NULL, 0, NULL, 0, 0, NULL, 0, NULL},
};

const eddy_option eddy_pipeline_options[] = {
    {"name", EDDY_OPT_STRING, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_REQUIRED, "Pipeline name."},
    {"from", EDDY_OPT_STRING, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_REQUIRED,
     "A source, or another pipeline whose output stream this one reads in process."},
    {"output", EDDY_OPT_STRING, NULL, EDDY_NO_RANGE, NULL, 0,
     "Step whose output is this pipeline's stream (default: the last step)."},
    {NULL, 0, NULL, 0, 0, NULL, 0, NULL},
};
