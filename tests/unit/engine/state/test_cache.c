/* The local cache file of durable state (engine/state/cache.c): records
 * written, sealed and read back in order with their offset; a file
 * without its trailer, truncated, or with a flipped byte is refused; a
 * reopened file takes appends after its old records; compaction keeps the
 * last value of each key, drops keys a tombstone removed, keeps the last
 * marker and what follows it, at load and while a task appends; a second
 * process cannot lock the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/state/cache.h"
#include "engine/state/changelog.h"
#include "tests/unit/test.h"

static char dir[256];

typedef struct seen {
    eddy_buf log; /* "key=value;" or "key=-;" per record */
    uint64_t n;
} seen;

static int collect(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
    seen *s = arg;
    eddy_buf_put(&s->log, k, kl);
    eddy_buf_putc(&s->log, '=');
    if (v)
        eddy_buf_put(&s->log, v, vl);
    else
        eddy_buf_putc(&s->log, '-');
    eddy_buf_putc(&s->log, ';');
    s->n++;
    return 0;
}

static int read_back(const char *path, int64_t *x, char *log, size_t len)
{
    char err[256], why[256];
    eddy_scache *c = eddy_scache_open(path, err, sizeof err);
    if (!c)
        return -1;
    uint64_t recs = 0, n = 0;
    int ok = eddy_scache_check(c, x, &recs, why, sizeof why);
    seen s = {0};
    if (ok == 1 && eddy_scache_replay(c, collect, &s, &n, err, sizeof err) == 0 && n == recs) {
        eddy_buf_putc(&s.log, '\0');
        snprintf(log, len, "%s", (char *)s.log.data);
        /* Sealed again so that the next reader finds it valid. */
        eddy_scache_seal(c, *x, err, sizeof err);
    } else {
        snprintf(log, len, "invalid: %s", why);
        ok = 0;
    }
    eddy_buf_free(&s.log);
    eddy_scache_close(c);
    return ok;
}

static void add(eddy_scache *c, const char *k, const char *v)
{
    CHECK(eddy_scache_add(c, k, strlen(k), v, v ? strlen(v) : 0) == 0);
}

static void roundtrip(void)
{
    char path[512], err[256], why[256], log[4096];
    snprintf(path, sizeof path, "%s/cl-topic/0-in.log", dir);
    eddy_scache *c = eddy_scache_open(path, err, sizeof err);
    CHECK_MSG(c != NULL, "%s", err);
    int64_t x = 0;
    uint64_t recs = 0;
    CHECK(eddy_scache_check(c, &x, &recs, why, sizeof why) == 0); /* new: empty */
    CHECK(strcmp(why, "the file is empty") == 0);
    CHECK(eddy_scache_reset(c, err, sizeof err) == 0);
    /* A second worker on the host cannot take the same file. */
    CHECK(eddy_scache_open(path, err, sizeof err) == NULL && strstr(err, "locked"));
    add(c, "a", "1");
    add(c, "b", "2");
    add(c, "a", NULL);
    eddy_buf f = {0};
    CHECK(eddy_scache_frame(&f, "c", 1, "", 0) == 0); /* an empty value is not a tombstone */
    CHECK(eddy_scache_append(c, f.data, f.len, 1) == 0);
    eddy_buf_free(&f);
    CHECK(eddy_scache_records(c) == 4);
    CHECK(eddy_scache_seal(c, 42, err, sizeof err) == 0);
    eddy_scache_close(c);
    CHECK(read_back(path, &x, log, sizeof log) == 1);
    CHECK_MSG(strcmp(log, "a=1;b=2;a=-;c=;") == 0, "%s", log);
    CHECK(x == 42);

    /* Reopened, it takes appends after its records; a crash now (no
     * seal) leaves a file that is refused. */
    c = eddy_scache_open(path, err, sizeof err);
    uint64_t n = 0;
    seen s = {0};
    CHECK(eddy_scache_check(c, &x, &recs, why, sizeof why) == 1 && recs == 4);
    CHECK(eddy_scache_replay(c, collect, &s, &n, err, sizeof err) == 0 && n == 4);
    add(c, "d", "4");
    eddy_scache_close(c); /* no seal: a crash */
    CHECK(read_back(path, &x, log, sizeof log) == 0);
    CHECK_MSG(strstr(log, "no trailer") != NULL, "%s", log);

    /* Sealed after the append: all five, the new offset. */
    c = eddy_scache_open(path, err, sizeof err);
    CHECK(eddy_scache_check(c, &x, &recs, why, sizeof why) == 0);
    CHECK(eddy_scache_reset(c, err, sizeof err) == 0);
    add(c, "a", "1");
    CHECK(eddy_scache_seal(c, 7, err, sizeof err) == 0);
    add(c, "e", "5"); /* appended after a seal: the trailer moves */
    CHECK(eddy_scache_seal(c, 9, err, sizeof err) == 0);
    eddy_scache_close(c);
    CHECK(read_back(path, &x, log, sizeof log) == 1);
    CHECK_MSG(strcmp(log, "a=1;e=5;") == 0 && x == 9, "%s %lld", log, (long long)x);
    eddy_buf_free(&s.log);
}

