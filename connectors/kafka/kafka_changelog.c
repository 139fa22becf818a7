/* The Kafka changelog of durable state (engine/connector.h,
 * eddy_changelog_ops): the topic's default name and start-up check, one
 * idempotent producer per processing thread (a thread's commit waits for its
 * own records only: librdkafka's flush waits for a producer's whole queue,
 * which other threads would keep filling), and a restore consumer without a
 * consumer group, assigned one partition at a time. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connectors/kafka/kafka_int.h"
#include "connectors/kafka/kafka_src.h"
#include "engine/core/error.h"
#include "engine/obs/log.h"

#define KCL_THREADS 64 /* worker.threads' maximum */

typedef struct kcl {
    char *topic;
    const eddy_opts *kafka; /* the `kafka:` section (lives as long as the runtime) */
    pthread_mutex_t mu;     /* guards prod */
    rd_kafka_t *prod[KCL_THREADS];
    uint64_t unflushed[KCL_THREADS]; /* each thread's own */
    _Atomic int dr_failed;
    char dr_err[256];
    /* One restore consumer, used by one thread at a time: the processing
     * threads of a source's instances (worker.threads) restore their
     * partitions in turn. */
    pthread_mutex_t rmu;
    rd_kafka_t *restore;
    /* Per changelog partition (the local cache's position): the offset
     * after the last record of this process the brokers acknowledged, and
     * the first offset and count of those acknowledged since the last
     * kcl_position (written by the thread that writes the partition). */
    int32_t nparts;
    _Atomic int64_t *acked;
    int64_t *first;
    uint64_t *count;
} kcl;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The group a source reads in, as kafka_source.c names it. */
static const char *group_of(const eddy_opts *o, const eddy_connector_env *env)
{
    const char *g = eddy_opts_str(o, "group");
    if ((!g || !*g) && env && env->kafka)
        g = eddy_opts_str(env->kafka, "group");
    if ((!g || !*g) && env)
        g = env->worker;
    return g && *g ? g : "eddy";
}

static char *kcl_default_topic(const eddy_opts *o, const eddy_connector_env *env,
                               const char *source)
{
    const char *g = group_of(o, env);
    size_t n = strlen(g) + strlen(source) + 16;
    char *t = malloc(n);
    if (t)
        snprintf(t, n, "%s-%s-changelog", g, source);
    return t;
}

void eddy_kafka_changelog_delivered(void *cl, const rd_kafka_message_t *m)
{
    kcl *c = cl;
    if (m->err || m->offset < 0 || m->partition < 0 || m->partition >= c->nparts)
        return;
    /* Reports of one partition come in order; max() is for safety only. */
    _Atomic int64_t *a = &c->acked[m->partition];
    if (!c->count[m->partition]++)
        c->first[m->partition] = m->offset;
    int64_t next = m->offset + 1, cur = atomic_load(a);
    while (next > cur && !atomic_compare_exchange_weak(a, &cur, next))
        ;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    kcl *c = opaque;
    if (!m->err) {
        eddy_kafka_changelog_delivered(c, m);
        return;
    }
    /* Sticky: the next flush sees it and nothing is committed. */
    if (!atomic_exchange(&c->dr_failed, 1))
        snprintf(c->dr_err, sizeof c->dr_err, "%s", rd_kafka_err2str(m->err));
}

static rd_kafka_t *producer_new(kcl *c, char *err, size_t errlen)
{
    char why[512];
    rd_kafka_conf_t *conf = eddy_kafka_conf(c->kafka, NULL, NULL, "state", why, sizeof why);
    if (!conf) {
        eddy_errf(err, errlen, "changelog %s: %s", c->topic, why);
        return NULL;
    }
    /* Idempotent: no duplicates or reordering within a changelog partition
     * (a restore relies on records preceding their position marker). */
    if (eddy_kafka_conf_set(conf, "state producer", "enable.idempotence", "true", why, sizeof why) ||
        eddy_kafka_conf_set(conf, "state producer", "compression.codec", "zstd", why, sizeof why) ||
        eddy_kafka_conf_set(conf, "state producer", "linger.ms", "5", why, sizeof why)) {
        eddy_errf(err, errlen, "changelog %s: %s", c->topic, why);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        eddy_errf(err, errlen, "changelog %s: cannot create the producer: %s", c->topic, why);
    }
    return rk;
}

