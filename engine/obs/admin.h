/* Admin HTTP server on libevent's evhttp, run by the main thread's event
 * loop: /healthz, /readyz, /metrics, /v1/pipelines, and routes other parts of
 * the engine add. Owner: the caller owns the server; it must be freed before
 * the event_base.
 *
 * Security (docs/OPERATIONS.md, "Admin API security"): every request passes the guard of
 * admin_guard.h before any route sees it (Host, Origin, bearer token, POST
 * content type); a listen address off loopback needs a token; TLS is an
 * option (admin_tls.c). */
#ifndef EDDY_ADMIN_H
#define EDDY_ADMIN_H
#include <stdbool.h>

#include "lib/buf/buf.h"
#include "engine/obs/metrics.h"

struct event_base;
typedef struct eddy_admin eddy_admin;

/* What the server is told (worker.admin, or --admin for listen). Strings
 * are the caller's; eddy_admin_new copies what it keeps. */
typedef struct eddy_admin_conf {
    const char *listen;   /* "host:port" or "[v6]:port"; port 0: any free port */
    const char *token;    /* bearer token; NULL or "": none */
    const char *tls_cert; /* PEM certificate chain and key: both or neither */
    const char *tls_key;
    /* Host header names accepted besides the listen host (and, on
     * loopback, localhost, 127.0.0.1 and [::1]); NULL-terminated, may be
     * NULL. Empty off loopback: any Host (the token guards the server). */
    const char *const *allowed_hosts;
} eddy_admin_conf;

/* A parsed listen address. loopback: the host is localhost, 127.0.0.0/8 or
 * ::1, so only this machine can connect. */
typedef struct eddy_admin_addr {
    char host[256]; /* without brackets */
    unsigned port;
    bool loopback;
} eddy_admin_addr;

/* "host:port" or "[v6]:port". ":port" is refused: it used to mean every
 * interface, and a host must now be written out (127.0.0.1 or 0.0.0.0).
 * 0, or EDDY_EINVAL with the reason in err. */
int eddy_admin_parse_listen(const char *listen, eddy_admin_addr *out, char *err, size_t errlen);

/* Checks a configuration as eddy_admin_new will, without binding: the
 * listen address, a token whenever the address is off loopback, the
 * token's form, and that the TLS files load. On error *field names the
 * option at fault ("listen", "token", "tls_cert", "tls_key"). Used by config
 * validation so `eddy validate` refuses what `eddy run` would. */
int eddy_admin_check(const eddy_admin_conf *c, const char **field, char *err, size_t errlen);

/* NULL with reason in err (eddy_admin_check's, or why binding failed). */
eddy_admin *eddy_admin_new(struct event_base *base, const eddy_admin_conf *c,
                           eddy_metrics *metrics, char *err, size_t errlen);
void eddy_admin_free(eddy_admin *a);
int eddy_admin_port(const eddy_admin *a); /* the bound port */
/* A route handler fills body and returns the HTTP status. content_type
 * defaults to "application/json". Runs on the event-loop thread. */
typedef int (*eddy_admin_handler)(void *arg, const char *path, eddy_buf *body,
                                  const char **content_type);
/* Readiness: NULL reason = ready; otherwise why not (503 with the reason). */
typedef const char *(*eddy_admin_ready_fn)(void *arg);

/* Also serves connections accepted on fd, a socket already listening (a
 * Unix socket: the fuzzing harness tests/fuzz/fuzz_admin.c connects
 * through one, without using up TCP ports). The server closes fd when it
 * is freed. 0, or -1 (fd is left open). */
int eddy_admin_listen_fd(eddy_admin *a, int fd);
void eddy_admin_set_ready(eddy_admin *a, eddy_admin_ready_fn fn, void *arg);
/* Exact path, or a prefix when `path` ends with '/'. Later routes win. */
int eddy_admin_route(eddy_admin *a, const char *path, eddy_admin_handler fn, void *arg);

/* A request handler also sees the method ("GET", "HEAD" or "POST") and the
 * raw query string (NULL when none). POST reaches it only when the route
 * was added with allow_post, and only after the guard admitted it. */
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
