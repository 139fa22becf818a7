/* Consumer-group behaviour of the Kafka source on the embedded broker:
 * offsets committed after flush are where the group resumes; uncommitted
 * ones are read again; pause holds records back (while the group is still
 * served) and resume delivers them; a rebalance calls revoked() before the
 * partitions leave, and a commit made inside it lands. */
#include "tests/unit/connectors/kafka/kafka_util.h"

static const eddy_source_ops *ops = &eddy_kafka_source;

static void *open_src(kt_env *e, const char *topic, const char *group, const char *strategy)
{
    char tp[128], gp[128], pp[300], err[1024] = "";
    snprintf(tp, sizeof tp, "topics=%s", topic);
    snprintf(gp, sizeof gp, "group=%s", group);
    /* The embedded broker waits a departed member's whole session timeout
     * before it lets the next one join: keep it short here. */
    snprintf(pp, sizeof pp, "properties=partition.assignment.strategy:%s,session.timeout.ms:3000,"
             "heartbeat.interval.ms:300%s",
             strategy ? strategy : "cooperative-sticky", getenv("KT_DEBUG") ? ",debug:cgrp" : "");
    eddy_opts *o = kt_opts(ops->options, (const char *[]){tp, gp, pp}, 3);
    void *src = NULL;
    int rc = ops->open(o, "src", &e->env, &src, err, sizeof err);
    CHECK_MSG(rc == 0, "%s", err);
    eddy_opts_free(o); /* the source keeps nothing of its options after open */
    return rc == 0 ? src : NULL;
}

static int count_min(const eddy_batch *b)
{
    int64_t m = INT64_MAX;
    for (uint32_t i = 0; i < b->n; i++) {
        const eddy_value *c = kt_field(&b->recs[i], "count");
        if (c && c->type == EDDY_INT && c->u.i < m)
            m = c->u.i;
    }
    return b->n ? (int)m : -1;
}

static void commit_after_flush(void)
{
    kt_env e;
    kt_env_init(&e, (const char *[]){"brokers=embedded"}, 1);
    char err[1024] = "";
    if (kt_produce(&e, "grp.commit", 0, 100) != 0)
        goto out;
    /* A reads everything and commits each batch, as the runtime does once
     * its sinks flushed. */
    void *a = open_src(&e, "grp.commit", "g.commit", NULL);
    if (!a)
        goto out;
    eddy_batch *all = eddy_batch_new(128, 0);
    kt_seen seen = {0};
    CHECK(kt_consume(ops, a, all, 100, &seen, 1, err, sizeof err) == 100);
    ops->close(a);
    kt_produce(&e, "grp.commit", 100, 50);
    /* B, same group: only what came after the committed offsets. */
    void *b = open_src(&e, "grp.commit", "g.commit", NULL);
    if (b) {
        eddy_batch_reset(all);
        kt_seen s2 = {0};
        CHECK(kt_consume(ops, b, all, 50, &s2, 0, err, sizeof err) == 50);
        CHECK_MSG(count_min(all) == 100, "B started at count %d", count_min(all));
        /* Nothing more: the old records are not delivered again. */
        CHECK(kt_consume_wait(ops, b, all, 1, &s2, 0, 2000, err, sizeof err) == 0 && all->n == 50);
        ops->close(b); /* B committed nothing */
    }
    /* C, same group again: B's records were never committed, so they come
     * back (at least once). */
    void *c = open_src(&e, "grp.commit", "g.commit", NULL);
    if (c) {
        eddy_batch_reset(all);
        kt_seen s3 = {0};
        CHECK(kt_consume(ops, c, all, 50, &s3, 0, err, sizeof err) == 50);
        CHECK(count_min(all) == 100);
        ops->close(c);
    }
    eddy_batch_destroy(all);
out:
    kt_env_free(&e);
}

