/* The admin request guard (see admin_guard.h for the rules). Every refusal
 * is one sentence saying what was refused and what to do instead; none
 * repeats a presented token. */
#include "engine/obs/admin_guard.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/core/error.h"

#define CHALLENGE "Bearer realm=\"eddy admin\""
#define CHALLENGE_BAD "Bearer realm=\"eddy admin\", error=\"invalid_token\""

static int sha256(const void *data, size_t len, unsigned char out[32])
{
    unsigned int n = 0;
    return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 && n == 32 ? 0 : -1;
}

int eddy_admin_guard_init(eddy_admin_guard *g, const eddy_admin_conf *c,
                          const eddy_admin_addr *addr, int bound_port, char *err, size_t errlen)
{
    memset(g, 0, sizeof *g);
    g->loopback = addr->loopback;
    g->port = bound_port;
    g->tls = c->tls_cert && c->tls_cert[0];
    snprintf(g->listen_host, sizeof g->listen_host, "%s", addr->host);
    if (c->token && c->token[0]) {
        if (sha256(c->token, strlen(c->token), g->token_sha256) != 0) {
            eddy_errf(err, errlen, "admin token: cannot compute its SHA-256 (OpenSSL failed)");
            return EDDY_EINVAL;
        }
        g->has_token = true;
    }
    size_t n = 0;
    while (c->allowed_hosts && c->allowed_hosts[n])
        n++;
    if (n) {
        g->allowed = calloc(n, sizeof *g->allowed);
        if (!g->allowed) {
            eddy_errf(err, errlen, "admin server: out of memory");
            return EDDY_ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
            const char *h = c->allowed_hosts[i];
            size_t hl = strlen(h);
            /* "[::1]" and "::1" both name the same host. */
            if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']')
                g->allowed[i] = strndup(h + 1, hl - 2);
            else
                g->allowed[i] = strdup(h);
            if (!g->allowed[i]) {
                g->nallowed = i;
                eddy_admin_guard_free(g);
                eddy_errf(err, errlen, "admin server: out of memory");
                return EDDY_ENOMEM;
            }
        }
        g->nallowed = n;
    }
    return 0;
}

void eddy_admin_guard_free(eddy_admin_guard *g)
{
    for (size_t i = 0; i < g->nallowed; i++)
        free(g->allowed[i]);
    free(g->allowed);
    g->allowed = NULL;
    g->nallowed = 0;
    OPENSSL_cleanse(g->token_sha256, sizeof g->token_sha256);
}

bool eddy_admin_token_matches(const eddy_admin_guard *g, const char *token, size_t len)
{
    unsigned char h[32];
    if (!g->has_token || sha256(token, len, h) != 0)
        return false;
    return CRYPTO_memcmp(h, g->token_sha256, sizeof h) == 0;
}

/* The host name of a Host header ("name", "name:port", "[v6]:port"),
 * without brackets or port, into out. False when it is malformed. */
static bool host_name(const char *host, char *out, size_t outlen)
{
    const char *h = host;
    size_t n;
    if (h[0] == '[') {
        const char *close = strchr(h, ']');
        if (!close || (close[1] && close[1] != ':'))
            return false;
        h++;
        n = (size_t)(close - h);
    } else {
        const char *colon = strchr(h, ':');
        n = colon ? (size_t)(colon - h) : strlen(h);
    }
    if (n == 0 || n >= outlen)
        return false;
    memcpy(out, h, n);
    out[n] = '\0';
    return true;
}

/* Rule 1. The port is not compared: tunnels (ssh -L, kubectl port-forward)
 * change it, and a rebinding attack is told apart by the name alone. */
static bool host_ok(const eddy_admin_guard *g, const char *host)
{
    if (!host) /* HTTP/1.0 clients; browsers always send Host */
        return true;
    if (!g->loopback && g->nallowed == 0)
        return true; /* off loopback the token guards the server */
    char name[256];
    if (!host_name(host, name, sizeof name))
        return false;
    if (strcasecmp(name, g->listen_host) == 0)
        return true;
    if (g->loopback && (strcasecmp(name, "localhost") == 0 || strcmp(name, "127.0.0.1") == 0 ||
                        strcmp(name, "::1") == 0))
        return true;
    for (size_t i = 0; i < g->nallowed; i++)
        if (strcasecmp(name, g->allowed[i]) == 0)
            return true;
    /* Off loopback, an address is accepted as well as the names: DNS
     * rebinding needs a name, and kubelet probes and Prometheus scrapes
     * send the pod's IP (found by deploy/kubernetes' test: readiness got
     * 421 with allowed_hosts set). */
    if (!g->loopback) {
        unsigned char a[16];
        if (inet_pton(AF_INET, name, a) == 1 || inet_pton(AF_INET6, name, a) == 1)
            return true;
    }
    return false;
}

