/* The dead-letter envelope: how an error record (EDDY_REC_ERROR) is written
 * by the json/msgpack file sinks and the console. One object:
 *   {"error": reason, "step": err_step, "source": {"topic", "partition",
 *    "offset"}, "error_offset": n, "raw": payload}
 * where "raw" is the payload as a string when it is valid UTF-8, otherwise
 * "raw_base64" holds it base64-encoded; "raw": null when there is none.
 * The msgpack form is the same map. */
#ifndef EDDY_CONN_DEADLETTER_H
#define EDDY_CONN_DEADLETTER_H
#include <stdbool.h>

#include "engine/core/batch.h"
#include "lib/buf/buf.h"

/* Appends the envelope (no trailing newline). 0 or -1 (out of memory). */
int eddy_deadletter_json(const eddy_record *r, eddy_buf *out);
int eddy_deadletter_msgpack(const eddy_record *r, eddy_buf *out);

bool eddy_utf8_valid(const uint8_t *s, size_t len);
int eddy_base64_put(eddy_buf *out, const uint8_t *s, size_t len);

#endif
