/* One HTTP request per call on a libcurl easy handle that lives as long as
 * the sink, so the connection to the endpoint is kept alive between
 * alerts. Classifies every outcome: delivered, worth retrying, or not. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/core/error.h"
#include "connectors/webhook/wh_int.h"

#define BODY_SHOWN 200 /* bytes of an error answer quoted in the reason */

struct wh_http {
    CURL *curl;
    struct curl_slist *headers;
    const atomic_int *abort;
    char errbuf[CURL_ERROR_SIZE];
    char answer[BODY_SHOWN + 1];
    size_t answer_len;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

/* curl_global_init is not thread-safe on every libcurl build: once. */
static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

static size_t on_answer(char *data, size_t size, size_t n, void *arg)
{
    wh_http *h = arg;
    size_t len = size * n, room = BODY_SHOWN - h->answer_len;
    size_t k = len < room ? len : room;
    memcpy(h->answer + h->answer_len, data, k);
    h->answer_len += k;
    return len;
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    const wh_http *h = arg;
    return h->abort && atomic_load(h->abort) ? 1 : 0;
}

static bool is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int add_header(wh_http *h, const char *k, const char *v, char *err, size_t errlen)
{
    if (!*k) {
        snprintf(err, errlen, "headers: a header name is empty");
        return EDDY_ECONFIG;
    }
    for (const unsigned char *p = (const unsigned char *)k; *p; p++)
        if (!is_tchar(*p)) {
            snprintf(err, errlen, "headers: name '%.64s' has a character not allowed in an "
                     "HTTP header name (0x%02x)", k, *p);
            return EDDY_ECONFIG;
        }
    /* A line break in a value would smuggle extra headers into the request. */
    if (strpbrk(v, "\r\n")) {
        snprintf(err, errlen, "headers: the value of '%.64s' contains a line break", k);
        return EDDY_ECONFIG;
    }
    size_t len = strlen(k) + strlen(v) + 3;
    char *line = malloc(len);
    if (!line) {
        snprintf(err, errlen, "out of memory");
        return EDDY_ENOMEM;
    }
    /* "Name;" is curl's spelling of a header sent with an empty value. */
    if (*v)
        snprintf(line, len, "%s: %s", k, v);
    else
        snprintf(line, len, "%s;", k);
    struct curl_slist *l = curl_slist_append(h->headers, line);
    free(line);
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return EDDY_ENOMEM;
    }
    h->headers = l;
    return 0;
}

static int set_headers(wh_http *h, const wh_http_conf *c, char *err, size_t errlen)
{
    bool has_ct = false;
    for (uint32_t i = 0; i < c->nheaders; i++) {
        int rc = add_header(h, c->hkeys[i], c->hvals[i] ? c->hvals[i] : "", err, errlen);
        if (rc != 0)
            return rc;
        has_ct |= strcasecmp(c->hkeys[i], "Content-Type") == 0;
    }
    int rc = has_ct ? 0 : add_header(h, "Content-Type", "application/json", err, errlen);
    /* An empty Expect stops curl waiting for "100 Continue" on big bodies. */
    struct curl_slist *l = rc ? NULL : curl_slist_append(h->headers, "Expect:");
    if (!rc && !l) {
        snprintf(err, errlen, "out of memory");
        return EDDY_ENOMEM;
    }
    if (l)
        h->headers = l;
    return rc;
}

int eddy_wh_http_new(const wh_http_conf *c, wh_http **out, char *err, size_t errlen)
{
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK) {
        snprintf(err, errlen, "libcurl initialisation failed: %s", curl_easy_strerror(curl_init_rc));
        return EDDY_EIO;
    }
    wh_http *h = calloc(1, sizeof *h);
    if (!h || !(h->curl = curl_easy_init())) {
        free(h);
        snprintf(err, errlen, "out of memory");
        return EDDY_ENOMEM;
    }
    h->abort = c->abort;
    int rc = set_headers(h, c, err, errlen);
    if (rc != 0) {
        eddy_wh_http_free(h);
        return rc;
    }
    CURL *k = h->curl;
    CURLcode cc = CURLE_OK;
#define SET(opt, val)                              \
    do {                                           \
        if (cc == CURLE_OK)                        \
            cc = curl_easy_setopt(k, opt, val);    \
    } while (0)
    SET(CURLOPT_URL, c->url);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_HTTPHEADER, h->headers);
    SET(CURLOPT_USERAGENT, "eddy-webhook");
    SET(CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for DNS */
    SET(CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
    SET(CURLOPT_ERRORBUFFER, h->errbuf);
    SET(CURLOPT_WRITEFUNCTION, on_answer);
    SET(CURLOPT_WRITEDATA, h);
    SET(CURLOPT_NOPROGRESS, 0L);
    SET(CURLOPT_XFERINFOFUNCTION, on_progress);
    SET(CURLOPT_XFERINFODATA, h);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    if (strcmp(c->method, "POST") != 0)
        SET(CURLOPT_CUSTOMREQUEST, c->method);
#undef SET
    if (cc != CURLE_OK) {
        snprintf(err, errlen, "libcurl rejected an option (%s)", curl_easy_strerror(cc));
        eddy_wh_http_free(h);
        return EDDY_EIO;
    }
    *out = h;
    return 0;
}

/* Transport errors a later attempt can get past. */
static bool transient(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
        return true;
    default:
        return false;
    }
}

static void quote_answer(const wh_http *h, char *out, size_t outlen)
{
    out[0] = '\0';
    size_t n = 0;
    for (size_t i = 0; i < h->answer_len && n + 2 < outlen; i++) {
        unsigned char c = (unsigned char)h->answer[i];
        out[n++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    out[n] = '\0';
    while (n && out[n - 1] == ' ')
        out[--n] = '\0';
}

void eddy_wh_http_send(wh_http *h, const char *body, size_t len, wh_result *res)
{
    res->verdict = WH_FATAL;
    res->status = 0;
    res->retry_after_ms = -1;
    res->why[0] = '\0';
    h->errbuf[0] = '\0';
    h->answer_len = 0;
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    CURLcode cc = curl_easy_perform(h->curl);
    if (cc != CURLE_OK) {
        res->verdict = transient(cc) ? WH_RETRY : WH_FATAL;
        if (cc == CURLE_ABORTED_BY_CALLBACK)
            snprintf(res->why, sizeof res->why, "cut short: the sink is closing");
        else
            /* curl's detailed text when it has one (it names host and port,
             * never the URL's user:password), else the generic one. */
            snprintf(res->why, sizeof res->why, "%s",
                     h->errbuf[0] ? h->errbuf : curl_easy_strerror(cc));
        return;
    }
    long status = 0;
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
    res->status = status;
    if (status >= 200 && status < 300) {
        res->verdict = WH_OK;
        return;
    }
    res->verdict = status == 429 || status >= 500 ? WH_RETRY : WH_FATAL;
    curl_off_t ra = 0;
    /* curl reads both forms of Retry-After (seconds and HTTP date). */
    if (curl_easy_getinfo(h->curl, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
        res->retry_after_ms = (int64_t)ra * 1000;
    char answer[BODY_SHOWN + 1];
    quote_answer(h, answer, sizeof answer);
    snprintf(res->why, sizeof res->why, "HTTP %ld%s%s%s", status, answer[0] ? " \"" : "", answer,
             answer[0] ? "\"" : "");
}

void eddy_wh_http_free(wh_http *h)
{
    if (!h)
        return;
    if (h->curl)
        curl_easy_cleanup(h->curl);
    curl_slist_free_all(h->headers);
    free(h);
}
