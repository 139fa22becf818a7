/* Helpers for the Kafka connector tests: everything runs against the
 * embedded mock cluster (one per test process, stopped by kt_done). */
#ifndef EDDY_TEST_KAFKA_UTIL_H
#define EDDY_TEST_KAFKA_UTIL_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/core/batch.h"
#include "engine/format/codec.h"
#include "engine/config/config.h"
#include "engine/connector.h"
#include "connectors/kafka/kafka_int.h"
#include "engine/core/error.h"
#include "engine/config/options.h"
#include "engine/core/sym.h"
#include "tests/unit/test.h"

/* The connector's descriptors (the build lists them in connectors/kafka/meson.build). */
extern const eddy_source_ops eddy_kafka_source;
extern const eddy_sink_ops eddy_kafka_sink;

#define KT_WAIT_MS 30000 /* generous: a loaded CI machine, never a timing assertion */

static inline int64_t kt_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline eddy_opts *kt_opts(const eddy_option *table, const char *const *pairs, size_t n)
{
    char err[512];
    eddy_opts *o = eddy_opts_from_pairs(table, pairs, n, err, sizeof err);
    if (!o) {
        fprintf(stderr, "options: %s\n", err);
        exit(2);
    }
    return o;
}

/* An env as the runtime builds it, with the `kafka:` section from pairs. */
typedef struct kt_env {
    eddy_connector_env env;
    eddy_opts *kafka;
    int assigned, revoked;
    int32_t last_revoked;
    /* set by the test: called from revoked() like the runtime's flush+commit */
    int (*on_revoked)(struct kt_env *e, int32_t partition);
    void *src_self;
    int commit_rc_in_revoke;
} kt_env;

static inline void kt_assigned(void *arg, int32_t p)
{
    (void)p;
    ((kt_env *)arg)->assigned++;
}

static inline void kt_revoked(void *arg, int32_t p)
{
    kt_env *e = arg;
    e->revoked++;
    e->last_revoked = p;
    if (e->on_revoked)
        e->commit_rc_in_revoke = e->on_revoked(e, p);
}

static inline void kt_env_init(kt_env *e, const char *const *kafka_pairs, size_t n)
{
    memset(e, 0, sizeof *e);
    e->kafka = kt_opts(eddy_kafka_options, kafka_pairs, n);
    e->env.worker = "test";
    e->env.kafka = e->kafka;
    e->env.assigned = kt_assigned;
    e->env.revoked = kt_revoked;
    e->env.arg = e;
}

static inline void kt_env_free(kt_env *e) { eddy_opts_free(e->kafka); }

static inline void kt_push_str(eddy_batch *b, eddy_record *r, const char *name, const char *s)
{
    eddy_record_push(b, r, eddy_sym_intern(name, strlen(name)), eddy_batch_string(b, s, strlen(s)));
}

static inline void kt_push(eddy_batch *b, eddy_record *r, const char *name, eddy_value v)
{
    eddy_record_push(b, r, eddy_sym_intern(name, strlen(name)), v);
}

static inline const eddy_value *kt_field(const eddy_record *r, const char *name)
{
    return eddy_record_get(r, eddy_sym_intern(name, strlen(name)));
}

static inline int kt_is(const eddy_value *v, const char *s)
{
    return v && (v->type == EDDY_STRING || v->type == EDDY_BYTES) && v->len == strlen(s) &&
           memcmp(v->u.s, s, v->len) == 0;
}

static inline int kt_header_is(const eddy_record *r, const char *name, const char *val)
{
    const eddy_header *h = eddy_record_header(r, name);
    return h && h->len == strlen(val) && memcmp(h->val, val, h->len) == 0;
}

/* What kt_consume saw, beyond the records. */
typedef struct kt_seen {
    int batches;
    int mixed_batches;     /* a batch with records of two partitions */
    int out_of_order;      /* an offset not above the previous one of its partition */
    int64_t last_off[64];  /* per Kafka partition */
    int32_t vpart_of[64];
} kt_seen;

/* Polls until `want` records were collected into `all` (deep copies) or
 * the wait ends; returns how many. Each batch's partition rules are
 * checked into `seen`. When commit is set, every batch's last offset is
 * committed as the runtime would after a successful flush. */