/* The thread's producer, made on first use. */
static rd_kafka_t *producer(kcl *c, int thread)
{
    pthread_mutex_lock(&c->mu);
    rd_kafka_t *rk = c->prod[thread];
    if (!rk) {
        char err[512];
        if (!(rk = c->prod[thread] = producer_new(c, err, sizeof err)))
            eddy_log(EDDY_LOG_ERROR, NULL, "%s", err);
    }
    pthread_mutex_unlock(&c->mu);
    return rk;
}

/* Partitions of a topic from metadata: >0, 0 when it does not exist, <0
 * when the brokers did not answer (err says why). */
static int topic_partitions(rd_kafka_t *rk, const char *topic, char *err, size_t errlen)
{
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    if (!t)
        return -1;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, t, &md, 10000);
    int n = -1;
    if (e) {
        eddy_errf(err, errlen, "cannot read metadata of topic %s: %s", topic, rd_kafka_err2str(e));
    } else if (md->topic_cnt == 1) {
        rd_kafka_resp_err_t te = md->topics[0].err;
        n = te == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ? 0 : te ? -1 : md->topics[0].partition_cnt;
        if (n < 0)
            eddy_errf(err, errlen, "cannot read metadata of topic %s: %s", topic,
                      rd_kafka_err2str(te));
    }
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(t);
    return n;
}

/* The most partitions any listed input topic has (patterns are not
 * resolved here); on the embedded broker the inputs are created first. */
static int input_partitions(rd_kafka_t *rk, const eddy_opts *o, int embedded, char *err,
                            size_t errlen)
{
    int most = 0;
    for (uint32_t i = 0; i < eddy_opts_count(o, "topics"); i++) {
        const char *t = eddy_opts_item(o, "topics", i);
        if (!t || t[0] == '^')
            continue;
        if (embedded && eddy_kafka_embedded_topic(t, EDDY_KAFKA_EMBEDDED_PARTITIONS, err, errlen))
            return -1;
        int n = topic_partitions(rk, t, err, errlen);
        if (n < 0)
            return -1;
        if (n > most)
            most = n;
    }
    return most;
}

static void kcl_close(void *self)
{
    kcl *c = self;
    if (!c)
        return;
    if (c->restore) {
        rd_kafka_consumer_close(c->restore);
        rd_kafka_destroy(c->restore);
    }
    for (int i = 0; i < KCL_THREADS; i++)
        if (c->prod[i]) {
            rd_kafka_flush(c->prod[i], 10000);
            rd_kafka_destroy(c->prod[i]);
        }
    pthread_mutex_destroy(&c->mu);
    pthread_mutex_destroy(&c->rmu);
    free((void *)c->acked);
    free(c->first);
    free(c->count);
    free(c->topic);
    free(c);
}

