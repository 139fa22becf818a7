/* Durable alert state (alert_state.c): a flush writes the keys changed
 * since the last one (and the id counter), a fresh state loaded from those
 * records continues exactly like the original (same outcomes, same ids),
 * an evicted key becomes a tombstone, and a short, long or foreign record
 * is refused without changing anything. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/alert/alert.h"
#include "engine/core/error.h"
#include "tests/unit/test.h"

#define MAXR 256
typedef struct rec {
    char key[64];
    size_t klen;
    uint8_t data[64];
    size_t len;
    int tomb;
} rec;

typedef struct log {
    rec r[MAXR];
    int n, writes, fail_after;
} log;

/* Keeps the last record per key, as compaction would. */
static int w(void *arg, const void *key, size_t klen, const void *data, size_t len)
{
    log *l = arg;
    if (l->fail_after >= 0 && l->writes >= l->fail_after)
        return EDDY_EIO;
    l->writes++;
    int i = 0;
    while (i < l->n && !(l->r[i].klen == klen && memcmp(l->r[i].key, key, klen) == 0))
        i++;
    if (i == l->n)
        l->n++;
    memcpy(l->r[i].key, key, klen);
    l->r[i].klen = klen;
    l->r[i].tomb = data == NULL;
    if (data)
        memcpy(l->r[i].data, data, len);
    l->r[i].len = len;
    return 0;
}

static int check(eddy_alert_state *s, int key, int breach, int64_t t, uint64_t *id)
{
    char k[16];
    int n = snprintf(k, sizeof k, "k%d", key);
    eddy_alert_suppress why;
    *id = 0;
    return eddy_alert_check(s, k, (size_t)n, breach, t, id, &why);
}

/* A pseudo-random but reproducible check sequence. */
static int pattern(int i, int *key) {
    *key = (i * 7) % 5;
    return ((i * 13) % 11) < 4;
}

/* Restored times at the ends of int64 (a damaged or foreign changelog;
 * the state fuzzer's INT64_MIN last firing made `t - last_fire` overflow):
 * the cooldown and the rate window measure a saturated time since then,
 * so a firing long after "the beginning of time" is not held back. */
static void extreme_times(void)
{
    eddy_alert_policy p;
    eddy_alert_policy_defaults(&p);
    p.cooldown_ms = 1000;
    p.rate_limit = 1;
    p.rate_window_ms = 60000;
    uint8_t d[39] = {0};
    d[9] = 1;                             /* has_fired (firing 0) */
    for (int i = 0; i < 8; i++) {
        d[10 + i] = i == 7 ? 0x80 : 0;    /* last_fire: INT64_MIN */
        d[18 + i] = i == 7 ? 0x80 : 0;    /* rate_start: INT64_MIN */
    }
    d[26] = 1;                            /* rate_n 1: the window is full */
    eddy_alert_state *s = eddy_alert_state_new(&p);
    CHECK(eddy_alert_state_load(s, "k0", 2, eddy_alert_state_version(), d, sizeof d) == 0);
    uint64_t id;
    int rc = check(s, 0, 1, 1767225600000LL, &id);
    CHECK_MSG(rc == EDDY_ALERT_FIRING, "a breach after a restored INT64_MIN firing: %d, "
              "expected a firing (not held back by the cooldown or the rate window)", rc);
    eddy_alert_state_free(s);
}

