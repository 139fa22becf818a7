/* SQLite (WAL) against LMDB as the embedded feature store: the minimal
 * version of each, with the store's semantics (a row replaces the stored
 * one only when its event time is not older; the value holds event time,
 * expiry and the features as JSON), a transaction per 1024 rows, in several
 * durability settings. Then a crash test per variant: a child writes in a
 * loop and reports each commit, the parent SIGKILLs it after 50 commits,
 * reopens and checks that every row is whole and no acknowledged commit is
 * lost. The result chose SQLite for lib/store/embedded.c (RESULTS.md).
 *
 *   build/benchmarks/store/bench_embedded DIR [rows] */
#include <lmdb.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TXN 1024
#define ENTITIES 100000

typedef struct variant {
    const char *name;
    int lmdb;
    const char *sync;  /* sqlite: synchronous= */
    unsigned flags;    /* lmdb env flags */
} variant;

static const variant variants[] = {
    {"sqlite wal sync=normal", 0, "NORMAL", 0},
    {"sqlite wal sync=full", 0, "FULL", 0},
    {"lmdb (sync)", 1, NULL, 0},
    {"lmdb nometasync", 1, NULL, MDB_NOMETASYNC},
    {"lmdb nosync", 1, NULL, MDB_NOSYNC},
};

