/* One alert per alert key across the partitions of a step (issue 15.7).
 *
 * Each operator instance (one per partition) runs its own noise controls
 * (engine/alert/alert_state.c), so one drift seen by six partitions used to
 * raise six alerts with six ids. This table, one per step and shared by the
 * worker's processing threads, remembers which instances are firing for
 * each open alert key: the first instance to fire sends the alert, the
 * others join it under the same id, and the alert resolves when the last
 * of them clears. A breach of higher severity than the one sent (a drift
 * detector's warning becoming a change) sends the alert again, same id.
 *
 * Only open alerts are held, so its size is bounded by the firing keys of
 * the instances (each bounded by the step's `alerts.max_keys`). It is not
 * durable: instances restore their own firing state (with the merged id
 * and severity, see eddy_alert_state_sent) and join the table again when
 * they are restored (engine/state/state_alerts.c). Alerts are rare next to records, so one mutex is enough. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine/alert/alert.h"

typedef struct mentry {
    char *key; /* NULL: empty slot */
    uint32_t klen;
    uint64_t hash;
    uint64_t id;
    int sev; /* highest severity sent for this alert */
    const void **members;
    uint32_t nmem, capmem;
} mentry;

struct eddy_alert_merge {
    pthread_mutex_t mu;
    mentry *slots;
    uint32_t cap; /* power of two; at most half full */
    uint32_t n;
};

static uint64_t hash_key(const char *k, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)k[i]) * 1099511628211ULL;
    return h;
}

eddy_alert_merge *eddy_alert_merge_new(void)
{
    eddy_alert_merge *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->cap = 16;
    m->slots = calloc(m->cap, sizeof *m->slots);
    if (!m->slots) {
        free(m);
        return NULL;
    }
    pthread_mutex_init(&m->mu, NULL);
    return m;
}

static void entry_clear(mentry *e)
{
    free(e->key);
    free(e->members);
    memset(e, 0, sizeof *e);
}

