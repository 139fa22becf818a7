/* TLS for the admin server: an OpenSSL context from PEM files, and the
 * evhttp hook that wraps each accepted connection in a bufferevent_openssl.
 * Owner: the caller frees the context with eddy_admin_tls_free, after the
 * evhttp that uses it. */
#ifndef EDDY_ADMIN_TLS_H
#define EDDY_ADMIN_TLS_H
#include <stddef.h>

struct evhttp;
typedef struct eddy_admin_tls eddy_admin_tls;

/* Loads the certificate chain and key and checks they match. NULL with a
 * sentence in err and the option at fault in *field ("tls_cert" or
 * "tls_key"). */
eddy_admin_tls *eddy_admin_tls_new(const char *cert, const char *key, const char **field,
                                   char *err, size_t errlen);
/* Every connection evhttp accepts from now on speaks TLS. */
void eddy_admin_tls_attach(eddy_admin_tls *t, struct evhttp *http);
void eddy_admin_tls_free(eddy_admin_tls *t);

#endif
