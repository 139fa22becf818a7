/* Metrics registry, rendered in the Prometheus text format on /metrics.
 *
 * Creation takes a lock (start-up, operator create); updates are lock-free
 * atomics, safe from any thread. A metric is identified by name + labels;
 * asking again for the same pair returns the same metric. Owner: the
 * registry owns every metric; they live until eddy_metrics_free. */
#ifndef EDDY_METRICS_H
#define EDDY_METRICS_H
#include <stdint.h>

#include "lib/buf/buf.h"
#include "include/eddy/operator.h" /* eddy_metric, eddy_metric_kind */

typedef struct eddy_metrics eddy_metrics;
typedef struct eddy_hist eddy_hist;

eddy_metrics *eddy_metrics_new(void);
void eddy_metrics_free(eddy_metrics *m);

/* labels: already-rendered Prometheus labels without braces, e.g.
 * pipeline="p",step="filter#0" (values escaped by eddy_metrics_label), or
 * NULL / "" for none. name must match [a-zA-Z_:][a-zA-Z0-9_:]*; NULL if not,
 * or if the name is already registered with another kind. */
eddy_metric *eddy_metrics_get(eddy_metrics *m, const char *name, const char *help,
                              eddy_metric_kind kind, const char *labels);
void eddy_metric_add(eddy_metric *c, double v);
void eddy_metric_set(eddy_metric *g, double v);
double eddy_metric_value(const eddy_metric *c);

/* Histogram with fixed upper bounds (ascending; +Inf added). */
eddy_hist *eddy_metrics_hist(eddy_metrics *m, const char *name, const char *help,
                             const char *labels, const double *bounds, uint32_t nbounds);
void eddy_hist_observe(eddy_hist *h, double v);
uint64_t eddy_hist_count(const eddy_hist *h);

/* Appends `key="value"` (value escaped per the exposition format), with a
 * leading comma when out is not empty. */
int eddy_metrics_label(eddy_buf *out, const char *key, const char *value);

/* The whole registry in text exposition format 0.0.4: HELP and TYPE once per
 * name, series grouped under their name. */
int eddy_metrics_render(eddy_metrics *m, eddy_buf *out);
/* Sets the standard process_* metrics (process_metrics.c) from /proc; the
 * admin server calls it before rendering /metrics. */
void eddy_process_metrics_update(eddy_metrics *m);

#endif
