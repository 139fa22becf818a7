/* Exactly-once for Kafka (engine/connector.h, eddy_txn_ops): one
 * transactional producer per processing thread ("EOS v2", KIP-447).
 *
 * While a thread's transaction handle is open, every Kafka sink and the
 * durable-state changelog written from that thread produce through its
 * producer (eddy_kafka_txn_producer, a thread-local: the sink and changelog
 * interfaces carry no thread, and everything a thread writes belongs to its
 * transaction). At each commit the consumed offsets of the thread's Kafka
 * tasks go into the transaction with the consumer group's metadata, then
 * the transaction commits: outputs, changelog records and offsets become
 * visible to read_committed readers together, or not at all.
 *
 * Fencing: the transactional id is stable across restarts of a worker
 * thread (engine/exec.c names it), so a restarted worker's
 * init_transactions aborts what its dead predecessor left open and fences
 * it; a worker the group has expelled (a zombie) has its offsets refused
 * through the stale group generation (abortable: the runtime rewinds).
 *
 * librdkafka 2.0.2's mock cluster (kafka.brokers: embedded) accepts the
 * transactional calls but does not honour them (offsets sent to a
 * transaction are dropped, aborted records stay visible, no fencing:
 * notes in docs/ARCHITECTURE.md), so open refuses with EDDY_EUNSUPPORTED there
 * and the worker runs at-least-once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connectors/kafka/kafka_int.h"
#include "connectors/kafka/kafka_src.h"
#include "engine/core/error.h"
#include "engine/obs/log.h"

typedef struct ktxn_src {
    ksrc *src;
    rd_kafka_topic_partition_list_t *offs; /* next offsets to read, this commit */
} ktxn_src;

typedef struct ktxn {
    rd_kafka_t *rk;
    char *id;
    ktxn_src *srcs;
    int nsrcs, cap;
    uint64_t produced; /* records produced in the open transaction */
    uint64_t commits, aborts;
    double commit_s;   /* time spent committing, in total */
    int moved;         /* an offset moved since the last commit */
    eddy_metric *m_commits, *m_aborts;
    eddy_hist *m_commit_s;
} ktxn;

static _Thread_local ktxn *current;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

rd_kafka_t *eddy_kafka_txn_producer(void)
{
    return current ? current->rk : NULL;
}

void eddy_kafka_txn_produced(void)
{
    if (current)
        current->produced++;
}

/* Delivery reports of the transaction's records: a sink's records carry
 * the sink as their opaque (its accounting), the changelog's its handle,
 * tagged (the offsets its local cache covers); a failure also fails the
 * commit, which is what protects the output. */
static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    uintptr_t p = (uintptr_t)m->_private;
    if (p & EDDY_KAFKA_CL_TAG)
        eddy_kafka_changelog_delivered((void *)(p & ~EDDY_KAFKA_CL_TAG), m);
    else if (p)
        eddy_kafka_sink_delivered(m->_private, m);
}

/* Empties a source's offset list. Its entries own their topic names
 * (librdkafka copies them): setting cnt to 0 leaked them at every commit. */
static void offs_clear(ktxn_src *ts)
{
    while (ts->offs->cnt > 0)
        rd_kafka_topic_partition_list_del_by_idx(ts->offs, ts->offs->cnt - 1);
}

static int set_default(rd_kafka_conf_t *c, const eddy_opts *kafka, const char *name,
                       const char *value, char *err, size_t errlen)
{
    return eddy_kafka_conf_default(c, "transactional producer", kafka, NULL, NULL, name, value,
                                   err, errlen);
}

/* The sentence for an error of a transactional call; *code is what the
 * runtime gets: EDDY_EAGAIN when the transaction must be (and has been)
 * aborted, EDDY_EIO when the producer can go on no more. */
