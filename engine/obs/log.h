/* Structured logs: one line per event, as logfmt (default) or JSON lines,
 * with time, level, message and key/value fields. Thread-safe (one write(2)
 * per line). Secrets never reach here: callers log names, not values, of
 * secret options. Owner: the logger is process-wide; configure it once. */
#ifndef EDDY_LOG_H
#define EDDY_LOG_H
#include <stdio.h>

#include "include/eddy/operator.h" /* eddy_log_level */

typedef enum eddy_log_format { EDDY_LOGFMT_LOGFMT = 0, EDDY_LOGFMT_JSON = 1 } eddy_log_format;

/* fd: where lines go (default 2). */
void eddy_log_setup(eddy_log_level level, eddy_log_format fmt, int fd);
eddy_log_level eddy_log_get_level(void);
int eddy_log_level_parse(const char *s);   /* "error|warn|info|debug", -1 if unknown */
int eddy_log_format_parse(const char *s);  /* "logfmt|json", -1 if unknown */

/* kv: alternating key, value strings, NULL-terminated; may be NULL.
 * Example: eddy_log(EDDY_LOG_INFO, (const char *[]){"pipeline", "p", NULL}, "started %d", n); */
void eddy_log(eddy_log_level level, const char *const *kv, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void eddy_logv(eddy_log_level level, const char *const *kv, const char *fmt, va_list ap);

#define EDDY_LOG_ERR(...) eddy_log(EDDY_LOG_ERROR, NULL, __VA_ARGS__)
#define EDDY_LOG_WARN(...) eddy_log(EDDY_LOG_WARN, NULL, __VA_ARGS__)
#define EDDY_LOG_INFO(...) eddy_log(EDDY_LOG_INFO, NULL, __VA_ARGS__)
#define EDDY_LOG_DEBUG(...) eddy_log(EDDY_LOG_DEBUG, NULL, __VA_ARGS__)

#endif
