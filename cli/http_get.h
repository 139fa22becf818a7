/* One libcurl GET client for the CLI commands that talk to a running
 * worker's admin server (`alerts tail --admin`, `features get --admin`).
 * Owner: the caller frees the handle with curl_easy_cleanup.
 *
 * A build without libcurl (meson option -Dwebhook=disabled) has no client:
 * EDDY_HAVE_LIBCURL is 0, and the --admin flags print cli_no_http(). */
#ifndef EDDY_CLI_HTTP_GET_H
#define EDDY_CLI_HTTP_GET_H

#include "lib/buf/buf.h"

/* "http://" + HOST:PORT, or the URL as given when it has a scheme; trailing
 * slashes dropped. */
void cli_admin_base(const char *admin, char *out, size_t len);

/* "this eddy has no HTTP client (built without libcurl: ...)", for --admin
 * in a build without libcurl; NULL when the client is built in. */
const char *cli_no_http(void);

#if EDDY_HAVE_LIBCURL
#include <curl/curl.h>

/* A handle for repeated GETs (keep-alive), with connect and total timeouts;
 * NULL when libcurl cannot be initialised. From the environment, as the
 * worker's own config may read them: EDDY_ADMIN_TOKEN is sent as
 * "Authorization: Bearer ..." (worker.admin.token), EDDY_ADMIN_CACERT is the
 * CA file for an https:// admin server with its own certificate. */
CURL *cli_http_new(long timeout_ms, const char *user_agent);
/* What to do about an HTTP status, for the error line: "" or a hint. */
const char *cli_http_hint(long status);
/* GET url into body (reset first). 0 with *status = the HTTP status, or -1
 * when the request failed in transport (reason in err). */
int cli_http_get(CURL *c, const char *url, eddy_buf *body, long *status, char *err,
                 size_t errlen);
#endif

#endif