static void corrupt(void)
{
    char path[512], err[256], log[4096];
    snprintf(path, sizeof path, "%s/cl-topic/1-in.log", dir);
    eddy_scache *c = eddy_scache_open(path, err, sizeof err);
    CHECK(eddy_scache_reset(c, err, sizeof err) == 0);
    add(c, "key", "value");
    add(c, "other", "thing");
    CHECK(eddy_scache_seal(c, 5, err, sizeof err) == 0);
    eddy_scache_close(c);
    struct stat st;
    CHECK(stat(path, &st) == 0);
    int64_t x;
    CHECK(read_back(path, &x, log, sizeof log) == 1);

    /* A flipped byte in the body: the checksum. */
    FILE *f = fopen(path, "r+b");
    fseek(f, 14, SEEK_SET);
    int ch = fgetc(f);
    fseek(f, 14, SEEK_SET);
    fputc(ch ^ 0x20, f);
    fclose(f);
    CHECK(read_back(path, &x, log, sizeof log) == 0);
    CHECK_MSG(strstr(log, "checksum") != NULL, "%s", log);
    f = fopen(path, "r+b");
    fseek(f, 14, SEEK_SET);
    fputc(ch, f);
    fclose(f);
    CHECK(read_back(path, &x, log, sizeof log) == 1);

    /* Truncated: cut inside the trailer, then inside the body. */
    CHECK(truncate(path, st.st_size - 3) == 0);
    CHECK(read_back(path, &x, log, sizeof log) == 0);
    CHECK(truncate(path, 20) == 0);
    CHECK(read_back(path, &x, log, sizeof log) == 0);
    /* Not ours at all. */
    f = fopen(path, "wb");
    fputs("this is not a cache file, but it is long enough to have a trailer....", f);
    fclose(f);
    CHECK(read_back(path, &x, log, sizeof log) == 0);
    CHECK_MSG(strstr(log, "not a cache file") != NULL, "%s", log);
}

/* A changelog key of kind `kind` with bytes s, framed. */
static void put(eddy_scache *c, int kind, const char *key, const char *v)
{
    eddy_buf k = {0};
    eddy_cl_key(&k, kind, 7, key, strlen(key));
    CHECK(eddy_scache_add(c, k.data, k.len, v, v ? strlen(v) : 0) == 0);
    eddy_buf_free(&k);
}

static int count_replay(const char *path, char *log, size_t len, uint64_t *n)
{
    char err[256], why[256];
    eddy_scache *c = eddy_scache_open(path, err, sizeof err);
    int64_t x;
    uint64_t recs;
    seen s = {0};
    int ok = eddy_scache_check(c, &x, &recs, why, sizeof why) == 1 &&
             eddy_scache_replay(c, collect, &s, n, err, sizeof err) == 0;
    /* Strip each record's 5-byte kind+step prefix for a readable log. */
    size_t o = 0;
    for (size_t i = 0; i < s.log.len && o + 1 < len; i++) {
        if (i == 0 || s.log.data[i - 1] == ';') {
            snprintf(log + o, len - o, "%d:", s.log.data[i]);
            o += strlen(log + o);
            i += 4;
            continue;
        }
        log[o++] = (char)s.log.data[i];
    }
    log[o] = '\0';
    eddy_scache_seal(c, x, err, sizeof err);
    eddy_scache_close(c);
    eddy_buf_free(&s.log);
    return ok;
}

