/* `type: feature_store` sink: window results become feature rows of one
 * feature view in the online store (lib/store/store.h). Each record
 * gives one row: the entity from the `entity` fields, the features from
 * `features` (or every int/double field that is not a key or the time), the
 * event time from `event_time` or the record's time. The store does the
 * rest (newest wins, TTL, batching, reconnects); pending() passes its queue
 * depth to the runtime so sources pause while Redis is slow or down. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/batch.h"
#include "engine/connector.h"
#include "engine/core/error.h"
#include "engine/obs/metrics.h"
#include "engine/config/options.h"
#include "lib/store/store.h"
#include "engine/core/sym.h"

typedef struct fsink {
    char *name;
    eddy_store *store;
    eddy_sym keys[EDDY_STORE_MAX_KEYS];
    uint32_t nkeys;
    eddy_sym *feats; /* explicit features, or NULL = numeric fields */
    uint32_t nfeats;
    eddy_sym ts_field;
    /* per-write scratch, grown as needed */
    eddy_store_row *rows;
    uint32_t rows_cap;
    eddy_store_feature *fv;
    size_t fv_cap;
    eddy_value *kv;
    size_t kv_cap;
    size_t *ent_off;
    eddy_buf ent;
    /* metrics */
    eddy_metric *m_written, *m_stale, *m_failed, *m_pending;
    eddy_store_stats last;
} fsink;

static void fs_close(void *self)
{
    fsink *s = self;
    if (!s)
        return;
    eddy_store_close(s->store); /* unregisters, flushes */
    free(s->feats);
    free(s->rows);
    free(s->fv);
    free(s->kv);
    free(s->ent_off);
    eddy_buf_free(&s->ent);
    free(s->name);
    free(s);
}

static void register_metrics(fsink *s, eddy_metrics *m)
{
    eddy_buf lab = {0};
    if (!m || eddy_metrics_label(&lab, "sink", s->name) != 0 ||
        eddy_metrics_label(&lab, "view", eddy_store_view(s->store)) != 0 ||
        eddy_buf_putc(&lab, '\0') != 0) {
        eddy_buf_free(&lab);
        return;
    }
    const char *l = (const char *)lab.data;
    s->m_written = eddy_metrics_get(m, "eddy_store_rows_written_total",
                                    "Feature rows acknowledged by the feature store",
                                    EDDY_METRIC_COUNTER, l);
    s->m_stale = eddy_metrics_get(m, "eddy_store_rows_stale_total",
                                  "Feature rows not applied because the store held a newer "
                                  "event time", EDDY_METRIC_COUNTER, l);
    s->m_failed = eddy_metrics_get(m, "eddy_store_rows_failed_total",
                                   "Feature rows rejected by the store server (logged)",
                                   EDDY_METRIC_COUNTER, l);
    s->m_pending = eddy_metrics_get(m, "eddy_store_rows_pending",
                                    "Feature rows held until the store acknowledges them",
                                    EDDY_METRIC_GAUGE, l);
    eddy_buf_free(&lab);
}

static void update_metrics(fsink *s)
{
    if (!s->m_written)
        return;
    eddy_store_stats st;
    eddy_store_get_stats(s->store, &st);
    eddy_metric_add(s->m_written, (double)(st.written - s->last.written));
    if (s->m_stale)
        eddy_metric_add(s->m_stale, (double)(st.stale - s->last.stale));
    if (s->m_failed)
        eddy_metric_add(s->m_failed, (double)(st.failed - s->last.failed));
    if (s->m_pending)
        eddy_metric_set(s->m_pending, (double)eddy_store_pending(s->store, NULL));
    s->last = st;
}