static inline int kt_consume_wait(const eddy_source_ops *ops, void *src, eddy_batch *all,
                                  int want, kt_seen *seen, int commit, int wait_ms, char *err,
                                  size_t errlen)
{
    eddy_batch *b = eddy_batch_new(256, 0);
    int got = 0;
    int64_t end = kt_now_ms() + wait_ms;
    for (int i = 0; i < 64; i++)
        seen->last_off[i] = -1;
    while (got < want && kt_now_ms() < end) {
        eddy_batch_reset(b);
        int n = ops->poll(src, b, 100, 50, err, errlen);
        if (n < 0) {
            got = n;
            break;
        }
        if (n == 0)
            continue;
        seen->batches++;
        int32_t kp = b->recs[0].partition;
        for (uint32_t i = 0; i < b->n; i++) {
            const eddy_record *r = &b->recs[i];
            if (r->partition != kp)
                seen->mixed_batches++;
            if (r->partition >= 0 && r->partition < 64) {
                if (r->offset <= seen->last_off[r->partition])
                    seen->out_of_order++;
                seen->last_off[r->partition] = r->offset;
                seen->vpart_of[r->partition] = b->partition;
            }
            eddy_record *c = eddy_batch_append(all);
            if (!c || eddy_record_copy(all, c, r) != 0) {
                snprintf(err, errlen, "out of memory copying records");
                got = -1;
                goto out;
            }
            got++;
        }
        if (commit && ops->commit(src, b->partition, b->recs[b->n - 1].offset) != 0) {
            snprintf(err, errlen, "commit failed");
            got = -1;
            goto out;
        }
    }
out:
    eddy_batch_destroy(b);
    return got;
}

static inline int kt_consume(const eddy_source_ops *ops, void *src, eddy_batch *all, int want,
                             kt_seen *seen, int commit, char *err, size_t errlen)
{
    return kt_consume_wait(ops, src, all, want, seen, commit, KT_WAIT_MS, err, errlen);
}

/* Polls (serving the group) until pred(arg) holds or the wait ends. */
static inline int kt_poll_until(const eddy_source_ops *ops, void *src, int (*pred)(void *),
                                void *arg)
{
    eddy_batch *b = eddy_batch_new(64, 0);
    char err[512];
    int64_t end = kt_now_ms() + KT_WAIT_MS;
    int ok = 0;
    while (!(ok = pred(arg)) && kt_now_ms() < end) {
        eddy_batch_reset(b);
        if (ops->poll(src, b, 64, 50, err, sizeof err) < 0)
            break;
    }
    eddy_batch_destroy(b);
    return ok;
}

/* Writes records {count: from..from+n-1, user_id: "k<count % 13>"} keyed by
 * user_id through a Kafka sink, and flushes. 0 or -1. */
static inline int kt_produce(kt_env *e, const char *topic, int from, int n)
{
    const eddy_sink_ops *ops = &eddy_kafka_sink;
    char tp[128], err[1024] = "";
    snprintf(tp, sizeof tp, "topic=%s", topic);
    eddy_opts *o = kt_opts(ops->options, (const char *[]){tp}, 1);
    void *sink = NULL;
    int rc = ops->open(o, "out", &e->env, &sink, err, sizeof err);
    CHECK_MSG(rc == 0, "%s", err);
    if (rc == 0) {
        eddy_batch *b = eddy_batch_new((uint32_t)n, 0);
        for (int i = from; i < from + n; i++) {
            eddy_record *r = eddy_batch_append(b);
            char k[16];
            snprintf(k, sizeof k, "k%d", i % 13);
            kt_push_str(b, r, "user_id", k);
            kt_push(b, r, "count", eddy_v_int(i));
            r->key = eddy_batch_string(b, k, strlen(k));
            r->ts = EDDY_TS_NONE;
        }
        rc = ops->write(sink, b, err, sizeof err);
        CHECK_MSG(rc == 0, "%s", err);
        if (rc == 0)
            CHECK((rc = ops->flush(sink)) == 0);
        ops->close(sink);
        eddy_batch_destroy(b);
    }
    eddy_opts_free(o);
    return rc == 0 ? 0 : -1;
}

#endif
