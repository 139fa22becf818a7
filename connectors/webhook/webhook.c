/* `type: webhook` sink: alerts to chat or paging systems over HTTP. Each
 * record is POSTed as one JSON object (or, with batch: true, each write as
 * one JSON array). write() only encodes and queues; a sender thread
 * delivers with retries (wh_sender.c), so a slow endpoint shows up as
 * queue depth (pending(), which pauses the sources) instead of a stalled
 * processing thread. Dead letters are sent as their envelope
 * (deadletter.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/format/codec.h"
#include "engine/connector.h"
#include "connectors/deadletter.h"
#include "engine/core/error.h"
#include "engine/obs/log.h"
#include "engine/config/options.h"
#include "connectors/webhook/wh_int.h"

static const eddy_option webhook_options[] = {
    {"url", EDDY_OPT_STRING, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_REQUIRED,
     "Endpoint receiving the alerts, http:// or https://. A token in the URL can come from "
     "${ENV}; logs and errors show the URL without user:password, query, and path past its "
     "first segment."},
    {"method", EDDY_OPT_ENUM, "POST", EDDY_NO_RANGE, "POST|PUT", 0, "HTTP method of each request."},
    {"headers", EDDY_OPT_MAP, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_SECRET,
     "Extra request headers, e.g. {Authorization: \"Bearer ${ALERT_TOKEN}\"}; values are never "
     "logged. Content-Type is application/json unless given here."},
    {"batch", EDDY_OPT_BOOL, "false", EDDY_NO_RANGE, NULL, 0,
     "false: one request per record, its body the record as a JSON object. true: one request "
     "per batch the pipeline writes, its body a JSON array of the records."},
    {"timeout", EDDY_OPT_DURATION, "5s", 1, 600000.0, NULL, 0,
     "Time limit of one attempt (connecting, sending and reading the answer)."},
    {"retries", EDDY_OPT_INT, "5", 0, 100, NULL, 0,
     "Attempts after the first when the endpoint cannot be reached, times out, or answers 429 "
     "or 5xx. Other answers (4xx, 3xx) are not retried."},
    {"backoff", EDDY_OPT_DURATION, "500ms", 1, 3600000.0, NULL, 0,
     "Wait before the first retry; it doubles with each retry up to max_backoff, and a random "
     "part of up to half is taken off so many senders do not retry in step."},
    {"max_backoff", EDDY_OPT_DURATION, "30s", 1, 3600000.0, NULL, 0,
     "Longest wait between two attempts; also caps a server's Retry-After. At least backoff."},
    {"on_failure", EDDY_OPT_ENUM, "drop", EDDY_NO_RANGE, "drop|fail", 0,
     "An alert still not delivered after its retries. drop: logged with the reason, counted "
     "in eddy_webhook_dropped_total, and the pipeline goes on. fail: the sink's flush fails, "
     "so the worker stops without committing its input offsets."},
    {"max_pending", EDDY_OPT_INT, "10000", 1, 10000000.0, NULL, 0,
     "Records queued for delivery at most. From 3/4 of it the worker pauses its sources "
     "(resuming below half of that). A write finding the queue full drops the records "
     "(counted) with on_failure drop, and waits for room with on_failure fail."},
    {"close_timeout", EDDY_OPT_DURATION, "10s", 0, 3600000.0, NULL, 0,
     "At shutdown, how long queued alerts may still be delivered; whatever is left is then "
     "dropped and counted."},
    {NULL, 0, NULL, 0, 0, NULL, 0, NULL},
};

static void wh_free(webhook *s)
{
    eddy_wh_http_free(s->http);
    while (s->head) {
        wh_item *it = s->head;
        s->head = it->next;
        free(it);
    }
    eddy_buf_free(&s->enc);
    pthread_cond_destroy(&s->wake);
    pthread_cond_destroy(&s->done);
    pthread_mutex_destroy(&s->mu);
    free(s->name);
    free(s);
}

static int sync_init(webhook *s)
{
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0)
        return -1;
    /* Waits are measured on the monotonic clock (eddy_wh_now_ns). */
    int rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    rc = rc ? rc : pthread_mutex_init(&s->mu, NULL);
    rc = rc ? rc : pthread_cond_init(&s->wake, &ca);
    rc = rc ? rc : pthread_cond_init(&s->done, &ca);
    pthread_condattr_destroy(&ca);
    return rc ? -1 : 0;
}

