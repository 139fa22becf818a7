/* The local cache of durable state (state.cache_dir): one file per task
 * holding a copy of the task's changelog records, in changelog order, so
 * that a restart on the same host replays the file and reads only the
 * changelog records written after it (design: docs/STATE.md "State and delivery
 * guarantees"; the protocol: state.h).
 *
 * File `<cache_dir>/<changelog topic>/<partition>-<input topic>.log`:
 *
 *   header   "EDDYSTC1" | u32 version (1)
 *   records  u32 key len | key | u32 value len, 0xFFFFFFFF = tombstone | value
 *   trailer  "EDDYEND1" | u64 X | u64 records | u64 body bytes | u32 crc32(body)
 *
 * little endian. X is the changelog offset the file covers: every record
 * of the task's changelog partition below X is in the file, or was
 * compacted away under a later value of its key. The trailer is written only
 * at clean points (partition revoked, worker stopping); a file without a
 * valid one (a crash, a truncated or corrupt file) is ignored and replaced:
 * the task is then restored from the changelog alone. While a task runs the
 * trailer is cut off and records appended, so a crash leaves no trailer.
 *
 * The file holds only records the changelog acknowledged (at-least-once) or
 * whose transaction committed (exactly-once): state.c hands them over at
 * those points. A lock file next to it (flock) keeps two workers on one
 * host from sharing a file. */
#ifndef EDDY_STATE_CACHE_H
#define EDDY_STATE_CACHE_H
#include <stddef.h>
#include <stdint.h>

#include "engine/connector.h"
#include "lib/buf/buf.h"

typedef struct eddy_scache eddy_scache;

#define EDDY_SCACHE_TOMB UINT32_MAX
/* Compaction when loading: a file of more than this many records holding
 * more than EDDY_SCACHE_COMPACT_RATIO records per distinct key. */
#define EDDY_SCACHE_COMPACT_MIN 1024
#define EDDY_SCACHE_COMPACT_RATIO 2

/* Appends one framed record to b (v NULL: tombstone). 0 or <0. */
int eddy_scache_frame(eddy_buf *b, const void *k, size_t kl, const void *v, size_t vl);

/* Opens (creating directories and the file) the cache file at path, locked
 * for this process. NULL with err (e.g. another worker holds it). */
eddy_scache *eddy_scache_open(const char *path, char *err, size_t errlen);
/* The file ends in a valid trailer: 1 with *x and *records, else 0 with
 * why ("no trailer: the worker did not stop cleanly", ...). */
int eddy_scache_check(eddy_scache *c, int64_t *x, uint64_t *records, char *why, size_t whylen);
/* After a check answered 1: calls fn for each record in order (*n counts
 * them), compacts the file when it holds many more records than keys, and
 * leaves it open for appending (the trailer cut off). 0, or fn's <0, or
 * another <0 (I/O; err says why). */
int eddy_scache_replay(eddy_scache *c, eddy_changelog_fn fn, void *arg, uint64_t *n, char *err,
                       size_t errlen);
/* Empties the file (header only), open for appending. 0 or <0. */
int eddy_scache_reset(eddy_scache *c, char *err, size_t errlen);
/* Appends framed records (eddy_scache_frame's format, nrec of them). */
int eddy_scache_append(eddy_scache *c, const void *framed, size_t len, uint64_t nrec);
int eddy_scache_add(eddy_scache *c, const void *k, size_t kl, const void *v, size_t vl);
/* A clean point: writes what is buffered, syncs, and writes the trailer
 * covering changelog offsets below x. 0 or <0 (err says why). */
int eddy_scache_seal(eddy_scache *c, int64_t x, char *err, size_t errlen);
/* Rewrites the file with the last record of each key (tombstones and the
 * keys they remove dropped), in the order of those last records, up to the
 * last position marker; records after it are kept as they are. For
 * replay, and for tests. 0 or <0. */
int eddy_scache_compact(eddy_scache *c, char *err, size_t errlen);
/* While appending: compacts the file when it holds more than
 * EDDY_SCACHE_COMPACT_RATIO times the records it held after its last load
 * or compaction (so the file stays within a small multiple of the live
 * keys, and each record is rewritten a bounded number of times). 1
 * (compacted), 0 (not needed) or <0 (err says why; the file is as before). */
int eddy_scache_maybe_compact(eddy_scache *c, char *err, size_t errlen);
/* The records the file holds now count as compacted: after a restore
 * appended the changelog's (which the broker compacts), so that the first
 * commits do not rewrite the whole file at once. */
void eddy_scache_mark(eddy_scache *c);
uint64_t eddy_scache_records(const eddy_scache *c);
const char *eddy_scache_path(const eddy_scache *c);
/* Closes without a trailer (the caller seals first at clean points). */
void eddy_scache_close(eddy_scache *c);

#endif
