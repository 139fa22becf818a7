/* Feast 0.67 Redis online store encoding, written by hand (no protobuf
 * library): the layout of feast/infra/online_stores/redis.py with
 * entity_key_serialization_version 3 (feast/infra/key_encoding_utils.py).
 *
 *  key    = u32le(nkeys) { u32le(2=STRING) u32le(len) name }*  (names sorted)
 *                        { u32le(type) u32le(len) value }*     (same order)
 *           + project                         (string: utf-8; int64: i64le)
 *  fields = mmh3_32("<view>:<feature>", seed 0) as 4 little-endian bytes
 *           -> feast.types.Value protobuf bytes; "_ts:<view>" ->
 *           google.protobuf.Timestamp bytes (seconds=1, nanos=2, zeros omitted)
 *
 * The fixtures in tests/fixtures/store/feast_fixtures.txt come from Feast's own
 * Python code (tests/fixtures/store/gen_fixtures.py) and pin these bytes. */
#ifndef EDDY_STORE_FEAST_H
#define EDDY_STORE_FEAST_H
#include <stddef.h>
#include <stdint.h>

#include "lib/buf/buf.h"
#include "lib/store/store.h"

#define EDDY_FEAST_VERSION "0.67.0"

uint32_t eddy_mmh3_32(const void *data, size_t len, uint32_t seed);
/* The 4-byte hash field of one feature. */
void eddy_feast_field(const char *view, const char *feature, uint8_t out[4]);
/* serialize_entity_key v3 + project. Values are converted to `type`; a
 * value that cannot be (a non-integer for int64, a map...) is EDDY_ETYPE
 * with the reason in err. */
int eddy_feast_redis_key(eddy_buf *out, const char *project, const char *const *join_keys,
                         const eddy_value *vals, uint32_t n, eddy_entity_type type, char *err,
                         size_t errlen);
/* Value protobuf: int->int64_val, double->double_val, bool->bool_val,
 * string->string_val, bytes->bytes_val, array/map->json_val (JSON text),
 * null->empty message (Feast reads None). 0 or -1 (memory). */
int eddy_feast_value(eddy_buf *out, const eddy_value *v);
/* Timestamp protobuf of ms since the epoch. */
int eddy_feast_timestamp(eddy_buf *out, int64_t ms);
/* Decoders for reads: Timestamp bytes -> ms (0 or -1 when malformed) and
 * Value bytes -> JSON (null for empty or unsupported kinds). */
int eddy_feast_timestamp_decode(const uint8_t *p, size_t len, int64_t *ms);
int eddy_feast_value_json(eddy_buf *out, const uint8_t *p, size_t len);

#endif