static void metrics_init(webhook *s, eddy_metrics *m)
{
    if (!m)
        return;
    static const char *const outcomes[] = {"ok", "retry", "failed"};
    eddy_metric **dst[] = {&s->m_ok, &s->m_retry, &s->m_failed};
    eddy_buf l = {0};
    for (int i = 0; i < 3; i++) {
        eddy_buf_reset(&l);
        eddy_metrics_label(&l, "sink", s->name);
        eddy_metrics_label(&l, "outcome", outcomes[i]);
        if (eddy_buf_putc(&l, '\0') == 0)
            *dst[i] = eddy_metrics_get(m, "eddy_webhook_requests_total",
                                       "Webhook requests by outcome: ok (delivered), retry (to be "
                                       "tried again), failed (given up)",
                                       EDDY_METRIC_COUNTER, (const char *)l.data);
    }
    eddy_buf_reset(&l);
    eddy_metrics_label(&l, "sink", s->name);
    if (eddy_buf_putc(&l, '\0') == 0)
        s->m_dropped = eddy_metrics_get(m, "eddy_webhook_dropped_total",
                                        "Records not delivered by a webhook sink and dropped",
                                        EDDY_METRIC_COUNTER, (const char *)l.data);
    eddy_buf_free(&l);
}

/* Reads and checks the options; err says which option and why. */
static int configure(webhook *s, const eddy_opts *o, const char **url, char *err, size_t errlen)
{
    *url = eddy_opts_str(o, "url");
    char why[256];
    int rc = eddy_wh_url_check(*url, s->shown, sizeof s->shown, why, sizeof why);
    if (rc != 0) {
        const char *where = eddy_opts_where(o, "url");
        snprintf(err, errlen, "webhook sink '%s': url%s%s%s: %s", s->name, *where ? " (" : "",
                 where, *where ? ")" : "", why);
        return rc;
    }
    const char *mode = eddy_opts_str(o, "on_failure");
    s->fail_mode = mode && strcmp(mode, "fail") == 0;
    s->batch = eddy_opts_bool(o, "batch") > 0;
    s->retries = (int)eddy_opts_int(o, "retries");
    s->backoff_ms = eddy_opts_int(o, "backoff");
    s->max_backoff_ms = eddy_opts_int(o, "max_backoff");
    s->close_ms = eddy_opts_int(o, "close_timeout");
    s->max_pending = eddy_opts_int(o, "max_pending");
    if (s->max_backoff_ms < s->backoff_ms) {
        snprintf(err, errlen, "webhook sink '%s': max_backoff (%" PRId64 "ms) is shorter than "
                 "backoff (%" PRId64 "ms)", s->name, s->max_backoff_ms, s->backoff_ms);
        return EDDY_ECONFIG;
    }
    if (s->retries < 0 || s->backoff_ms <= 0 || s->max_pending <= 0 || s->close_ms < 0 ||
        eddy_opts_int(o, "timeout") <= 0) {
        snprintf(err, errlen, "webhook sink '%s': retries, timeout, backoff and max_pending must "
                 "be positive", s->name);
        return EDDY_ECONFIG;
    }
    return 0;
}

static int http_init(webhook *s, const eddy_opts *o, const char *url, char *err, size_t errlen)
{
    uint32_t n = eddy_opts_count(o, "headers");
    const char **keys = calloc(n + 1, sizeof *keys), **vals = calloc(n + 1, sizeof *vals);
    int rc = EDDY_ENOMEM;
    char why[256] = "out of memory";
    if (keys && vals) {
        for (uint32_t i = 0; i < n; i++) {
            keys[i] = eddy_opts_key(o, "headers", i);
            vals[i] = eddy_opts_item(o, "headers", i);
        }
        const char *method = eddy_opts_str(o, "method");
        wh_http_conf c = {.url = url, .method = method ? method : "POST", .hkeys = keys,
                          .hvals = vals, .nheaders = n, .timeout_ms = eddy_opts_int(o, "timeout"),
                          .abort = &s->abort};
        rc = eddy_wh_http_new(&c, &s->http, why, sizeof why);
    }
    free(keys);
    free(vals);
    if (rc != 0)
        snprintf(err, errlen, "webhook sink '%s' (%s): %s", s->name, s->shown, why);
    return rc;
}

