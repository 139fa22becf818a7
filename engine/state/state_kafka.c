/* The Kafka side of durable state: changelog topic names and checks, the
 * changelog producers (one per processing thread) and the restore consumer
 * (one per source, no consumer group, assigned one partition at a time). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connectors/kafka/kafka_conf.h"
#include "connectors/kafka/kafka_int.h"
#include "engine/obs/log.h"
#include "engine/state/state_int.h"

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    eddy_state *s = opaque;
    if (!m->err)
        return;
    /* Sticky: the next flush sees it and nothing is committed. */
    if (!atomic_exchange(&s->dr_failed, 1))
        snprintf(s->dr_err, sizeof s->dr_err, "%s", rd_kafka_err2str(m->err));
}

static rd_kafka_conf_t *conf(eddy_state *s, const char *suffix, char *err, size_t errlen)
{
    char why[512];
    rd_kafka_conf_t *c = eddy_kafka_conf(s->rt->kafka, NULL, NULL, suffix, why, sizeof why);
    if (!c)
        eddy_errf(err, errlen, "state: %s", why);
    return c;
}

/* Partitions of a topic, from metadata: >0, 0 when it does not exist, <0
 * when the brokers did not answer. */
int st_topic_partitions(rd_kafka_t *rk, const char *topic, char *err, size_t errlen)
{
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    if (!t)
        return -1;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, t, &md, 10000);
    int n = -1;
    if (e) {
        eddy_errf(err, errlen, "state: cannot read metadata of topic %s: %s", topic,
                  rd_kafka_err2str(e));
    } else if (md->topic_cnt == 1) {
        rd_kafka_resp_err_t te = md->topics[0].err;
        n = te == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ? 0 : te ? -1 : md->topics[0].partition_cnt;
        if (n < 0)
            eddy_errf(err, errlen, "state: cannot read metadata of topic %s: %s", topic,
                      rd_kafka_err2str(te));
    }
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(t);
    return n;
}

/* The input partitions of a durable source: the most any listed topic has
 * (patterns are not resolved here). */
static int input_partitions(eddy_state *s, rt_source *src, int embedded, char *err, size_t errlen)
{
    int most = 0;
    for (uint32_t i = 0; i < eddy_opts_count(src->opts, "topics"); i++) {
        const char *t = eddy_opts_item(src->opts, "topics", i);
        if (!t || t[0] == '^')
            continue;
        if (embedded && eddy_kafka_embedded_topic(t, EDDY_KAFKA_EMBEDDED_PARTITIONS, err, errlen))
            return -1;
        int n = st_topic_partitions(s->prod[0], t, err, errlen);
        if (n < 0)
            return -1;
        if (n > most)
            most = n;
    }
    return most;
}

static int check_source(eddy_state *s, int i, int embedded, char *err, size_t errlen)
{
    eddy_runtime *rt = s->rt;
    st_source *ss = &s->src[i];
    rt_source *src = &rt->sources[i];
    int in = input_partitions(s, src, embedded, err, errlen);
    if (in < 0)
        return EDDY_EIO;
    if (embedded && eddy_kafka_embedded_topic(ss->topic, in ? in : EDDY_KAFKA_EMBEDDED_PARTITIONS,
                                              err, errlen) != 0)
        return EDDY_EIO;
    int n = st_topic_partitions(s->prod[0], ss->topic, err, errlen);
    if (n < 0)
        return EDDY_EIO;
    const char *cfgpath = eddy_cfg_path(rt->cfg);
    if (n == 0) {
        eddy_errf(err, errlen,
                  "source %s keeps durable state in the changelog topic %s, which does not exist: "
                  "run `eddy topics apply -c %s` (it creates the changelog of every stateful "
                  "source), or create it yourself with %d partitions and cleanup.policy=compact "
                  "(or set state.enabled: false)",
                  src->name, ss->topic, cfgpath ? cfgpath : "FILE", in ? in : 1);
        return EDDY_ECONFIG;
    }
    if (n < in) {
        eddy_errf(err, errlen,
                  "source %s: the changelog topic %s has %d partitions, fewer than its input's "
                  "%d; a partition's state lives in the changelog partition of the same number: "
                  "add partitions (eddy topics apply) or name another topic in state.topics",
                  src->name, ss->topic, n, in);
        return EDDY_ECONFIG;
    }
    eddy_log(EDDY_LOG_INFO, (const char *[]){"source", src->name, "changelog", ss->topic, NULL},
             "durable state on: changelog %s (%d partitions)", ss->topic, n);
    return 0;
}

