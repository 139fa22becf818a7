/* Durable alert noise-control state: the host keeps one eddy_alert_state
 * per operator instance (engine/host_alert.c); for a durable step it goes
 * to the step's changelog beside the operator's own state, one record per
 * alert key (kind EDDY_CL_ALERT; the key's breaches, clears, firing,
 * has_fired, last firing, rate window, id and sent severity) plus the instance's id
 * counter under the empty key. So a restart neither fires an alert again
 * (a new id) nor forgets a firing one, and ids continue as in an
 * uninterrupted run. Written with the step's fingerprint: state of another
 * configuration is skipped like the operator's. Only keys changed since the
 * last commit are written (alert_state.c tracks them). */
#include "engine/state/state_int.h"

static int write_one(void *arg, const void *key, size_t klen, const void *data, size_t len)
{
    eddy_ctx *c = arg;
    return eddy_state_write_kind(c, EDDY_CL_ALERT, key, klen, eddy_alert_state_version(),
                                 data, len);
}

int eddy_state_alerts_flush(eddy_ctx *c)
{
    if (!c->alerts)
        return 0;
    return eddy_alert_state_flush(c->alerts, write_one, c);
}

int eddy_state_alerts_load(eddy_ctx *c, const void *key, size_t klen, int version,
                           const void *data, size_t len)
{
    if (!c->alerts) {
        if (!data)
            return 0;
        c->alerts = eddy_alert_state_new(&c->st->alert_policy);
        if (!c->alerts)
            return EDDY_ENOMEM;
    }
    /* A zero-length value is a record, not a tombstone. */
    return eddy_alert_state_load(c->alerts, key, klen, version, data, len);
}

static void join_one(void *arg, const char *akey, size_t klen, uint64_t id, int sev)
{
    eddy_ctx *c = arg;
    /* With the severity it was sent with, so that the same severity seen
     * after the restart is not sent again as an escalation. Not known
     * (state of version 1): warning, so that a change is still sent. */
    eddy_alert_merge_join(c->st->alert_merge, akey, klen, c, id, sev >= 0 ? sev : EDDY_SEV_WARNING);
}

void eddy_state_alerts_restored(eddy_ctx *c)
{
    /* Firing keys join the step's open alerts now, not at their next check:
     * a restored partition that clears first must not resolve an alert
     * another restored partition still fires. */
    if (c->alerts && c->st->alert_merge && !c->st->alert_policy.per_partition)
        eddy_alert_state_each_firing(c->alerts, join_one, c);
}
