/* The local cache file of durable state (format and rules: cache.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "engine/core/error.h"
#include "engine/state/cache.h"
#include "engine/state/changelog.h"
#include "lib/buf/bytes.h"

#define HDR_MAGIC "EDDYSTC1"
#define TRL_MAGIC "EDDYEND1"
#define VERSION 1
#define HDR_LEN 12
#define TRL_LEN 36
#define WBUF_MAX (1u << 20) /* appends are written out in pieces of about this */

struct eddy_scache {
    char *path;
    int fd, lockfd;
    uint32_t crc;            /* of the body written so far */
    uint64_t records, body;  /* records (buffered ones too), body bytes on disk */
    int sealed;              /* a trailer follows the body on disk */
    uint64_t base;           /* records after the last load or compaction */
    const uint8_t *map;      /* the body, between check and replay */
    size_t maplen;
    eddy_buf wb;             /* appends not yet written */
};

int eddy_scache_frame(eddy_buf *b, const void *k, size_t kl, const void *v, size_t vl)
{
    if (kl >= UINT32_MAX || (v && vl >= UINT32_MAX))
        return EDDY_EINVAL;
    return eddy_put_u32(b, (uint32_t)kl) || eddy_buf_put(b, k, kl) ||
                   eddy_put_u32(b, v ? (uint32_t)vl : EDDY_SCACHE_TOMB) ||
                   (v && eddy_buf_put(b, v, vl))
               ? EDDY_ENOMEM
               : 0;
}

/* mkdir -p of path's directory. */
static int make_dirs(const char *path)
{
    char *d = strdup(path);
    if (!d)
        return -1;
    for (char *p = d + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(d, 0755) != 0 && errno != EEXIST) {
            free(d);
            return -1;
        }
        *p = '/';
    }
    free(d);
    return 0;
}

static int write_all(int fd, const void *p, size_t n, off_t at)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = pwrite(fd, b, n, at);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
        at += w;
    }
    return 0;
}

static int write_header(int fd)
{
    uint8_t h[HDR_LEN];
    memcpy(h, HDR_MAGIC, 8);
    eddy_le32_store(h + 8, VERSION);
    return write_all(fd, h, HDR_LEN, 0);
}

