/* A msgpack walker that only measures. msgpack-c says *that* a payload is bad
 * but not *where*; on the error path this walker finds the offset for the
 * message: the first byte of the value that runs past the end, or the byte
 * that is not a valid type (0xc1). */
#include "format_int.h"

static uint64_t be(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

eddy_mp_status eddy_mp_skip(const uint8_t *p, size_t len, size_t *pos, uint32_t depth,
                            uint32_t max_depth, size_t *where)
{
    size_t at = *pos;
    if (at >= len) {
        *where = at;
        return EDDY_MP_TRUNCATED;
    }
    uint8_t t = p[at];
    size_t hdr = 1;      /* type byte and length field */
    uint64_t body = 0;   /* bytes that follow the header */
    uint64_t children = 0;
    if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3) {
    } else if (t >= 0x80 && t <= 0x8f) {
        children = 2u * (t & 0x0f);
    } else if (t >= 0x90 && t <= 0x9f) {
        children = t & 0x0f;
    } else if (t >= 0xa0 && t <= 0xbf) {
        body = t & 0x1f;
    } else {
        unsigned lenbytes = 0;
        switch (t) {
        case 0xc4: case 0xd9: lenbytes = 1; break;        /* bin8, str8 */
        case 0xc5: case 0xda: lenbytes = 2; break;        /* bin16, str16 */
        case 0xc6: case 0xdb: lenbytes = 4; break;        /* bin32, str32 */
        case 0xc7: lenbytes = 1; body = 1; break;          /* ext8: + type */
        case 0xc8: lenbytes = 2; body = 1; break;
        case 0xc9: lenbytes = 4; body = 1; break;
        case 0xca: body = 4; break;
        case 0xcb: body = 8; break;
        case 0xcc: case 0xd0: body = 1; break;
        case 0xcd: case 0xd1: body = 2; break;
        case 0xce: case 0xd2: body = 4; break;
        case 0xcf: case 0xd3: body = 8; break;
        case 0xd4: body = 2; break;                        /* fixext: type + data */
        case 0xd5: body = 3; break;
        case 0xd6: body = 5; break;
        case 0xd7: body = 9; break;
        case 0xd8: body = 17; break;
        case 0xdc: case 0xdd: case 0xde: case 0xdf: {
            unsigned lb = (t == 0xdc || t == 0xde) ? 2 : 4;
            if (len - at - 1 < lb) {
                *where = at;
                return EDDY_MP_TRUNCATED;
            }
            uint64_t n = be(p + at + 1, lb);
            children = t >= 0xde ? 2 * n : n;
            hdr += lb;
            break;
        }
        default:
            *where = at;
            return EDDY_MP_BADBYTE;
        }
        if (lenbytes) {
            if (len - at - 1 < lenbytes) {
                *where = at;
                return EDDY_MP_TRUNCATED;
            }
            body += be(p + at + 1, lenbytes);
            hdr += lenbytes;
        }
    }
    if (len - at < hdr || len - at - hdr < body) {
        *where = at;
        return EDDY_MP_TRUNCATED;
    }
    *pos = at + hdr + (size_t)body;
    if (children) {
        if (depth + 1 > max_depth) {
            *where = at;
            return EDDY_MP_DEEP;
        }
        for (uint64_t i = 0; i < children; i++) {
            eddy_mp_status s = eddy_mp_skip(p, len, pos, depth + 1, max_depth, where);
            if (s != EDDY_MP_OK)
                return s;
        }
    }
    return EDDY_MP_OK;
}
