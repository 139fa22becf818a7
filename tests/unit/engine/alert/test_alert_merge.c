/* One alert per alert key across a step's partitions (engine/alert/
 * alert_merge.c) and the instance state it works with (check_ex, check_sev,
 * state_sent). */
#include <stdlib.h>
#include <string.h>

#include "engine/alert/alert.h"
#include "engine/core/error.h"
#include "tests/unit/test.h"

static const char K[] = "distribution\x1f" "amount\x1f";
#define KL (sizeof K - 1)

/* Six partitions see the same drift: one firing, one resolve, one id. */
static void six_partitions(void)
{
    eddy_alert_merge *m = eddy_alert_merge_new();
    int who[6];
    uint64_t out = 0, first = 0;
    int sent = 0;
    for (int p = 0; p < 6; p++) {
        sent += eddy_alert_merge_fire(m, K, KL, &who[p], 100 + (uint64_t)p, 1, 1, &out, NULL);
        if (p == 0)
            first = out;
        CHECK_MSG(out == first, "partition %d got id %llu, expected the first's %llu", p,
                  (unsigned long long)out, (unsigned long long)first);
    }
    CHECK_MSG(sent == 1, "%d firings sent for one drift on six partitions, expected 1", sent);
    CHECK(first == 100);
    CHECK(eddy_alert_merge_open(m) == 1);
    int resolved = 0;
    for (int p = 0; p < 6; p++) {
        int r = eddy_alert_merge_resolve(m, K, KL, &who[p], first, &out, NULL);
        CHECK_MSG(r == (p == 5), "partition %d resolve answered %d", p, r);
        resolved += r;
        CHECK(out == first);
    }
    CHECK(resolved == 1);
    CHECK(eddy_alert_merge_open(m) == 0);
    eddy_alert_merge_free(m);
}

/* A warning that becomes a change: the same alert again, more severe. */
static void escalation(void)
{
    eddy_alert_merge *m = eddy_alert_merge_new();
    int a, b;
    uint64_t out;
    CHECK(eddy_alert_merge_fire(m, K, KL, &a, 7, EDDY_SEV_WARNING, 1, &out, NULL) == 1);
    CHECK(eddy_alert_merge_fire(m, K, KL, &a, 7, EDDY_SEV_WARNING, 0, &out, NULL) == 0);
    CHECK(eddy_alert_merge_fire(m, K, KL, &b, 9, EDDY_SEV_WARNING, 1, &out, NULL) == 0 && out == 7);
    CHECK(eddy_alert_merge_fire(m, K, KL, &a, 7, EDDY_SEV_CRITICAL, 0, &out, NULL) == 1 && out == 7);
    CHECK(eddy_alert_merge_fire(m, K, KL, &b, 7, EDDY_SEV_CRITICAL, 0, &out, NULL) == 0);
    eddy_alert_merge_free(m);
}

/* An instance restored firing joins silently; one that goes away (its
 * partition revoked) leaves the alert to the others; a key the table never
 * saw resolves with the instance's own id. */
