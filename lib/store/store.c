/* eddy_store: conf copying, backend dispatch and the process-wide list of
 * open stores that the admin route reads through. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/error.h"
#include "lib/store/store_int.h"

struct eddy_store {
    const eddy_store_backend *ops;
    void *impl;
    eddy_store_owned own;
    struct eddy_store *next_registered;
};

static char *keep(eddy_store_owned *o, const char *s, bool *oom)
{
    if (!s)
        return NULL;
    char *c = strdup(s);
    char **grown = c ? realloc(o->strs, (o->nstrs + 1) * sizeof *o->strs) : NULL;
    if (!grown) {
        free(c);
        *oom = true;
        return NULL;
    }
    o->strs = grown;
    o->strs[o->nstrs++] = c;
    return c;
}

static void owned_free(eddy_store_owned *o)
{
    for (uint32_t i = 0; i < o->nstrs; i++)
        free(o->strs[i]);
    free(o->strs);
    free((void *)o->c.features);
}

static int copy_conf(eddy_store_owned *o, const eddy_store_conf *in)
{
    bool oom = false;
    o->c = *in;
    eddy_store_conf *c = &o->c;
    c->view = keep(o, in->view, &oom);
    c->project = keep(o, in->project, &oom);
    for (uint32_t i = 0; i < in->njoin_keys && i < EDDY_STORE_MAX_KEYS; i++)
        c->join_keys[i] = keep(o, in->join_keys[i], &oom);
    c->host = keep(o, in->host ? in->host : "127.0.0.1", &oom);
    c->password = keep(o, in->password, &oom);
    c->username = keep(o, in->username, &oom);
    c->key_prefix = keep(o, in->key_prefix ? in->key_prefix : "eddy", &oom);
    c->path = keep(o, in->path, &oom);
    c->features = NULL;
    if (in->nfeatures) {
        const char **f = calloc(in->nfeatures, sizeof *f);
        if (!f)
            return EDDY_ENOMEM;
        c->features = f;
        for (uint32_t i = 0; i < in->nfeatures; i++)
            f[i] = keep(o, in->features[i], &oom);
    }
    if (!c->port)
        c->port = 6379;
    if (!c->batch_size)
        c->batch_size = 1024;
    if (!c->max_pending)
        c->max_pending = 100000;
    if (c->connect_timeout_ms <= 0)
        c->connect_timeout_ms = 2000;
    if (c->timeout_ms <= 0)
        c->timeout_ms = 5000;
    if (c->flush_timeout_ms <= 0)
        c->flush_timeout_ms = 30000;
    if (c->backoff_max_ms <= 0)
        c->backoff_max_ms = 5000;
    if (c->purge_interval_ms <= 0)
        c->purge_interval_ms = 60000;
    return oom ? EDDY_ENOMEM : 0;
}

/* Why a backend is missing from this build (meson options -Dredis and
 * -Dsqlite), or NULL when it is built in. The config loader refuses such a
 * `store:` first (engine/registry.h); this covers direct callers. */
static const char *not_built(eddy_store_kind kind)
{
#if !EDDY_HAVE_HIREDIS
    if (kind == EDDY_STORE_REDIS)
        return "store redis is not built into this eddy (built without hiredis)";
#endif
#if !EDDY_HAVE_SQLITE
    if (kind == EDDY_STORE_EMBEDDED)
        return "store embedded is not built into this eddy (built without SQLite)";
#endif
    (void)kind;
    return NULL;
}

static int check_conf(const eddy_store_conf *c, char *err, size_t errlen)
{
    const char *missing = not_built(c->kind);
    if (missing) {
        eddy_errf(err, errlen, "feature store %s: %s", c->view ? c->view : "", missing);
        return EDDY_EUNSUPPORTED;
    }
    if (!c->view || !*c->view) {
        snprintf(err, errlen, "feature store: `view` is required (the feature view name)");
        return EDDY_ECONFIG;
    }
    if (strchr(c->view, ':')) {
        snprintf(err, errlen, "feature store: view '%s' contains ':', which separates the parts "
                 "of store keys; choose a name without it", c->view);
        return EDDY_ECONFIG;
    }
    if (c->njoin_keys > EDDY_STORE_MAX_KEYS) {
        snprintf(err, errlen, "feature store %s: %u entity fields; at most %d", c->view,
                 c->njoin_keys, EDDY_STORE_MAX_KEYS);
        return EDDY_ECONFIG;
    }
    if (c->layout == EDDY_LAYOUT_FEAST) {
        if (c->kind != EDDY_STORE_REDIS) {
            snprintf(err, errlen, "feature store %s: layout feast needs store: redis (Feast "
                     "reads its Redis online store)", c->view);
            return EDDY_ECONFIG;
        }
        if (!c->project || !*c->project) {
            snprintf(err, errlen, "feature store %s: layout feast needs `project` (the Feast "
                     "project name, part of every key)", c->view);
            return EDDY_ECONFIG;
        }
        if (c->njoin_keys == 0) {
            snprintf(err, errlen, "feature store %s: layout feast needs `entity` (the join "
                     "key field names)", c->view);
            return EDDY_ECONFIG;
        }
    }
    if (c->kind == EDDY_STORE_EMBEDDED && (!c->path || !*c->path)) {
        snprintf(err, errlen, "feature store %s: store embedded needs `path` (the database "
                 "file)", c->view);
        return EDDY_ECONFIG;
    }
    return 0;
}