static int wh_open(const eddy_opts *o, const char *name, const eddy_connector_env *env,
                   void **self, char *err, size_t errlen)
{
    webhook *s = calloc(1, sizeof *s);
    if (!s || !(s->name = strdup(name ? name : "webhook"))) {
        free(s);
        snprintf(err, errlen, "webhook sink: out of memory");
        return EDDY_ENOMEM;
    }
    if (sync_init(s) != 0) {
        free(s->name);
        free(s);
        snprintf(err, errlen, "webhook sink: cannot create its locks");
        return EDDY_ENOMEM;
    }
    const char *url = NULL;
    int rc = configure(s, o, &url, err, errlen);
    rc = rc ? rc : http_init(s, o, url, err, errlen);
    if (rc != 0) {
        wh_free(s);
        return rc;
    }
    s->rng = (uint64_t)eddy_wh_now_ns() ^ ((uint64_t)(uintptr_t)s << 16) ^ 0x9E3779B97F4A7C15ULL;
    if (!s->rng)
        s->rng = 1;
    metrics_init(s, env ? env->metrics : NULL);
    if (pthread_create(&s->thread, NULL, eddy_wh_sender_main, s) != 0) {
        snprintf(err, errlen, "webhook sink '%s': cannot start its sender thread", s->name);
        wh_free(s);
        return EDDY_EIO;
    }
    s->started = true;
    *self = s;
    return 0;
}

/* Appends one request body to the queue, or drops it when the queue is
 * full under on_failure drop. Takes ownership of it. */