void eddy_alert_merge_free(eddy_alert_merge *m)
{
    if (!m)
        return;
    for (uint32_t i = 0; i < m->cap; i++)
        entry_clear(&m->slots[i]);
    free(m->slots);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

static mentry *find(eddy_alert_merge *m, const char *k, size_t n, uint64_t h)
{
    for (uint32_t i = (uint32_t)h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        mentry *e = &m->slots[i];
        if (!e->key)
            return NULL;
        if (e->hash == h && e->klen == n && memcmp(e->key, k, n) == 0)
            return e;
    }
}

static int grow(eddy_alert_merge *m)
{
    uint32_t cap = m->cap * 2;
    mentry *s = calloc(cap, sizeof *s);
    if (!s)
        return -1;
    for (uint32_t i = 0; i < m->cap; i++) {
        mentry *e = &m->slots[i];
        if (!e->key)
            continue;
        uint32_t j = (uint32_t)e->hash & (cap - 1);
        while (s[j].key)
            j = (j + 1) & (cap - 1);
        s[j] = *e;
    }
    free(m->slots);
    m->slots = s;
    m->cap = cap;
    return 0;
}

static mentry *insert(eddy_alert_merge *m, const char *k, size_t n, uint64_t h)
{
    if ((m->n + 1) * 2 > m->cap && grow(m) != 0)
        return NULL;
    char *copy = malloc(n + 1);
    if (!copy)
        return NULL;
    memcpy(copy, k, n);
    copy[n] = '\0';
    uint32_t i = (uint32_t)h & (m->cap - 1);
    while (m->slots[i].key)
        i = (i + 1) & (m->cap - 1);
    mentry *e = &m->slots[i];
    *e = (mentry){.key = copy, .klen = (uint32_t)n, .hash = h};
    m->n++;
    return e;
}

/* Linear probing's deletion: shift the entries after the hole back so no
 * lookup stops early at it (no tombstones to clean up later). */
static void erase(eddy_alert_merge *m, mentry *e)
{
    uint32_t i = (uint32_t)(e - m->slots);
    entry_clear(e);
    m->n--;
    for (uint32_t j = (i + 1) & (m->cap - 1); m->slots[j].key; j = (j + 1) & (m->cap - 1)) {
        uint32_t home = (uint32_t)m->slots[j].hash & (m->cap - 1);
        /* Move j to the hole at i unless its home lies cyclically in (i, j]. */
        int stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (stays)
            continue;
        m->slots[i] = m->slots[j];
        memset(&m->slots[j], 0, sizeof m->slots[j]);
        i = j;
    }
}

static int member_at(const mentry *e, const void *who)
{
    for (uint32_t i = 0; i < e->nmem; i++)
        if (e->members[i] == who)
            return (int)i;
    return -1;
}

static int member_add(mentry *e, const void *who)
{
    if (member_at(e, who) >= 0)
        return 0;
    if (e->nmem == e->capmem) {
        uint32_t cap = e->capmem ? e->capmem * 2 : 4;
        const void **mm = realloc(e->members, cap * sizeof *mm);
        if (!mm)
            return -1;
        e->members = mm;
        e->capmem = cap;
    }
    e->members[e->nmem++] = who;
    return 0;
}

static void member_del(mentry *e, int at)
{
    e->members[at] = e->members[--e->nmem];
}

int eddy_alert_merge_fire(eddy_alert_merge *m, const char *k, size_t n, const void *who,
                          uint64_t id, int sev, int fresh, uint64_t *out, int *out_sev)
{
    if (out_sev)
        *out_sev = sev;
    uint64_t h = hash_key(k, n);
    int send = 0;
    pthread_mutex_lock(&m->mu);
    mentry *e = find(m, k, n, h);
    if (!e) {
        e = insert(m, k, n, h);
        if (!e || member_add(e, who) != 0) {
            if (e)
                erase(m, e);
            pthread_mutex_unlock(&m->mu);
            *out = id;
            return fresh ? 1 : 0; /* no memory: behave as if unmerged */
        }
        e->id = id;
        e->sev = sev;
        /* A continuing breach the table did not know (an instance restored
         * firing, its alert sent before the restart) joins silently. */
        send = fresh;
    } else {
        int at = member_at(e, who);
        if (fresh && at >= 0 && e->nmem == 1) {
            /* Its earlier alert cleared without a `resolved` (resolve:
             * false): a new episode, a new id. */
            e->id = id;
            e->sev = sev;
            send = 1;
        } else {
            if (at < 0 && member_add(e, who) != 0) {
                pthread_mutex_unlock(&m->mu);
                *out = id;
                return fresh ? 1 : 0;
            }
            if (sev > e->sev) {
                e->sev = sev;
                send = 1; /* escalated: the same alert again, more severe */
            }
        }
    }
    *out = e->id;
    if (out_sev)
        *out_sev = e->sev;
    pthread_mutex_unlock(&m->mu);
    return send;
}

void eddy_alert_merge_join(eddy_alert_merge *m, const char *k, size_t n, const void *who,
                           uint64_t id, int sev)
{
    uint64_t out;
    (void)eddy_alert_merge_fire(m, k, n, who, id, sev, 0, &out, NULL);
}

int eddy_alert_merge_resolve(eddy_alert_merge *m, const char *k, size_t n, const void *who,
                             uint64_t id, uint64_t *out, int *out_sev)
{
    uint64_t h = hash_key(k, n);
    int send = 1;
    *out = id;
    if (out_sev)
        *out_sev = -1;
    pthread_mutex_lock(&m->mu);
    mentry *e = find(m, k, n, h);
    if (e) {
        int at = member_at(e, who);
        if (at >= 0)
            member_del(e, at);
        *out = e->id;
        if (out_sev)
            *out_sev = e->sev;
        if (e->nmem == 0)
            erase(m, e); /* the last one: the alert resolves */
        else
            send = 0; /* other partitions still see it */
    }
    pthread_mutex_unlock(&m->mu);
    return send;
}

void eddy_alert_merge_forget(eddy_alert_merge *m, const void *who)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->mu);
    /* The instance is gone (its partition revoked, or the worker stopping):
     * its alerts continue wherever the partition's state is restored.
     * Erasing shifts entries back (across the wrap too), so passes repeat
     * until one erases nothing. */
    int again;
    do {
        again = 0;
        for (uint32_t i = 0; i < m->cap; i++) {
            mentry *e = &m->slots[i];
            int at = e->key ? member_at(e, who) : -1;
            if (at < 0)
                continue;
            member_del(e, at);
            if (e->nmem == 0) {
                erase(m, e);
                again = 1;
            }
        }
    } while (again);
    pthread_mutex_unlock(&m->mu);
}

uint32_t eddy_alert_merge_open(eddy_alert_merge *m)
{
    pthread_mutex_lock(&m->mu);
    uint32_t n = m->n;
    pthread_mutex_unlock(&m->mu);
    return n;
}
