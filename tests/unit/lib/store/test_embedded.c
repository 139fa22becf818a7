/* Embedded (SQLite) store: newest event time wins, TTL on read and by
 * purge, reopen keeps data, the get answer's shape, and kill -9 of a writer
 * mid-run leaves a database that reopens consistent. */
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/core/batch.h"
#include "engine/core/error.h"
#include "lib/store/store.h"
#include "tests/unit/test.h"

static char dir[] = "/tmp/eddy-store-test.XXXXXX";
static char path[256];

static eddy_store *open_store(int64_t ttl_ms, int64_t purge_ms)
{
    eddy_store_conf c = {0};
    c.kind = EDDY_STORE_EMBEDDED;
    c.view = "user_spend";
    c.join_keys[0] = "user_id";
    c.njoin_keys = 1;
    c.path = path;
    c.ttl_ms = ttl_ms;
    c.purge_interval_ms = purge_ms;
    eddy_store *s = NULL;
    char err[300] = "";
    int rc = eddy_store_open(&c, &s, err, sizeof err);
    CHECK_MSG(rc == 0, "open: %s", err);
    return s;
}

static int put1(eddy_store *s, const char *entity, int64_t ts, double spend, int64_t n)
{
    eddy_store_feature f[] = {{"spend", eddy_v_double(spend)}, {"n", eddy_v_int(n)},
                              {"top", eddy_v_str("grocer", 6)}, {"gone", eddy_v_null()}};
    eddy_store_row r = {.entity = entity, .entity_len = (uint32_t)strlen(entity),
                        .features = f, .nfeatures = 4, .event_ts = ts};
    char err[300] = "";
    int rc = eddy_store_put(s, &r, 1, err, sizeof err);
    CHECK_MSG(rc == 0, "put: %s", err);
    return rc;
}

static char got[1024];
static int get(eddy_store *s, const char *entity)
{
    eddy_buf b = {0};
    int rc = eddy_store_get(s, "user_spend", entity, &b);
    snprintf(got, sizeof got, "%.*s", (int)b.len, b.data ? (const char *)b.data : "");
    eddy_buf_free(&b);
    return rc;
}

