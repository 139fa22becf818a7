/* The Kafka source's group membership: the topic table, the assignment,
 * rebalances, offset commits, pause/resume and the consumer-lag gauges.
 *
 * Everything here runs on the processing thread (librdkafka serves the
 * rebalance and commit callbacks from inside consumer_poll), except the
 * final rebalance of close(), which runs on the main thread after the
 * runtime's tasks are gone: then the runtime is not called back. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/core/error.h"
#include "connectors/kafka/kafka_src.h"
#include "engine/obs/log.h"

int64_t eddy_ksrc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void eddy_ksrc_fatal(ksrc *s, const char *fmt, ...)
{
    if (s->fatal)
        return; /* the first cause is the one worth reading */
    s->fatal = 1;
    int n = snprintf(s->fatal_msg, sizeof s->fatal_msg, "kafka source %s: ", s->name);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->fatal_msg + n, sizeof s->fatal_msg - (size_t)n, fmt, ap);
    va_end(ap);
}

int eddy_ksrc_topic_index(ksrc *s, const char *topic, uint32_t *idx)
{
    for (uint32_t i = 0; i < s->ntopics; i++)
        if (strcmp(s->topics[i], topic) == 0) {
            *idx = i;
            return 0;
        }
    if (s->ntopics >= KSRC_MAX_TOPICS) {
        eddy_ksrc_fatal(s, "more than %d topics matched; narrow the topics pattern",
                        KSRC_MAX_TOPICS);
        return EDDY_ELIMIT;
    }
    if (s->ntopics == s->cap_topics) {
        uint32_t cap = s->cap_topics ? s->cap_topics * 2 : 8;
        char **t = realloc(s->topics, sizeof *t * cap);
        if (!t)
            return EDDY_ENOMEM;
        s->topics = t;
        s->cap_topics = cap;
    }
    if (!(s->topics[s->ntopics] = strdup(topic)))
        return EDDY_ENOMEM;
    *idx = s->ntopics++;
    return 0;
}

ksrc_part *eddy_ksrc_part(ksrc *s, int32_t vpart)
{
    for (uint32_t i = 0; i < s->nparts; i++)
        if (s->parts[i].vpart == vpart)
            return &s->parts[i];
    return NULL;
}

static ksrc_part *part_add(ksrc *s, const char *topic, int32_t partition)
{
    uint32_t ti;
    if (eddy_ksrc_topic_index(s, topic, &ti) != 0)
        return NULL;
    if (partition < 0 || partition >= (1 << KSRC_PART_BITS)) {
        eddy_ksrc_fatal(s, "topic %s has partition %d; at most %d partitions per topic are "
                        "supported", topic, (int)partition, 1 << KSRC_PART_BITS);
        return NULL;
    }
    int32_t vpart = (int32_t)(ti << KSRC_PART_BITS) | partition;
    ksrc_part *p = eddy_ksrc_part(s, vpart);
    if (p)
        return p;
    if (s->nparts == s->cap_parts) {
        uint32_t cap = s->cap_parts ? s->cap_parts * 2 : 16;
        ksrc_part *np = realloc(s->parts, sizeof *np * cap);
        if (!np)
            return NULL;
        s->parts = np;
        s->cap_parts = cap;
    }
    p = &s->parts[s->nparts++];
    memset(p, 0, sizeof *p);
    p->vpart = vpart;
    p->topic = ti;
    p->partition = partition;
    p->next = -1;
    p->committed = -1;
    if (s->env && s->env->metrics) {
        char num[16];
        snprintf(num, sizeof num, "%d", (int)partition);
        eddy_buf l = {0};
        eddy_metrics_label(&l, "source", s->name);
        eddy_metrics_label(&l, "topic", topic);
        eddy_metrics_label(&l, "partition", num);
        if (eddy_buf_putc(&l, '\0') == 0)
            p->lag = eddy_metrics_get(s->env->metrics, "eddy_kafka_consumer_lag",
                                      "Messages in the partition after the last one delivered "
                                      "(high watermark minus position)",
                                      EDDY_METRIC_GAUGE, (const char *)l.data);
        eddy_buf_free(&l);
    }
    return p;
}

