/* The feature store's option table (shared by the `feature_store` sink and
 * anything else that opens a store from config) and its translation into
 * an eddy_store_conf. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/error.h"
#include "engine/config/options.h"
#include "lib/store/store.h"

const eddy_option eddy_store_options[] = {
    {"store", EDDY_OPT_ENUM, "embedded", EDDY_NO_RANGE, "embedded|redis", 0,
     "embedded: a local SQLite database (no server; inspect it with the sqlite3 CLI). redis: "
     "a Redis online store, written in pipelined batches by a background thread."},
    {"view", EDDY_OPT_STRING, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_REQUIRED,
     "Feature view name: part of every key, and the name models read features by."},
    {"entity", EDDY_OPT_STRING, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_REQUIRED,
     "Field forming the entity key, or several separated by commas (user_id,merchant); their "
     "values are joined with '|' in the eddy layout. With layout feast these are the join keys."},
    {"features", EDDY_OPT_LIST, NULL, EDDY_NO_RANGE, NULL, 0,
     "Fields written as features. Default: every int and double field that is not part of the "
     "entity or the event time. A listed field missing from a record is written as null."},
    {"event_time", EDDY_OPT_FIELD, NULL, EDDY_NO_RANGE, NULL, 0,
     "Field holding the event time (int, ms since the epoch). Default: the record's time (for "
     "window results, the window's). A row never replaces one with a newer event time."},
    {"ttl", EDDY_OPT_DURATION, "0s", 0, 3153600000000.0, NULL, 0,
     "How long a written row stays readable, counted from the write; 0s keeps rows forever. "
     "Redis: key expiry (PEXPIRE). Embedded: checked on read and removed by a periodic purge."},
    {"layout", EDDY_OPT_ENUM, "eddy", EDDY_NO_RANGE, "eddy|feast", 0,
     "eddy: hash <key_prefix>:<view>:<entity>, one text field per feature plus _ts (event time "
     "ms). feast: the key and value layout of Feast 0.67's Redis online store (entity key "
     "serialization v3), readable by Feast's get_online_features; needs store redis and project."},
    {"project", EDDY_OPT_STRING, NULL, EDDY_NO_RANGE, NULL, 0,
     "Feast project name (layout feast): it ends every Redis key."},
    {"entity_type", EDDY_OPT_ENUM, "string", EDDY_NO_RANGE, "string|int64", 0,
     "Layout feast: the value type of the join keys as declared on the Feast Entity (String or "
     "Int64); entity values are converted to it, since Feast's key bytes depend on the type."},
    {"key_prefix", EDDY_OPT_STRING, "eddy", EDDY_NO_RANGE, NULL, 0,
     "Layout eddy: first part of every Redis key."},
    {"url", EDDY_OPT_STRING, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_SECRET,
     "redis://[[user]:password@]host[:port][/db]; when given it overrides host, port, "
     "username, password and db. Use ${ENV} to keep a password out of the file."},
    {"host", EDDY_OPT_STRING, "127.0.0.1", EDDY_NO_RANGE, NULL, 0, "Redis server host."},
    {"port", EDDY_OPT_INT, "6379", 1, 65535, NULL, 0, "Redis server port."},
    {"username", EDDY_OPT_STRING, NULL, EDDY_NO_RANGE, NULL, 0, "Redis ACL user (AUTH)."},
    {"password", EDDY_OPT_STRING, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_SECRET,
     "Redis password (AUTH); write \"${REDIS_PASSWORD}\" to read it from the environment."},
    {"db", EDDY_OPT_INT, "0", 0, 1000000, NULL, 0, "Redis database number (SELECT)."},
    {"path", EDDY_OPT_STRING, "eddy-features.db", EDDY_NO_RANGE, NULL, EDDY_OPT_PATH,
     "Embedded store: SQLite database file (created if missing; -wal and -shm files beside it)."},
    {"batch_size", EDDY_OPT_INT, "1024", 1, 10000, NULL, 0,
     "Redis: rows per server-side script call; calls are pipelined."},
    {"max_pending", EDDY_OPT_INT, "100000", 1, 100000000, NULL, 0,
     "Redis: rows held while the server is slow or down. Sources pause at half of it; a write "
     "blocks when it is full. Held rows are never dropped."},
    {"connect_timeout", EDDY_OPT_DURATION, "2s", 1, 600000, NULL, 0,
     "Redis: time allowed to connect."},
    {"timeout", EDDY_OPT_DURATION, "5s", 1, 600000, NULL, 0,
     "Redis: time allowed for a pipelined round trip before the connection is dropped and "
     "re-established."},
    {"flush_timeout", EDDY_OPT_DURATION, "30s", 1, 86400000, NULL, 0,
     "How long a flush (before offsets are committed) waits for held rows to be acknowledged."},
    {"backoff_max", EDDY_OPT_DURATION, "5s", 10, 600000, NULL, 0,
     "Redis: reconnect attempts back off from 50ms doubling up to this."},
    {"purge_interval", EDDY_OPT_DURATION, "1m", 1000, 86400000, NULL, 0,
     "Embedded: how often expired rows are deleted."},
    {NULL, 0, NULL, 0, 0, NULL, 0, NULL},
};

/* Copies s[0..len) into the scratch area; NULL when it is full. */
static const char *put_scratch(eddy_store_conf *c, size_t *used, const char *s, size_t len)
{
    if (*used + len + 1 > sizeof c->scratch_)
        return NULL;
    char *d = c->scratch_ + *used;
    memcpy(d, s, len);
    d[len] = '\0';
    *used += len + 1;
    return d;
}

