/* Snapshots of an anomaly operator's state, every key, as versioned bytes
 * (little-endian, lib/buf/bytes.h, like the detectors' own snapshots):
 *
 *   "EANO" u32 version(2)
 *   str operator, u32 dim, per field: str name  -- the shape: must match
 *   u32 nkeyf, per key field: str name
 *   u32 nkeys, per key: str key, u64 n, last_flag, i64 first_ts, last_ts,
 *     u8 alerted, str detector snapshot (eddy_anom_snapshot / eddy_hst_snapshot)
 *   str: u32 length + bytes
 *
 * An unkeyed step writes one key, "". A restore builds the new state aside
 * and swaps it in only when every key restored, so a snapshot that does not
 * fit leaves the running state as it was. */
#include <stdio.h>
#include <string.h>

#include "lib/buf/bytes.h"

#include "operators/anomaly/anomaly_op.h"

#define SNAP_VERSION 2 /* 2: issue 16's calibrated detectors (anomaly_state.c) */


/* One key's state without its name: also the key's durable record
 * (anomaly_state.c). */
int anom_put_key_state(eddy_buf *b, const akey *k)
{
    if (eddy_put_u64(b, k->n) || eddy_put_u64(b, k->last_flag) ||
        eddy_put_u64(b, (uint64_t)k->first_ts) || eddy_put_u64(b, (uint64_t)k->last_ts) ||
        eddy_buf_putc(b, (char)(k->alerted != 0)))
        return -1;
    size_t mark = b->len;
    if (eddy_put_u32(b, 0))
        return -1;
    int rc = k->d.hst ? eddy_hst_snapshot(k->d.hst, b) : eddy_anom_snapshot(k->d.a, b);
    if (rc != 0)
        return -1;
    uint32_t len = (uint32_t)(b->len - mark - 4);
    eddy_le32_store(b->data + mark, len);
    return 0;
}

static int put_key(eddy_buf *b, const char *key, size_t klen, const akey *k)
{
    return eddy_put_str(b, key, klen) || anom_put_key_state(b, k);
}

typedef struct walk {
    eddy_buf *b;
    int rc;
} walk;

static void put_each(const char *key, size_t n, void *v, void *arg)
{
    walk *w = arg;
    if (!w->rc)
        w->rc = put_key(w->b, key, n, v);
}

static int put_shape(const aop *op, eddy_buf *b)
{
    const eddy_host *h = op->h;
    if (eddy_buf_put(b, "EANO", 4) || eddy_put_u32(b, SNAP_VERSION) || eddy_put_cstr(b, op->kind->name) ||
        eddy_put_u32(b, op->dim))
        return -1;
    for (uint32_t i = 0; i < op->dim; i++)
        if (eddy_put_cstr(b, h->sym_name(op->field[i])))
            return -1;
    if (eddy_put_u32(b, op->nkeys))
        return -1;
    for (uint32_t i = 0; i < op->nkeys; i++)
        if (eddy_put_cstr(b, h->sym_name(op->keys[i])))
            return -1;
    return 0;
}

int anom_snapshot(void *state, eddy_ctx *ctx, void **data, size_t *len)
{
    aop *op = state;
    const eddy_host *h = op->h;
    eddy_buf b = {0};
    int rc = put_shape(op, &b);
    if (!rc && op->map) {
        walk w = {&b, 0};
        rc = eddy_put_u32(&b, eddy_keymap_count(op->map));
        if (!rc)
            eddy_keymap_each(op->map, put_each, &w);
        rc = rc || w.rc;
    } else if (!rc) {
        rc = eddy_put_u32(&b, 1) || put_key(&b, "", 0, &op->global);
    }
    void *out = rc ? NULL : h->alloc(b.len ? b.len : 1);
    if (!out) {
        eddy_buf_free(&b);
        h->log(ctx, EDDY_LOG_ERROR, "%s: out of memory writing a snapshot", op->kind->name);
        return -1;
    }
    memcpy(out, b.data, b.len);
    *data = out;
    *len = b.len;
    eddy_buf_free(&b);
    return SNAP_VERSION;
}

/* ---- restore ------------------------------------------------------------------ */


