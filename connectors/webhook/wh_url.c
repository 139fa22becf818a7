/* Webhook URL validation and the redacted form used in logs and errors. */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "engine/core/error.h"
#include "connectors/webhook/wh_int.h"

/* The path up to its first segment, "/..." standing for the rest. */
static void short_path(const char *path, char *out, size_t outlen)
{
    if (!path || !*path || strcmp(path, "/") == 0) {
        snprintf(out, outlen, "%s", "");
        return;
    }
    const char *p = path[0] == '/' ? path + 1 : path;
    const char *slash = strchr(p, '/');
    if (!slash || slash[1] == '\0')
        snprintf(out, outlen, "/%s", p);
    else
        snprintf(out, outlen, "/%.*s/...", (int)(slash - p), p);
}

int eddy_wh_url_check(const char *url, char *shown, size_t shownlen, char *err, size_t errlen)
{
    if (!url || !*url) {
        snprintf(err, errlen, "url is empty (expected http://host[:port]/path or https://...)");
        return EDDY_ECONFIG;
    }
    CURLU *u = curl_url();
    if (!u) {
        snprintf(err, errlen, "out of memory");
        return EDDY_ENOMEM;
    }
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
    int rc = EDDY_ECONFIG;
    /* Without a scheme curl would guess one; a webhook must say it. */
    const char *sep = strstr(url, "://");
    if (!sep) {
        snprintf(err, errlen, "url has no scheme (expected http:// or https://)");
        goto out;
    }
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
    if (uc != CURLUE_OK) {
        snprintf(err, errlen, "url is malformed: %s", curl_url_strerror(uc));
        goto out;
    }
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK || !scheme ||
        (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)) {
        snprintf(err, errlen, "url scheme must be http or https (found '%.*s')",
                 (int)(sep - url > 16 ? 16 : sep - url), url);
        goto out;
    }
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host || !*host) {
        snprintf(err, errlen, "url has no host");
        goto out;
    }
    curl_url_get(u, CURLUPART_PORT, &port, 0);
    curl_url_get(u, CURLUPART_PATH, &path, 0);
    char sp[256];
    short_path(path, sp, sizeof sp);
    snprintf(shown, shownlen, "%s://%s%s%s%s", scheme, host, port ? ":" : "", port ? port : "", sp);
    rc = 0;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_url_cleanup(u);
    return rc;
}