static int parse_url(eddy_store_conf *c, size_t *used, const char *url, char *err, size_t errlen)
{
    const char *p = url;
    if (strncmp(p, "redis://", 8) != 0) {
        snprintf(err, errlen, "feature store: url must start with redis:// (found '%.*s')",
                 (int)strcspn(p, ":@/"), p);
        return EDDY_ECONFIG;
    }
    p += 8;
    const char *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (colon) {
            if (colon > p)
                c->username = put_scratch(c, used, p, (size_t)(colon - p));
            c->password = put_scratch(c, used, colon + 1, (size_t)(at - colon - 1));
        } else {
            c->password = put_scratch(c, used, p, (size_t)(at - p));
        }
        p = at + 1;
    }
    size_t hl = strcspn(p, ":/");
    if (hl == 0) {
        snprintf(err, errlen, "feature store: url has no host after redis://");
        return EDDY_ECONFIG;
    }
    c->host = put_scratch(c, used, p, hl);
    p += hl;
    if (*p == ':') {
        char *end;
        long port = strtol(p + 1, &end, 10);
        if (end == p + 1 || port < 1 || port > 65535 || (*end && *end != '/')) {
            snprintf(err, errlen, "feature store: url port must be 1..65535");
            return EDDY_ECONFIG;
        }
        c->port = (int)port;
        p = end;
    }
    if (*p == '/' && p[1]) {
        char *end;
        long db = strtol(p + 1, &end, 10);
        if (*end || db < 0) {
            snprintf(err, errlen, "feature store: url database after '/' must be a number");
            return EDDY_ECONFIG;
        }
        c->db = (int)db;
    }
    if (!c->host) {
        snprintf(err, errlen, "feature store: url too long");
        return EDDY_ECONFIG;
    }
    return 0;
}

int eddy_store_conf_from_opts(const eddy_opts *o, eddy_store_conf *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    size_t used = 0;
    const char *kind = eddy_opts_str(o, "store"), *layout = eddy_opts_str(o, "layout");
    c->kind = kind && strcmp(kind, "redis") == 0 ? EDDY_STORE_REDIS : EDDY_STORE_EMBEDDED;
    c->layout = layout && strcmp(layout, "feast") == 0 ? EDDY_LAYOUT_FEAST : EDDY_LAYOUT_EDDY;
    c->view = eddy_opts_str(o, "view");
    c->project = eddy_opts_str(o, "project");
    const char *et = eddy_opts_str(o, "entity_type");
    c->entity_type = et && strcmp(et, "int64") == 0 ? EDDY_ENTITY_INT64 : EDDY_ENTITY_STRING;
    const char *ent = eddy_opts_str(o, "entity");
    while (ent && *ent) {
        size_t len = strcspn(ent, ",");
        const char *s = ent, *e = ent + len;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (e == s) {
            snprintf(err, errlen, "feature store: entity '%s' has an empty field name",
                     eddy_opts_str(o, "entity"));
            return EDDY_ECONFIG;
        }
        if (c->njoin_keys == EDDY_STORE_MAX_KEYS) {
            snprintf(err, errlen, "feature store: entity has more than %d fields",
                     EDDY_STORE_MAX_KEYS);
            return EDDY_ECONFIG;
        }
        const char *k = put_scratch(c, &used, s, (size_t)(e - s));
        if (!k) {
            snprintf(err, errlen, "feature store: entity field names too long");
            return EDDY_ECONFIG;
        }
        c->join_keys[c->njoin_keys++] = k;
        ent += len + (ent[len] == ',');
    }
    uint32_t nf = eddy_opts_count(o, "features");
    if (nf > sizeof c->feature_ptrs_ / sizeof c->feature_ptrs_[0]) {
        snprintf(err, errlen, "feature store: %u features; at most %zu per view", nf,
                 sizeof c->feature_ptrs_ / sizeof c->feature_ptrs_[0]);
        return EDDY_ECONFIG;
    }
    for (uint32_t i = 0; i < nf; i++)
        c->feature_ptrs_[i] = eddy_opts_item(o, "features", i);
    c->features = nf ? c->feature_ptrs_ : NULL;
    c->nfeatures = nf;
    c->ttl_ms = eddy_opts_int(o, "ttl");
    c->key_prefix = eddy_opts_str(o, "key_prefix");
    c->host = eddy_opts_str(o, "host");
    c->port = (int)eddy_opts_int(o, "port");
    c->username = eddy_opts_str(o, "username");
    c->password = eddy_opts_str(o, "password");
    c->db = (int)eddy_opts_int(o, "db");
    const char *url = eddy_opts_str(o, "url");
    if (url && *url) {
        int rc = parse_url(c, &used, url, err, errlen);
        if (rc != 0)
            return rc;
    }
    c->path = eddy_opts_str(o, "path");
    c->batch_size = (uint32_t)eddy_opts_int(o, "batch_size");
    c->max_pending = (uint32_t)eddy_opts_int(o, "max_pending");
    c->connect_timeout_ms = eddy_opts_int(o, "connect_timeout");
    c->timeout_ms = eddy_opts_int(o, "timeout");
    c->flush_timeout_ms = eddy_opts_int(o, "flush_timeout");
    c->backoff_max_ms = eddy_opts_int(o, "backoff_max");
    c->purge_interval_ms = eddy_opts_int(o, "purge_interval");
    if (c->layout == EDDY_LAYOUT_FEAST && c->nfeatures == 0) {
        snprintf(err, errlen, "feature store %s: layout feast needs `features` listed (Feast "
                 "keys hash each feature name, so they cannot be discovered on read)",
                 c->view ? c->view : "");
        return EDDY_ECONFIG;
    }
    return 0;
}
