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

#endif