static int64_t count_rows(void)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t n = -1;
    if (sqlite3_open(path, &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "select count(*) from eddy_features", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return n;
}

static void semantics(void)
{
    eddy_store *s = open_store(0, 0);
    if (!s)
        return;
    CHECK(get(s, "u1") == EDDY_ENOTFOUND);
    put1(s, "u1", 2000, 10.5, 3);
    CHECK(get(s, "u1") == 0);
    CHECK_CONTAINS(got, "\"view\":\"user_spend\"");
    CHECK_CONTAINS(got, "\"entity\":\"u1\"");
    CHECK_CONTAINS(got, "\"event_time\":2000");
    CHECK_CONTAINS(got, "\"age_ms\":");
    CHECK_CONTAINS(got, "\"features\":{\"spend\":10.5,\"n\":3,\"top\":\"grocer\",\"gone\":null}");
    /* an older window (out of order, replay) never replaces a newer one */
    put1(s, "u1", 1000, 99, 99);
    CHECK(get(s, "u1") == 0);
    CHECK_CONTAINS(got, "\"spend\":10.5");
    CHECK_CONTAINS(got, "\"event_time\":2000");
    /* the same event time replaces (a window updated by late events) */
    put1(s, "u1", 2000, 11, 4);
    CHECK(get(s, "u1") == 0);
    CHECK_CONTAINS(got, "\"spend\":11");
    put1(s, "u1", 3000, 12, 5);
    CHECK(get(s, "u1") == 0);
    CHECK_CONTAINS(got, "\"event_time\":3000");
    /* a batch with the same entity twice: the newer wins whatever the order */
    eddy_store_feature fa[] = {{"spend", eddy_v_double(1)}}, fb[] = {{"spend", eddy_v_double(2)}};
    eddy_store_row rows[] = {
        {.entity = "u2", .entity_len = 2, .features = fb, .nfeatures = 1, .event_ts = 5000},
        {.entity = "u2", .entity_len = 2, .features = fa, .nfeatures = 1, .event_ts = 4000},
    };
    char err[200];
    CHECK(eddy_store_put(s, rows, 2, err, sizeof err) == 0);
    CHECK(get(s, "u2") == 0);
    CHECK_CONTAINS(got, "\"spend\":2");
    eddy_store_stats st;
    eddy_store_get_stats(s, &st);
    CHECK(st.stale == 2);
    CHECK(st.written == 4);
    /* other views and unknown entities are 404s */
    eddy_buf b = {0};
    CHECK(eddy_store_get(s, "other_view", "u1", &b) == EDDY_ENOTFOUND);
    CHECK(b.len == 0);
    CHECK(get(s, "nobody") == EDDY_ENOTFOUND);
    CHECK(eddy_store_flush(s) == 0);
    CHECK(eddy_store_pending(s, NULL) == 0);
    char why[200];
    CHECK(eddy_store_ready(s, why, sizeof why));
    /* the registry serves it by view, and forgets it on close */
    eddy_store_register(s);
    CHECK(eddy_stores_get("user_spend", "u1", &b) == 0);
    CHECK(eddy_stores_get("nope", "u1", &b) == EDDY_ENOTFOUND);
    CHECK(eddy_stores_ready(why, sizeof why));
    eddy_buf_free(&b);
    eddy_store_close(s);
    CHECK(eddy_stores_get("user_spend", "u1", &b) == EDDY_ENOTFOUND);

    /* reopen: everything is still there, and the rule still holds */
    s = open_store(0, 0);
    CHECK(get(s, "u1") == 0);
    CHECK_CONTAINS(got, "\"event_time\":3000");
    CHECK_CONTAINS(got, "\"spend\":12");
    put1(s, "u1", 2500, 0, 0);
    CHECK(get(s, "u1") == 0);
    CHECK_CONTAINS(got, "\"spend\":12");
    eddy_store_close(s);
}

static void ttl(void)
{
    /* a long ttl: readable */
    eddy_store *s = open_store(3600 * 1000, 0);
    put1(s, "t1", 1000, 1, 1);
    CHECK(get(s, "t1") == 0);
    eddy_store_close(s);
    /* a 1 ms ttl: gone on read once it has passed, even before any purge */
    s = open_store(1, 3600 * 1000);
    int64_t before = count_rows();
    put1(s, "t2", 1000, 1, 1);
    usleep(20000);
    CHECK(get(s, "t2") == EDDY_ENOTFOUND);
    CHECK(count_rows() == before + 1); /* still stored, not served */
    /* an expired row does not block an older window */
    put1(s, "t2", 500, 7, 7);
    eddy_store_close(s);
    /* the purge deletes expired rows (open purges, then every interval) */
    s = open_store(0, 1);
    CHECK(count_rows() == before);
    eddy_store_close(s);
}

/* A child writes batches in a loop and reports each commit on a pipe; the
 * parent kills it with SIGKILL mid-run. Every stored row must be whole:
 * its features were written with its event time in one statement. */
static void crash(void)
{
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        eddy_store *s = open_store(0, 0);
        if (!s)
            _exit(2);
        char ent[100][8];
        eddy_store_feature f[100][2];
        eddy_store_row rows[100];
        for (int64_t ts = 1;; ts++) {
            for (int i = 0; i < 100; i++) {
                snprintf(ent[i], sizeof ent[i], "c%d", i);
                f[i][0] = (eddy_store_feature){"v", eddy_v_int(ts)};
                f[i][1] = (eddy_store_feature){"w", eddy_v_int(ts * 2)};
                rows[i] = (eddy_store_row){.entity = ent[i], .entity_len = (uint32_t)strlen(ent[i]),
                                           .features = f[i], .nfeatures = 2, .event_ts = ts};
            }
            char err[200];
            if (eddy_store_put(s, rows, 100, err, sizeof err) != 0)
                _exit(3);
            if (write(fds[1], "x", 1) != 1)
                _exit(4);
        }
    }
    close(fds[1]);
    char c;
    int acks = 0;
    while (acks < 50 && read(fds[0], &c, 1) == 1)
        acks++;
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    close(fds[0]);
    CHECK(acks == 50);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    eddy_store *s = open_store(0, 0);
    if (!s)
        return;
    sqlite3 *db;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    sqlite3_stmt *st;
    CHECK(sqlite3_prepare_v2(db, "pragma integrity_check", -1, &st, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    CHECK_STR((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    CHECK(sqlite3_prepare_v2(db,
                             "select count(*), sum(json_extract(features,'$.v') = event_time and "
                             "json_extract(features,'$.w') = 2 * event_time), min(event_time) "
                             "from eddy_features where entity like 'c%'",
                             -1, &st, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0), whole = sqlite3_column_int64(st, 1),
            oldest = sqlite3_column_int64(st, 2);
    CHECK_MSG(n == 100, "rows %lld", (long long)n);
    CHECK_MSG(whole == n, "%lld of %lld rows whole", (long long)whole, (long long)n);
    CHECK_MSG(oldest >= 50, "acknowledged batches lost: oldest event time %lld",
              (long long)oldest);
    sqlite3_finalize(st);
    sqlite3_close(db);
    /* and it takes writes again */
    put1(s, "c1", 1LL << 40, 1, 1);
    CHECK(get(s, "c1") == 0);
    CHECK_CONTAINS(got, "\"event_time\":1099511627776");
    eddy_store_close(s);
}

static void bad_conf(void)
{
    eddy_store_conf c = {0};
    eddy_store *s = NULL;
    char err[300] = "";
    CHECK(eddy_store_open(&c, &s, err, sizeof err) == EDDY_ECONFIG);
    CHECK_CONTAINS(err, "view");
    c.view = "v";
    c.path = "/nonexistent-dir/x/features.db";
    CHECK(eddy_store_open(&c, &s, err, sizeof err) == EDDY_EIO);
    CHECK_CONTAINS(err, "/nonexistent-dir/x/features.db");
    c.layout = EDDY_LAYOUT_FEAST;
    CHECK(eddy_store_open(&c, &s, err, sizeof err) == EDDY_ECONFIG);
    CHECK_CONTAINS(err, "store: redis");
    CHECK(s == NULL);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof path, "%s/features.db", dir);
    semantics();
    ttl();
    crash();
    bad_conf();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return test_report();
}
