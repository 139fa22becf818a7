/* The webhook sender thread: takes request bodies off the queue in order
 * and delivers each with retries, so a slow or failing endpoint never
 * holds up the processing thread (it only sees the queue depth). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "engine/obs/log.h"
#include "connectors/webhook/wh_int.h"

int64_t eddy_wh_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void count(eddy_metric *m, double v)
{
    if (m)
        eddy_metric_add(m, v);
}

void eddy_wh_drop(webhook *s, uint32_t n, const char *why)
{
    count(s->m_dropped, n);
    char num[24];
    snprintf(num, sizeof num, "%" PRIu32, n);
    const char *kv[] = {"sink", s->name, "url", s->shown, "records", num, NULL};
    eddy_log(EDDY_LOG_WARN, kv, "webhook: alert dropped: %s", why);
}

/* xorshift64*: jitter only needs to spread clients apart. */
static uint64_t next_rand(webhook *s)
{
    s->rng ^= s->rng >> 12;
    s->rng ^= s->rng << 25;
    s->rng ^= s->rng >> 27;
    return s->rng * 0x2545F4914F6CDD1DULL;
}

/* Exponential backoff with jitter over the upper half, so retries of many
 * sinks hitting one endpoint spread out; a server's Retry-After wins,
 * capped by max_backoff. */
static int64_t retry_delay(webhook *s, int attempt, int64_t retry_after_ms)
{
    if (retry_after_ms >= 0)
        return retry_after_ms < s->max_backoff_ms ? retry_after_ms : s->max_backoff_ms;
    int64_t d = s->backoff_ms;
    for (int i = 0; i < attempt && d < s->max_backoff_ms; i++)
        d *= 2;
    if (d > s->max_backoff_ms)
        d = s->max_backoff_ms;
    int64_t half = d / 2;
    return d - half + (half > 0 ? (int64_t)(next_rand(s) % (uint64_t)(half + 1)) : 0);
}

/* Sleeps ms unless the sink is told to stop sending; false if so. */
static bool nap(webhook *s, int64_t ms)
{
    int64_t until = eddy_wh_now_ns() + ms * 1000000;
    struct timespec ts = {.tv_sec = until / 1000000000, .tv_nsec = until % 1000000000};
    pthread_mutex_lock(&s->mu);
    while (!atomic_load(&s->abort) && eddy_wh_now_ns() < until)
        if (pthread_cond_timedwait(&s->wake, &s->mu, &ts) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&s->mu);
    return !atomic_load(&s->abort);
}

static void give_up(webhook *s, const wh_item *it, int attempts, const char *why)
{
    count(s->m_failed, 1);
    char reason[700];
    snprintf(reason, sizeof reason, "%s (after %d attempt%s)", why, attempts,
             attempts == 1 ? "" : "s");
    if (!s->fail_mode) {
        eddy_wh_drop(s, it->nrec, reason);
        return;
    }
    const char *kv[] = {"sink", s->name, "url", s->shown, NULL};
    eddy_log(EDDY_LOG_ERROR, kv, "webhook: alert not delivered: %s", reason);
    pthread_mutex_lock(&s->mu);
    if (!s->failed)
        snprintf(s->fail_why, sizeof s->fail_why, "%s", reason);
    s->failed = true;
    pthread_mutex_unlock(&s->mu);
}

static void deliver(webhook *s, const wh_item *it)
{
    wh_result res;
    for (int attempt = 0;; attempt++) {
        eddy_wh_http_send(s->http, it->body, it->len, &res);
        if (res.verdict == WH_OK) {
            count(s->m_ok, 1);
            return;
        }
        if (res.verdict != WH_RETRY || attempt >= s->retries || atomic_load(&s->abort)) {
            give_up(s, it, attempt + 1, res.why);
            return;
        }
        count(s->m_retry, 1);
        int64_t ms = retry_delay(s, attempt, res.retry_after_ms);
        if (eddy_log_get_level() >= EDDY_LOG_DEBUG) {
            const char *kv[] = {"sink", s->name, "url", s->shown, NULL};
            eddy_log(EDDY_LOG_DEBUG, kv, "webhook: %s; retry %d of %d in %" PRId64 "ms", res.why,
                     attempt + 1, s->retries, ms);
        }
        if (!nap(s, ms)) {
            give_up(s, it, attempt + 1, res.why);
            return;
        }
    }
}

/* After close_timeout: what is still queued is counted, logged once. */
static void drop_rest(webhook *s)
{
    uint64_t n = 0;
    for (wh_item *it = s->head; it; it = it->next)
        n += it->nrec;
    if (!n)
        return;
    count(s->m_dropped, (double)n);
    char num[24];
    snprintf(num, sizeof num, "%" PRIu64, n);
    const char *kv[] = {"sink", s->name, "url", s->shown, "records", num, NULL};
    eddy_log(EDDY_LOG_WARN, kv, "webhook: alerts not delivered within close_timeout (%" PRId64
             "ms), dropped", s->close_ms);
}

void *eddy_wh_sender_main(void *arg)
{
    webhook *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->head && !s->stopping)
            pthread_cond_wait(&s->wake, &s->mu);
        if (!s->head || atomic_load(&s->abort))
            break;
        wh_item *it = s->head;
        pthread_mutex_unlock(&s->mu);
        deliver(s, it);
        pthread_mutex_lock(&s->mu);
        s->head = it->next;
        if (!s->head)
            s->tail = NULL;
        s->queued -= it->nrec;
        free(it);
        pthread_cond_broadcast(&s->done);
    }
    drop_rest(s);
    while (s->head) {
        wh_item *it = s->head;
        s->head = it->next;
        free(it);
    }
    s->tail = NULL;
    s->queued = 0;
    pthread_cond_broadcast(&s->done);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}