static int fs_open(const eddy_opts *o, const char *name, const eddy_connector_env *env,
                   void **self, char *err, size_t errlen)
{
    eddy_store_conf *c = calloc(1, sizeof *c);
    fsink *s = calloc(1, sizeof *s);
    if (!c || !s || !(s->name = strdup(name ? name : "feature_store"))) {
        free(c);
        free(s);
        snprintf(err, errlen, "feature_store sink: out of memory");
        return EDDY_ENOMEM;
    }
    int rc = eddy_store_conf_from_opts(o, c, err, errlen);
    if (rc == 0 && c->njoin_keys == 0) {
        snprintf(err, errlen, "feature_store sink %s: `entity` names no field", s->name);
        rc = EDDY_ECONFIG;
    }
    for (uint32_t i = 0; rc == 0 && i < c->njoin_keys; i++) {
        s->keys[i] = eddy_sym_intern(c->join_keys[i], strlen(c->join_keys[i]));
        s->nkeys = i + 1;
    }
    if (rc == 0 && c->nfeatures) {
        s->feats = calloc(c->nfeatures, sizeof *s->feats);
        if (!s->feats) {
            snprintf(err, errlen, "feature_store sink: out of memory");
            rc = EDDY_ENOMEM;
        }
        for (uint32_t i = 0; s->feats && i < c->nfeatures; i++) {
            s->feats[i] = eddy_sym_intern(c->features[i], strlen(c->features[i]));
            for (uint32_t k = 0; k < s->nkeys; k++) {
                if (s->feats[i] == s->keys[k]) {
                    snprintf(err, errlen, "feature_store sink %s: '%s' is both an entity field "
                             "and a feature", s->name, c->features[i]);
                    rc = EDDY_ECONFIG;
                }
            }
        }
        s->nfeats = c->nfeatures;
    }
    const char *tf = eddy_opts_str(o, "event_time");
    if (rc == 0 && tf && *tf)
        s->ts_field = eddy_sym_intern(tf, strlen(tf));
    if (rc == 0)
        rc = eddy_store_open(c, &s->store, err, errlen);
    free(c);
    if (rc != 0) {
        fs_close(s);
        return rc;
    }
    register_metrics(s, env ? env->metrics : NULL);
    eddy_store_register(s->store);
    *self = s;
    return 0;
}

static bool is_feature(const fsink *s, const eddy_field *f)
{
    if (f->v.type != EDDY_INT && f->v.type != EDDY_DOUBLE)
        return false;
    if (f->name == s->ts_field)
        return false;
    for (uint32_t k = 0; k < s->nkeys; k++)
        if (f->name == s->keys[k])
            return false;
    return true;
}

static const char *where(const eddy_record *r, char *buf, size_t len)
{
    snprintf(buf, len, "%s[%d]@%lld", r->topic ? r->topic : "?", (int)r->partition,
             (long long)r->offset);
    return buf;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 64;
    while (nc < need)
        nc *= 2;
    void *g = realloc(*p, nc * elem);
    if (!g)
        return -1;
    *p = g;
    *cap = nc;
    return 0;
}

