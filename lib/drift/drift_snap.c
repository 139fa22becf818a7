/* Detector snapshots: the frame every detector shares. Layout (bytes.h):
 *
 *   "EDRF" u32 version(1), str name, u8 flags,
 *   str params (the detector's put_params), then the detector's state.
 *
 * flags: bit 0 the last update's change flag (a reset is pending), bit 1
 * its warning flag. Bit 0 alone was the whole byte before eddy exposed
 * both flags, so older snapshots restore unchanged (warning flag clear).
 *
 * The parameters travel with the state and must equal the restoring
 * detector's byte for byte: state learnt with other parameters is refused,
 * never misread. Each detector reads its state into a copy and commits it
 * only when the whole input parsed. */
#include <string.h>

#include "engine/core/error.h"
#include "lib/drift/drift_int.h"

#define SNAP_VERSION 1

static uint8_t flags_byte(unsigned flags)
{
    return (uint8_t)((flags & EDDY_DRIFT_FLAG_CHANGE ? 1 : 0) |
                     (flags & EDDY_DRIFT_FLAG_WARNING ? 2 : 0));
}

int eddy_drift_snapshot(const eddy_drift *d, eddy_buf *b)
{
    if (eddy_buf_put(b, "EDRF", 4) || eddy_put_u32(b, SNAP_VERSION) ||
        eddy_put_cstr(b, d->ops->name) || eddy_put_u8(b, flags_byte(d->flags)))
        return -1;
    size_t mark = b->len;
    if (eddy_put_u32(b, 0) || d->ops->put_params(d, b))
        return -1;
    eddy_le32_store((uint8_t *)b->data + mark, (uint32_t)(b->len - mark - 4));
    return d->ops->put_state(d, b) ? -1 : 0;
}

int eddy_drift_restore(eddy_drift *d, const void *p, size_t n)
{
    eddy_rd r = eddy_rd_of(p, n);
    const uint8_t *magic = eddy_take(&r, 4);
    if (!magic || memcmp(magic, "EDRF", 4) != 0 || eddy_get_u32(&r) != SNAP_VERSION ||
        !eddy_get_str_is(&r, d->ops->name))
        return EDDY_EINVAL;
    uint8_t fb = eddy_get_u8(&r);
    uint32_t plen;
    const uint8_t *params = eddy_get_str(&r, &plen);
    if (r.err || fb > 3)
        return EDDY_EINVAL;
    eddy_buf mine = {0};
    if (d->ops->put_params(d, &mine)) {
        eddy_buf_free(&mine);
        return EDDY_ENOMEM;
    }
    int same = mine.len == plen && (plen == 0 || memcmp(mine.data, params, plen) == 0);
    eddy_buf_free(&mine);
    if (!same || d->ops->get_state(d, &r) != 0)
        return EDDY_EINVAL;
    d->flags = (fb & 1 ? EDDY_DRIFT_FLAG_CHANGE : 0u) | (fb & 2 ? EDDY_DRIFT_FLAG_WARNING : 0u);
    return 0;
}
