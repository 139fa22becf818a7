#include "cli/http_get.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/registry.h"

void cli_admin_base(const char *admin, char *out, size_t len)
{
    size_t n = strlen(admin);
    while (n && admin[n - 1] == '/')
        n--;
    bool url = strncmp(admin, "http://", 7) == 0 || strncmp(admin, "https://", 8) == 0;
    snprintf(out, len, "%s%.*s", url ? "" : "http://", (int)n, admin);
}

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
    /* One header list for the process (a CLI command makes one handle);
     * libcurl keeps only the pointer, so it must outlive the handle. */
    static struct curl_slist *headers;
    const char *token = getenv("EDDY_ADMIN_TOKEN");
    if (token && *token && !headers) {
        size_t n = strlen("Authorization: Bearer ") + strlen(token) + 1;
        char *h = malloc(n);
        if (h) {
            snprintf(h, n, "Authorization: Bearer %s", token);
            headers = curl_slist_append(NULL, h);
            free(h);
        }
    }
    if (headers)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    const char *ca = getenv("EDDY_ADMIN_CACERT");
    if (ca && *ca)
        curl_easy_setopt(c, CURLOPT_CAINFO, ca);
    return c;
}

const char *cli_http_hint(long status)
{
    if (status == 401)
        return getenv("EDDY_ADMIN_TOKEN") ? " (EDDY_ADMIN_TOKEN is not the worker's admin token)"
                                          : " (set EDDY_ADMIN_TOKEN to the worker's admin token)";
    return "";
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
