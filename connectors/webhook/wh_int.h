/* Internals of the webhook sink shared by its files: the HTTP side (one
 * reused libcurl easy handle, so connections are kept alive) and the URL
 * check/redaction. Only the sender thread touches a wh_http. */
#ifndef EDDY_WH_INT_H
#define EDDY_WH_INT_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf/buf.h"
#include "engine/obs/metrics.h"

typedef enum wh_verdict {
    WH_OK = 0,    /* 2xx */
    WH_RETRY = 1, /* connection error, timeout, 429, 5xx */
    WH_FATAL = 2  /* any other answer or error: retrying cannot help */
} wh_verdict;

typedef struct wh_result {
    wh_verdict verdict;
    long status;            /* HTTP status, 0 when no answer came */
    int64_t retry_after_ms; /* from Retry-After, -1 when absent */
    char why[512];          /* what went wrong: status and body start, or curl's text */
} wh_result;

typedef struct wh_http_conf {
    const char *url;
    const char *method; /* "POST" | "PUT" */
    const char *const *hkeys, *const *hvals;
    uint32_t nheaders;
    int64_t timeout_ms;
    const atomic_int *abort; /* non-zero: the running request is cut short */
} wh_http_conf;

typedef struct wh_http wh_http;

/* 0, or <0 with the reason in err. Header names and values are checked
 * here (no CR/LF, names are tokens); values are never shown in err. */
int eddy_wh_http_new(const wh_http_conf *conf, wh_http **out, char *err, size_t errlen);
/* One request with body; never fails without filling res. */
void eddy_wh_http_send(wh_http *h, const char *body, size_t len, wh_result *res);
void eddy_wh_http_free(wh_http *h);

/* Checks that url is http(s) with a host; on success writes into shown a
 * form safe for logs: no user:password, no query, and the path cut after
 * its first segment (chat webhooks carry their token in the path). */
int eddy_wh_url_check(const char *url, char *shown, size_t shownlen, char *err, size_t errlen);

/* ---- the sink and its sender thread (webhook.c, wh_sender.c) ------------ */

/* One request body: a JSON object (one record) or array (batch: true). */
typedef struct wh_item {
    struct wh_item *next;
    uint32_t nrec; /* records it carries */
    size_t len;
    char body[];   /* NUL-terminated */
} wh_item;

typedef struct webhook {
    char *name;
    char shown[512]; /* the url as logs may show it */
    bool batch, fail_mode;
    int retries;
    int64_t backoff_ms, max_backoff_ms, close_ms, max_pending;
    wh_http *http;    /* sender thread only */
    uint64_t rng;     /* jitter; sender thread only */
    eddy_buf enc;     /* write(): encoding scratch */
    eddy_metric *m_ok, *m_retry, *m_failed, *m_dropped;

    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t wake; /* sender: work arrived, or closing */
    pthread_cond_t done; /* flush/write/close: an item left the queue */
    /* Guarded by mu. The item being sent stays at the head until it is
     * delivered or given up, so `queued` counts it (pending, flush). */
    wh_item *head, *tail;
    int64_t queued;   /* records */
    bool stopping;    /* close() began */
    bool failed;      /* on_failure fail: an alert was lost */
    char fail_why[768];
    int64_t full_logged_ns; /* last "queue full" warning */
    uint64_t full_dropped;  /* records dropped on a full queue since that warning */
    atomic_int abort; /* close_timeout passed: stop sending */
} webhook;

void *eddy_wh_sender_main(void *arg);
/* Counts n dropped records under on_failure drop and logs why. */
void eddy_wh_drop(webhook *s, uint32_t n, const char *why);
int64_t eddy_wh_now_ns(void);

#endif