/* Rule 2: the request's Origin must be scheme://Host of the request
 * itself. */
static bool same_origin(const eddy_admin_guard *g, const eddy_admin_seen *s)
{
    if (!s->host)
        return false;
    const char *scheme = g->tls ? "https://" : "http://";
    size_t sl = strlen(scheme);
    return strncasecmp(s->origin, scheme, sl) == 0 && strcasecmp(s->origin + sl, s->host) == 0;
}

static bool is_read(const char *method)
{
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

/* "Bearer <token>": the token, or NULL with *len 0. */
static const char *bearer(const char *auth, size_t *len)
{
    *len = 0;
    if (!auth)
        return NULL;
    while (*auth == ' ' || *auth == '\t')
        auth++;
    if (strncasecmp(auth, "Bearer", 6) != 0 || (auth[6] != ' ' && auth[6] != '\t'))
        return NULL;
    const char *t = auth + 6;
    while (*t == ' ' || *t == '\t')
        t++;
    size_t n = strlen(t);
    while (n && (t[n - 1] == ' ' || t[n - 1] == '\t'))
        n--;
    *len = n;
    return n ? t : NULL;
}

/* The media type of a Content-Type value is application/json. */
static bool is_json(const char *ct)
{
    while (*ct == ' ')
        ct++;
    size_t n = strcspn(ct, ";");
    while (n && ct[n - 1] == ' ')
        n--;
    return n == 16 && strncasecmp(ct, "application/json", 16) == 0;
}

int eddy_admin_guard_check(const eddy_admin_guard *g, const eddy_admin_seen *s, char *why,
                           size_t whylen, const char **challenge)
{
    *challenge = NULL;
    if (!host_ok(g, s->host)) {
        eddy_errf(why, whylen,
                  "Host \"%.100s\" does not name this admin server (it listens on %s); refused so "
                  "that a web page cannot reach it by DNS rebinding: use %s, or list the name in "
                  "worker.admin.allowed_hosts",
                  s->host, g->listen_host, g->loopback ? "localhost or 127.0.0.1" : g->listen_host);
        return 421;
    }
    if (s->origin && !same_origin(g, s)) {
        eddy_errf(why, whylen,
                  "cross-origin request refused: Origin \"%.100s\" is not this admin server's own "
                  "origin; the admin API does not serve web pages of other sites",
                  s->origin);
        return 403;
    }
    if (s->sec_fetch_site && strcasecmp(s->sec_fetch_site, "same-origin") != 0 &&
        strcasecmp(s->sec_fetch_site, "none") != 0) {
        eddy_errf(why, whylen,
                  "cross-site request refused (Sec-Fetch-Site: %.40s); the admin API does not "
                  "serve web pages of other sites",
                  s->sec_fetch_site);
        return 403;
    }
    bool read = is_read(s->method);
    bool probe = read && (strcmp(s->path, "/healthz") == 0 || strcmp(s->path, "/readyz") == 0);
    if (!probe) {
        if (!read && !g->has_token) {
            eddy_errf(why, whylen,
                      "%s %.200s changes the worker, and this admin server has no token: set "
                      "worker.admin.token and send it as Authorization: Bearer <token>",
                      s->method, s->path);
            return 403;
        }
        if (g->has_token) {
            size_t tl;
            const char *t = bearer(s->authorization, &tl);
            if (!t) {
                *challenge = CHALLENGE;
                eddy_errf(why, whylen,
                          "%s %.200s needs the admin token: send Authorization: Bearer <token> "
                          "(worker.admin.token)",
                          s->method, s->path);
                return 401;
            }
            if (!eddy_admin_token_matches(g, t, tl)) {
                *challenge = CHALLENGE_BAD;
                eddy_errf(why, whylen,
                          "the bearer token of %s %.200s is not this worker's admin token "
                          "(worker.admin.token)",
                          s->method, s->path);
                return 401;
            }
        }
    }
    if (!read && (s->content_type || s->body_len) && !(s->content_type && is_json(s->content_type))) {
        eddy_errf(why, whylen,
                  "%s %.200s: a request body must be application/json (Content-Type %s%.60s%s); "
                  "form posts are refused so that a web page cannot send one",
                  s->method, s->path, s->content_type ? "\"" : "", s->content_type ? s->content_type : "absent",
                  s->content_type ? "\"" : "");
        return 415;
    }
    return 0;
}
