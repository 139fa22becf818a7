/* The admin server's configuration rules, shared by eddy_admin_new and
 * config validation (engine/graph.c) so `eddy validate` refuses exactly
 * what `eddy run` would: the listen address, a token off loopback, the
 * token's form, and TLS files that load. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "engine/core/error.h"
#include "engine/obs/admin.h"
#include "engine/obs/admin_tls.h"

#define TOKEN_MIN 16
#define TOKEN_MAX 1024

static bool is_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (strcasecmp(host, "localhost") == 0)
        return true;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1) {
        if (IN6_IS_ADDR_LOOPBACK(&a6))
            return true;
        return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
    }
    return false; /* a name other than localhost may resolve anywhere */
}

int eddy_admin_parse_listen(const char *listen, eddy_admin_addr *out, char *err, size_t errlen)
{
    const char *colon;
    const char *h = listen;
    size_t hl;
    memset(out, 0, sizeof *out);
    if (!listen || !*listen) {
        eddy_errf(err, errlen, "admin listen address is empty; expected host:port");
        return EDDY_EINVAL;
    }
    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (!close || close[1] != ':') {
            eddy_errf(err, errlen, "admin listen \"%s\": expected [ipv6]:port", listen);
            return EDDY_EINVAL;
        }
        h = listen + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
        if (hl == 0) {
            eddy_errf(err, errlen, "admin listen \"%s\": empty IPv6 address", listen);
            return EDDY_EINVAL;
        }
    } else {
        colon = strrchr(listen, ':');
        if (!colon) {
            eddy_errf(err, errlen, "admin listen \"%s\": expected host:port", listen);
            return EDDY_EINVAL;
        }
        if (memchr(listen, ':', (size_t)(colon - listen))) {
            eddy_errf(err, errlen,
                      "admin listen \"%s\": an IPv6 address needs brackets, as in [::1]:9464",
                      listen);
            return EDDY_EINVAL;
        }
        hl = (size_t)(colon - listen);
    }
    if (hl >= sizeof out->host) {
        eddy_errf(err, errlen, "admin listen \"%.60s...\": host is too long", listen);
        return EDDY_EINVAL;
    }
    memcpy(out->host, h, hl);
    out->host[hl] = '\0';
    const char *p = colon + 1;
    unsigned long v = 0;
    size_t nd = 0;
    for (; p[nd] >= '0' && p[nd] <= '9' && nd < 6; nd++)
        v = v * 10 + (unsigned long)(p[nd] - '0');
    if (nd == 0 || p[nd] != '\0' || v > 65535) {
        eddy_errf(err, errlen, "admin listen \"%s\": port must be a number from 0 to 65535",
                  listen);
        return EDDY_EINVAL;
    }
    /* ":port" meant every interface, which exposes the server by
     * accident; whoever wants that writes 0.0.0.0 (and a token). */
    if (hl == 0) {
        eddy_errf(err, errlen,
                  "admin listen \"%s\" names no host: write 127.0.0.1%s for this machine only, "
                  "or 0.0.0.0%s for every interface (which needs worker.admin.token)",
                  listen, colon, colon);
        return EDDY_EINVAL;
    }
    out->port = (unsigned)v;
    out->loopback = is_loopback(out->host);
    return 0;
}

/* A bearer token travels in a header: visible ASCII, long enough not to be
 * guessed. The message never shows the token. */
static int check_token(const char *t, char *err, size_t errlen)
{
    size_t n = strlen(t);
    if (n < TOKEN_MIN || n > TOKEN_MAX) {
        eddy_errf(err, errlen,
                  "admin token is %zu characters long; use %d to %d (for example the output of "
                  "`openssl rand -hex 32`)",
                  n, TOKEN_MIN, TOKEN_MAX);
        return EDDY_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c <= 0x20 || c >= 0x7f) {
            eddy_errf(err, errlen,
                      "admin token has a space, control or non-ASCII byte at position %zu; a bearer "
                      "token is visible ASCII (for example the output of `openssl rand -hex 32`)",
                      i + 1);
            return EDDY_EINVAL;
        }
    }
    return 0;
}

int eddy_admin_check(const eddy_admin_conf *c, const char **field, char *err, size_t errlen)
{
    eddy_admin_addr addr;
    const char *dummy;
    if (!field)
        field = &dummy;
    *field = "listen";
    if (eddy_admin_parse_listen(c->listen, &addr, err, errlen) != 0)
        return EDDY_EINVAL;
    bool token = c->token && c->token[0];
    if (!addr.loopback && !token) {
        eddy_errf(err, errlen,
                  "admin listen \"%s\" is reachable from other machines, so it needs "
                  "worker.admin.token (a bearer token, from ${ENV} or file:); or listen on "
                  "127.0.0.1",
                  c->listen);
        return EDDY_EINVAL;
    }
    if (token) {
        *field = "token";
        if (check_token(c->token, err, errlen) != 0)
            return EDDY_EINVAL;
    }
    bool cert = c->tls_cert && c->tls_cert[0], key = c->tls_key && c->tls_key[0];
    if (cert != key) {
        *field = cert ? "tls_cert" : "tls_key";
        eddy_errf(err, errlen,
                  "admin TLS needs both tls_cert and tls_key (PEM files); %s is set without %s",
                  cert ? "tls_cert" : "tls_key", cert ? "tls_key" : "tls_cert");
        return EDDY_EINVAL;
    }
    if (cert) {
        eddy_admin_tls *t = eddy_admin_tls_new(c->tls_cert, c->tls_key, field, err, errlen);
        if (!t)
            return EDDY_EINVAL;
        eddy_admin_tls_free(t);
    }
    *field = NULL;
    return 0;
}
