/* Durable per-key state of the concept-drift operators (plugin ABI 1.2).
 *
 * A key's record (version 1, lib/buf/bytes.h):
 *   u64 n, u64 last_sig, u64 seg_n, i64 seg_start, u8 alerted,
 *   then the detector's own snapshot (eddy_drift_snapshot: its name,
 *   parameters and state, so a detector built with other parameters
 *   refuses it instead of misreading it).
 * An unkeyed step writes one record under the empty key.
 *
 * Incremental: a key is marked in the keymap's dirty list when a record
 * updates its detector (concept.c), and state_flush writes the marked keys
 * only, so a commit costs the keys changed since the previous one. Keys
 * are never removed from the map, so no tombstones are written. Tracking
 * starts at state_loaded: a step that is not durable pays one branch. */
#include <string.h>

#include "lib/buf/bytes.h"
#include "operators/common/keymap.h"
#include "operators/drift/concept.h"

#define REC_VERSION 1

void concept_mark(concept *c, ckey *k)
{
    if (!c->map) {
        c->gdirty = 1;
        return;
    }
    if (eddy_keymap_mark(c->map, k) != 0)
        c->err = -1; /* reported by the next flush: nothing is committed */
}

static int put_rec(eddy_buf *b, const ckey *k)
{
    return eddy_put_u64(b, k->n) || eddy_put_u64(b, k->last_sig) || eddy_put_u64(b, k->seg_n) ||
           eddy_put_i64(b, k->seg_start) || eddy_put_u8(b, (uint8_t)(k->alerted != 0)) ||
           eddy_drift_snapshot(k->d, b);
}

static int put_key(eddy_buf *b, const void *v) { return put_rec(b, v); }

int concept_state_flush(void *state, eddy_ctx *ctx)
{
    concept *c = state;
    if (c->err) {
        c->h->log(ctx, EDDY_LOG_ERROR, "%s: out of memory tracking changed keys",
                  c->kind->name);
        c->err = 0;
        return -1;
    }
    return eddy_keymap_state_flush(c->map, c->h, ctx, &c->global, &c->gdirty, REC_VERSION,
                                   put_key);
}

int concept_state_load(void *state, eddy_ctx *ctx, const void *key, size_t klen, int version,
                       const void *data, size_t len)
{
    concept *c = state;
    const eddy_host *h = c->h;
    if (!data)
        return 0; /* never written (keys are not removed); nothing to undo */
    if (version != REC_VERSION) {
        h->log(ctx, EDDY_LOG_ERROR, "%s: state record version %d is not supported (this build "
               "reads %d)", c->kind->name, version, REC_VERSION);
        return -1;
    }
    ckey *k = &c->global;
    if (c->map) {
        int created;
        k = eddy_keymap_get(c->map, key, klen, &created);
        if (!k) {
            h->log(ctx, EDDY_LOG_ERROR, "%s: cannot restore a key: max_keys reached or out of "
                   "memory", c->kind->name);
            return -1;
        }
        if (created) {
            char err[256] = "";
            double thr;
            if (c->kind->make(h, c->opts, &k->d, &thr, err, sizeof err) != 0) {
                h->log(ctx, EDDY_LOG_ERROR, "%s: cannot create a detector: %s", c->kind->name,
                       err);
                return -1;
            }
        }
    } else if (klen) {
        h->log(ctx, EDDY_LOG_ERROR, "%s: a keyed state record for an unkeyed step",
               c->kind->name);
        return -1;
    }
    eddy_rd r = eddy_rd_of(data, len);
    ckey t = *k;
    t.n = eddy_get_u64(&r);
    t.last_sig = eddy_get_u64(&r);
    t.seg_n = eddy_get_u64(&r);
    t.seg_start = eddy_get_i64(&r);
    uint8_t al = eddy_get_u8(&r);
    if (r.err || al > 1 || eddy_drift_restore(k->d, r.p, r.left) != 0) {
        h->log(ctx, EDDY_LOG_ERROR, "%s: a key's state record is malformed, truncated or was "
               "written by a detector with other parameters", c->kind->name);
        return -1;
    }
    t.alerted = al;
    *k = t;
    return 0;
}

int concept_state_loaded(void *state, eddy_ctx *ctx, int64_t watermark)
{
    (void)ctx;
    (void)watermark;
    concept *c = state;
    c->durable = 1;
    if (c->map)
        eddy_keymap_track(c->map);
    return 0;
}
