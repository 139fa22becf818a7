/* The aggregate interface: dispatch to each kind, and the versioned framing
 * of serialised states: [version u8][kind u8][kind's fixed layout, little
 * endian]. The kind byte is agg_kind, whose order is therefore frozen. */
#include <math.h>

#include "lib/agg/agg_int.h"
#include "engine/core/error.h"

const char *eddy_agg_kind(const eddy_agg_spec *s) { return s->ops->name; }
eddy_sym eddy_agg_field(const eddy_agg_spec *s) { return s->field; }
size_t eddy_agg_state_size(const eddy_agg_spec *s) { return s->size; }
void eddy_agg_init(const eddy_agg_spec *s, void *state) { s->ops->init(s, state); }

int eddy_agg_add(const eddy_agg_spec *s, void *state, const eddy_value *v, int64_t ts)
{
    return s->ops->add(s, state, v, ts) < 0 ? -1 : 0;
}

void eddy_agg_merge(const eddy_agg_spec *s, void *dst, const void *src)
{
    s->ops->merge(s, dst, src);
}

eddy_value eddy_agg_result(const eddy_agg_spec *s, const void *state, int64_t window_ms,
                           eddy_batch *b)
{
    return s->ops->result(s, state, window_ms, b);
}

int eddy_agg_serialize(const eddy_agg_spec *s, const void *state, eddy_buf *out)
{
    size_t mark = out->len;
    if (eddy_put_u8(out, AGG_SER_VERSION) || eddy_put_u8(out, (uint8_t)s->kind) ||
        s->ops->ser(s, state, out)) {
        out->len = mark;
        return EDDY_ENOMEM;
    }
    return 0;
}

int eddy_agg_deserialize(const eddy_agg_spec *s, void *state, const void *data, size_t len)
{
    eddy_rd r = {data, len, 0};
    s->ops->init(s, state);
    if (!data && len)
        return EDDY_EINVAL;
    uint8_t version = eddy_get_u8(&r), kind = eddy_get_u8(&r);
    if (r.err)
        return EDDY_EPARSE;
    if (version != AGG_SER_VERSION)
        return EDDY_EUNSUPPORTED;
    if (kind != (uint8_t)s->kind)
        return EDDY_EPARSE;
    if (s->ops->deser(s, state, &r) != 0 || r.err || r.left != 0) {
        s->ops->init(s, state); /* never leave a half-read state behind */
        return EDDY_EPARSE;
    }
    return 0;
}

double eddy_agg_error(const eddy_agg_spec *s)
{
    switch (s->kind) {
    case AGG_QUANTILE: return s->alpha;
    case AGG_DISTINCT: return 1.04 / sqrt((double)(1u << s->p));
    case AGG_TOPK: return 1.0 / s->cap; /* count overestimate, as a fraction of N */
    default: return 0;
    }
}