static int check(kcl *c, rd_kafka_t *rk, const eddy_opts *o, const char *source,
                 const char *config_path, char *err, size_t errlen)
{
    int embedded = eddy_kafka_is_embedded(c->kafka);
    char why[512] = "";
    int in = input_partitions(rk, o, embedded, why, sizeof why);
    if (in < 0) {
        eddy_errf(err, errlen, "source %s: %s", source, why);
        return EDDY_EIO;
    }
    if (embedded && eddy_kafka_embedded_topic(c->topic, in ? in : EDDY_KAFKA_EMBEDDED_PARTITIONS,
                                              why, sizeof why) != 0) {
        eddy_errf(err, errlen, "source %s: %s", source, why);
        return EDDY_EIO;
    }
    int n = topic_partitions(rk, c->topic, why, sizeof why);
    if (n < 0) {
        eddy_errf(err, errlen, "source %s: %s", source, why);
        return EDDY_EIO;
    }
    if (n == 0) {
        eddy_errf(err, errlen,
                  "source %s keeps durable state in the changelog topic %s, which does not exist: "
                  "run `eddy topics apply -c %s` (it creates the changelog of every stateful "
                  "source), or create it yourself with %d partitions and cleanup.policy=compact "
                  "(or set state.enabled: false)",
                  source, c->topic, config_path ? config_path : "FILE", in ? in : 1);
        return EDDY_ECONFIG;
    }
    if (n < in) {
        eddy_errf(err, errlen,
                  "source %s: the changelog topic %s has %d partitions, fewer than its input's "
                  "%d; a partition's state lives in the changelog partition of the same number: "
                  "add partitions (eddy topics apply) or name another topic in state.topics",
                  source, c->topic, n, in);
        return EDDY_ECONFIG;
    }
    if (!(c->acked = calloc((size_t)n, sizeof *c->acked)) ||
        !(c->first = calloc((size_t)n, sizeof *c->first)) ||
        !(c->count = calloc((size_t)n, sizeof *c->count))) {
        eddy_errf(err, errlen, "out of memory");
        return EDDY_ENOMEM;
    }
    for (int i = 0; i < n; i++)
        atomic_init(&c->acked[i], -1);
    c->nparts = n;
    eddy_log(EDDY_LOG_INFO, (const char *[]){"source", source, "changelog", c->topic, NULL},
             "durable state on: changelog %s (%d partitions)", c->topic, n);
    return 0;
}

static void *kcl_open(const eddy_opts *o, const eddy_connector_env *env, const char *source,
                      const char *topic, const char *config_path, char *err, size_t errlen)
{
    kcl *c = calloc(1, sizeof *c);
    if (!c || !(c->topic = strdup(topic))) {
        free(c);
        eddy_errf(err, errlen, "out of memory");
        return NULL;
    }
    c->kafka = env ? env->kafka : NULL;
    pthread_mutex_init(&c->mu, NULL);
    pthread_mutex_init(&c->rmu, NULL);
    if (!(c->prod[0] = producer_new(c, err, errlen)) ||
        check(c, c->prod[0], o, source, config_path, err, errlen) != 0) {
        kcl_close(c);
        return NULL;
    }
    return c;
}

static int kcl_write(void *self, int thread, int32_t part, const void *k, size_t kl,
                     const void *v, size_t vl)
{
    kcl *c = self;
    if (thread < 0 || thread >= KCL_THREADS)
        thread = 0;
    /* Exactly-once: inside the thread's transaction, with its outputs and
     * offsets (kafka_txn.c); the commit waits for the records. */
    rd_kafka_t *txn = eddy_kafka_txn_producer();
    rd_kafka_t *rk = txn ? txn : producer(c, thread);
    if (!rk)
        return EDDY_EIO;
    for (int tries = 0;; tries++) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(c->topic), RD_KAFKA_V_PARTITION(part),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY((void *)k, kl),
            RD_KAFKA_V_VALUE((void *)v, vl),
            RD_KAFKA_V_OPAQUE((void *)((uintptr_t)c | EDDY_KAFKA_CL_TAG)), RD_KAFKA_V_END);
        if (!e) {
            if (txn)
                eddy_kafka_txn_produced();
            else
                c->unflushed[thread]++;
            return 0;
        }
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || tries > 600) {
            eddy_log(EDDY_LOG_ERROR, (const char *[]){"changelog", c->topic, NULL},
                     "cannot write durable state: %s", rd_kafka_err2str(e));
            return EDDY_EIO;
        }
        rd_kafka_poll(rk, 100); /* the queue drains as deliveries come back */
    }
}