static int txn_fail(ktxn *t, rd_kafka_error_t *e, const char *what, char *err, size_t errlen)
{
    int code;
    if (rd_kafka_error_txn_requires_abort(e)) {
        eddy_errf(err, errlen, "transaction %s: %s failed (%s); aborted: the work since the last "
                  "commit is done again", t->id, what, rd_kafka_error_string(e));
        rd_kafka_error_t *ae = rd_kafka_abort_transaction(t->rk, -1);
        if (ae) {
            eddy_errf(err, errlen, "transaction %s: %s failed (%s), and so did its abort (%s)",
                      t->id, what, rd_kafka_error_string(e), rd_kafka_error_string(ae));
            rd_kafka_error_destroy(ae);
            code = EDDY_EIO;
        } else {
            eddy_metric_add(t->m_aborts, 1);
            t->aborts++;
            rd_kafka_error_t *be = rd_kafka_begin_transaction(t->rk);
            code = be ? EDDY_EIO : EDDY_EAGAIN;
            if (be) {
                eddy_errf(err, errlen, "transaction %s: cannot begin a transaction after an "
                          "abort: %s", t->id, rd_kafka_error_string(be));
                rd_kafka_error_destroy(be);
            }
        }
    } else {
        rd_kafka_resp_err_t c = rd_kafka_error_code(e);
        char why[512];
        if (rd_kafka_error_is_fatal(e))
            rd_kafka_fatal_error(t->rk, why, sizeof why);
        else
            snprintf(why, sizeof why, "%s", rd_kafka_error_string(e));
        if (c == RD_KAFKA_RESP_ERR__FENCED || c == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
            c == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH || strstr(why, "fenced"))
            eddy_errf(err, errlen, "transaction %s was fenced: another worker started with the "
                      "same transactional id (a restart of this one, or a second worker with "
                      "the same worker.name and processing.instance on this host), so this one "
                      "stops without committing (%s)", t->id, why);
        else
            eddy_errf(err, errlen, "transaction %s: %s failed: %s", t->id, what, why);
        code = EDDY_EIO;
    }
    t->produced = 0;
    t->moved = 0;
    for (int i = 0; i < t->nsrcs; i++)
        offs_clear(&t->srcs[i]);
    rd_kafka_error_destroy(e);
    return code;
}

static void ktxn_close(void *self)
{
    ktxn *t = self;
    if (!t)
        return;
    if (current == t)
        current = NULL;
    if (t->commits || t->aborts) {
        char n[3][32];
        snprintf(n[0], sizeof n[0], "%llu", (unsigned long long)t->commits);
        snprintf(n[1], sizeof n[1], "%llu", (unsigned long long)t->aborts);
        snprintf(n[2], sizeof n[2], "%.1f",
                 t->commits ? 1000 * t->commit_s / (double)t->commits : 0.0);
        eddy_log(EDDY_LOG_INFO,
                 (const char *[]){"transactional_id", t->id, "commits", n[0], "aborts", n[1],
                                  "commit_ms_mean", n[2], NULL},
                 "transactions closed");
    }
    if (t->rk) {
        /* An open transaction with records in it was not committed: its
         * inputs were not either, so it is aborted, not waited for. */
        if (t->produced) {
            rd_kafka_error_t *e = rd_kafka_abort_transaction(t->rk, 10000);
            if (e)
                rd_kafka_error_destroy(e);
        }
        rd_kafka_destroy(t->rk);
    }
    for (int i = 0; i < t->nsrcs; i++)
        rd_kafka_topic_partition_list_destroy(t->srcs[i].offs);
    free(t->srcs);
    free(t->id);
    free(t);
}

static void metrics_open(ktxn *t, const eddy_connector_env *env)
{
    if (!env || !env->metrics)
        return;
    eddy_buf l = {0};
    eddy_metrics_label(&l, "transactional_id", t->id);
    if (eddy_buf_putc(&l, '\0') != 0) {
        eddy_buf_free(&l);
        return;
    }
    const char *lab = (const char *)l.data;
    t->m_commits = eddy_metrics_get(env->metrics, "eddy_txn_commits_total",
                                    "Kafka transactions committed (processing.guarantee: "
                                    "exactly_once)", EDDY_METRIC_COUNTER, lab);
    t->m_aborts = eddy_metrics_get(env->metrics, "eddy_txn_aborts_total",
                                   "Kafka transactions aborted (their work is done again)",
                                   EDDY_METRIC_COUNTER, lab);
    static const double bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    t->m_commit_s = eddy_metrics_hist(env->metrics, "eddy_txn_commit_seconds",
                                      "Time to commit a transaction (offsets and commit)", lab,
                                      bounds, sizeof bounds / sizeof *bounds);
    eddy_buf_free(&l);
}

