/* A step's host timers (eddy_host.timer_set) in the changelog, so that a
 * plugin's pending timers survive a restart like its state does.
 *
 * One record per step and partition (kind EDDY_CL_TIMERS, no key bytes):
 * every pending timer as u64 id | i64 at | u8 event_time; a tombstone when
 * none is pending. It is rewritten only when the set changed since the
 * last commit (a hash of it is kept), so a step without timers, or whose
 * timers stay put, costs nothing per commit. Restored before state_loaded,
 * which may re-arm a timer of the same id (the window does). */
#include <string.h>

#include "engine/state/state_int.h"
#include "lib/buf/bytes.h"

#define TIMER_LEN 17

static uint64_t timers_hash(const eddy_ctx *c)
{
    /* 0 stands for "none pending" (also the state before any flush). */
    if (!c->ntimers)
        return 0;
    uint64_t h = 1469598103934665603ull;
    for (uint32_t i = 0; i < c->ntimers; i++) {
        const rt_timer *t = &c->timers[i];
        uint64_t v[3] = {t->id, (uint64_t)t->at, (uint64_t)t->event_time};
        const uint8_t *p = (const uint8_t *)v;
        for (size_t k = 0; k < sizeof v; k++)
            h = (h ^ p[k]) * 1099511628211ull;
    }
    return h | 1;
}

int eddy_state_timers_flush(eddy_ctx *c)
{
    st_ctx *sc = c->sst;
    uint64_t h = timers_hash(c);
    if (h == sc->timers_hash)
        return 0;
    int rc;
    if (!c->ntimers) {
        rc = eddy_state_write_kind(c, EDDY_CL_TIMERS, NULL, 0, 1, NULL, 0);
    } else {
        eddy_buf b = {0};
        for (uint32_t i = 0; i < c->ntimers; i++) {
            const rt_timer *t = &c->timers[i];
            if (eddy_put_u64(&b, t->id) || eddy_put_u64(&b, (uint64_t)t->at) ||
                eddy_put_u8(&b, (uint8_t)(t->event_time != 0))) {
                eddy_buf_free(&b);
                return EDDY_ENOMEM;
            }
        }
        rc = eddy_state_write_kind(c, EDDY_CL_TIMERS, NULL, 0, 1, b.data, b.len);
        eddy_buf_free(&b);
    }
    if (rc == 0)
        sc->timers_hash = h;
    return rc;
}

int eddy_state_timers_load(eddy_ctx *c, const uint8_t *p, size_t n, int tomb)
{
    c->ntimers = 0;
    if (!tomb) {
        if (n % TIMER_LEN)
            return EDDY_EPARSE;
        for (size_t off = 0; off < n; off += TIMER_LEN) {
            int rc = eddy_host_table.timer_set(c, eddy_le64(p + off), (int64_t)eddy_le64(p + off + 8),
                                               p[off + 16] != 0);
            if (rc < 0)
                return rc;
        }
    }
    c->sst->timers_hash = timers_hash(c);
    return 0;
}