int main(void)
{
    extreme_times();
    eddy_alert_policy p;
    eddy_alert_policy_defaults(&p);
    p.min_consecutive = 2;
    p.resolve_after = 3;
    p.cooldown_ms = 50;
    p.rate_limit = 3;
    p.rate_window_ms = 400;
    eddy_alert_state *a = eddy_alert_state_new(&p), *b = eddy_alert_state_new(&p);
    static log l = {.fail_after = -1};
    int fired = 0;
    for (int i = 0; i < 300; i++) {
        int key, br = pattern(i, &key);
        uint64_t id;
        fired += check(a, key, br, i * 10, &id) == EDDY_ALERT_FIRING;
        if (i % 17 == 0)
            CHECK(eddy_alert_state_flush(a, w, &l) == 0);
    }
    CHECK(eddy_alert_state_flush(a, w, &l) == 0);
    CHECK_MSG(fired > 5, "only %d firings: the test proves nothing", fired);
    CHECK_MSG(l.n == 6, "%d records (5 keys and the id counter)", l.n);
    /* Incremental: nothing changed, nothing written; one key, one record. */
    l.writes = 0;
    CHECK(eddy_alert_state_flush(a, w, &l) == 0 && l.writes == 0);
    uint64_t id;
    check(a, 50, 1, 3000, &id);
    check(a, 50, 1, 3010, &id);
    CHECK(eddy_alert_state_flush(a, w, &l) == 0);
    CHECK_MSG(l.writes == 2, "one key fired: its record and the counter, got %d", l.writes);
    /* A failed write keeps the change for the next flush. */
    check(a, 51, 1, 3020, &id);
    check(a, 51, 1, 3030, &id);
    l.writes = 0;
    l.fail_after = 0;
    CHECK(eddy_alert_state_flush(a, w, &l) < 0);
    l.fail_after = -1;
    CHECK(eddy_alert_state_flush(a, w, &l) == 0 && l.writes == 2);

    for (int i = 0; i < l.n; i++)
        CHECK(eddy_alert_state_load(b, l.r[i].key, l.r[i].klen, eddy_alert_state_version(),
                                    l.r[i].tomb ? NULL : l.r[i].data, l.r[i].len) == 0);
    CHECK(eddy_alert_state_keys(b) == 7);
    int differ = 0, outcomes = 0;
    for (int i = 300; i < 900; i++) {
        int key, br = pattern(i, &key);
        uint64_t ia, ib;
        int ra = check(a, key, br, 3100 + i * 10, &ia), rb = check(b, key, br, 3100 + i * 10, &ib);
        differ += ra != rb || ia != ib;
        outcomes += ra != EDDY_ALERT_NONE;
    }
    CHECK_MSG(differ == 0 && outcomes > 5, "%d of 600 checks differ after a restore (%d outcomes)",
              differ, outcomes);

    /* Refusals leave the state alone. */
    const int V = eddy_alert_state_version();
    const rec *r = l.r[0].klen ? &l.r[0] : &l.r[1];
    eddy_alert_state *c = eddy_alert_state_new(&p);
    for (size_t cut = 0; cut < r->len; cut++)
        CHECK(eddy_alert_state_load(c, r->key, r->klen, V, r->data, cut) == EDDY_EINVAL);
    uint8_t longer[80];
    memcpy(longer, r->data, r->len);
    longer[r->len] = 0;
    CHECK(eddy_alert_state_load(c, r->key, r->klen, V, longer, r->len + 1) == EDDY_EINVAL);
    CHECK(eddy_alert_state_load(c, r->key, r->klen, V + 1, r->data, r->len) == EDDY_EINVAL);
    memcpy(longer, r->data, r->len);
    longer[8] = 7; /* firing must be 0 or 1 */
    CHECK(eddy_alert_state_load(c, r->key, r->klen, V, longer, r->len) == EDDY_EINVAL);
    CHECK(eddy_alert_state_keys(c) == 0);
    CHECK(eddy_alert_state_load(c, "", 0, V, "1234567", 7) == EDDY_EINVAL);

    /* Eviction of a written key: a tombstone at the next flush, and the
     * tombstone removes it at a restore. */
    eddy_alert_policy q = p;
    q.max_keys = 16;
    q.min_consecutive = 1;
    eddy_alert_state *e = eddy_alert_state_new(&q), *f = eddy_alert_state_new(&q);
    static log m = {.fail_after = -1};
    for (int k = 0; k < 16; k++)
        check(e, k, 1, 0, &id), check(e, k, 0, 1, &id); /* fired and resolved: evictable */
    CHECK(eddy_alert_state_flush(e, w, &m) == 0 && m.n == 17);
    check(e, 100, 1, 10, &id); /* evicts the stalest: k0 */
    CHECK(eddy_alert_state_flush(e, w, &m) == 0);
    int tombs = 0;
    for (int i = 0; i < m.n; i++)
        tombs += m.r[i].tomb;
    CHECK_MSG(tombs == 1, "%d tombstones", tombs);
    for (int i = 0; i < m.n; i++)
        CHECK(eddy_alert_state_load(f, m.r[i].key, m.r[i].klen, V, m.r[i].tomb ? NULL : m.r[i].data,
                                    m.r[i].len) == 0);
    CHECK(eddy_alert_state_keys(f) == 16);
    eddy_alert_state_free(a);
    eddy_alert_state_free(b);
    eddy_alert_state_free(c);
    eddy_alert_state_free(e);
    eddy_alert_state_free(f);
    return test_report();
}