static rd_kafka_t *producer_new(eddy_state *s, char *err, size_t errlen)
{
    rd_kafka_conf_t *c = conf(s, "state", err, errlen);
    if (!c)
        return NULL;
    char why[512];
    /* Idempotent: no duplicates or reordering within a changelog
     * partition (the restore relies on records preceding their marker). */
    if (eddy_kafka_conf_set(c, "state producer", "enable.idempotence", "true", why, sizeof why) ||
        eddy_kafka_conf_set(c, "state producer", "compression.codec", "zstd", why, sizeof why) ||
        eddy_kafka_conf_set(c, "state producer", "linger.ms", "5", why, sizeof why)) {
        eddy_errf(err, errlen, "state: %s", why);
        rd_kafka_conf_destroy(c);
        return NULL;
    }
    rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
    rd_kafka_conf_set_opaque(c, s);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, why, sizeof why);
    if (!rk) {
        rd_kafka_conf_destroy(c);
        eddy_errf(err, errlen, "state: cannot create the changelog producer: %s", why);
    }
    return rk;
}

/* The thread's producer, made on first use. */
static rd_kafka_t *producer(eddy_state *s, int thread)
{
    if (thread < 0 || thread >= EDDY_STATE_MAX_THREADS)
        thread = 0;
    pthread_mutex_lock(&s->mu);
    rd_kafka_t *rk = s->prod[thread];
    if (!rk) {
        char err[512];
        if (!(rk = s->prod[thread] = producer_new(s, err, sizeof err)))
            eddy_log(EDDY_LOG_ERROR, NULL, "%s", err);
    }
    pthread_mutex_unlock(&s->mu);
    return rk;
}

int st_kafka_start(eddy_state *s, char *err, size_t errlen)
{
    if (!(s->prod[0] = producer_new(s, err, errlen)))
        return EDDY_EIO;
    int embedded = eddy_kafka_is_embedded(s->rt->kafka);
    for (int i = 0; i < s->rt->nsources; i++)
        if (s->src[i].durable) {
            int rc = check_source(s, i, embedded, err, errlen);
            if (rc != 0)
                return rc;
        }
    return 0;
}

void st_kafka_free(eddy_state *s)
{
    for (int i = 0; s->src && i < s->rt->nsources; i++)
        if (s->src[i].restore) {
            rd_kafka_consumer_close(s->src[i].restore);
            rd_kafka_destroy(s->src[i].restore);
        }
    for (int i = 0; i < EDDY_STATE_MAX_THREADS; i++)
        if (s->prod[i]) {
            rd_kafka_flush(s->prod[i], 10000);
            rd_kafka_destroy(s->prod[i]);
        }
}

int st_produce(eddy_state *s, int thread, st_source *src, int32_t part, const void *k,
               size_t kl, const void *v, size_t vl)
{
    rd_kafka_t *rk = producer(s, thread);
    if (!rk)
        return EDDY_EIO;
    for (int tries = 0;; tries++) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(src->topic), RD_KAFKA_V_PARTITION(part),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY((void *)k, kl),
            RD_KAFKA_V_VALUE((void *)v, vl), RD_KAFKA_V_END);
        if (!e) {
            s->unflushed[thread < 0 || thread >= EDDY_STATE_MAX_THREADS ? 0 : thread]++;
            eddy_metric_add(v ? s->m_records : s->m_tombs, 1);
            eddy_metric_add(s->m_bytes, (double)(kl + vl));
            return 0;
        }
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || tries > 600) {
            eddy_log(EDDY_LOG_ERROR, (const char *[]){"changelog", src->topic, NULL},
                     "cannot write durable state: %s", rd_kafka_err2str(e));
            return EDDY_EIO;
        }
        rd_kafka_poll(rk, 100); /* the queue drains as deliveries come back */
    }
}

