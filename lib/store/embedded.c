/* Embedded feature store: one SQLite database in WAL mode.
 *
 * Why SQLite and not LMDB: benchmarks/store/bench_embedded.c measures the
 * minimal version of both (benchmarks/store/RESULTS.md). At equal crash
 * safety (consistent after an OS crash, losing at most the last commits:
 * SQLite WAL synchronous=NORMAL, LMDB MDB_NOMETASYNC) both write about
 * 190k rows/s from one core with a transaction per 1024 rows, and both
 * reopened consistent after kill -9 mid-write with no acknowledged commit
 * lost. LMDB is only faster (~670k rows/s) with MDB_NOSYNC, which may
 * corrupt the database on an OS crash. Window results arrive far slower
 * than events, so the tie is broken by the rest, where SQLite wins: anyone
 * can inspect it with the sqlite3 CLI (`select entity, event_time, features
 * from eddy_features`, json_extract on the features), the newest-wins rule
 * is one UPSERT statement, expiry is an indexed DELETE, it needs no fixed
 * map size (LMDB fails with MDB_MAP_FULL), and readers on other threads or
 * processes never block the writer.
 *
 * Table eddy_features(view, entity, event_time ms, expires_at ms or 0,
 * features JSON object), primary key (view, entity). */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/error.h"
#include "engine/obs/log.h"
#include "lib/store/store_int.h"

static const char schema_sql[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "PRAGMA cache_size=-16384;" /* 16 MiB of pages: 100k entities stay cached */
    "CREATE TABLE IF NOT EXISTS eddy_features("
    " view TEXT NOT NULL, entity TEXT NOT NULL,"
    " event_time INTEGER NOT NULL," /* ms since the epoch */
    " expires_at INTEGER NOT NULL," /* ms since the epoch, 0 = never */
    " features TEXT NOT NULL,"      /* JSON object */
    " PRIMARY KEY(view, entity)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS eddy_features_expiry ON eddy_features(expires_at)"
    " WHERE expires_at > 0;"
    "CREATE TABLE IF NOT EXISTS eddy_meta(key TEXT PRIMARY KEY, value TEXT);"
    "INSERT OR IGNORE INTO eddy_meta VALUES('schema_version', '1');";

/* A row replaces the stored one when it is not older, or when the stored
 * one has expired (as an expired Redis key would be gone). */
static const char upsert_sql[] =
    "INSERT INTO eddy_features(view, entity, event_time, expires_at, features)"
    " VALUES(?1, ?2, ?3, ?4, ?5)"
    " ON CONFLICT(view, entity) DO UPDATE SET event_time = excluded.event_time,"
    " expires_at = excluded.expires_at, features = excluded.features"
    " WHERE excluded.event_time >= eddy_features.event_time"
    " OR (eddy_features.expires_at > 0 AND eddy_features.expires_at <= ?6)";

static const char get_sql[] =
    "SELECT event_time, features FROM eddy_features WHERE view = ?1 AND entity = ?2"
    " AND (expires_at = 0 OR expires_at > ?3)";

static const char purge_sql[] =
    "DELETE FROM eddy_features WHERE expires_at > 0 AND expires_at <= ?1";

typedef struct lstore {
    const eddy_store_conf *c;
    sqlite3 *w;
    sqlite3_stmt *upsert, *purge, *begin, *commit, *rollback;
    int64_t last_purge;
    eddy_buf json;
    eddy_store_stats st; /* under mu */
    pthread_mutex_t mu;  /* stats, reader */
    sqlite3 *r;
    sqlite3_stmt *get;
    char reason[300];
} lstore;

static int open_db(const char *path, int flags, sqlite3 **db, char *err, size_t errlen)
{
    int rc = sqlite3_open_v2(path, db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "feature store: cannot open %s: %s", path,
                 *db ? sqlite3_errmsg(*db) : sqlite3_errstr(rc));
        sqlite3_close(*db);
        *db = NULL;
        return EDDY_EIO;
    }
    sqlite3_busy_timeout(*db, 5000);
    return 0;
}

static int prep(lstore *s, sqlite3 *db, const char *sql, sqlite3_stmt **st, char *err,
                size_t errlen)
{
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "feature store %s: %s: %s", s->c->view, s->c->path,
                 sqlite3_errmsg(db));
        return EDDY_EIO;
    }
    return 0;
}