static void pause_resume(void)
{
    kt_env e;
    kt_env_init(&e, (const char *[]){"brokers=embedded"}, 1);
    char err[1024] = "";
    void *s = open_src(&e, "grp.pause", "g.pause", NULL);
    if (!s)
        goto out;
    /* Paused before the assignment: partitions join paused. */
    CHECK(ops->pause(s, 1) == 0);
    kt_produce(&e, "grp.pause", 0, 20);
    eddy_batch *b = eddy_batch_new(64, 0);
    int nonzero = 0, polls = 0;
    int64_t end = kt_now_ms() + 3000;
    while (kt_now_ms() < end || !e.assigned) {
        eddy_batch_reset(b);
        int n = ops->poll(s, b, 64, 50, err, sizeof err);
        nonzero += n != 0;
        polls++;
        if (kt_now_ms() > end + KT_WAIT_MS)
            break;
    }
    CHECK_MSG(e.assigned > 0, "the group was not served while paused");
    CHECK_MSG(nonzero == 0, "%d of %d polls returned records while paused", nonzero, polls);
    CHECK(ops->pause(s, 0) == 0);
    eddy_batch *all = eddy_batch_new(32, 0);
    kt_seen seen = {0};
    CHECK(kt_consume(ops, s, all, 20, &seen, 0, err, sizeof err) == 20);
    /* Pause again mid-stream: nothing more arrives until resumed. */
    CHECK(ops->pause(s, 1) == 0);
    kt_produce(&e, "grp.pause", 20, 5);
    nonzero = 0;
    for (int i = 0; i < 20; i++) {
        eddy_batch_reset(b);
        nonzero += ops->poll(s, b, 64, 50, err, sizeof err) != 0;
    }
    CHECK(nonzero == 0);
    CHECK(ops->pause(s, 0) == 0);
    eddy_batch_reset(all);
    CHECK(kt_consume(ops, s, all, 5, &seen, 0, err, sizeof err) == 5);
    CHECK(count_min(all) == 20);
    eddy_batch_destroy(all);
    eddy_batch_destroy(b);
    ops->close(s);
out:
    kt_env_free(&e);
}

/* Rebalance: F has read everything (committing nothing) when G joins. The
 * partitions F gives up are committed from inside revoked(), as the
 * runtime does; afterwards a new member H must read exactly the records of
 * the partitions F never gave up. */
static int64_t f_last[64];
static int revoked_mask, committed_mask, revoke_commits;
static void *f_src;

static int f_on_revoked(kt_env *e, int32_t vpart)
{
    (void)e;
    revoked_mask |= 1 << vpart;
    if (f_last[vpart] < 0)
        return 0;
    revoke_commits++;
    int rc = ops->commit(f_src, vpart, f_last[vpart]);
    if (rc == 0)
        committed_mask |= 1 << vpart;
    return rc;
}

