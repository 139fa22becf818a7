/* The last N alerts of the worker, for GET /v1/alerts and `eddy alerts
 * tail --admin`. Alerts are rare next to records, so a mutex and a copy of
 * each alert's JSON cost nothing that matters. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "engine/alert/alert.h"
#include "engine/core/error.h"

struct eddy_alert_ring {
    pthread_mutex_t mu;
    char **json;
    uint32_t *len;
    uint32_t cap;
    uint64_t seq; /* sequence of the newest alert; 0 = none yet */
};

eddy_alert_ring *eddy_alert_ring_new(uint32_t cap)
{
    eddy_alert_ring *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->cap = cap ? cap : 1;
    r->json = calloc(r->cap, sizeof *r->json);
    r->len = calloc(r->cap, sizeof *r->len);
    if (!r->json || !r->len) {
        free(r->json);
        free(r->len);
        free(r);
        return NULL;
    }
    pthread_mutex_init(&r->mu, NULL);
    return r;
}

void eddy_alert_ring_free(eddy_alert_ring *r)
{
    if (!r)
        return;
    for (uint32_t i = 0; i < r->cap; i++)
        free(r->json[i]);
    free(r->json);
    free(r->len);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

uint64_t eddy_alert_ring_push(eddy_alert_ring *r, const char *json, size_t len)
{
    char *c = malloc(len + 1);
    if (!c)
        return 0;
    memcpy(c, json, len);
    c[len] = '\0';
    pthread_mutex_lock(&r->mu);
    uint64_t s = ++r->seq;
    uint32_t slot = (uint32_t)((s - 1) % r->cap);
    free(r->json[slot]);
    r->json[slot] = c;
    r->len[slot] = (uint32_t)len;
    pthread_mutex_unlock(&r->mu);
    return s;
}

int eddy_alert_ring_json(eddy_alert_ring *r, uint64_t after, uint32_t limit, eddy_buf *out)
{
    pthread_mutex_lock(&r->mu);
    uint64_t oldest = r->seq >= r->cap ? r->seq - r->cap + 1 : 1;
    uint64_t from = after + 1 > oldest ? after + 1 : oldest;
    uint64_t dropped = after + 1 < oldest ? oldest - (after + 1) : 0;
    uint64_t to = r->seq;
    if (limit && to >= from && to - from + 1 > limit)
        to = from + limit - 1;
    int rc = eddy_buf_printf(out, "{\"next\":%" PRIu64 ",\"dropped\":%" PRIu64 ",\"alerts\":[",
                             to >= from ? to : (after > r->seq ? r->seq : after), dropped);
    for (uint64_t s = from; s <= to && rc == 0; s++) {
        uint32_t slot = (uint32_t)((s - 1) % r->cap);
        if (s > from)
            rc |= eddy_buf_putc(out, ',');
        rc |= eddy_buf_printf(out, "{\"seq\":%" PRIu64 ",\"alert\":", s);
        rc |= eddy_buf_put(out, r->json[slot], r->len[slot]);
        rc |= eddy_buf_putc(out, '}');
    }
    rc |= eddy_buf_puts(out, "]}");
    pthread_mutex_unlock(&r->mu);
    return rc ? EDDY_ENOMEM : 0;
}