static void restore_and_forget(void)
{
    eddy_alert_merge *m = eddy_alert_merge_new();
    int a, b, c;
    uint64_t out;
    CHECK(eddy_alert_merge_fire(m, K, KL, &a, 5, 1, 0, &out, NULL) == 0 && out == 5);
    CHECK(eddy_alert_merge_fire(m, K, KL, &b, 6, 1, 1, &out, NULL) == 0 && out == 5);
    eddy_alert_merge_forget(m, &a);
    CHECK(eddy_alert_merge_open(m) == 1);
    CHECK(eddy_alert_merge_resolve(m, K, KL, &b, 5, &out, NULL) == 1 && out == 5);
    CHECK(eddy_alert_merge_resolve(m, K, KL, &c, 42, &out, NULL) == 1 && out == 42);
    /* Many keys, then forget one instance everywhere (erase shifts). */
    char k[32];
    for (int i = 0; i < 500; i++) {
        snprintf(k, sizeof k, "d\x1f" "f\x1fkey%d", i);
        eddy_alert_merge_fire(m, k, strlen(k), &a, (uint64_t)i + 1, 1, 1, &out, NULL);
        if (i % 2)
            eddy_alert_merge_fire(m, k, strlen(k), &b, 1000, 1, 1, &out, NULL);
    }
    CHECK(eddy_alert_merge_open(m) == 500);
    eddy_alert_merge_forget(m, &a);
    CHECK_MSG(eddy_alert_merge_open(m) == 250, "open after forget: %u, expected 250",
              eddy_alert_merge_open(m));
    for (int i = 1; i < 500; i += 2) {
        snprintf(k, sizeof k, "d\x1f" "f\x1fkey%d", i);
        CHECK(eddy_alert_merge_resolve(m, k, strlen(k), &b, 0, &out, NULL) == 1 &&
              out == (uint64_t)i + 1);
    }
    CHECK(eddy_alert_merge_open(m) == 0);
    eddy_alert_merge_free(m);
}

/* resolve: false clears silently, and the next firing is a new alert. */
static void silent_clear(void)
{
    eddy_alert_policy p;
    eddy_alert_policy_defaults(&p);
    p.resolve = false;
    eddy_alert_state *s = eddy_alert_state_new(&p);
    eddy_alert_merge *m = eddy_alert_merge_new();
    uint64_t id = 0, out;
    eddy_alert_suppress why;
    int firing;
    CHECK(eddy_alert_check_ex(s, K, KL, 1, 1000, &id, &why, &firing) == EDDY_ALERT_FIRING);
    CHECK(firing == 1);
    CHECK(eddy_alert_merge_fire(m, K, KL, s, id, 1, 1, &out, NULL) == 1);
    uint64_t first = out;
    /* check_ex says the clear (the caller sends nothing); check hides it. */
    CHECK(eddy_alert_check_ex(s, K, KL, 0, 2000, &id, &why, &firing) == EDDY_ALERT_RESOLVED);
    CHECK(firing == 0);
    CHECK(eddy_alert_merge_resolve(m, K, KL, s, id, &out, NULL) == 1);
    CHECK(eddy_alert_check_ex(s, K, KL, 1, 3000, &id, &why, &firing) == EDDY_ALERT_FIRING);
    CHECK(eddy_alert_merge_fire(m, K, KL, s, id, 1, 1, &out, NULL) == 1 && out != first);
    /* state_sent: the instance's resolve then carries the merged id. */
    eddy_alert_state_sent(s, K, KL, 77, 1);
    CHECK(eddy_alert_check_ex(s, K, KL, 1, 4000, &id, &why, &firing) == EDDY_ALERT_NONE);
    CHECK(firing == 1 && id == 77);
    CHECK(eddy_alert_check(s, K, KL, 0, 5000, &id, &why) == EDDY_ALERT_NONE);
    eddy_alert_merge_free(m);
    eddy_alert_state_free(s);
}

/* Restored instances join at restore: the first to clear does not resolve
 * the alert the other still fires. */
static void restored_join(void)
{
    eddy_alert_merge *m = eddy_alert_merge_new();
    int a, b;
    uint64_t out;
    eddy_alert_merge_join(m, K, KL, &a, 9, EDDY_SEV_WARNING);
    eddy_alert_merge_join(m, K, KL, &b, 9, EDDY_SEV_WARNING);
    CHECK(eddy_alert_merge_open(m) == 1);
    CHECK(eddy_alert_merge_resolve(m, K, KL, &a, 9, &out, NULL) == 0);
    CHECK(eddy_alert_merge_resolve(m, K, KL, &b, 9, &out, NULL) == 1 && out == 9);
    eddy_alert_merge_free(m);
}

/* check_sev: the severity the firing alert was sent with, kept when it is
 * the highest, durable (version 2), unknown for version 1 state. */
typedef struct {
    char key[64];
    size_t klen;
    uint8_t data[128];
    size_t len;
    int n;
} one_rec;