static void compaction(void)
{
    char path[512], err[256], log[8192];
    snprintf(path, sizeof path, "%s/cl-topic/2-in.log", dir);
    eddy_scache *c = eddy_scache_open(path, err, sizeof err);
    CHECK(eddy_scache_reset(c, err, sizeof err) == 0);
    /* Three keys rewritten many times; "gone" deleted; two markers. */
    char v[32];
    for (int i = 0; i < 1200; i++) {
        snprintf(v, sizeof v, "%d", i);
        put(c, EDDY_CL_KEY, i % 2 ? "x" : "y", v);
        if (i == 600)
            put(c, EDDY_CL_MARKER, "in", "m1");
    }
    put(c, EDDY_CL_KEY, "gone", "1");
    put(c, EDDY_CL_KEY, "z", "1");
    put(c, EDDY_CL_KEY, "gone", NULL);
    put(c, EDDY_CL_MARKER, "in", "m2");
    /* After the last marker: an unfinished flush, kept as it is. */
    put(c, EDDY_CL_KEY, "x", "tail1");
    put(c, EDDY_CL_KEY, "x", "tail2");
    CHECK(eddy_scache_seal(c, 1300, err, sizeof err) == 0);
    eddy_scache_close(c);
    uint64_t n = 0;
    /* The first load reads everything, then compacts (1207 records, 6 keys). */
    CHECK(count_replay(path, log, sizeof log, &n) == 1);
    CHECK(n == 1207);
    CHECK(count_replay(path, log, sizeof log, &n) == 1);
    CHECK_MSG(n == 6, "%llu records after compaction", (unsigned long long)n);
    CHECK_MSG(strcmp(log, "0:y=1198;0:x=1199;0:z=1;3:in=m2;0:x=tail1;0:x=tail2;") == 0, "%s", log);
    /* Below the threshold nothing is rewritten. */
    CHECK(count_replay(path, log, sizeof log, &n) == 1 && n == 6);
}

/* A running task's file: compacted once it doubled since its last load,
 * to its live keys, and still read back with them. */
static void live_compaction(void)
{
    char path[512], err[256], log[8192];
    snprintf(path, sizeof path, "%s/cl-topic/3-in.log", dir);
    eddy_scache *c = eddy_scache_open(path, err, sizeof err);
    CHECK(eddy_scache_reset(c, err, sizeof err) == 0);
    char v[32];
    int compactions = 0;
    for (int i = 0; i < 5000; i++) {
        snprintf(v, sizeof v, "%d", i);
        put(c, EDDY_CL_KEY, i % 3 == 0 ? "a" : i % 3 == 1 ? "b" : "c", v);
        if (i % 10 == 9) {
            put(c, EDDY_CL_MARKER, "in", v); /* a flush's marker */
            int rc = eddy_scache_maybe_compact(c, err, sizeof err);
            CHECK_MSG(rc >= 0, "%s", err);
            compactions += rc;
        }
        CHECK(eddy_scache_records(c) <= 2 * EDDY_SCACHE_COMPACT_MIN + 12);
    }
    CHECK_MSG(compactions >= 4, "%d compactions", compactions);
    CHECK(eddy_scache_seal(c, 99, err, sizeof err) == 0);
    eddy_scache_close(c);
    uint64_t n = 0;
    CHECK(count_replay(path, log, sizeof log, &n) == 1);
    /* Whatever the last compaction kept, the last values are these. */
    CHECK_MSG(strstr(log, "0:a=4998;") && strstr(log, "0:b=4999;") && strstr(log, "0:c=4997;") &&
                  strstr(log, "3:in=4999;"), "%.300s", log);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/eddy-test-cache.XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    roundtrip();
    corrupt();
    compaction();
    live_compaction();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    return test_report();
}
