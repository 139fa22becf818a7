/* Admin HTTP server on libevent's evhttp, run by the main thread's event
 * loop: /healthz, /readyz, /metrics, /v1/pipelines, and routes other parts of
 * the engine add. Owner: the caller owns the server; it must be freed before
 * the event_base. */
#ifndef EDDY_ADMIN_H
#define EDDY_ADMIN_H
#include <stdbool.h>

#include "lib/buf/buf.h"
#include "engine/obs/metrics.h"

struct event_base;
typedef struct eddy_admin eddy_admin;

/* A route handler fills body and returns the HTTP status. content_type
 * defaults to "application/json". Runs on the event-loop thread. */
typedef int (*eddy_admin_handler)(void *arg, const char *path, eddy_buf *body,
                                  const char **content_type);
/* Readiness: NULL reason = ready; otherwise why not (503 with the reason). */
typedef const char *(*eddy_admin_ready_fn)(void *arg);

/* listen: "host:port" (port 0 = any free port). NULL with reason in err. */
eddy_admin *eddy_admin_new(struct event_base *base, const char *listen, eddy_metrics *metrics,
                           char *err, size_t errlen);
void eddy_admin_free(eddy_admin *a);
/* Also serves connections accepted on fd, a socket already listening (a
 * Unix socket: the fuzzing harness tests/fuzz/fuzz_admin.c connects
 * through one, without using up TCP ports). The server closes fd when it
 * is freed. 0, or -1 (fd is left open). */
int eddy_admin_listen_fd(eddy_admin *a, int fd);
int eddy_admin_port(const eddy_admin *a); /* the bound port */
void eddy_admin_set_ready(eddy_admin *a, eddy_admin_ready_fn fn, void *arg);
/* Exact path, or a prefix when `path` ends with '/'. Later routes win. */
int eddy_admin_route(eddy_admin *a, const char *path, eddy_admin_handler fn, void *arg);

/* A request handler also sees the method ("GET", "HEAD" or "POST") and the
 * raw query string (NULL when none). POST reaches it only when the route
 * was added with allow_post. */
typedef struct eddy_admin_req {
    const char *method;
    const char *path;
    const char *query;
} eddy_admin_req;
typedef int (*eddy_admin_req_handler)(void *arg, const eddy_admin_req *req, eddy_buf *body,
                                      const char **content_type);
int eddy_admin_route_req(eddy_admin *a, const char *path, bool allow_post,
                         eddy_admin_req_handler fn, void *arg);

#endif