static const char *check_shape(const aop *op, eddy_rd *r)
{
    const eddy_host *h = op->h;
    const uint8_t *magic = eddy_take(r, 4);
    if (!magic || memcmp(magic, "EANO", 4) != 0)
        return "not an anomaly operator snapshot";
    if (eddy_get_u32(r) != SNAP_VERSION)
        return "unknown snapshot layout version";
    if (!eddy_get_str_is(r, op->kind->name))
        return "the snapshot is of another detector";
    if (eddy_get_u32(r) != op->dim)
        return "the scored fields differ from the snapshot's";
    for (uint32_t i = 0; i < op->dim; i++)
        if (!eddy_get_str_is(r, h->sym_name(op->field[i])))
            return "the scored fields differ from the snapshot's";
    if (eddy_get_u32(r) != op->nkeys)
        return "the key fields differ from the snapshot's";
    for (uint32_t i = 0; i < op->nkeys; i++)
        if (!eddy_get_str_is(r, h->sym_name(op->keys[i])))
            return "the key fields differ from the snapshot's";
    return r->err ? "truncated" : NULL;
}

/* One key's state into k (a fresh entry). NULL or why not. */
const char *anom_get_key_state(aop *op, eddy_rd *r, akey *k)
{
    k->n = eddy_get_u64(r);
    k->last_flag = eddy_get_u64(r);
    k->first_ts = (int64_t)eddy_get_u64(r);
    k->last_ts = (int64_t)eddy_get_u64(r);
    const uint8_t *al = eddy_take(r, 1);
    k->alerted = al ? *al != 0 : 0;
    uint32_t dlen;
    const uint8_t *det = eddy_get_str(r, &dlen);
    if (r->err)
        return "truncated key state";
    char err[256] = "";
    if (op->kind->make(op, &k->d, err, sizeof err) != 0)
        return "out of memory building a detector";
    int rc = k->d.hst ? eddy_hst_restore(k->d.hst, det, dlen) : eddy_anom_restore(k->d.a, det, dlen);
    return rc != 0 ? "a detector's state does not fit this step's detector parameters" : NULL;
}

int anom_restore(void *state, eddy_ctx *ctx, int version, const void *data, size_t len)
{
    aop *op = state;
    const eddy_host *h = op->h;
    op->ctx = ctx;
    if (version != SNAP_VERSION) {
        h->log(ctx, EDDY_LOG_ERROR,
               "%s: snapshot version %d is not supported (this build reads %d)", op->kind->name,
               version, SNAP_VERSION);
        return -1;
    }
    eddy_rd r = {data, len, 0};
    const char *why = check_shape(op, &r);
    uint32_t nkeys = why ? 0 : eddy_get_u32(&r);
    if (!why && !op->map && nkeys != 1)
        why = "an unkeyed step's snapshot holds one state";
    eddy_keymap *map = NULL;
    akey global = {0};
    if (!why && op->map) {
        map = eddy_keymap_new(op->max_keys ? op->max_keys : 1, sizeof(akey), akey_release);
        if (!map)
            why = "out of memory";
    }
    for (uint32_t i = 0; i < nkeys && !why; i++) {
        uint32_t klen;
        const uint8_t *kb = eddy_get_str(&r, &klen);
        if (!kb) {
            why = "truncated key";
            break;
        }
        akey *k = &global;
        if (map) {
            int created;
            k = eddy_keymap_get(map, (const char *)kb, klen, &created);
            if (!k) {
                why = "more keys than max_keys (or out of memory)";
                break;
            }
            if (!created) {
                why = "a key appears twice";
                break;
            }
        } else if (klen) {
            why = "an unkeyed step's state has a key";
            break;
        }
        why = anom_get_key_state(op, &r, k);
    }
    if (!why && (r.err || r.left))
        why = r.err ? "truncated" : "trailing bytes";
    if (why) {
        h->log(ctx, EDDY_LOG_ERROR, "%s: cannot restore the snapshot: %s", op->kind->name, why);
        eddy_keymap_free(map);
        akey_release(&global);
        return -1;
    }
    if (map) {
        eddy_keymap_free(op->map);
        op->map = map;
    } else {
        akey_release(&op->global);
        op->global = global;
    }
    return 0;
}