int st_producer_flush(eddy_state *s, int thread)
{
    if (thread < 0 || thread >= EDDY_STATE_MAX_THREADS)
        thread = 0;
    rd_kafka_t *rk = s->prod[thread];
    if (!rk)
        return atomic_load(&s->dr_failed) ? EDDY_EIO : 0;
    if (s->unflushed[thread]) {
        s->unflushed[thread] = 0;
        rd_kafka_resp_err_t e = rd_kafka_flush(rk, 60000);
        if (e) {
            eddy_log(EDDY_LOG_ERROR, NULL,
                     "durable state: the changelog did not acknowledge its records within 60 s "
                     "(%s); stopping without committing", rd_kafka_err2str(e));
            return EDDY_EIO;
        }
    } else {
        rd_kafka_poll(rk, 0);
    }
    if (atomic_load(&s->dr_failed)) {
        eddy_log(EDDY_LOG_ERROR, NULL,
                 "durable state: a changelog write failed (%s); stopping without committing",
                 s->dr_err);
        return EDDY_EIO;
    }
    return 0;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static rd_kafka_t *restore_consumer(eddy_state *s, st_source *src)
{
    if (src->restore)
        return src->restore;
    char err[512];
    rd_kafka_conf_t *c = conf(s, "state-restore", err, sizeof err);
    if (!c) {
        eddy_log(EDDY_LOG_ERROR, NULL, "%s", err);
        return NULL;
    }
    /* A group id only because librdkafka wants one for assign(); nothing
     * is ever committed or subscribed with it. */
    if (eddy_kafka_conf_set(c, "state restore", "group.id", "eddy-state-restore", err, sizeof err) ||
        eddy_kafka_conf_set(c, "state restore", "enable.auto.commit", "false", err, sizeof err) ||
        eddy_kafka_conf_set(c, "state restore", "enable.auto.offset.store", "false", err,
                            sizeof err) ||
        eddy_kafka_conf_set(c, "state restore", "enable.partition.eof", "true", err, sizeof err) ||
        /* The fetch left waiting at the end of the previous partition
         * would otherwise hold the next restore for half a second. */
        eddy_kafka_conf_set(c, "state restore", "fetch.wait.max.ms", "20", err, sizeof err) ||
        /* One partition is read at a time: let a fetch bring much more than
         * the 1 MiB per partition a group consumer is given. */
        eddy_kafka_conf_set(c, "state restore", "max.partition.fetch.bytes", "16777216", err,
                            sizeof err)) {
        rd_kafka_conf_destroy(c);
        eddy_log(EDDY_LOG_ERROR, NULL, "state: %s", err);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err);
    if (!rk) {
        rd_kafka_conf_destroy(c);
        eddy_log(EDDY_LOG_ERROR, NULL, "state: cannot create the restore consumer: %s", err);
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    return src->restore = rk;
}

int st_read_partition(eddy_state *s, st_source *src, int32_t part, st_record_fn fn, void *arg,
                      uint64_t *n)
{
    *n = 0;
    rd_kafka_t *rk = restore_consumer(s, src);
    if (!rk)
        return EDDY_EIO;
    int64_t lo = 0, hi = 0;
    rd_kafka_resp_err_t e =
        rd_kafka_query_watermark_offsets(rk, src->topic, part, &lo, &hi, 10000);
    if (e) {
        eddy_log(EDDY_LOG_ERROR, (const char *[]){"changelog", src->topic, NULL},
                 "cannot read the changelog's offsets of partition %d: %s", (int)part,
                 rd_kafka_err2str(e));
        return EDDY_EIO;
    }
    if (hi <= lo)
        return 0;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, src->topic, part)->offset = lo;
    e = rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        eddy_log(EDDY_LOG_ERROR, NULL, "state: restore assign failed: %s", rd_kafka_err2str(e));
        return EDDY_EIO;
    }
    int rc = 0;
    int64_t deadline = mono_ms() + s->restore_timeout;
    for (;;) {
        if (mono_ms() > deadline) {
            eddy_log(EDDY_LOG_ERROR, (const char *[]){"changelog", src->topic, NULL},
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
            eddy_log(EDDY_LOG_WARN, (const char *[]){"changelog", src->topic, NULL},
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