static int kcl_flush(void *self, int thread)
{
    kcl *c = self;
    if (thread < 0 || thread >= KCL_THREADS)
        thread = 0;
    rd_kafka_t *rk = c->prod[thread];
    if (rk && c->unflushed[thread]) {
        c->unflushed[thread] = 0;
        rd_kafka_resp_err_t e = rd_kafka_flush(rk, 60000);
        if (e) {
            eddy_log(EDDY_LOG_ERROR, (const char *[]){"changelog", c->topic, NULL},
                     "durable state: the changelog did not acknowledge its records within 60 s "
                     "(%s); stopping without committing", rd_kafka_err2str(e));
            return EDDY_EIO;
        }
    } else if (rk) {
        rd_kafka_poll(rk, 0);
    }
    if (atomic_load(&c->dr_failed)) {
        eddy_log(EDDY_LOG_ERROR, (const char *[]){"changelog", c->topic, NULL},
                 "durable state: a changelog write failed (%s); stopping without committing",
                 c->dr_err);
        return EDDY_EIO;
    }
    return 0;
}

static rd_kafka_t *restore_consumer(kcl *c)
{
    if (c->restore)
        return c->restore;
    char err[512];
    rd_kafka_conf_t *conf = eddy_kafka_conf(c->kafka, NULL, NULL, "state-restore", err, sizeof err);
    /* A group id only because librdkafka wants one for assign(); nothing
     * is ever committed or subscribed with it. */
    if (!conf ||
        eddy_kafka_conf_set(conf, "state restore", "group.id", "eddy-state-restore", err, sizeof err) ||
        eddy_kafka_conf_set(conf, "state restore", "enable.auto.commit", "false", err, sizeof err) ||
        eddy_kafka_conf_set(conf, "state restore", "enable.auto.offset.store", "false", err,
                            sizeof err) ||
        eddy_kafka_conf_set(conf, "state restore", "enable.partition.eof", "true", err, sizeof err) ||
        /* The fetch left waiting at the end of the previous partition
         * would otherwise hold the next restore for half a second. */
        eddy_kafka_conf_set(conf, "state restore", "fetch.wait.max.ms", "20", err, sizeof err) ||
        /* One partition is read at a time: let a fetch bring much more than
         * the 1 MiB per partition a group consumer is given (940k records
         * restored in 1.3 s instead of 5.3 s). */
        eddy_kafka_conf_set(conf, "state restore", "max.partition.fetch.bytes", "16777216", err,
                            sizeof err)) {
        if (conf)
            rd_kafka_conf_destroy(conf);
        eddy_log(EDDY_LOG_ERROR, (const char *[]){"changelog", c->topic, NULL}, "%s", err);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        eddy_log(EDDY_LOG_ERROR, (const char *[]){"changelog", c->topic, NULL},
                 "cannot create the restore consumer: %s", err);
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    return c->restore = rk;
}

static int offsets_locked(void *self, int32_t part, int64_t *lo, int64_t *hi)
{
    kcl *c = self;
    rd_kafka_t *rk = restore_consumer(c);
    if (!rk)
        return EDDY_EIO;
    /* A topic created a moment ago (eddy topics apply, then the worker) may
     * not have a leader yet: such errors pass within seconds, so they are
     * retried for up to 30 s before the restore gives up. */
    rd_kafka_resp_err_t e;
    for (int tries = 0;; tries++) {
        e = rd_kafka_query_watermark_offsets(rk, c->topic, part, lo, hi, 10000);
        int transient = e == RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION ||
                        e == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE ||
                        e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                        e == RD_KAFKA_RESP_ERR__TRANSPORT || e == RD_KAFKA_RESP_ERR__TIMED_OUT ||
                        e == RD_KAFKA_RESP_ERR_REPLICA_NOT_AVAILABLE;
        if (!e || !transient || tries >= 60)
            break;
        if (tries == 0)
            eddy_log(EDDY_LOG_WARN, (const char *[]){"changelog", c->topic, NULL},
                     "the changelog's partition %d is not ready (%s); retrying", (int)part,
                     rd_kafka_err2str(e));
        struct timespec ts = {0, 500 * 1000000};
        nanosleep(&ts, NULL);
    }
    if (e) {
        eddy_log(EDDY_LOG_ERROR, (const char *[]){"changelog", c->topic, NULL},
                 "cannot read the changelog's offsets of partition %d: %s", (int)part,
                 rd_kafka_err2str(e));
        return EDDY_EIO;
    }
    return 0;
}

static int64_t kcl_position(void *self, int32_t part, int64_t *first, uint64_t *count)
{
    kcl *c = self;
    *first = -1;
    *count = 0;
    if (part < 0 || part >= c->nparts)
        return -1;
    *first = c->first[part];
    *count = c->count[part];
    c->count[part] = 0;
    return atomic_load(&c->acked[part]);
}

static int read_locked(void *self, int32_t part, int64_t from, int64_t timeout_ms,
                    eddy_changelog_fn fn, void *arg, uint64_t *n, int64_t *end)
{
    kcl *c = self;
    *n = 0;
    int64_t lo = 0, hi = 0;
    int rc0 = offsets_locked(c, part, &lo, &hi);
    if (rc0 != 0)
        return rc0;
    rd_kafka_t *rk = c->restore;
    if (from > lo)
        lo = from;
    *end = lo > hi ? lo : hi;
    if (hi <= lo)
        return 0;
    rd_kafka_resp_err_t e;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, c->topic, part)->offset = lo;
    e = rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        eddy_log(EDDY_LOG_ERROR, (const char *[]){"changelog", c->topic, NULL},
                 "restore assign failed: %s", rd_kafka_err2str(e));
        return EDDY_EIO;
    }
    int rc = 0;
    int64_t deadline = mono_ms() + timeout_ms;
    for (;;) {
        if (mono_ms() > deadline) {
            eddy_log(EDDY_LOG_ERROR, (const char *[]){"changelog", c->topic, NULL},
                     "restore of partition %d did not finish within state.restore_timeout "
                     "(%llu of about %lld records read)",
                     (int)part, (unsigned long long)*n, (long long)(hi - lo));
            rc = EDDY_EIO;
            break;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 500);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            int done = m->offset >= hi;
            rd_kafka_message_destroy(m);
            if (done)
                break;
            continue;
        }
        if (m->err) {
            eddy_log(EDDY_LOG_WARN, (const char *[]){"changelog", c->topic, NULL},
                     "restore consumer (retrying): %s", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        (*n)++;
        int64_t off = m->offset;
        rc = fn(arg, m->key, m->key_len, m->payload, m->payload ? m->len : 0);
        rd_kafka_message_destroy(m);
        if (rc != 0 || off >= hi - 1)
            break;
    }
    rd_kafka_assign(rk, NULL);
    return rc;
}

static int kcl_offsets(void *self, int32_t part, int64_t *lo, int64_t *hi)
{
    kcl *c = self;
    pthread_mutex_lock(&c->rmu);
    int rc = offsets_locked(self, part, lo, hi);
    pthread_mutex_unlock(&c->rmu);
    return rc;
}

static int kcl_read(void *self, int32_t part, int64_t from, int64_t timeout_ms,
                    eddy_changelog_fn fn, void *arg, uint64_t *n, int64_t *end)
{
    kcl *c = self;
    pthread_mutex_lock(&c->rmu);
    int rc = read_locked(self, part, from, timeout_ms, fn, arg, n, end);
    pthread_mutex_unlock(&c->rmu);
    return rc;
}

const eddy_changelog_ops eddy_kafka_changelog = {
    .default_topic = kcl_default_topic,
    .open = kcl_open,
    .write = kcl_write,
    .flush = kcl_flush,
    .read = kcl_read,
    .offsets = kcl_offsets,
    .position = kcl_position,
    .close = kcl_close,
};