static int keep_rec(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
    one_rec *r = arg;
    if (kl && v && kl <= sizeof r->key && vl <= sizeof r->data) {
        memcpy(r->key, k, kl);
        r->klen = kl;
        memcpy(r->data, v, vl);
        r->len = vl;
        r->n++;
    }
    return 0;
}

static void sent_severity(void)
{
    eddy_alert_policy p;
    eddy_alert_policy_defaults(&p);
    eddy_alert_state *s = eddy_alert_state_new(&p);
    uint64_t id = 0;
    eddy_alert_suppress why;
    int firing, sev;
#define CHK(breach, t, want_rc, want_sev)                                                       \
    do {                                                                                       \
        int rc_ = eddy_alert_check_sev(s, K, KL, breach, t, &id, &why, &firing, &sev);         \
        CHECK_MSG(rc_ == (want_rc) && sev == (want_sev),                                       \
                  "t=%d: rc %d sent severity %d, expected rc %d severity %d", t, rc_, sev,     \
                  want_rc, want_sev);                                                          \
    } while (0)
    CHK(1, 1000, EDDY_ALERT_FIRING, -1); /* not sent yet */
    eddy_alert_state_sent(s, K, KL, id, EDDY_SEV_WARNING);
    CHK(1, 1001, EDDY_ALERT_NONE, EDDY_SEV_WARNING);
    eddy_alert_state_sent(s, K, KL, id, EDDY_SEV_INFO); /* never lowered */
    CHK(1, 1002, EDDY_ALERT_NONE, EDDY_SEV_WARNING);
    eddy_alert_state_sent(s, K, KL, id, EDDY_SEV_CRITICAL);
    CHK(1, 1003, EDDY_ALERT_NONE, EDDY_SEV_CRITICAL);
    /* Durable: a restored instance knows the alert went out as critical. */
    one_rec r = {0};
    CHECK(eddy_alert_state_flush(s, keep_rec, &r) == 0 && r.n == 1);
    CHECK(eddy_alert_state_version() == 2);
    eddy_alert_state *t = eddy_alert_state_new(&p);
    CHECK(eddy_alert_state_load(t, r.key, r.klen, 2, r.data, r.len) == 0);
    int tf, tsev;
    uint64_t tid;
    CHECK(eddy_alert_check_sev(t, K, KL, 1, 1004, &tid, &why, &tf, &tsev) == EDDY_ALERT_NONE);
    CHECK_MSG(tf == 1 && tid == id && tsev == EDDY_SEV_CRITICAL,
              "restored: firing %d id %llx severity %d", tf, (unsigned long long)tid, tsev);
    eddy_alert_state_free(t);
    /* Version 1 (no severity byte) still loads, the severity unknown. */
    t = eddy_alert_state_new(&p);
    CHECK(eddy_alert_state_load(t, r.key, r.klen, 1, r.data, r.len - 1) == 0);
    CHECK(eddy_alert_state_load(t, r.key, r.klen, 1, r.data, r.len) == EDDY_EINVAL);
    CHECK(eddy_alert_state_load(t, r.key, r.klen, 3, r.data, r.len) == EDDY_EINVAL);
    CHECK(eddy_alert_check_sev(t, K, KL, 1, 1004, &tid, &why, &tf, &tsev) == EDDY_ALERT_NONE);
    CHECK(tf == 1 && tid == id && tsev == -1);
    eddy_alert_state_free(t);
    /* The check that resolves it says the severity it was sent with. */
    CHK(0, 2000, EDDY_ALERT_RESOLVED, EDDY_SEV_CRITICAL);
    CHK(0, 2001, EDDY_ALERT_NONE, -1);
    /* A new firing starts again from nothing. */
    CHK(1, 3000, EDDY_ALERT_FIRING, -1);
#undef CHK
    eddy_alert_state_free(s);
}

int main(void)
{
    sent_severity();
    six_partitions();
    escalation();
    restore_and_forget();
    silent_clear();
    restored_join();
    return test_report();
}
