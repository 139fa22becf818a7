/* Portable bytes: the field-by-field codec for plain structs (bytes.h). */
#include "lib/buf/bytes.h"

/* Bytes covered by one pass over shape; 0 when it is not made of 1/2/4/8. */
static size_t shape_width(const char *shape)
{
    size_t w = 0;
    for (const char *c = shape; *c; c++) {
        if (*c != '1' && *c != '2' && *c != '4' && *c != '8')
            return 0;
        w += (size_t)(*c - '0');
    }
    return w;
}

static bool host_is_little(void)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return true;
#else
    const uint16_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
#endif
}

/* Copies n bytes, reversing each field of the shape when the host is not
 * little-endian; the same operation both ways. */
static void copy_fields(uint8_t *dst, const uint8_t *src, size_t n, const char *shape)
{
    if (host_is_little()) {
        memcpy(dst, src, n);
        return;
    }
    const char *c = shape;
    for (size_t o = 0; o < n;) {
        size_t w = (size_t)(*c - '0');
        for (size_t i = 0; i < w; i++)
            dst[o + i] = src[o + w - 1 - i];
        o += w;
        if (!*++c)
            c = shape;
    }
}

int eddy_put_fields(eddy_buf *b, const void *p, size_t n, const char *shape)
{
    size_t w = shape_width(shape);
    if (w == 0 || n % w != 0)
        return -2;
    if (n == 0)
        return 0;
    if (b->cap - b->len < n && eddy_buf_grow(b, n) != 0)
        return -1;
    copy_fields(b->data + b->len, p, n, shape);
    b->len += n;
    return 0;
}

int eddy_load_fields(void *dst, const uint8_t *src, size_t n, const char *shape)
{
    size_t w = shape_width(shape);
    if (w == 0 || n % w != 0)
        return -2;
    copy_fields(dst, src, n, shape);
    return 0;
}
