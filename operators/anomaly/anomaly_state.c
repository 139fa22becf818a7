/* Durable per-key state of the anomaly operators (plugin ABI 1.2).
 *
 * A key's record (version 2) is the snapshot's per-key encoding without
 * the key's name (anomaly_snap.c anom_put_key_state: counters, alert flag,
 * the detector's own snapshot); the key is the changelog key, "" for an
 * unkeyed step. The whole-operator snapshot/restore pair stays for hosts
 * without ABI 1.2 state.
 *
 * Incremental: a key scored since the last commit is in the keymap's dirty
 * list (anomaly_op.c marks it) and state_flush writes those keys only. Keys
 * are never removed, so no tombstones. Tracking starts at state_loaded. */
#include <string.h>

#include "lib/buf/bytes.h"
#include "operators/anomaly/anomaly_op.h"

/* 2: the calibrated detectors of issue 16 (nab_detector's channels, Half-
 * Space Trees' score likelihood, robust_zscore's MAD fallback) keep other
 * state than version 1's, which is refused with a sentence naming both. */
#define REC_VERSION 2

void anom_mark(aop *op, akey *k)
{
    if (!op->map) {
        op->gdirty = 1;
        return;
    }
    if (eddy_keymap_mark(op->map, k) != 0)
        op->err = -1; /* reported by the next flush: nothing is committed */
}

static int put_key(eddy_buf *b, const void *v) { return anom_put_key_state(b, v); }

int anom_state_flush(void *state, eddy_ctx *ctx)
{
    aop *op = state;
    if (op->err) {
        op->h->log(ctx, EDDY_LOG_ERROR, "%s: out of memory tracking changed keys",
                   op->kind->name);
        op->err = 0;
        return -1;
    }
    return eddy_keymap_state_flush(op->map, op->h, ctx, &op->global, &op->gdirty, REC_VERSION,
                                   put_key);
}

int anom_state_load(void *state, eddy_ctx *ctx, const void *key, size_t klen, int version,
                    const void *data, size_t len)
{
    aop *op = state;
    const eddy_host *h = op->h;
    op->ctx = ctx;
    if (!data)
        return 0; /* never written (keys are not removed) */
    if (version != REC_VERSION) {
        h->log(ctx, EDDY_LOG_ERROR, "%s: state record version %d is not supported (this build "
               "reads %d)", op->kind->name, version, REC_VERSION);
        return -1;
    }
    akey *k = &op->global;
    if (op->map) {
        int created;
        k = eddy_keymap_get(op->map, key, klen, &created);
        if (!k) {
            h->log(ctx, EDDY_LOG_ERROR, "%s: cannot restore a key: max_keys reached or out of "
                   "memory", op->kind->name);
            return -1;
        }
    } else if (klen) {
        h->log(ctx, EDDY_LOG_ERROR, "%s: a keyed state record for an unkeyed step",
               op->kind->name);
        return -1;
    }
    /* A later record of a key replaces the earlier one. */
    akey_release(k);
    memset(k, 0, sizeof *k);
    eddy_rd r = eddy_rd_of(data, len);
    const char *why = anom_get_key_state(op, &r, k);
    if (!why && (r.err || r.left))
        why = r.err ? "truncated" : "trailing bytes";
    if (why) {
        h->log(ctx, EDDY_LOG_ERROR, "%s: cannot restore a key's state: %s", op->kind->name, why);
        return -1;
    }
    return 0;
}

int anom_state_loaded(void *state, eddy_ctx *ctx, int64_t watermark)
{
    (void)watermark;
    aop *op = state;
    op->ctx = ctx;
    op->durable = 1;
    if (op->map)
        eddy_keymap_track(op->map);
    return 0;
}