/* Consumed but undelivered messages of a partition that is going away: the
 * next owner reads them again from the committed offset. */
static void drop_pending(ksrc *s, const char *topic, int32_t partition)
{
    uint32_t j = 0;
    for (uint32_t i = 0; i < s->npend; i++) {
        rd_kafka_message_t *m = s->pend[i];
        if (m->partition == partition && strcmp(rd_kafka_topic_name(m->rkt), topic) == 0)
            rd_kafka_message_destroy(m);
        else
            s->pend[j++] = m;
    }
    s->npend = j;
}

static void part_remove(ksrc *s, ksrc_part *p)
{
    if (p->lag)
        eddy_metric_set(p->lag, 0); /* another worker reports it now */
    *p = s->parts[--s->nparts];
}

static void log_part(ksrc *s, const char *what, const rd_kafka_topic_partition_list_t *l)
{
    char buf[512];
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < l->cnt && n < sizeof buf - 32; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s[%d]", i ? " " : "", l->elems[i].topic,
                              (int)l->elems[i].partition);
    eddy_log(EDDY_LOG_INFO, (const char *[]){"source", s->name, NULL}, "kafka %s: %s", what,
             l->cnt ? buf : "(none)");
}

static void check_error(ksrc *s, rd_kafka_error_t *e, const char *what)
{
    if (!e)
        return;
    eddy_ksrc_fatal(s, "%s failed: %s", what, rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
}

static void on_assign(ksrc *s, rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts, int coop)
{
    log_part(s, "partitions assigned", parts);
    s->ever_assigned = 1;
    atomic_store(&s->joined, 1);
    for (int i = 0; i < parts->cnt; i++) {
        ksrc_part *p = part_add(s, parts->elems[i].topic, parts->elems[i].partition);
        if (!p) {
            eddy_ksrc_fatal(s, "cannot track partition %s[%d] (out of memory)",
                            parts->elems[i].topic, (int)parts->elems[i].partition);
            continue;
        }
        if (!s->closing && s->env && s->env->assigned_at) {
            /* The runtime restores the partition's state, then says where
             * that state ends: reading starts there. */
            int64_t at = s->env->assigned_at(s->env->arg, p->vpart);
            if (at >= 0)
                parts->elems[i].offset = at;
        } else if (!s->closing && s->env && s->env->assigned) {
            s->env->assigned(s->env->arg, p->vpart);
        }
    }
    if (coop) {
        check_error(s, rd_kafka_incremental_assign(rk, parts), "incremental assign");
    } else {
        rd_kafka_resp_err_t e = rd_kafka_assign(rk, parts);
        if (e)
            eddy_ksrc_fatal(s, "assign failed: %s", rd_kafka_err2str(e));
    }
    /* New partitions join a paused source paused. */
    if (s->paused)
        rd_kafka_pause_partitions(rk, parts);
}

static void on_revoke(ksrc *s, rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts, int coop)
{
    int lost = rd_kafka_assignment_lost(rk);
    log_part(s, lost ? "partitions lost (their offsets may not commit)" : "partitions revoked",
             parts);
    for (int i = 0; i < parts->cnt; i++) {
        const char *topic = parts->elems[i].topic;
        int32_t partition = parts->elems[i].partition;
        drop_pending(s, topic, partition);
        ksrc_part *p = NULL;
        for (uint32_t k = 0; k < s->nparts && !p; k++)
            if (s->parts[k].partition == partition && strcmp(s->topics[s->parts[k].topic], topic) == 0)
                p = &s->parts[k];
        if (!p)
            continue;
        /* The runtime flushes its sinks and commits (synchronously: we are
         * in_rebalance) before the partition leaves this worker. */
        if (!s->closing && s->env && lost && s->env->lost)
            s->env->lost(s->env->arg, p->vpart);
        else if (!s->closing && s->env && s->env->revoked)
            s->env->revoked(s->env->arg, p->vpart);
        part_remove(s, p);
    }
    if (coop) {
        check_error(s, rd_kafka_incremental_unassign(rk, parts), "incremental unassign");
    } else {
        rd_kafka_resp_err_t e = rd_kafka_assign(rk, NULL);
        if (e && !s->closing)
            eddy_ksrc_fatal(s, "unassign failed: %s", rd_kafka_err2str(e));
    }
}

void eddy_ksrc_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    ksrc *s = opaque;
    const char *proto = rd_kafka_rebalance_protocol(rk);
    int coop = proto && strcmp(proto, "COOPERATIVE") == 0;
    s->in_rebalance = 1;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        on_assign(s, rk, parts, coop);
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        on_revoke(s, rk, parts, coop);
    } else {
        eddy_log(EDDY_LOG_WARN, (const char *[]){"source", s->name, NULL},
                 "kafka rebalance error, dropping the assignment: %s", rd_kafka_err2str(err));
        on_revoke(s, rk, parts, 0);
    }
    s->in_rebalance = 0;
}

