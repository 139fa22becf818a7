/* The runtime's lifecycle: start a built graph (graph.h), stop, free, status.
 *
 * Threads and what each owns (docs/ARCHITECTURE.md has the picture):
 *  - main thread: config, plugin loading, connector open/close, the libevent
 *    loop (signals, admin HTTP, the stop/drain timer);
 *  - processing threads (worker.threads): each owns some sources and, for
 *    every partition they deliver, a task holding one operator instance per
 *    step of every pipeline fed by that source (partition-scoped state), its
 *    batch pool and its timers. Records of one partition are processed in
 *    order by one thread; nothing in a task is shared.
 *  - sinks are shared by threads and guarded by a mutex each.
 *
 * Memory: batches come from a per-thread pool and go back to it after the
 * last step returns; operators own their state; the runtime owns the graph,
 * connectors and instances, and frees them in eddy_runtime_free. */
#ifndef EDDY_RUNTIME_H
#define EDDY_RUNTIME_H
#include <stdbool.h>
#include <stddef.h>

#include "lib/buf/buf.h"

/* Made by eddy_runtime_build (engine/graph.h). */
typedef struct eddy_runtime eddy_runtime;

/* Opens connectors and starts processing threads. 0 or <0 (logged). */
int eddy_runtime_start(eddy_runtime *rt, char *err, size_t errlen);
/* Asks threads to drain: finish the batch in hand, flush, stop. */
void eddy_runtime_stop(eddy_runtime *rt);
/* True when every thread has finished (drained, or all sources ended). */
bool eddy_runtime_done(eddy_runtime *rt);
/* Joins threads, flushes and closes sinks and sources, frees everything
 * (the cfg stays the caller's). */
void eddy_runtime_free(eddy_runtime *rt);
/* JSON status of every pipeline (/v1/pipelines). */
int eddy_runtime_status_json(eddy_runtime *rt, eddy_buf *out);
/* NULL when ready; else why not (/readyz). */
const char *eddy_runtime_not_ready(eddy_runtime *rt);
/* Counts an operator request (admin POST .../steps/{step}/{what}) that the
 * step's operator acts on (host->ctx_requests). 0 when its descriptor lists
 * `what`; 1 when it is a plugin older than ABI 1.3, which cannot list its
 * requests (counted unchecked); EDDY_ENOTFOUND when there is no such
 * pipeline (*op NULL) or step (*op NULL, *pipeline_found true);
 * EDDY_EUNSUPPORTED when the operator (*op) does not list `what`;
 * EDDY_ELIMIT when the step already tracks 8 other names; EDDY_ENOMEM. */
struct eddy_opdef;
int eddy_runtime_request(eddy_runtime *rt, const char *pipeline, const char *step,
                         const char *what, bool *pipeline_found,
                         const struct eddy_opdef **op);

#endif
