/* Admin TLS (see admin_tls.h). TLS 1.2 at least; the server's certificate
 * only (clients authenticate with the bearer token, not certificates). */
#include "engine/obs/admin_tls.h"

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/error.h"

struct eddy_admin_tls {
    SSL_CTX *ctx;
};

/* OpenSSL's last reason, e.g. "no such file" or "key values mismatch". */
static const char *ssl_reason(void)
{
    static _Thread_local char buf[256];
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    snprintf(buf, sizeof buf, "%s", r ? r : "unknown OpenSSL error");
    ERR_clear_error();
    return buf;
}

/* OpenSSL says "system lib" for a missing file: name the errno instead. */
static int readable(const char *what, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        eddy_errf(err, errlen, "admin TLS: cannot read the %s %s: %s", what, path, strerror(errno));
        return -1;
    }
    fclose(f);
    return 0;
}

eddy_admin_tls *eddy_admin_tls_new(const char *cert, const char *key, const char **field,
                                   char *err, size_t errlen)
{
    *field = "tls_cert";
    if (readable("certificate chain", cert, err, errlen) != 0)
        return NULL;
    *field = "tls_key";
    if (readable("private key", key, err, errlen) != 0)
        return NULL;
    eddy_admin_tls *t = calloc(1, sizeof *t);
    *field = "tls_cert";
    if (!t || !(t->ctx = SSL_CTX_new(TLS_server_method()))) {
        eddy_errf(err, errlen, "admin TLS: cannot create an OpenSSL context: %s", ssl_reason());
        free(t);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(t->ctx, cert) != 1) {
        eddy_errf(err, errlen, "admin TLS: cannot load the certificate chain %s (PEM): %s", cert,
                  ssl_reason());
        eddy_admin_tls_free(t);
        return NULL;
    }
    *field = "tls_key";
    if (SSL_CTX_use_PrivateKey_file(t->ctx, key, SSL_FILETYPE_PEM) != 1) {
        if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
            ERR_clear_error();
            eddy_errf(err, errlen,
                      "admin TLS: the private key %s does not match the certificate %s", key,
                      cert);
        } else {
            eddy_errf(err, errlen, "admin TLS: cannot load the private key %s (PEM): %s", key,
                      ssl_reason());
        }
        eddy_admin_tls_free(t);
        return NULL;
    }
    if (SSL_CTX_check_private_key(t->ctx) != 1) {
        eddy_errf(err, errlen, "admin TLS: the private key %s does not match the certificate %s: %s",
                  key, cert, ssl_reason());
        eddy_admin_tls_free(t);
        return NULL;
    }
    *field = NULL;
    return t;
}

static struct bufferevent *on_accept(struct event_base *base, void *arg)
{
    eddy_admin_tls *t = arg;
    SSL *ssl = SSL_new(t->ctx);
    if (!ssl)
        return NULL; /* evhttp drops the connection */
    struct bufferevent *bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                             BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        SSL_free(ssl);
        return NULL;
    }
    /* Clients that close without close_notify (curl, probes) are normal. */
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
}

void eddy_admin_tls_attach(eddy_admin_tls *t, struct evhttp *http)
{
    evhttp_set_bevcb(http, on_accept, t);
}

void eddy_admin_tls_free(eddy_admin_tls *t)
{
    if (!t)
        return;
    SSL_CTX_free(t->ctx);
    free(t);
}