static int ktxn_open(const eddy_connector_env *env, const char *id, void **out, char *err,
                     size_t errlen)
{
    const eddy_opts *kafka = env ? env->kafka : NULL;
    *out = NULL;
    if (eddy_kafka_is_embedded(kafka)) {
        eddy_errf(err, errlen,
                  "processing.guarantee exactly_once is not available with kafka.brokers: "
                  "embedded (librdkafka's mock cluster accepts transactions but does not honour "
                  "them: aborted records stay visible, offsets sent to a transaction are dropped, "
                  "stale workers are not fenced); running at-least-once");
        return EDDY_EUNSUPPORTED;
    }
    ktxn *t = calloc(1, sizeof *t);
    if (!t || !(t->id = strdup(id))) {
        free(t);
        eddy_errf(err, errlen, "out of memory");
        return EDDY_ENOMEM;
    }
    char why[512];
    rd_kafka_conf_t *c = eddy_kafka_conf(kafka, NULL, NULL, "txn", why, sizeof why);
    if (!c) {
        eddy_errf(err, errlen, "transactional producer: %s", why);
        ktxn_close(t);
        return EDDY_ECONFIG;
    }
    /* transaction.timeout.ms: how long a transaction a crashed worker left
     * open holds read_committed readers and the partition's next owner
     * back (a restart of the same worker aborts it at once). 10 s as Kafka
     * Streams' exactly_once_v2; it must exceed worker.flush_interval. */
    if (eddy_kafka_conf_set(c, "transactional producer", "transactional.id", id, why, sizeof why) ||
        set_default(c, kafka, "transaction.timeout.ms", "10000", why, sizeof why) ||
        set_default(c, kafka, "compression.type", "zstd", why, sizeof why) ||
        set_default(c, kafka, "compression.level", "1", why, sizeof why)) {
        eddy_errf(err, errlen, "transactional producer: %s", why);
        rd_kafka_conf_destroy(c);
        ktxn_close(t);
        return EDDY_ECONFIG;
    }
    rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
    rd_kafka_conf_set_opaque(c, t);
    if (!(t->rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, why, sizeof why))) {
        rd_kafka_conf_destroy(c);
        eddy_errf(err, errlen, "cannot create the transactional producer %s: %s", id, why);
        ktxn_close(t);
        return EDDY_EIO;
    }
    /* Retriable errors (a coordinator still loading) are retried; the
     * call resumes where it stopped. */
    rd_kafka_error_t *e = NULL;
    for (int tries = 0; tries < 10; tries++) {
        if (e)
            rd_kafka_error_destroy(e);
        e = rd_kafka_init_transactions(t->rk, 30000);
        if (!e || !rd_kafka_error_is_retriable(e))
            break;
    }
    if (!e)
        e = rd_kafka_begin_transaction(t->rk);
    if (e) {
        eddy_errf(err, errlen, "cannot start transactions with transactional.id %s: %s (the "
                  "brokers must be Kafka 2.5 or later with a transaction state log)", id,
                  rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        ktxn_close(t);
        return EDDY_EIO;
    }
    /* Warm the metadata cache: the first records to a topic otherwise wait
     * for its metadata, which held the first commits ~0.9 s each. */
    const struct rd_kafka_metadata *md = NULL;
    if (rd_kafka_metadata(t->rk, 1, NULL, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR && md)
        rd_kafka_metadata_destroy(md);
    metrics_open(t, env);
    current = t;
    *out = t;
    eddy_log(EDDY_LOG_INFO, (const char *[]){"transactional_id", id, NULL},
             "exactly-once: transactions on (outputs, changelog and input offsets commit "
             "together)");
    return 0;
}

static int ktxn_offset(void *self, void *source_self, int32_t vpart, int64_t offset)
{
    ktxn *t = self;
    ksrc *s = source_self;
    ksrc_part *p = eddy_ksrc_part(s, vpart);
    if (!p || offset < 0)
        return 0;
    ktxn_src *ts = NULL;
    for (int i = 0; i < t->nsrcs && !ts; i++)
        if (t->srcs[i].src == s)
            ts = &t->srcs[i];
    if (!ts) {
        if (t->nsrcs == t->cap) {
            int cap = t->cap ? t->cap * 2 : 4;
            ktxn_src *n = realloc(t->srcs, sizeof *n * (size_t)cap);
            if (!n)
                return EDDY_ENOMEM;
            t->srcs = n;
            t->cap = cap;
        }
        ts = &t->srcs[t->nsrcs];
        if (!(ts->offs = rd_kafka_topic_partition_list_new(8)))
            return EDDY_ENOMEM;
        ts->src = s;
        t->nsrcs++;
        s->txn_managed = 1;
    }
    const char *topic = s->topics[p->topic];
    rd_kafka_topic_partition_t *e = rd_kafka_topic_partition_list_find(ts->offs, topic, p->partition);
    if (!e)
        e = rd_kafka_topic_partition_list_add(ts->offs, topic, p->partition);
    e->offset = offset + 1;
    if (offset + 1 != p->committed)
        t->moved = 1;
    return 0;
}

static bool ktxn_dirty(void *self)
{
    ktxn *t = self;
    return t->produced || t->moved;
}

static int ktxn_commit(void *self, char *err, size_t errlen)
{
    ktxn *t = self;
    if (!t->produced && !t->moved) {
        for (int i = 0; i < t->nsrcs; i++)
            offs_clear(&t->srcs[i]);
        return 0;
    }
    double t0 = mono_s();
    for (int i = 0; i < t->nsrcs; i++) {
        ktxn_src *ts = &t->srcs[i];
        if (!ts->offs->cnt)
            continue;
        rd_kafka_consumer_group_metadata_t *g = rd_kafka_consumer_group_metadata(ts->src->rk);
        if (!g) {
            eddy_errf(err, errlen, "transaction %s: source %s has no consumer group metadata",
                      t->id, ts->src->name);
            return EDDY_EIO;
        }
        rd_kafka_error_t *e = NULL;
        for (int tries = 0; tries < 5; tries++) {
            if (e)
                rd_kafka_error_destroy(e);
            e = rd_kafka_send_offsets_to_transaction(t->rk, ts->offs, g, -1);
            if (!e || !rd_kafka_error_is_retriable(e))
                break;
        }
        rd_kafka_consumer_group_metadata_destroy(g);
        if (e)
            return txn_fail(t, e, "sending the input offsets", err, errlen);
    }
    rd_kafka_error_t *e = NULL;
    for (int tries = 0; tries < 5; tries++) {
        if (e)
            rd_kafka_error_destroy(e);
        e = rd_kafka_commit_transaction(t->rk, -1);
        if (!e || !rd_kafka_error_is_retriable(e))
            break;
    }
    if (e)
        return txn_fail(t, e, "commit", err, errlen);
    for (int i = 0; i < t->nsrcs; i++) {
        ktxn_src *ts = &t->srcs[i];
        for (int k = 0; k < ts->offs->cnt; k++) {
            const rd_kafka_topic_partition_t *o = &ts->offs->elems[k];
            uint32_t ti;
            if (eddy_ksrc_topic_index(ts->src, o->topic, &ti) != 0)
                continue;
            ksrc_part *p = eddy_ksrc_part(ts->src, (int32_t)(ti << KSRC_PART_BITS) | o->partition);
            if (p)
                p->committed = o->offset;
        }
        offs_clear(ts);
    }
    t->produced = 0;
    t->moved = 0;
    eddy_metric_add(t->m_commits, 1);
    t->commits++;
    t->commit_s += mono_s() - t0;
    if (t->m_commit_s)
        eddy_hist_observe(t->m_commit_s, mono_s() - t0);
    if ((e = rd_kafka_begin_transaction(t->rk))) {
        eddy_errf(err, errlen, "transaction %s: cannot begin the next transaction: %s", t->id,
                  rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        return EDDY_EIO;
    }
    return 0;
}

static int ktxn_abort(void *self, char *err, size_t errlen)
{
    ktxn *t = self;
    rd_kafka_error_t *e = rd_kafka_abort_transaction(t->rk, -1);
    if (!e)
        e = rd_kafka_begin_transaction(t->rk);
    t->produced = 0;
    t->moved = 0;
    for (int i = 0; i < t->nsrcs; i++)
        offs_clear(&t->srcs[i]);
    if (e) {
        eddy_errf(err, errlen, "transaction %s: abort failed: %s", t->id, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        return EDDY_EIO;
    }
    eddy_metric_add(t->m_aborts, 1);
    t->aborts++;
    return 0;
}

const eddy_txn_ops eddy_kafka_txn = {
    .open = ktxn_open,
    .offset = ktxn_offset,
    .dirty = ktxn_dirty,
    .commit = ktxn_commit,
    .abort = ktxn_abort,
    .close = ktxn_close,
};