static void rebalance(const char *strategy, const char *topic)
{
    int coop = strcmp(strategy, "cooperative-sticky") == 0;
    char group[64], err[1024] = "";
    snprintf(group, sizeof group, "g.%s", topic);
    kt_env ef, eg, eh;
    kt_env_init(&ef, (const char *[]){"brokers=embedded"}, 1);
    kt_env_init(&eg, (const char *[]){"brokers=embedded"}, 1);
    kt_env_init(&eh, (const char *[]){"brokers=embedded"}, 1);
    ef.on_revoked = f_on_revoked;
    revoked_mask = committed_mask = revoke_commits = 0;
    for (int i = 0; i < 64; i++)
        f_last[i] = -1;
    int per_part[64] = {0};
    eddy_batch *all = eddy_batch_new(256, 0);
    if (kt_produce(&ef, topic, 0, 200) != 0 || !(f_src = open_src(&ef, topic, group, strategy)))
        goto out;
    kt_seen seen = {0};
    CHECK(kt_consume(ops, f_src, all, 200, &seen, 0, err, sizeof err) == 200);
    CHECK(ops->partitions(f_src) == EDDY_KAFKA_EMBEDDED_PARTITIONS);
    for (uint32_t i = 0; i < all->n; i++) {
        int p = all->recs[i].partition;
        per_part[p]++;
        if (all->recs[i].offset > f_last[p])
            f_last[p] = all->recs[i].offset;
    }
    void *g = open_src(&eg, topic, group, strategy);
    if (!g) {
        ops->close(f_src);
        goto out;
    }
    eddy_batch *b = eddy_batch_new(64, 0);
    int f_records = 0, g_wrong = 0;
    int64_t end = kt_now_ms() + KT_WAIT_MS;
    while (kt_now_ms() < end &&
           !(eg.assigned > 0 && ef.revoked > 0 &&
             ops->partitions(f_src) + ops->partitions(g) == EDDY_KAFKA_EMBEDDED_PARTITIONS &&
             ops->partitions(g) > 0)) {
        eddy_batch_reset(b);
        int n = ops->poll(f_src, b, 64, 20, err, sizeof err);
        if (n > 0)
            f_records += n;
        eddy_batch_reset(b);
        n = ops->poll(g, b, 64, 20, err, sizeof err);
        if (n > 0) {
            g_wrong += (committed_mask & (1 << b->partition)) != 0 ? n : 0;
        }
    }
    CHECK_MSG(ef.revoked > 0 && eg.assigned > 0, "%s: no rebalance (revoked %d, assigned %d)",
              strategy, ef.revoked, eg.assigned);
    CHECK(ops->partitions(f_src) > 0 && ops->partitions(g) > 0);
    if (!coop) {
        /* Eager: everything is revoked, then handed out again. The embedded
         * broker refuses commits while the group rebalances (a real broker
         * accepts them in PreparingRebalance), so the commit-on-revoke
         * outcome is checked with cooperative rebalancing only. */
        /* On a loaded machine the group may rebalance more than once
         * (each time revoking everything F holds), so at least all. */
        CHECK_MSG(ef.revoked >= EDDY_KAFKA_EMBEDDED_PARTITIONS,
                  "eager: %d partitions revoked, expected all %d at least once", ef.revoked,
                  EDDY_KAFKA_EMBEDDED_PARTITIONS);
        ops->close(g);
        ops->close(f_src);
        eddy_batch_destroy(b);
        goto out;
    }
    CHECK_MSG(f_records == 0, "F read %d records again", f_records);
    /* The embedded broker sometimes refuses a commit while the group
     * rebalances (a real broker accepts it before the sync phase): only
     * the commits that succeeded inside revoked() are checked. */
    CHECK(revoke_commits > 0);
    CHECK_MSG(g_wrong == 0, "G read %d records F had committed on revoke", g_wrong);
    /* Cooperative: only what moves is revoked. */
    CHECK_MSG(ef.revoked < EDDY_KAFKA_EMBEDDED_PARTITIONS, "F had %d revocations", ef.revoked);
    ops->close(g);
    ops->close(f_src);
    int expect = 0;
    for (int p = 0; p < EDDY_KAFKA_EMBEDDED_PARTITIONS; p++)
        if (!(committed_mask & (1 << p)))
            expect += per_part[p];
    void *h = open_src(&eh, topic, group, strategy);
    if (h) {
        eddy_batch_reset(all);
        kt_seen s2 = {0};
        int got = kt_consume(ops, h, all, expect, &s2, 0, err, sizeof err);
        CHECK_MSG(got == expect, "H read %d, expected %d", got, expect);
        /* and nothing of the partitions committed on revoke */
        CHECK(kt_consume_wait(ops, h, all, 1, &s2, 0, 2000, err, sizeof err) == 0);
        int wrong = 0, hp[64] = {0};
        for (uint32_t i = 0; i < all->n; i++) {
            wrong += (committed_mask & (1 << all->recs[i].partition)) != 0;
            hp[all->recs[i].partition & 63]++;
        }
        CHECK_MSG(wrong == 0, "H read %d records of committed partitions (mask %x; F had %d/%d/%d/%d, "
                  "H got %d/%d/%d/%d)", wrong, committed_mask, per_part[0], per_part[1], per_part[2],
                  per_part[3], hp[0], hp[1], hp[2], hp[3]);
        ops->close(h);
    }
    eddy_batch_destroy(b);
out:
    eddy_batch_destroy(all);
    kt_env_free(&ef);
    kt_env_free(&eg);
    kt_env_free(&eh);
}

int main(void)
{
    eddy_log_setup(getenv("KT_DEBUG") ? EDDY_LOG_DEBUG : EDDY_LOG_WARN, EDDY_LOGFMT_LOGFMT, 2);
    commit_after_flush();
    pause_resume();
    rebalance("cooperative-sticky", "grp.coop");
    rebalance("range", "grp.eager");
    eddy_kafka_embedded_stop();
    return test_report();
}