static void purge(lstore *s, int64_t now)
{
    s->last_purge = now;
    sqlite3_bind_int64(s->purge, 1, now);
    if (sqlite3_step(s->purge) != SQLITE_DONE)
        eddy_log(EDDY_LOG_WARN, (const char *[]){"view", s->c->view, NULL},
                 "feature store: purge of expired rows in %s failed: %s", s->c->path,
                 sqlite3_errmsg(s->w));
    sqlite3_reset(s->purge);
}

static int ls_put(void *self, const eddy_store_row *rows, uint32_t n, char *err, size_t errlen)
{
    lstore *s = self;
    int64_t now = eddy_store_now_ms();
    int64_t expires = s->c->ttl_ms > 0 ? now + s->c->ttl_ms : 0;
    uint64_t stale = 0;
    if (sqlite3_step(s->begin) != SQLITE_DONE) {
        snprintf(err, errlen, "feature store %s: %s: %s", s->c->view, s->c->path,
                 sqlite3_errmsg(s->w));
        sqlite3_reset(s->begin);
        return EDDY_EIO;
    }
    sqlite3_reset(s->begin);
    int rc = 0;
    for (uint32_t i = 0; i < n && rc == 0; i++) {
        const eddy_store_row *r = &rows[i];
        eddy_buf_reset(&s->json);
        int w = eddy_buf_putc(&s->json, '{');
        for (uint32_t f = 0; f < r->nfeatures; f++) {
            if (f)
                w |= eddy_buf_putc(&s->json, ',');
            w |= eddy_buf_json_str(&s->json, r->features[f].name, strlen(r->features[f].name));
            w |= eddy_buf_putc(&s->json, ':');
            w |= eddy_store_value_json(&s->json, &r->features[f].v);
        }
        w |= eddy_buf_putc(&s->json, '}');
        if (w) {
            snprintf(err, errlen, "feature store %s: out of memory", s->c->view);
            rc = EDDY_ENOMEM;
            break;
        }
        sqlite3_bind_text(s->upsert, 1, s->c->view, -1, SQLITE_STATIC);
        sqlite3_bind_text(s->upsert, 2, r->entity, (int)r->entity_len, SQLITE_STATIC);
        sqlite3_bind_int64(s->upsert, 3, r->event_ts);
        sqlite3_bind_int64(s->upsert, 4, expires);
        sqlite3_bind_text(s->upsert, 5, (const char *)s->json.data, (int)s->json.len,
                          SQLITE_STATIC);
        sqlite3_bind_int64(s->upsert, 6, now);
        if (sqlite3_step(s->upsert) != SQLITE_DONE) {
            snprintf(err, errlen, "feature store %s: writing %s: %s", s->c->view, s->c->path,
                     sqlite3_errmsg(s->w));
            rc = EDDY_EIO;
        } else if (sqlite3_changes(s->w) == 0) {
            stale++;
        }
        sqlite3_reset(s->upsert);
    }
    sqlite3_stmt *end = rc == 0 ? s->commit : s->rollback;
    if (sqlite3_step(end) != SQLITE_DONE && rc == 0) {
        snprintf(err, errlen, "feature store %s: commit to %s: %s", s->c->view, s->c->path,
                 sqlite3_errmsg(s->w));
        rc = EDDY_EIO;
    }
    sqlite3_reset(end);
    if (rc != 0 && !sqlite3_get_autocommit(s->w)) {
        sqlite3_step(s->rollback);
        sqlite3_reset(s->rollback);
    }
    pthread_mutex_lock(&s->mu);
    if (rc == 0) {
        s->st.written += n - stale;
        s->st.stale += stale;
        s->reason[0] = '\0';
    } else {
        snprintf(s->reason, sizeof s->reason, "%s", err);
    }
    pthread_mutex_unlock(&s->mu);
    if (rc == 0 && now - s->last_purge >= s->c->purge_interval_ms)
        purge(s, now);
    return rc;
}

static int ls_flush(void *self)
{
    lstore *s = self;
    int64_t now = eddy_store_now_ms();
    if (now - s->last_purge >= s->c->purge_interval_ms)
        purge(s, now);
    return 0; /* every put commits its own transaction */
}