static int enqueue(webhook *s, wh_item *it, char *err, size_t errlen)
{
    pthread_mutex_lock(&s->mu);
    /* An empty queue takes any item, so a batch larger than max_pending
     * still goes out rather than waiting forever. */
    while (s->fail_mode && !s->failed && s->queued > 0 && s->queued + it->nrec > s->max_pending)
        pthread_cond_wait(&s->done, &s->mu);
    if (s->failed) {
        snprintf(err, errlen, "webhook sink '%s' (%s): an alert could not be delivered: %s",
                 s->name, s->shown, s->fail_why);
        pthread_mutex_unlock(&s->mu);
        free(it);
        return EDDY_EIO;
    }
    if (s->queued > 0 && s->queued + it->nrec > s->max_pending) {
        /* One warning a second at most: a dead endpoint would flood the log. */
        s->full_dropped += it->nrec;
        int64_t now = eddy_wh_now_ns();
        uint64_t n = 0;
        if (now - s->full_logged_ns >= 1000000000) {
            n = s->full_dropped;
            s->full_dropped = 0;
            s->full_logged_ns = now;
        }
        pthread_mutex_unlock(&s->mu);
        if (s->m_dropped)
            eddy_metric_add(s->m_dropped, it->nrec);
        if (n) {
            char num[24], why[160];
            snprintf(num, sizeof num, "%" PRIu64, n);
            snprintf(why, sizeof why, "delivery queue full (max_pending %" PRId64 ")",
                     s->max_pending);
            const char *kv[] = {"sink", s->name, "url", s->shown, "records", num, NULL};
            eddy_log(EDDY_LOG_WARN, kv, "webhook: alerts dropped: %s", why);
        }
        free(it);
        return 0;
    }
    if (s->tail)
        s->tail->next = it;
    else
        s->head = it;
    s->tail = it;
    s->queued += it->nrec;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

static int queue_enc(webhook *s, uint32_t nrec, char *err, size_t errlen)
{
    wh_item *it = malloc(sizeof *it + s->enc.len + 1);
    if (!it) {
        snprintf(err, errlen, "webhook sink '%s': out of memory queueing an alert", s->name);
        return EDDY_ENOMEM;
    }
    it->next = NULL;
    it->nrec = nrec;
    it->len = s->enc.len;
    memcpy(it->body, s->enc.data, s->enc.len);
    it->body[it->len] = '\0';
    eddy_buf_reset(&s->enc);
    return enqueue(s, it, err, errlen);
}

static int encode(const eddy_record *r, eddy_buf *out)
{
    return r->flags & EDDY_REC_ERROR ? eddy_deadletter_json(r, out) : eddy_record_to_json(r, out);
}

static int wh_write(void *self, const eddy_batch *b, char *err, size_t errlen)
{
    webhook *s = self;
    uint32_t n = 0;
    eddy_buf_reset(&s->enc);
    for (uint32_t i = 0; i < b->n; i++) {
        const eddy_record *r = &b->recs[i];
        if (r->flags & EDDY_REC_DROPPED)
            continue;
        int rc = s->batch ? eddy_buf_putc(&s->enc, n ? ',' : '[') : 0;
        if (rc != 0 || encode(r, &s->enc) != 0) {
            eddy_buf_reset(&s->enc);
            snprintf(err, errlen, "webhook sink '%s': out of memory encoding a record", s->name);
            return EDDY_ENOMEM;
        }
        n++;
        if (!s->batch && (rc = queue_enc(s, 1, err, errlen)) != 0)
            return rc;
    }
    if (!s->batch || n == 0)
        return 0;
    if (eddy_buf_putc(&s->enc, ']') != 0) {
        eddy_buf_reset(&s->enc);
        snprintf(err, errlen, "webhook sink '%s': out of memory encoding a record", s->name);
        return EDDY_ENOMEM;
    }
    return queue_enc(s, n, err, errlen);
}

static int wh_flush(void *self)
{
    webhook *s = self;
    pthread_mutex_lock(&s->mu);
    while (s->queued > 0 && !s->failed)
        pthread_cond_wait(&s->done, &s->mu);
    int rc = s->failed ? EDDY_EIO : 0;
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int64_t wh_pending(void *self, int64_t *high_water)
{
    webhook *s = self;
    pthread_mutex_lock(&s->mu);
    int64_t q = s->queued;
    pthread_mutex_unlock(&s->mu);
    if (high_water) {
        int64_t hw = s->max_pending - s->max_pending / 4;
        *high_water = hw > 0 ? hw : 1;
    }
    return q;
}

static void wh_close(void *self)
{
    webhook *s = self;
    if (!s)
        return;
    if (s->started) {
        pthread_mutex_lock(&s->mu);
        s->stopping = true;
        pthread_cond_broadcast(&s->wake);
        int64_t until = eddy_wh_now_ns() + s->close_ms * 1000000;
        struct timespec ts = {.tv_sec = until / 1000000000, .tv_nsec = until % 1000000000};
        while (s->queued > 0 && eddy_wh_now_ns() < until)
            pthread_cond_timedwait(&s->done, &s->mu, &ts);
        if (s->queued > 0) {
            atomic_store(&s->abort, 1);
            pthread_cond_broadcast(&s->wake);
        }
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
    }
    if (s->full_dropped) {
        /* Drops on a full queue not yet reported by the once-a-second warning. */
        char num[24];
        snprintf(num, sizeof num, "%" PRIu64, s->full_dropped);
        const char *kv[] = {"sink", s->name, "url", s->shown, "records", num, NULL};
        eddy_log(EDDY_LOG_WARN, kv, "webhook: alerts dropped: delivery queue full "
                 "(max_pending %" PRId64 ")", s->max_pending);
    }
    wh_free(s);
}

const eddy_sink_ops eddy_webhook_sink = {
    .type = "webhook",
    .summary = "Sends records as JSON over HTTP POST/PUT (alerts to chat and paging), "
               "with retries and a bounded queue",
    .options = webhook_options,
    .open = wh_open,
    .write = wh_write,
    .flush = wh_flush,
    .close = wh_close,
    .pending = wh_pending,
};