static int fs_write(void *self, const eddy_batch *b, char *err, size_t errlen)
{
    fsink *s = self;
    char at[160];
    size_t nf = 0;
    for (uint32_t i = 0; i < b->n; i++)
        nf += s->feats ? s->nfeats : b->recs[i].nfields;
    size_t rcap = s->rows_cap;
    if (grow((void **)&s->rows, &rcap, b->n, sizeof *s->rows) != 0 ||
        grow((void **)&s->fv, &s->fv_cap, nf, sizeof *s->fv) != 0 ||
        grow((void **)&s->kv, &s->kv_cap, (size_t)b->n * s->nkeys, sizeof *s->kv) != 0) {
        snprintf(err, errlen, "feature_store sink %s: out of memory", s->name);
        return EDDY_ENOMEM;
    }
    if (rcap != s->rows_cap) {
        size_t *g = realloc(s->ent_off, rcap * sizeof *g);
        if (!g) {
            snprintf(err, errlen, "feature_store sink %s: out of memory", s->name);
            return EDDY_ENOMEM;
        }
        s->ent_off = g;
        s->rows_cap = (uint32_t)rcap;
    }
    eddy_buf_reset(&s->ent);
    uint32_t n = 0;
    size_t used = 0;
    int64_t now = eddy_store_now_ms();
    for (uint32_t i = 0; i < b->n; i++) {
        const eddy_record *r = &b->recs[i];
        if (r->flags & (EDDY_REC_DROPPED | EDDY_REC_ERROR))
            continue;
        eddy_store_row *row = &s->rows[n];
        memset(row, 0, sizeof *row);
        size_t start = s->ent.len;
        eddy_value *kv = &s->kv[(size_t)n * s->nkeys];
        for (uint32_t k = 0; k < s->nkeys; k++) {
            const eddy_value *v = eddy_record_get(r, s->keys[k]);
            if (!v || v->type == EDDY_NULL || v->type == EDDY_ARRAY || v->type == EDDY_MAP) {
                snprintf(err, errlen, "feature_store sink %s: record %s has %s entity field "
                         "'%s'", s->name, where(r, at, sizeof at),
                         v ? (v->type == EDDY_NULL ? "a null" : "a non-scalar") : "no",
                         eddy_sym_name(s->keys[k]));
                return EDDY_ETYPE;
            }
            kv[k] = *v;
            if ((k && eddy_buf_putc(&s->ent, '|') != 0) || eddy_store_value_text(&s->ent, v) != 0) {
                snprintf(err, errlen, "feature_store sink %s: out of memory", s->name);
                return EDDY_ENOMEM;
            }
        }
        s->ent_off[n] = start;
        row->entity_len = (uint32_t)(s->ent.len - start);
        row->entity_vals = kv;
        row->features = &s->fv[used];
        if (s->feats) {
            for (uint32_t k = 0; k < s->nfeats; k++) {
                const eddy_value *v = eddy_record_get(r, s->feats[k]);
                s->fv[used++] = (eddy_store_feature){eddy_sym_name(s->feats[k]),
                                                     v ? *v : eddy_v_null()};
            }
        } else {
            for (uint32_t k = 0; k < r->nfields; k++)
                if (is_feature(s, &r->fields[k]))
                    s->fv[used++] = (eddy_store_feature){eddy_sym_name(r->fields[k].name),
                                                         r->fields[k].v};
        }
        row->nfeatures = (uint32_t)(&s->fv[used] - row->features);
        row->event_ts = r->ts != EDDY_TS_NONE ? r->ts : now;
        if (s->ts_field) {
            const eddy_value *t = eddy_record_get(r, s->ts_field);
            if (t && t->type == EDDY_INT) {
                row->event_ts = t->u.i;
            } else if (t && t->type == EDDY_DOUBLE) {
                row->event_ts = (int64_t)t->u.d;
            } else {
                snprintf(err, errlen, "feature_store sink %s: record %s: event_time field '%s' "
                         "is %s; expected ms since the epoch (int)", s->name,
                         where(r, at, sizeof at), eddy_sym_name(s->ts_field),
                         t ? eddy_type_name(t->type) : "missing");
                return EDDY_ETYPE;
            }
        }
        n++;
    }
    /* The entity text buffer may have moved while it grew: point now. */
    if (eddy_buf_putc(&s->ent, '\0') != 0) {
        snprintf(err, errlen, "feature_store sink %s: out of memory", s->name);
        return EDDY_ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++)
        s->rows[i].entity = (const char *)s->ent.data + s->ent_off[i];
    int rc = eddy_store_put(s->store, s->rows, n, err, errlen);
    update_metrics(s);
    return rc;
}

static int fs_flush(void *self)
{
    fsink *s = self;
    int rc = eddy_store_flush(s->store);
    update_metrics(s);
    return rc;
}

static int64_t fs_pending(void *self, int64_t *high_water)
{
    fsink *s = self;
    return eddy_store_pending(s->store, high_water);
}

const eddy_sink_ops eddy_feature_store_sink = {
    .type = "feature_store",
    .summary = "Writes window results as features to a Redis online store (eddy or Feast "
               "layout) or an embedded SQLite store",
    .options = eddy_store_options,
    .open = fs_open,
    .write = fs_write,
    .flush = fs_flush,
    .close = fs_close,
    .pending = fs_pending,
};