eddy_scache *eddy_scache_open(const char *path, char *err, size_t errlen)
{
    eddy_scache *c = calloc(1, sizeof *c);
    size_t n = strlen(path) + 8;
    char *lock = malloc(n);
    if (!c || !lock || !(c->path = strdup(path))) {
        free(c);
        free(lock);
        eddy_errf(err, errlen, "out of memory");
        return NULL;
    }
    c->fd = c->lockfd = -1;
    snprintf(lock, n, "%s.lock", path);
    if (make_dirs(path) != 0) {
        eddy_errf(err, errlen, "cannot create the directory of %s: %s", path, strerror(errno));
        goto fail;
    }
    if ((c->lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
        eddy_errf(err, errlen, "cannot open %s: %s", lock, strerror(errno));
        goto fail;
    }
    if (flock(c->lockfd, LOCK_EX | LOCK_NB) != 0) {
        eddy_errf(err, errlen, "%s is locked by another process (a second worker with the same "
                  "state.cache_dir holds this partition)", lock);
        goto fail;
    }
    if ((c->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
        eddy_errf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        goto fail;
    }
    free(lock);
    return c;
fail:
    free(lock);
    eddy_scache_close(c);
    return NULL;
}

static void unmap(eddy_scache *c)
{
    if (c->map)
        munmap((void *)(c->map - HDR_LEN), c->maplen + HDR_LEN);
    c->map = NULL;
    c->maplen = 0;
}

/* Walks framed records: the count, or -1 when one runs past the end. */
static int64_t count_records(const uint8_t *p, size_t n)
{
    int64_t cnt = 0;
    size_t i = 0;
    while (i < n) {
        if (n - i < 4)
            return -1;
        uint32_t kl = eddy_le32(p + i);
        if (n - i - 4 < (size_t)kl + 4)
            return -1;
        i += 4 + kl;
        uint32_t vl = eddy_le32(p + i);
        i += 4;
        if (vl != EDDY_SCACHE_TOMB) {
            if (n - i < vl)
                return -1;
            i += vl;
        }
        cnt++;
    }
    return cnt;
}

int eddy_scache_check(eddy_scache *c, int64_t *x, uint64_t *records, char *why, size_t whylen)
{
    unmap(c);
    struct stat st;
    if (fstat(c->fd, &st) != 0 || st.st_size == 0) {
        eddy_errf(why, whylen, "the file is empty");
        return 0;
    }
    uint8_t h[HDR_LEN], t[TRL_LEN];
    size_t size = (size_t)st.st_size;
    if (size < HDR_LEN + TRL_LEN || pread(c->fd, h, HDR_LEN, 0) != HDR_LEN ||
        memcmp(h, HDR_MAGIC, 8) != 0 || eddy_le32(h + 8) != VERSION) {
        eddy_errf(why, whylen, "not a cache file of this version");
        return 0;
    }
    if (pread(c->fd, t, TRL_LEN, (off_t)(size - TRL_LEN)) != TRL_LEN ||
        memcmp(t, TRL_MAGIC, 8) != 0) {
        eddy_errf(why, whylen, "it has no trailer: the worker that wrote it did not stop "
                  "cleanly");
        return 0;
    }
    int64_t tx = (int64_t)eddy_le64(t + 8);
    uint64_t trec = eddy_le64(t + 16), tbody = eddy_le64(t + 24);
    uint32_t tcrc = eddy_le32(t + 32);
    if (tbody != size - HDR_LEN - TRL_LEN || tx < 0) {
        eddy_errf(why, whylen, "its trailer does not match its size (truncated?)");
        return 0;
    }
    const uint8_t *m = mmap(NULL, size - TRL_LEN, PROT_READ, MAP_PRIVATE, c->fd, 0);
    if (m == MAP_FAILED) {
        eddy_errf(why, whylen, "cannot map it: %s", strerror(errno));
        return 0;
    }
    c->map = m + HDR_LEN;
    c->maplen = (size_t)tbody;
    madvise((void *)m, size - TRL_LEN, MADV_SEQUENTIAL);
    if ((uint32_t)crc32_z(0, c->map, c->maplen) != tcrc) {
        unmap(c);
        eddy_errf(why, whylen, "its checksum does not match (corrupt)");
        return 0;
    }
    /* -1 (a record running past the end) must not match a trailer count of
     * 2^64 - 1 cast to the same bits (found by tests/fuzz/fuzz_state.c). */
    int64_t walked = count_records(c->map, c->maplen);
    if (walked < 0 || (uint64_t)walked != trec) {
        unmap(c);
        eddy_errf(why, whylen, "its records do not match its trailer");
        return 0;
    }
    c->crc = tcrc;
    c->records = trec;
    c->body = tbody;
    c->sealed = 1;
    *x = tx;
    *records = trec;
    return 1;
}

static uint64_t key_hash(const uint8_t *k, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ k[i]) * 1099511628211ull;
    return h ? h : 1;
}

static size_t pow2_at_least(uint64_t n)
{
    size_t s = 16;
    while (s < n && s < ((size_t)1 << 40)) /* no wrap to 0 (a loop forever) */
        s <<= 1;
    return s;
}

/* Distinct key hashes among the mapped records (collisions undercount
 * slightly: compaction then comes a little early, which is harmless). */
static uint64_t distinct_keys(const eddy_scache *c)
{
    /* Sized by what the map can hold (8 bytes a record at least), not by
     * the count the trailer claims: a damaged count asked for 2^64 slots
     * and looped forever (found by tests/fuzz/fuzz_state.c). */
    uint64_t most = c->maplen / 8 + 1;
    size_t cap = pow2_at_least((c->records < most ? c->records : most) * 2);
    uint64_t *set = calloc(cap, sizeof *set), d = 0;
    if (!set)
        return c->records; /* no memory: no compaction now */
    for (size_t i = 0; i < c->maplen;) {
        uint32_t kl = eddy_le32(c->map + i);
        uint64_t h = key_hash(c->map + i + 4, kl);
        i += 4 + kl;
        uint32_t vl = eddy_le32(c->map + i);
        i += 4 + (vl == EDDY_SCACHE_TOMB ? 0 : vl);
        size_t j = (size_t)h & (cap - 1);
        while (set[j] && set[j] != h)
            j = (j + 1) & (cap - 1);
        if (!set[j]) {
            set[j] = h;
            d++;
        }
    }
    free(set);
    return d;
}

int eddy_scache_replay(eddy_scache *c, eddy_changelog_fn fn, void *arg, uint64_t *n, char *err,
                       size_t errlen)
{
    *n = 0;
    for (size_t i = 0; c->map && i < c->maplen;) {
        uint32_t kl = eddy_le32(c->map + i);
        const uint8_t *k = c->map + i + 4;
        i += 4 + kl;
        uint32_t vl = eddy_le32(c->map + i);
        const uint8_t *v = c->map + i + 4;
        i += 4;
        int tomb = vl == EDDY_SCACHE_TOMB;
        if (!tomb)
            i += vl;
        (*n)++;
        int rc = fn(arg, k, kl, tomb ? NULL : v, tomb ? 0 : vl);
        if (rc != 0)
            return rc;
    }
    if (c->map && *n != c->records)
        c->records = *n; /* what the file holds, not what its trailer said */
    c->base = c->records;
    if (c->map && c->records > EDDY_SCACHE_COMPACT_MIN &&
        c->records > EDDY_SCACHE_COMPACT_RATIO * distinct_keys(c))
        return eddy_scache_compact(c, err, errlen);
    unmap(c);
    /* Open for appending: a crash from here on leaves no trailer. */
    if (ftruncate(c->fd, (off_t)(HDR_LEN + c->body)) != 0) {
        eddy_errf(err, errlen, "cannot truncate %s: %s", c->path, strerror(errno));
        return EDDY_EIO;
    }
    c->sealed = 0;
    return 0;
}

int eddy_scache_reset(eddy_scache *c, char *err, size_t errlen)
{
    unmap(c);
    c->wb.len = 0;
    c->crc = 0;
    c->records = c->body = c->base = 0;
    c->sealed = 0;
    if (ftruncate(c->fd, 0) != 0 || write_header(c->fd) != 0) {
        eddy_errf(err, errlen, "cannot write %s: %s", c->path, strerror(errno));
        return EDDY_EIO;
    }
    return 0;
}

static int write_out(eddy_scache *c)
{
    if (!c->wb.len)
        return 0;
    if (c->sealed) {
        if (ftruncate(c->fd, (off_t)(HDR_LEN + c->body)) != 0)
            return EDDY_EIO;
        c->sealed = 0;
    }
    if (write_all(c->fd, c->wb.data, c->wb.len, (off_t)(HDR_LEN + c->body)) != 0)
        return EDDY_EIO;
    c->crc = (uint32_t)crc32_z(c->crc, c->wb.data, c->wb.len);
    c->body += c->wb.len;
    c->wb.len = 0;
    return 0;
}

int eddy_scache_append(eddy_scache *c, const void *framed, size_t len, uint64_t nrec)
{
    if (eddy_buf_put(&c->wb, framed, len) != 0)
        return EDDY_ENOMEM;
    c->records += nrec;
    return c->wb.len >= WBUF_MAX ? write_out(c) : 0;
}

int eddy_scache_add(eddy_scache *c, const void *k, size_t kl, const void *v, size_t vl)
{
    int rc = eddy_scache_frame(&c->wb, k, kl, v, vl);
    if (rc != 0)
        return rc;
    c->records++;
    return c->wb.len >= WBUF_MAX ? write_out(c) : 0;
}

int eddy_scache_seal(eddy_scache *c, int64_t x, char *err, size_t errlen)
{
    /* The body reaches the disk before the trailer that vouches for it. */
    if (write_out(c) != 0 || fdatasync(c->fd) != 0) {
        eddy_errf(err, errlen, "cannot write %s: %s", c->path, strerror(errno));
        return EDDY_EIO;
    }
    uint8_t t[TRL_LEN];
    memcpy(t, TRL_MAGIC, 8);
    eddy_le64_store(t + 8, (uint64_t)x);
    eddy_le64_store(t + 16, c->records);
    eddy_le64_store(t + 24, c->body);
    eddy_le32_store(t + 32, c->crc);
    if (write_all(c->fd, t, TRL_LEN, (off_t)(HDR_LEN + c->body)) != 0 ||
        ftruncate(c->fd, (off_t)(HDR_LEN + c->body + TRL_LEN)) != 0 || fdatasync(c->fd) != 0) {
        eddy_errf(err, errlen, "cannot write the trailer of %s: %s", c->path, strerror(errno));
        return EDDY_EIO;
    }
    c->sealed = 1;
    return 0;
}

/* ---- compaction ---------------------------------------------------------------------- */

typedef struct slot {
    uint64_t hash;
    size_t pos; /* of the key's last record, +1 (0: empty) */
} slot;

static slot *find(slot *t, size_t cap, const uint8_t *body, const uint8_t *k, uint32_t kl,
                  uint64_t h)
{
    size_t j = (size_t)h & (cap - 1);
    while (t[j].pos) {
        const uint8_t *r = body + t[j].pos - 1;
        if (t[j].hash == h && eddy_le32(r) == kl && memcmp(r + 4, k, kl) == 0)
            break;
        j = (j + 1) & (cap - 1);
    }
    return &t[j];
}

static size_t rec_len(const uint8_t *r)
{
    uint32_t kl = eddy_le32(r), vl = eddy_le32(r + 4 + kl);
    return 8 + kl + (vl == EDDY_SCACHE_TOMB ? 0 : vl);
}

int eddy_scache_compact(eddy_scache *c, char *err, size_t errlen)
{
    if (!c->map) {
        eddy_errf(err, errlen, "%s: nothing loaded to compact", c->path);
        return EDDY_EINVAL;
    }
    const uint8_t *b = c->map;
    size_t n = c->maplen, prefix = 0;
    uint64_t nrec = 0;
    /* Records after the last marker belong to a flush not known to be
     * complete: they stay as they are, after it. */
    for (size_t i = 0; i < n; i += rec_len(b + i)) {
        int kind;
        uint32_t step;
        const uint8_t *key;
        size_t klen;
        uint32_t kl = eddy_le32(b + i);
        nrec++;
        if (eddy_cl_key_parse(b + i + 4, kl, &kind, &step, &key, &klen) == 0 &&
            kind == EDDY_CL_MARKER)
            prefix = i + rec_len(b + i);
    }
    size_t cap = pow2_at_least(nrec * 2);
    slot *t = calloc(cap, sizeof *t);
    char *tmp = malloc(strlen(c->path) + 8);
    eddy_buf out = {0};
    int fd = -1, rc = EDDY_ENOMEM;
    if (!t || !tmp)
        goto done;
    for (size_t i = 0; i < prefix; i += rec_len(b + i)) {
        uint32_t kl = eddy_le32(b + i);
        uint64_t h = key_hash(b + i + 4, kl);
        slot *s = find(t, cap, b, b + i + 4, kl, h);
        s->hash = h;
        s->pos = i + 1;
    }
    uint64_t kept = 0;
    for (size_t i = 0; i < prefix; i += rec_len(b + i)) {
        uint32_t kl = eddy_le32(b + i);
        if (find(t, cap, b, b + i + 4, kl, key_hash(b + i + 4, kl))->pos != i + 1 ||
            eddy_le32(b + i + 4 + kl) == EDDY_SCACHE_TOMB)
            continue;
        if (eddy_buf_put(&out, b + i, rec_len(b + i)) != 0)
            goto done;
        kept++;
    }
    for (size_t i = prefix; i < n; i += rec_len(b + i), kept++)
        if (eddy_buf_put(&out, b + i, rec_len(b + i)) != 0)
            goto done;
    rc = EDDY_EIO;
    sprintf(tmp, "%s.tmp", c->path);
    if ((fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0 ||
        write_header(fd) != 0 || (out.len && write_all(fd, out.data, out.len, HDR_LEN) != 0) ||
        rename(tmp, c->path) != 0) {
        eddy_errf(err, errlen, "cannot write the compacted %s: %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        goto done;
    }
    unmap(c);
    close(c->fd);
    c->fd = fd;
    c->crc = (uint32_t)crc32_z(0, out.data, out.len);
    c->body = out.len;
    c->records = c->base = kept;
    c->sealed = 0;
    rc = 0;
done:
    if (rc == EDDY_ENOMEM)
        eddy_errf(err, errlen, "out of memory compacting %s", c->path);
    free(t);
    free(tmp);
    eddy_buf_free(&out);
    return rc;
}

int eddy_scache_maybe_compact(eddy_scache *c, char *err, size_t errlen)
{
    if (c->records <= EDDY_SCACHE_COMPACT_MIN ||
        c->records <= EDDY_SCACHE_COMPACT_RATIO * c->base)
        return 0;
    if (write_out(c) != 0) {
        eddy_errf(err, errlen, "cannot write %s: %s", c->path, strerror(errno));
        return EDDY_EIO;
    }
    size_t len = (size_t)(HDR_LEN + c->body);
    const uint8_t *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, c->fd, 0);
    if (m == MAP_FAILED) {
        eddy_errf(err, errlen, "cannot map %s: %s", c->path, strerror(errno));
        return EDDY_EIO;
    }
    c->map = m + HDR_LEN;
    c->maplen = (size_t)c->body;
    int rc = eddy_scache_compact(c, err, errlen);
    unmap(c);
    return rc == 0 ? 1 : rc;
}

void eddy_scache_mark(eddy_scache *c) { c->base = c->records; }
uint64_t eddy_scache_records(const eddy_scache *c) { return c->records; }
const char *eddy_scache_path(const eddy_scache *c) { return c->path; }

void eddy_scache_close(eddy_scache *c)
{
    if (!c)
        return;
    unmap(c);
    if (c->fd >= 0)
        close(c->fd);
    if (c->lockfd >= 0)
        close(c->lockfd); /* drops the lock */
    eddy_buf_free(&c->wb);
    free(c->path);
    free(c);
}
