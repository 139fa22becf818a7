/* The changelog record format of durable state (pure functions, no I/O).
 *
 * A durable task (one input partition of a Kafka source) writes its state
 * to partition p of a compacted changelog topic, p being the input's Kafka
 * partition, so a partition's state moves with the partition. Records:
 *
 *   key   = u8 kind | u32 step id | bytes        (little endian)
 *   value = u8 format (1) | u32 fingerprint | u16 version | payload
 *           NULL value = tombstone (the key is gone)
 *
 *   kind 0  an operator's own key (state_write); bytes = its key
 *   kind 2  a step's meta record; payload = the canonical text of the
 *           options that shape its state ("name=value\n" lines)
 *   kind 3  the task's position marker; step id = hash of the input topic,
 *           bytes = the input topic; payload = eddy_cl_marker
 *   kind 4  a key of host-managed plugin state (state_put); bytes = key
 *   kind 5  a whole-operator snapshot (operators with snapshot only)
 *   kind 6  an alert key's noise-control state (bytes = the alert key;
 *           empty: the instance's alert id counter)
 *   kind 7  the step's pending host timers (no bytes; state_timers.c)
 *
 * Step id = FNV-1a 32 of "<input topic>\x1f<pipeline>/<step>". The
 * fingerprint is FNV-1a 32 of the operator's name, version and canonical
 * option text: a value with another fingerprint is never given to the
 * operator. */
#ifndef EDDY_STATE_CHANGELOG_H
#define EDDY_STATE_CHANGELOG_H
#include <stddef.h>
#include <stdint.h>

#include "lib/buf/buf.h"
#include "include/eddy/operator.h"

enum {
    EDDY_CL_KEY = 0,
    EDDY_CL_META = 2,
    EDDY_CL_MARKER = 3,
    EDDY_CL_HOSTKEY = 4,
    EDDY_CL_SNAPSHOT = 5,
    EDDY_CL_ALERT = 6, /* the host's alert state of a step (state_alerts.c) */
    EDDY_CL_TIMERS = 7, /* the step's pending host timers (state_timers.c) */
};
#define EDDY_CL_FORMAT 1
#define EDDY_CL_KEY_HDR 5   /* kind + step id */
#define EDDY_CL_VALUE_HDR 7 /* format + fingerprint + version */

/* The input position a task's state corresponds to. */
typedef struct eddy_cl_marker {
    int64_t last_offset; /* last input offset whose effects the state holds */
    int64_t max_ts;      /* highest event time seen */
    int64_t watermark;
    uint64_t seq;        /* flushes of this task so far */
} eddy_cl_marker;
#define EDDY_CL_MARKER_LEN (1 + 4 * 8)

uint32_t eddy_cl_fnv(const void *p, size_t n, uint32_t h);
#define EDDY_CL_FNV_INIT 2166136261u
uint32_t eddy_cl_step_id(const char *topic, const char *pipeline, const char *step);

/* Appends a record key / value header to b (b is not reset). 0 or <0. */
int eddy_cl_key(eddy_buf *b, int kind, uint32_t step, const void *k, size_t klen);
int eddy_cl_value_hdr(eddy_buf *b, uint32_t fingerprint, int version);

/* Splits a record key: 0, or <0 when it is not one of ours. */
int eddy_cl_key_parse(const void *p, size_t n, int *kind, uint32_t *step, const uint8_t **k,
                      size_t *klen);
/* Splits a non-NULL value: 0, or <0 when malformed. */
int eddy_cl_value_parse(const void *p, size_t n, uint32_t *fingerprint, int *version,
                        const uint8_t **payload, size_t *plen);

void eddy_cl_marker_put(eddy_buf *b, const eddy_cl_marker *m);
int eddy_cl_marker_get(const void *p, size_t n, eddy_cl_marker *m);

/* The canonical text of the options of `table` that shape state (every
 * option without EDDY_OPT_NO_STATE), "name=value\n" each, into b. */
int eddy_cl_opts_text(const eddy_option *table, const eddy_opts *o, eddy_buf *b);
uint32_t eddy_cl_fingerprint(const char *op, const char *version, const char *text, size_t n);
/* A sentence part naming what differs between two option texts, e.g.
 * "size=5m, the config says size=10m" (old, new), into out. */
void eddy_cl_opts_diff(const char *old_text, size_t oldn, const char *new_text, size_t newn,
                       char *out, size_t outlen);

#endif