typedef struct db {
    const variant *v;
    sqlite3 *sq;
    sqlite3_stmt *up, *begin, *commit;
    MDB_env *env;
    MDB_dbi dbi;
    MDB_txn *txn;
} db;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int db_open(db *d, const variant *v, const char *dir)
{
    memset(d, 0, sizeof *d);
    d->v = v;
    char path[600];
    if (!v->lmdb) {
        snprintf(path, sizeof path, "%s/f.db", dir);
        char pragmas[400];
        snprintf(pragmas, sizeof pragmas,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA cache_size=-65536;"
                 "CREATE TABLE IF NOT EXISTS f(view TEXT, entity TEXT, event_time INTEGER,"
                 " expires_at INTEGER, features TEXT, PRIMARY KEY(view, entity)) WITHOUT ROWID;",
                 v->sync);
        if (sqlite3_open(path, &d->sq) != SQLITE_OK ||
            sqlite3_exec(d->sq, pragmas, NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(d->sq,
                               "INSERT INTO f VALUES(?1,?2,?3,?4,?5) ON CONFLICT(view,entity) DO "
                               "UPDATE SET event_time=excluded.event_time, expires_at="
                               "excluded.expires_at, features=excluded.features WHERE "
                               "excluded.event_time >= f.event_time",
                               -1, &d->up, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(d->sq, "BEGIN IMMEDIATE", -1, &d->begin, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(d->sq, "COMMIT", -1, &d->commit, NULL) != SQLITE_OK) {
            fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(d->sq));
            return -1;
        }
        return 0;
    }
    snprintf(path, sizeof path, "%s/lmdb", dir);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", path);
    if (system(cmd) != 0)
        return -1;
    MDB_txn *t;
    int rc = mdb_env_create(&d->env);
    if (rc == 0)
        rc = mdb_env_set_mapsize(d->env, (size_t)1 << 30);
    if (rc == 0)
        rc = mdb_env_open(d->env, path, v->flags, 0644);
    if (rc == 0) {
        int dead = 0;
        mdb_reader_check(d->env, &dead); /* slots left by a killed process */
        rc = mdb_txn_begin(d->env, NULL, 0, &t);
    }
    if (rc == 0)
        rc = mdb_dbi_open(t, NULL, 0, &d->dbi);
    if (rc == 0)
        rc = mdb_txn_commit(t);
    if (rc != 0) {
        fprintf(stderr, "lmdb: %s\n", mdb_strerror(rc));
        return -1;
    }
    return 0;
}

static void db_close(db *d)
{
    if (d->sq) {
        sqlite3_finalize(d->up);
        sqlite3_finalize(d->begin);
        sqlite3_finalize(d->commit);
        sqlite3_close(d->sq);
    }
    if (d->env)
        mdb_env_close(d->env);
}

static int db_begin(db *d)
{
    if (d->sq) {
        int rc = sqlite3_step(d->begin) == SQLITE_DONE ? 0 : -1;
        sqlite3_reset(d->begin);
        return rc;
    }
    return mdb_txn_begin(d->env, NULL, 0, &d->txn) == 0 ? 0 : -1;
}

static int db_commit(db *d)
{
    if (d->sq) {
        int rc = sqlite3_step(d->commit) == SQLITE_DONE ? 0 : -1;
        sqlite3_reset(d->commit);
        return rc;
    }
    return mdb_txn_commit(d->txn) == 0 ? 0 : -1;
}

static int db_put(db *d, const char *ent, int64_t ts, const char *json, int jlen)
{
    if (d->sq) {
        sqlite3_bind_text(d->up, 1, "bench", 5, SQLITE_STATIC);
        sqlite3_bind_text(d->up, 2, ent, -1, SQLITE_STATIC);
        sqlite3_bind_int64(d->up, 3, ts);
        sqlite3_bind_int64(d->up, 4, 0);
        sqlite3_bind_text(d->up, 5, json, jlen, SQLITE_STATIC);
        int rc = sqlite3_step(d->up) == SQLITE_DONE ? 0 : -1;
        sqlite3_reset(d->up);
        return rc;
    }
    char kb[64];
    int kl = snprintf(kb, sizeof kb, "bench%c%s", 0, ent);
    MDB_val k = {(size_t)kl, kb}, old;
    if (mdb_get(d->txn, d->dbi, &k, &old) == 0 && old.mv_size >= 16) {
        int64_t ots;
        memcpy(&ots, old.mv_data, 8);
        if (ots > ts)
            return 0;
    }
    MDB_val val = {16 + (size_t)jlen, NULL};
    if (mdb_put(d->txn, d->dbi, &k, &val, MDB_RESERVE) != 0)
        return -1;
    int64_t exp = 0;
    memcpy(val.mv_data, &ts, 8);
    memcpy((char *)val.mv_data + 8, &exp, 8);
    memcpy((char *)val.mv_data + 16, json, (size_t)jlen);
    return 0;
}

/* Writes `rows` rows over ENTITIES entities; v = the event time. Calls
 * ack after each commit when given. */
static int write_rows(db *d, long rows, int64_t ts0, int ackfd)
{
    char ent[32], json[200];
    for (long i = 0; i < rows;) {
        if (db_begin(d) != 0)
            return -1;
        for (int n = 0; n < TXN && i < rows; n++, i++) {
            int64_t ts = ts0 + i / ENTITIES;
            snprintf(ent, sizeof ent, "user%ld", i % ENTITIES);
            int jl = snprintf(json, sizeof json,
                              "{\"v\":%lld,\"spend\":%.3f,\"avg\":%.4f,\"sd\":1.5,\"p95\":%.2f}",
                              (long long)ts, (double)(i % 977) * 3.5, (double)(i % 977) / 7,
                              (double)(i % 977) * 1.25);
            if (db_put(d, ent, ts, json, jl) != 0)
                return -1;
        }
        if (db_commit(d) != 0)
            return -1;
        if (ackfd >= 0 && write(ackfd, "x", 1) != 1)
            return -1;
    }
    return 0;
}

/* Every stored row whole (the JSON's v equals its event time); returns the
 * row count, the oldest event time in *oldest, -1 if unreadable. */
static long verify(db *d, int64_t *oldest, const char **why)
{
    long n = 0;
    *oldest = INT64_MAX;
    *why = "ok";
    if (d->sq) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(d->sq, "pragma integrity_check", -1, &st, NULL) != SQLITE_OK ||
            sqlite3_step(st) != SQLITE_ROW ||
            strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0) {
            *why = "integrity_check failed";
            return -1;
        }
        sqlite3_finalize(st);
        sqlite3_prepare_v2(d->sq, "select event_time, json_extract(features,'$.v') from f", -1,
                           &st, NULL);
        while (sqlite3_step(st) == SQLITE_ROW) {
            int64_t ts = sqlite3_column_int64(st, 0);
            if (ts != sqlite3_column_int64(st, 1))
                *why = "torn row";
            if (ts < *oldest)
                *oldest = ts;
            n++;
        }
        sqlite3_finalize(st);
        return n;
    }
    MDB_txn *t;
    MDB_cursor *c;
    MDB_val k, v;
    if (mdb_txn_begin(d->env, NULL, MDB_RDONLY, &t) != 0 ||
        mdb_cursor_open(t, d->dbi, &c) != 0) {
        *why = "cannot read";
        return -1;
    }
    while (mdb_cursor_get(c, &k, &v, MDB_NEXT) == 0) {
        int64_t ts;
        memcpy(&ts, v.mv_data, 8);
        char json[256];
        snprintf(json, sizeof json, "%.*s", (int)(v.mv_size - 16), (char *)v.mv_data + 16);
        if (atoll(json + 5) != ts)
            *why = "torn row";
        if (ts < *oldest)
            *oldest = ts;
        n++;
    }
    mdb_cursor_close(c);
    mdb_txn_abort(t);
    return n;
}

