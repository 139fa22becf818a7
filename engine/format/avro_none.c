/* The Avro codec's stand-in in a build without avro-c (meson option
 * -Davro=disabled): creating one refuses with the reason, so `format: avro`
 * and `--format avro` fail with a sentence instead of a link error. The config
 * loader already refuses `format: avro` (engine/registry.h); this covers the
 * CLI and direct callers. */
#include "engine/format/format_int.h"

#include "engine/core/error.h"
#include "engine/registry.h"

int eddy_avro_new(const eddy_codec_conf *conf, uint32_t max_depth, eddy_avro_state **out,
                  char *err, size_t errlen)
{
    (void)conf;
    (void)max_depth;
    *out = NULL;
    const char *why = eddy_left_out_reason("format", "avro");
    eddy_errf(err, errlen, "format 'avro' is not built into this eddy (%s)",
              why ? why : "built without avro-c");
    return EDDY_EUNSUPPORTED;
}

void eddy_avro_free(eddy_avro_state *s) { (void)s; }

/* Unreachable: no state is ever created. */
int eddy_avro_decode(eddy_avro_state *s, eddy_batch *b, eddy_record *r, const void *buf,
                     size_t len)
{
    (void)s, (void)b, (void)r, (void)buf, (void)len;
    return EDDY_EUNSUPPORTED;
}

int eddy_avro_encode(eddy_avro_state *s, const eddy_record *r, eddy_buf *out, char *err,
                     size_t errlen)
{
    (void)s, (void)r, (void)out;
    eddy_errf(err, errlen, "format 'avro' is not built into this eddy");
    return EDDY_EUNSUPPORTED;
}
