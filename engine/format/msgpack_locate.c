/* A msgpack walker that only measures: it checks that one complete value
 * lies at *pos, and otherwise says where it goes wrong (msgpack-c says *that*
 * a payload is bad, not *where*): the first byte of the value that runs past
 * the end, the byte that is no valid type (0xc1), or the container that opens
 * one level too many. Iterative with a counter per open container, because it
 * runs on every payload before msgpack-c (see msgpack_codec.c). */
#include "format_int.h"

static inline uint64_t be(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

eddy_mp_status eddy_mp_skip(const uint8_t *p, size_t len, size_t *pos, uint32_t depth,
                            uint32_t max_depth, size_t *where)
{
    uint64_t left[EDDY_FMT_MAX_DEPTH + 2]; /* values still to read per open level */
    uint32_t top = 0;
    size_t at = *pos;
    left[0] = 1;
    while (1) {
        while (left[top] == 0) {
            if (top == 0) {
                *pos = at;
                return EDDY_MP_OK;
            }
            top--;
        }
        left[top]--;
        if (at >= len) {
            *where = at;
            return EDDY_MP_TRUNCATED;
        }
        uint8_t t = p[at];
        size_t rem = len - at;
        uint64_t size;        /* whole value when it has no children */
        uint64_t children = 0;
        if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3) {
            size = 1;
        } else if ((t & 0xe0) == 0xa0) {
            size = 1u + (t & 0x1fu);
        } else if ((t & 0xf0) == 0x80) {
            size = 1;
            children = 2u * (t & 0x0fu);
        } else if ((t & 0xf0) == 0x90) {
            size = 1;
            children = t & 0x0fu;
        } else {
            unsigned lb = 0; /* bytes of a length field */
            uint64_t extra = 0;
            switch (t) {
            case 0xca: size = 5; break;
            case 0xcb: size = 9; break;
            case 0xcc: case 0xd0: size = 2; break;
            case 0xcd: case 0xd1: size = 3; break;
            case 0xce: case 0xd2: size = 5; break;
            case 0xcf: case 0xd3: size = 9; break;
            case 0xd4: size = 3; break; /* fixext: type + data */
            case 0xd5: size = 4; break;
            case 0xd6: size = 6; break;
            case 0xd7: size = 10; break;
            case 0xd8: size = 18; break;
            case 0xc4: case 0xd9: lb = 1; size = 0; break;
            case 0xc5: case 0xda: lb = 2; size = 0; break;
            case 0xc6: case 0xdb: lb = 4; size = 0; break;
            case 0xc7: lb = 1; extra = 1; size = 0; break; /* ext: + type byte */
            case 0xc8: lb = 2; extra = 1; size = 0; break;
            case 0xc9: lb = 4; extra = 1; size = 0; break;
            case 0xdc: case 0xdd: case 0xde: case 0xdf: {
                unsigned cb = (t == 0xdc || t == 0xde) ? 2 : 4;
                if (rem < 1u + cb) {
                    *where = at;
                    return EDDY_MP_TRUNCATED;
                }
                uint64_t n = be(p + at + 1, cb);
                children = t >= 0xde ? 2 * n : n;
                size = 1u + cb;
                break;
            }
            default:
                *where = at;
                return EDDY_MP_BADBYTE;
            }
            if (lb) {
                if (rem < 1u + lb) {
                    *where = at;
                    return EDDY_MP_TRUNCATED;
                }
                size = 1u + lb + extra + be(p + at + 1, lb);
            }
        }
        if (size > rem) {
            *where = at;
            return EDDY_MP_TRUNCATED;
        }
        if (children) {
            if (depth + top + 1 > max_depth || top + 1 > EDDY_FMT_MAX_DEPTH) {
                *where = at;
                return EDDY_MP_DEEP;
            }
            left[++top] = children;
        }
        at += (size_t)size;
    }
}
