/* Per-key operator state: string key -> fixed-size value, bounded.
 *
 * Entries are allocated once, when a key first appears (never per record
 * after that), and stay at the same address until the map is freed, so an
 * operator may keep pointers into values across calls. Keys are the
 * rendered values of the operator's `key` fields joined by '|'. Single
 * thread: one map per operator instance. */
#ifndef EDDY_KEYMAP_H
#define EDDY_KEYMAP_H
#include <stddef.h>
#include <stdint.h>

#include "include/eddy/operator.h"
#include "lib/buf/buf.h"

typedef struct eddy_keymap eddy_keymap;

/* free_value (optional) releases what a value owns, at eddy_keymap_free. */
eddy_keymap *eddy_keymap_new(uint32_t max_keys, size_t value_size, void (*free_value)(void *));
void eddy_keymap_free(eddy_keymap *m);
/* The value for key k (zeroed when new, *created = 1). NULL when the map
 * holds max_keys keys already (the caller counts and skips) or on ENOMEM. */
void *eddy_keymap_get(eddy_keymap *m, const char *k, size_t n, int *created);
uint32_t eddy_keymap_count(const eddy_keymap *m);
/* Calls fn for every key, in no particular order. */
void eddy_keymap_each(eddy_keymap *m, void (*fn)(const char *k, size_t n, void *v, void *arg),
                      void *arg);

/* Durability (ABI 1.2 state_flush): which keys changed since the last
 * commit, so a commit writes those keys only. Off until eddy_keymap_track
 * (the host calls state_loaded only for durable steps, so a step without
 * durable state pays nothing). mark is O(1) and idempotent until the next
 * flush; 0, or -1 when the list cannot grow (out of memory). */
void eddy_keymap_track(eddy_keymap *m);
int eddy_keymap_mark(eddy_keymap *m, void *value);
uint32_t eddy_keymap_ndirty(const eddy_keymap *m);
/* Calls fn for every key marked since the last flush, in marking order,
 * and unmarks it. Stops at the first fn answering <0 and answers that:
 * that key and the later ones stay marked for the next attempt. */
int eddy_keymap_flush_dirty(eddy_keymap *m,
                            int (*fn)(const char *k, size_t n, void *v, void *arg), void *arg);

/* The state_flush of a keymap-based operator (ABI 1.2): every key changed
 * since the last flush, or for an unkeyed step (m NULL) the one global
 * value when *gdirty, encoded by encode into one reused buffer and written
 * with h->state_write at version. 0, or the first negative answer (keys
 * not written stay marked for the next flush). */
typedef int (*eddy_keymap_put_fn)(eddy_buf *b, const void *value);
int eddy_keymap_state_flush(eddy_keymap *m, const eddy_host *h, eddy_ctx *ctx, void *global,
                            int *gdirty, int version, eddy_keymap_put_fn encode);

/* Renders the record's key fields into buf ("a|b"; missing fields render as
 * empty). Returns the length, truncated to cap - 1; buf is NUL-terminated. */
size_t eddy_key_render(const eddy_host *h, const eddy_record *r, const eddy_sym *fields,
                       uint32_t n, char *buf, size_t cap);

/* The state of record r's key: renders the key fields into kbuf (the
 * key text, NUL-terminated, for alerts) and looks it up, like
 * eddy_keymap_get. One call per record on the detectors' hot path. */
void *eddy_keymap_record(eddy_keymap *m, const eddy_host *h, const eddy_record *r,
                         const eddy_sym *fields, uint32_t n, char *kbuf, size_t cap,
                         int *created);

/* The value as a finite double (like the engine's eddy_value_number: ints, doubles,
 * bools as 1/0), 0 for anything else and for NaN/inf: the caller skips it. */
int eddy_value_finite(const eddy_value *v, double *x);

#endif