void eddy_ksrc_commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    (void)rk;
    ksrc *s = opaque;
    if (err == RD_KAFKA_RESP_ERR__NO_OFFSET)
        return;
    for (int i = 0; !err && offsets && i < offsets->cnt; i++)
        err = offsets->elems[i].err;
    if (!err)
        return;
    eddy_metric_add(s->m_errors, 1);
    eddy_kafka_log_limited(&s->rl_commit, EDDY_LOG_WARN, (const char *[]){"source", s->name, NULL},
                           "kafka offset commit failed (the next commit covers it): %s",
                           rd_kafka_err2str(err));
}

int eddy_ksrc_commit(void *self, int32_t vpart, int64_t offset)
{
    ksrc *s = self;
    ksrc_part *p = eddy_ksrc_part(s, vpart);
    if (!p || offset < 0)
        return EDDY_ENOTFOUND;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    if (!l)
        return EDDY_ENOMEM;
    rd_kafka_topic_partition_list_add(l, s->topics[p->topic], p->partition)->offset = offset + 1;
    /* Inside a rebalance the partition leaves right after: the commit must
     * have landed before that, so it waits. Otherwise it is asynchronous
     * and the result comes back through eddy_ksrc_commit_cb. */
    rd_kafka_resp_err_t e = rd_kafka_commit(s->rk, l, s->in_rebalance ? 0 : 1);
    if (!e && s->in_rebalance)
        e = l->elems[0].err;
    rd_kafka_topic_partition_list_destroy(l);
    if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET) {
        eddy_metric_add(s->m_errors, 1);
        eddy_kafka_log_limited(&s->rl_commit, EDDY_LOG_WARN,
                               (const char *[]){"source", s->name, NULL},
                               "kafka offset commit of %s[%d] at %lld failed: %s",
                               s->topics[p->topic], (int)p->partition, (long long)offset + 1,
                               rd_kafka_err2str(e));
        return EDDY_EIO;
    }
    p->committed = offset + 1;
    return 0;
}

void eddy_ksrc_commit_final(ksrc *s)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)s->nparts);
    if (!l)
        return;
    for (uint32_t i = 0; i < s->nparts; i++)
        if (s->parts[i].committed >= 0)
            rd_kafka_topic_partition_list_add(l, s->topics[s->parts[i].topic],
                                              s->parts[i].partition)
                ->offset = s->parts[i].committed;
    if (l->cnt) {
        rd_kafka_resp_err_t e = rd_kafka_commit(s->rk, l, 0);
        if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET)
            eddy_log(EDDY_LOG_WARN, (const char *[]){"source", s->name, NULL},
                     "kafka final offset commit failed: %s", rd_kafka_err2str(e));
    }
    rd_kafka_topic_partition_list_destroy(l);
}

const char *eddy_ksrc_partition_topic(void *self, int32_t vpart, int32_t *partition)
{
    ksrc *s = self;
    uint32_t ti = (uint32_t)vpart >> KSRC_PART_BITS;
    if (ti >= s->ntopics)
        return NULL;
    *partition = vpart & ((1 << KSRC_PART_BITS) - 1);
    return s->topics[ti];
}

