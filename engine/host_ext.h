/* Host functions of ABI 1.1 (engine/host_alert.c), wired into
 * eddy_host_table by host.c. */
#ifndef EDDY_HOST_EXT_H
#define EDDY_HOST_EXT_H
#include "include/eddy/operator.h"

int eddy_host_alert(eddy_ctx *ctx, const eddy_alert *a);
eddy_metric *eddy_host_metric_labels(eddy_ctx *ctx, const char *name, const char *help,
                                     eddy_metric_kind kind, const char *const *labels,
                                     uint32_t nlabels);
uint64_t eddy_host_ctx_requests(const eddy_ctx *ctx, const char *what);

/* A metric of a step: labels pipeline and step, then the n key/value
 * pairs of kv; named eddy_<name> unless name already starts with eddy_. */
eddy_metric *eddy_host_step_metric(eddy_ctx *ctx, const char *name, const char *help,
                                   eddy_metric_kind kind, const char *const *kv, uint32_t n);

#endif