static void crash_test(const variant *v, const char *dir)
{
    int fds[2];
    if (pipe(fds) != 0)
        return;
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        db d;
        if (db_open(&d, v, dir) != 0)
            _exit(2);
        write_rows(&d, 1L << 40, 1000000, fds[1]);
        _exit(3);
    }
    close(fds[1]);
    char ch;
    int acks = 0;
    while (acks < 200 && read(fds[0], &ch, 1) == 1)
        acks++;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(fds[0]);
    db d;
    if (db_open(&d, v, dir) != 0) {
        printf("  crash: cannot reopen\n");
        return;
    }
    int64_t oldest;
    const char *why;
    long n = verify(&d, &oldest, &why);
    /* 200 commits of 1024 rows = 204800 rows: every entity at event time
     * >= 1000001 once two full rounds over 100000 entities committed. */
    printf("  crash after %d acknowledged commits: reopen ok, %ld rows, %s, %s\n", acks, n, why,
           n == ENTITIES && oldest >= 1000001 ? "no acknowledged commit lost"
                                              : "ACKNOWLEDGED DATA LOST");
    db_close(&d);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_embedded DIR [rows]\n");
        return 2;
    }
    long rows = argc > 2 ? atol(argv[2]) : 1000000;
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        const variant *v = &variants[i];
        char dir[512], cmd[1100];
        snprintf(dir, sizeof dir, "%s/v%zu", argv[1], i);
        snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", dir, dir);
        if (system(cmd) != 0)
            return 1;
        db d;
        if (db_open(&d, v, dir) != 0)
            return 1;
        double t0 = now_s();
        if (write_rows(&d, rows, 1000000, -1) != 0) {
            fprintf(stderr, "%s: write failed\n", v->name);
            return 1;
        }
        double t1 = now_s();
        /* the same rows again, older: every one must be refused */
        if (write_rows(&d, ENTITIES, 0, -1) != 0)
            return 1;
        double t2 = now_s();
        int64_t oldest;
        const char *why;
        long n = verify(&d, &oldest, &why);
        printf("%-24s %8.0f rows/s new  %8.0f rows/s stale  (%ld rows, oldest %lld, %s)\n",
               v->name, rows / (t1 - t0), ENTITIES / (t2 - t1), n, (long long)oldest, why);
        db_close(&d);
        snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", dir, dir);
        if (system(cmd) != 0)
            return 1;
        crash_test(v, dir);
    }
    return 0;
}