int eddy_ksrc_pause(void *self, int paused)
{
    ksrc *s = self;
    s->paused = !!paused;
    rd_kafka_topic_partition_list_t *a = NULL;
    rd_kafka_resp_err_t e = rd_kafka_assignment(s->rk, &a);
    if (!e && a->cnt)
        e = paused ? rd_kafka_pause_partitions(s->rk, a) : rd_kafka_resume_partitions(s->rk, a);
    if (a)
        rd_kafka_topic_partition_list_destroy(a);
    if (e) {
        eddy_log(EDDY_LOG_WARN, (const char *[]){"source", s->name, NULL}, "kafka %s failed: %s",
                 paused ? "pause" : "resume", rd_kafka_err2str(e));
        return EDDY_EIO;
    }
    return 0;
}

/* librdkafka caches each partition's high watermark from fetch responses;
 * reading it is local and cheap, but once a second is plenty for a gauge. */
void eddy_ksrc_lag(ksrc *s)
{
    int64_t now = eddy_ksrc_now_ms();
    if (now - s->lag_at_ms < 1000)
        return;
    s->lag_at_ms = now;
    for (uint32_t i = 0; i < s->nparts; i++) {
        ksrc_part *p = &s->parts[i];
        int64_t lo, hi;
        if (!p->lag || rd_kafka_get_watermark_offsets(s->rk, s->topics[p->topic], p->partition,
                                                      &lo, &hi) != 0 || hi < 0)
            continue;
        int64_t pos = p->next >= 0 ? p->next : p->committed >= 0 ? p->committed : lo;
        if (pos < 0)
            continue;
        eddy_metric_set(p->lag, (double)(hi > pos ? hi - pos : 0));
    }
}

/* Exactly-once, after an aborted transaction: the runtime has dropped the
 * tasks of this source; every assigned partition is handed back to the
 * consumer from its last committed position, its state restored again
 * first (assigned_at), as on a fresh assignment. Prefetched records are
 * dropped: they are read again. */
int eddy_ksrc_rewind(void *self)
{
    ksrc *s = self;
    for (uint32_t i = 0; i < s->npend; i++)
        rd_kafka_message_destroy(s->pend[i]);
    s->npend = 0;
    rd_kafka_topic_partition_list_t *a = NULL;
    rd_kafka_resp_err_t e = rd_kafka_assignment(s->rk, &a);
    if (e || !a) {
        eddy_ksrc_fatal(s, "rewind: cannot read the assignment: %s", rd_kafka_err2str(e));
        return EDDY_EIO;
    }
    const char *proto = rd_kafka_rebalance_protocol(s->rk);
    int coop = proto && strcmp(proto, "COOPERATIVE") == 0;
    if (coop) {
        rd_kafka_error_t *err = rd_kafka_incremental_unassign(s->rk, a);
        check_error(s, err, "rewind: incremental unassign");
    } else if ((e = rd_kafka_assign(s->rk, NULL))) {
        eddy_ksrc_fatal(s, "rewind: unassign failed: %s", rd_kafka_err2str(e));
    }
    for (int i = 0; i < a->cnt; i++) {
        a->elems[i].offset = RD_KAFKA_OFFSET_INVALID; /* the committed offset */
        ksrc_part *p = part_add(s, a->elems[i].topic, a->elems[i].partition);
        if (!p)
            continue;
        p->next = -1;
        p->eof = 0;
        if (s->env && s->env->assigned_at) {
            int64_t at = s->env->assigned_at(s->env->arg, p->vpart);
            if (at >= 0)
                a->elems[i].offset = at;
        }
    }
    if (coop) {
        check_error(s, rd_kafka_incremental_assign(s->rk, a), "rewind: incremental assign");
    } else if ((e = rd_kafka_assign(s->rk, a))) {
        eddy_ksrc_fatal(s, "rewind: assign failed: %s", rd_kafka_err2str(e));
    }
    if (s->paused)
        rd_kafka_pause_partitions(s->rk, a);
    rd_kafka_topic_partition_list_destroy(a);
    eddy_log(EDDY_LOG_WARN, (const char *[]){"source", s->name, NULL},
             "rewound every partition to its last committed transaction");
    return s->fatal ? EDDY_EIO : 0;
}
