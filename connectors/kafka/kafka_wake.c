/* Fetch wake-ups for the Kafka source, around a stall in librdkafka 2.0.2.
 *
 * librdkafka stops fetching once its prefetch queue holds
 * queued.max.messages.kbytes (one limit for the whole consumer queue), and
 * only reconsiders when its broker thread wakes up: on network I/O or an
 * op, else after a fixed second (rd_kafka_max_block_ms; made configurable
 * as fetch.queue.backoff.ms in 2.3.0). A worker replaying a backlog drains
 * the 32 MiB queue in about 0.25 s and then waits for the rest of that
 * second: measured, 2,000,000 JSON records into a /dev/null sink took 9.8 s
 * of wall time for 4.0 s of CPU; with the queue never filling (256 MiB,
 * 630 MB of RSS) 2.9 s.
 *
 * Instead of buffering a second of input per worker, the source asks the
 * partition's leader for its offsets (a ListOffsets round trip) when it is
 * behind and its queue runs low: the response is I/O on that broker's
 * thread, which then sees the queue below the limit and fetches at once.
 * The request is synchronous, so it runs on a helper thread; at most one
 * every KICK_MS, and only while a partition has records on the broker
 * that are not yet in the queue. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/kafka/kafka_src.h"

#define KICK_MS 20

struct ksrc_waker {
    pthread_t thr;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    rd_kafka_t *rk;
    rd_kafka_queue_t *cq; /* the consumer queue, for its length */
    char topic[256];
    int32_t partition;
    int pending, stop;
    int64_t last_ms;
    uint32_t next; /* round robin over the assignment */
};

static void *waker_main(void *arg)
{
    ksrc_waker *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->pending && !w->stop)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->stop)
            break;
        char topic[256];
        memcpy(topic, w->topic, sizeof topic);
        int32_t part = w->partition;
        pthread_mutex_unlock(&w->mu);
        int64_t lo, hi;
        /* The answer does not matter: its arrival wakes the fetcher. */
        rd_kafka_query_watermark_offsets(w->rk, topic, part, &lo, &hi, 1000);
        pthread_mutex_lock(&w->mu);
        w->pending = 0;
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int eddy_ksrc_waker_start(ksrc *s)
{
    ksrc_waker *w = calloc(1, sizeof *w);
    if (!w)
        return -1;
    w->rk = s->rk;
    w->cq = rd_kafka_queue_get_consumer(s->rk);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (!w->cq || pthread_create(&w->thr, NULL, waker_main, w) != 0) {
        if (w->cq)
            rd_kafka_queue_destroy(w->cq);
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        free(w);
        return -1;
    }
    s->waker = w;
    return 0;
}

void eddy_ksrc_waker_stop(ksrc *s)
{
    ksrc_waker *w = s->waker;
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thr, NULL);
    rd_kafka_queue_destroy(w->cq);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
    s->waker = NULL;
}

/* Called by the processing thread after each consume. */
void eddy_ksrc_wake(ksrc *s)
{
    ksrc_waker *w = s->waker;
    if (!w || s->paused || !s->nparts)
        return;
    int64_t now = eddy_ksrc_now_ms();
    if (now - w->last_ms < KICK_MS)
        return;
    w->last_ms = now;
    /* A kick while the queue is still full is harmless (the fetcher
     * looks, and waits again); one every KICK_MS while behind costs a few
     * hundred microseconds of CPU a second. */
    size_t queued = rd_kafka_queue_length(w->cq);
    for (uint32_t k = 0; k < s->nparts; k++) {
        ksrc_part *p = &s->parts[(w->next + k) % s->nparts];
        int64_t lo, hi;
        if (p->next < 0 || rd_kafka_get_watermark_offsets(s->rk, s->topics[p->topic],
                                                           p->partition, &lo, &hi) != 0)
            continue;
        if (hi - p->next <= (int64_t)(queued + s->npend))
            continue; /* nothing on the broker beyond what is already here */
        w->next = (w->next + k + 1) % s->nparts;
        pthread_mutex_lock(&w->mu);
        if (!w->pending) {
            snprintf(w->topic, sizeof w->topic, "%s", s->topics[p->topic]);
            w->partition = p->partition;
            w->pending = 1;
            pthread_cond_signal(&w->cv);
        }
        pthread_mutex_unlock(&w->mu);
        return;
    }
}