static int64_t ls_pending(void *self) { return 0; }

static bool ls_ready(void *self, char *why, size_t len)
{
    lstore *s = self;
    pthread_mutex_lock(&s->mu);
    bool ok = s->reason[0] == '\0';
    if (!ok && why)
        snprintf(why, len, "store not ready: %s", s->reason);
    pthread_mutex_unlock(&s->mu);
    return ok;
}

static void ls_stats(void *self, eddy_store_stats *out)
{
    lstore *s = self;
    pthread_mutex_lock(&s->mu);
    *out = s->st;
    pthread_mutex_unlock(&s->mu);
}

static int ls_get(void *self, const char *entity, int64_t *event_ts, eddy_buf *out)
{
    lstore *s = self;
    char err[400];
    int rc = EDDY_ENOTFOUND;
    pthread_mutex_lock(&s->mu);
    if (!s->r) {
        if (open_db(s->c->path, SQLITE_OPEN_READONLY, &s->r, err, sizeof err) != 0 ||
            prep(s, s->r, get_sql, &s->get, err, sizeof err) != 0) {
            eddy_log(EDDY_LOG_WARN, NULL, "%s", err);
            sqlite3_close(s->r);
            s->r = NULL;
            pthread_mutex_unlock(&s->mu);
            return EDDY_EIO;
        }
    }
    sqlite3_bind_text(s->get, 1, s->c->view, -1, SQLITE_STATIC);
    sqlite3_bind_text(s->get, 2, entity, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s->get, 3, eddy_store_now_ms());
    int step = sqlite3_step(s->get);
    if (step == SQLITE_ROW) {
        *event_ts = sqlite3_column_int64(s->get, 0);
        const unsigned char *f = sqlite3_column_text(s->get, 1);
        rc = eddy_buf_put(out, f ? (const char *)f : "{}",
                          f ? (size_t)sqlite3_column_bytes(s->get, 1) : 2) ? EDDY_ENOMEM : 0;
    } else if (step != SQLITE_DONE) {
        rc = EDDY_EIO;
    }
    sqlite3_reset(s->get);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static void ls_close(void *self)
{
    lstore *s = self;
    if (!s)
        return;
    sqlite3_finalize(s->upsert);
    sqlite3_finalize(s->purge);
    sqlite3_finalize(s->begin);
    sqlite3_finalize(s->commit);
    sqlite3_finalize(s->rollback);
    sqlite3_finalize(s->get);
    sqlite3_close(s->r);
    sqlite3_close(s->w);
    eddy_buf_free(&s->json);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

int eddy_store_lite_open(const eddy_store_conf *c, void **out, char *err, size_t errlen)
{
    lstore *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "feature store %s: out of memory", c->view);
        return EDDY_ENOMEM;
    }
    s->c = c;
    pthread_mutex_init(&s->mu, NULL);
    int rc = open_db(c->path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &s->w, err, errlen);
    char *msg = NULL;
    if (rc == 0 && sqlite3_exec(s->w, schema_sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "feature store %s: %s is not a usable feature database: %s",
                 c->view, c->path, msg ? msg : sqlite3_errmsg(s->w));
        rc = EDDY_EIO;
    }
    sqlite3_free(msg);
    if (rc == 0)
        rc = prep(s, s->w, upsert_sql, &s->upsert, err, errlen);
    if (rc == 0)
        rc = prep(s, s->w, purge_sql, &s->purge, err, errlen);
    if (rc == 0)
        rc = prep(s, s->w, "BEGIN IMMEDIATE", &s->begin, err, errlen);
    if (rc == 0)
        rc = prep(s, s->w, "COMMIT", &s->commit, err, errlen);
    if (rc == 0)
        rc = prep(s, s->w, "ROLLBACK", &s->rollback, err, errlen);
    if (rc != 0) {
        ls_close(s);
        return rc;
    }
    purge(s, eddy_store_now_ms());
    *out = s;
    return 0;
}

const eddy_store_backend eddy_store_lite_backend = {
    .put = ls_put,
    .flush = ls_flush,
    .pending = ls_pending,
    .ready = ls_ready,
    .get = ls_get,
    .stats = ls_stats,
    .close = ls_close,
};
