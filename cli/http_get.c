#include "cli/http_get.h"

#include <stdio.h>

#include "engine/registry.h"

const char *cli_no_http(void)
{
    const char *why = eddy_left_out_reason("cli", "http-client");
    if (!why)
        return NULL;
    static char msg[256];
    snprintf(msg, sizeof msg, "this eddy has no HTTP client (%s)", why);
    return msg;
}

#if EDDY_HAVE_LIBCURL

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    return eddy_buf_put(arg, p, size * n) == 0 ? size * n : 0;
}

CURL *cli_http_new(long timeout_ms, const char *user_agent)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return NULL;
    CURL *c = curl_easy_init();
    if (!c)
        return NULL;
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, user_agent);
    return c;
}

int cli_http_get(CURL *c, const char *url, eddy_buf *body, long *status, char *err,
                 size_t errlen)
{
    char cerr[CURL_ERROR_SIZE] = "";
    eddy_buf_reset(body);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "%s", cerr[0] ? cerr : curl_easy_strerror(rc));
        return -1;
    }
    *status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    return 0;
}
#endif
