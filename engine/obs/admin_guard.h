/* The admin server's request guard: decides, from a request's headers
 * alone, whether it may reach a route. Kept apart from the HTTP plumbing so
 * the rules can be tested without sockets.
 *
 * Rules, in order (docs/OPERATIONS.md, "Admin API security"):
 *  1. Host names this server (DNS rebinding), else 421.
 *  2. No cross-site browser request: an Origin other than the server's own,
 *     or Sec-Fetch-Site other than same-origin/none, is 403.
 *  3. Token: GET/HEAD of /healthz and /readyz need none (probes have no
 *     credentials); other reads need it when one is configured; anything
 *     else (POST, ...) always needs it, so without a configured token it is
 *     403. Missing or wrong: 401 with WWW-Authenticate.
 *  4. A request body must be application/json (no form posts), else 415.
 *
 * Owner: the guard owns its copies; the token is kept only as its SHA-256
 * and compared in constant time. */
#ifndef EDDY_ADMIN_GUARD_H
#define EDDY_ADMIN_GUARD_H
#include <stdbool.h>
#include <stddef.h>

#include "engine/obs/admin.h"

typedef struct eddy_admin_guard {
    bool has_token;
    unsigned char token_sha256[32];
    bool loopback; /* listening on loopback: Host must be a loopback name */
    bool tls;      /* our origin is https:// */
    int port;      /* the bound port */
    char listen_host[256];
    char **allowed; /* extra Host names (worker.admin.allowed_hosts) */
    size_t nallowed;
} eddy_admin_guard;

/* What a request presents; absent headers are NULL. */
typedef struct eddy_admin_seen {
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* decoded */
    const char *host, *origin, *sec_fetch_site, *authorization, *content_type;
    size_t body_len;
} eddy_admin_seen;

/* 0, or EDDY_ENOMEM / EDDY_EINVAL with the reason in err. */
int eddy_admin_guard_init(eddy_admin_guard *g, const eddy_admin_conf *c,
                          const eddy_admin_addr *addr, int bound_port, char *err,
                          size_t errlen);
void eddy_admin_guard_free(eddy_admin_guard *g);

/* 0 when the request may go on; otherwise the HTTP status to answer, with
 * a sentence in why and, for 401, the WWW-Authenticate value in *challenge. */
int eddy_admin_guard_check(const eddy_admin_guard *g, const eddy_admin_seen *s, char *why,
                           size_t whylen, const char **challenge);

/* Constant-time equality of a presented token and the configured one (by
 * SHA-256, so not even the length leaks). */
bool eddy_admin_token_matches(const eddy_admin_guard *g, const char *token, size_t len);

#endif