int eddy_store_open(const eddy_store_conf *conf, eddy_store **out, char *err, size_t errlen)
{
    *out = NULL;
    int rc = check_conf(conf, err, errlen);
    if (rc != 0)
        return rc;
    eddy_store *s = calloc(1, sizeof *s);
    if (!s || copy_conf(&s->own, conf) != 0) {
        if (s)
            owned_free(&s->own);
        free(s);
        snprintf(err, errlen, "feature store: out of memory");
        return EDDY_ENOMEM;
    }
    rc = EDDY_EUNSUPPORTED; /* a backend this build lacks: check_conf refused it */
    if (conf->kind == EDDY_STORE_REDIS) {
#if EDDY_HAVE_HIREDIS
        s->ops = &eddy_store_redis_backend;
        rc = eddy_store_redis_open(&s->own.c, &s->impl, err, errlen);
#endif
    } else {
#if EDDY_HAVE_SQLITE
        s->ops = &eddy_store_lite_backend;
        rc = eddy_store_lite_open(&s->own.c, &s->impl, err, errlen);
#endif
    }
    if (rc != 0) {
        owned_free(&s->own);
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void eddy_store_close(eddy_store *s)
{
    if (!s)
        return;
    eddy_store_unregister(s);
    s->ops->close(s->impl);
    owned_free(&s->own);
    free(s);
}

int eddy_store_put(eddy_store *s, const eddy_store_row *rows, uint32_t n, char *err,
                   size_t errlen)
{
    return n ? s->ops->put(s->impl, rows, n, err, errlen) : 0;
}

int eddy_store_flush(eddy_store *s) { return s->ops->flush(s->impl); }

int64_t eddy_store_pending(eddy_store *s, int64_t *high_water)
{
    if (high_water)
        *high_water = s->own.c.max_pending / 2 ? s->own.c.max_pending / 2 : 1;
    return s->ops->pending(s->impl);
}

bool eddy_store_ready(eddy_store *s, char *why, size_t len)
{
    if (why && len)
        why[0] = '\0';
    return s->ops->ready(s->impl, why, len);
}

const char *eddy_store_view(const eddy_store *s) { return s->own.c.view; }

void eddy_store_get_stats(eddy_store *s, eddy_store_stats *out)
{
    memset(out, 0, sizeof *out);
    s->ops->stats(s->impl, out);
}

int eddy_store_get(eddy_store *s, const char *view, const char *entity, eddy_buf *json_out)
{
    if (!view || !entity || strcmp(view, s->own.c.view) != 0)
        return EDDY_ENOTFOUND;
    eddy_buf feats = {0};
    int64_t ts = 0;
    int rc = s->ops->get(s->impl, entity, &ts, &feats);
    if (rc == 0) {
        int64_t age = eddy_store_now_ms() - ts;
        int w = eddy_buf_puts(json_out, "{\"view\":");
        w |= eddy_buf_json_str(json_out, view, strlen(view));
        w |= eddy_buf_puts(json_out, ",\"entity\":");
        w |= eddy_buf_json_str(json_out, entity, strlen(entity));
        w |= eddy_buf_printf(json_out, ",\"event_time\":%lld,\"age_ms\":%lld,\"features\":",
                             (long long)ts, (long long)(age > 0 ? age : 0));
        w |= eddy_buf_put(json_out, feats.data, feats.len);
        w |= eddy_buf_putc(json_out, '}');
        rc = w ? EDDY_ENOMEM : 0;
    }
    eddy_buf_free(&feats);
    return rc;
}

/* ---- registry ---------------------------------------------------------- */

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static eddy_store *registered;

void eddy_store_register(eddy_store *s)
{
    pthread_mutex_lock(&reg_lock);
    eddy_store *p = registered;
    while (p && p != s)
        p = p->next_registered;
    if (!p) {
        s->next_registered = registered;
        registered = s;
    }
    pthread_mutex_unlock(&reg_lock);
}

void eddy_store_unregister(eddy_store *s)
{
    pthread_mutex_lock(&reg_lock);
    for (eddy_store **pp = &registered; *pp; pp = &(*pp)->next_registered) {
        if (*pp == s) {
            *pp = s->next_registered;
            break;
        }
    }
    s->next_registered = NULL;
    pthread_mutex_unlock(&reg_lock);
}

int eddy_stores_get(const char *view, const char *entity, eddy_buf *json_out)
{
    int rc = EDDY_ENOTFOUND;
    pthread_mutex_lock(&reg_lock);
    for (eddy_store *s = registered; s && view; s = s->next_registered) {
        if (strcmp(s->own.c.view, view) == 0) {
            rc = eddy_store_get(s, view, entity, json_out);
            break;
        }
    }
    pthread_mutex_unlock(&reg_lock);
    return rc;
}

bool eddy_stores_ready(char *why, size_t len)
{
    bool ok = true;
    pthread_mutex_lock(&reg_lock);
    for (eddy_store *s = registered; s && ok; s = s->next_registered)
        ok = eddy_store_ready(s, why, len);
    pthread_mutex_unlock(&reg_lock);
    if (ok && why && len)
        why[0] = '\0';
    return ok;
}
