/* Generator: reproducibility, distributions, drift, anomalies, partitions,
 * rate, and rejected specs. All draws use fixed seeds: deterministic. */
#include <time.h>
#include <math.h>

#include "tests/unit/connectors/conn_util.h"

static const eddy_source_ops *G;

static void *open_gen(const char *yaml, char *err, size_t errlen)
{
    eddy_opts *o = opts_yaml(G->options, yaml, err, errlen);
    if (!o)
        return NULL;
    void *s = NULL;
    int rc = G->open(o, "gen", NULL, &s, err, errlen);
    eddy_opts_free(o);
    return rc == 0 ? s : NULL;
}

static eddy_batch *gen_all(const char *yaml, uint32_t max)
{
    char err[512] = "";
    void *s = open_gen(yaml, err, sizeof err);
    CHECK_MSG(s != NULL, "%s", err);
    if (!s)
        return NULL;
    eddy_batch *all = eddy_batch_new(1024, 0);
    int rc = drain(G, s, all, max, err, sizeof err);
    CHECK_MSG(rc == EDDY_EEOF, "%d %s", rc, err);
    G->close(s);
    return all;
}

/* Every record as JSON lines, with key, time and partition. */
static char *render(const eddy_batch *b)
{
    eddy_buf out = {0};
    for (uint32_t i = 0; b && i < b->n; i++) {
        const eddy_record *r = &b->recs[i];
        eddy_buf_printf(&out, "%d %lld %lld ", (int)r->partition, (long long)r->offset,
                        (long long)r->ts);
        eddy_value_to_json(&r->key, &out);
        eddy_buf_putc(&out, ' ');
        eddy_record_to_json(r, &out);
        eddy_buf_putc(&out, '\n');
    }
    eddy_buf_putc(&out, '\0');
    return (char *)out.data;
}

static const char *MIX = "count: 3000\nrate: 0\nkeys: 20\npartitions: 3\ndisorder: 5ms\n"
                         "fields:\n"
                         "  amount: normal(50, 10)\n"
                         "  merchant: 'categorical(acme:0.7, bobs:0.2, \"c, d\":0.1)'\n"
                         "  n: int(1, 6)\n"
                         "  flag: bernoulli(0.3)\n"
                         "  k: seq()\n"
                         "  c: const(hello)\n";

static void test_reproducible(void)
{
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "seed: 7\n%s", MIX);
    eddy_batch *a = gen_all(yaml, 100), *b = gen_all(yaml, 7);
    snprintf(yaml, sizeof yaml, "seed: 8\n%s", MIX);
    eddy_batch *c = gen_all(yaml, 100);
    char *ta = render(a), *tb = render(b), *tc = render(c);
    CHECK(a && a->n == 3000);
    /* Same seed: byte-identical, whatever the poll size. Records of a
     * partition come in the same order; polls interleave partitions
     * differently, so compare partition by partition. */
    for (int p = 0; p < 3; p++) {
        eddy_buf x = {0}, y = {0};
        for (const char *l = ta; *l; l = strchr(l, '\n') + 1)
            if (atoi(l) == p)
                eddy_buf_put(&x, l, (size_t)(strchr(l, '\n') + 1 - l));
        for (const char *l = tb; *l; l = strchr(l, '\n') + 1)
            if (atoi(l) == p)
                eddy_buf_put(&y, l, (size_t)(strchr(l, '\n') + 1 - l));
        CHECK(x.len > 0 && x.len == y.len && memcmp(x.data, y.data, x.len) == 0);
        eddy_buf_free(&x);
        eddy_buf_free(&y);
    }
    CHECK(strcmp(ta, tc) != 0);
    CHECK_CONTAINS(ta, "\"c\":\"hello\"");
    CHECK_CONTAINS(ta, "\"merchant\":\"c, d\"");
    free(ta);
    free(tb);
    free(tc);
    eddy_batch_destroy(a);
    eddy_batch_destroy(b);
    eddy_batch_destroy(c);
}

static void test_record_shape(void)
{
    eddy_batch *a = gen_all("count: 50\nrate: 0\nkeys: 5\nkey_field: device_id\n"
                            "start_time: 1000\nevent_interval: 2s\nfields: {v: seq()}\n", 16);
    CHECK(a && a->n == 50);
    for (uint32_t i = 0; a && i < a->n; i++) {
        const eddy_record *r = &a->recs[i];
        CHECK(r->ts == 1000 + 2000LL * i && field_int(r, "ts") == r->ts);
        CHECK(field_int(r, "v") == (int64_t)i && r->offset == (int64_t)i);
        CHECK(r->key.type == EDDY_STRING && r->key.len >= 8 && memcmp(r->key.u.s, "device-", 7) == 0);
        CHECK(eddy_value_equal(field(r, "device_id"), &r->key));
        int k = atoi(r->key.u.s + 7);
        CHECK(k >= 0 && k < 5);
    }
    eddy_batch_destroy(a);
    /* The default start is 2026-01-01T00:00:00Z. */
    a = gen_all("count: 1\n", 16);
    CHECK(a && a->n == 1 && a->recs[0].ts == 1767225600000LL);
    CHECK(a && a->recs[0].key.type == EDDY_STRING && memcmp(a->recs[0].key.u.s, "user-", 5) == 0);
    eddy_batch_destroy(a);
}

static void test_distributions(void)
{
    eddy_batch *a = gen_all("seed: 42\ncount: 100000\nrate: 0\nfields:\n"
                            "  nrm: normal(50, 10)\n"
                            "  uni: uniform(0, 10)\n"
                            "  exp: exponential(2)\n"
                            "  lgn: lognormal(0, 0.5)\n"
                            "  psn: poisson(4)\n"
                            "  big: poisson(100)\n"
                            "  die: int(1, 6)\n"
                            "  cat: categorical(a:0.7, b:0.2, c:0.1)\n"
                            "  eq: categorical(x, y)\n"
                            "  coin: bernoulli(0.3)\n"
                            "  num: const(2.5)\n",
                            4096);
    if (!a || a->n != 100000) {
        CHECK(0);
        eddy_batch_destroy(a);
        return;
    }
    double s[8] = {0}, sq = 0;
    double cat_a = 0, eq_x = 0, coin = 0;
    int die_ok = 1, types_ok = 1;
    for (uint32_t i = 0; i < a->n; i++) {
        const eddy_record *r = &a->recs[i];
        static const char *names[] = {"nrm", "uni", "exp", "lgn", "psn", "big", "die"};
        for (int k = 0; k < 7; k++)
            s[k] += field_num(r, names[k]);
        sq += pow(field_num(r, "nrm") - 50, 2);
        int64_t d = field_int(r, "die");
        die_ok &= d >= 1 && d <= 6;
        types_ok &= field(r, "psn")->type == EDDY_INT && field(r, "nrm")->type == EDDY_DOUBLE &&
                    field(r, "coin")->type == EDDY_BOOL && field(r, "num")->type == EDDY_DOUBLE;
        cat_a += field_is(r, "cat", "a");
        eq_x += field_is(r, "eq", "x");
        coin += field(r, "coin")->u.b;
    }
    double n = a->n;
    CHECK_MSG(fabs(s[0] / n - 50) < 0.2, "normal mean %g", s[0] / n);
    CHECK_MSG(fabs(sqrt(sq / n) - 10) < 0.2, "normal sd %g", sqrt(sq / n));
    CHECK_MSG(fabs(s[1] / n - 5) < 0.05, "uniform mean %g", s[1] / n);
    CHECK_MSG(fabs(s[2] / n - 0.5) < 0.01, "exponential mean %g", s[2] / n);
    CHECK_MSG(fabs(s[3] / n - exp(0.125)) < 0.01, "lognormal mean %g", s[3] / n);
    CHECK_MSG(fabs(s[4] / n - 4) < 0.05, "poisson(4) mean %g", s[4] / n);
    CHECK_MSG(fabs(s[5] / n - 100) < 0.3, "poisson(100) mean %g", s[5] / n);
    CHECK_MSG(fabs(s[6] / n - 3.5) < 0.03, "int mean %g", s[6] / n);
    CHECK(die_ok && types_ok);
    CHECK_MSG(fabs(cat_a / n - 0.7) < 0.01, "categorical a %g", cat_a / n);
    CHECK_MSG(fabs(eq_x / n - 0.5) < 0.01, "categorical x %g", eq_x / n);
    CHECK_MSG(fabs(coin / n - 0.3) < 0.01, "bernoulli %g", coin / n);
    CHECK(field_num(&a->recs[0], "num") == 2.5);
    eddy_batch_destroy(a);
}

static void test_drift(void)
{
    eddy_batch *a = gen_all("count: 300\nrate: 0\nstart_time: 0\nevent_interval: 1ms\n"
                            "fields: {x: const(1), y: seq()}\n"
                            "drift: {x: const(2)}\ndrift_at: 100ms\ndrift_for: 50ms\n",
                            64);
    CHECK(a && a->n == 300);
    int ok = 1;
    for (uint32_t i = 0; a && i < a->n; i++) {
        const eddy_record *r = &a->recs[i];
        int64_t want = r->ts >= 100 && r->ts < 150 ? 2 : 1;
        ok &= field_int(r, "x") == want;
        ok &= field_int(r, "y") == (int64_t)i; /* fields without drift unchanged */
    }
    CHECK(ok);
    eddy_batch_destroy(a);
    /* drift_for 0: the drift stays. */
    a = gen_all("count: 300\nrate: 0\nstart_time: 0\nfields: {x: 'normal(0, 1)'}\n"
                "drift: {x: 'uniform(100, 101)'}\ndrift_at: 200ms\n",
                64);
    ok = a && a->n == 300;
    for (uint32_t i = 0; a && i < a->n; i++)
        ok &= (field_num(&a->recs[i], "x") >= 100) == (a->recs[i].ts >= 200);
    CHECK(ok);
    eddy_batch_destroy(a);
}

static void test_anomalies(void)
{
    const char *base = "seed: 3\ncount: 20000\nrate: 0\nfields: {v: const(5), w: 'normal(0, 1)', "
                       "i: 'int(10, 20)'}\nanomaly_fields: [v, i]\nlabel_field: is_anomaly\n";
    char yaml[512];
    snprintf(yaml, sizeof yaml, "%sanomaly_rate: 0.1\nanomaly_scale: 10\n", base);
    eddy_batch *a = gen_all(yaml, 512);
    snprintf(yaml, sizeof yaml, "%sanomaly_rate: 0\n", base);
    eddy_batch *clean = gen_all(yaml, 512);
    CHECK(a && clean && a->n == 20000 && clean->n == 20000);
    if (!a || !clean || a->n != clean->n) {
        eddy_batch_destroy(a);
        eddy_batch_destroy(clean);
        return;
    }
    double labelled = 0;
    int ok = 1, clean_ok = 1;
    for (uint32_t i = 0; i < a->n; i++) {
        const eddy_record *r = &a->recs[i], *c = &clean->recs[i];
        const eddy_value *l = field(r, "is_anomaly");
        ok &= l && l->type == EDDY_BOOL;
        if (!l)
            continue;
        labelled += l->u.b;
        ok &= field_int(r, "v") == (l->u.b ? 50 : 5);
        ok &= field(r, "i")->type == EDDY_INT;
        ok &= field_int(r, "i") == field_int(c, "i") * (l->u.b ? 10 : 1);
        /* Anomalies do not change the other draws of an event. */
        ok &= field_num(r, "w") == field_num(c, "w");
        clean_ok &= field(c, "is_anomaly")->u.b == 0;
    }
    CHECK(ok && clean_ok);
    CHECK_MSG(fabs(labelled / a->n - 0.1) < 0.01, "anomaly rate %g", labelled / a->n);
    eddy_batch_destroy(a);
    eddy_batch_destroy(clean);
}

static void test_partitions(void)
{
    char err[512] = "";
    void *s = open_gen("count: 2000\nrate: 0\nkeys: 50\npartitions: 4\nfields: {i: seq()}\n", err,
                       sizeof err);
    CHECK_MSG(s != NULL, "%s", err);
    if (!s)
        return;
    CHECK(G->partitions(s) == 4);
    eddy_batch *b = eddy_batch_new(64, 0);
    int32_t key_part[50];
    int64_t next_off[4] = {0}, last_i[4] = {-1, -1, -1, -1};
    for (int k = 0; k < 50; k++)
        key_part[k] = -1;
    int total = 0, ok = 1, prev = -1, cycled = 1, rc;
    while ((rc = G->poll(s, b, 37, 0, err, sizeof err)) != EDDY_EEOF) {
        if (rc < 0)
            break;
        if (rc > 0) {
            if (prev >= 0 && total < 1500) /* while all partitions still have events */
                cycled &= b->partition == (prev + 1) % 4;
            prev = b->partition;
        }
        for (uint32_t i = 0; i < b->n; i++) {
            const eddy_record *r = &b->recs[i];
            int k = atoi(r->key.u.s + 5);
            ok &= r->partition == b->partition && strcmp(r->topic, "gen") == 0;
            ok &= key_part[k] < 0 || key_part[k] == r->partition; /* a key stays put */
            key_part[k] = r->partition;
            ok &= r->offset == next_off[r->partition]++;
            ok &= field_int(r, "i") > last_i[r->partition]; /* index order */
            last_i[r->partition] = field_int(r, "i");
            total++;
        }
        eddy_batch_reset(b);
    }
    CHECK(rc == EDDY_EEOF);
    CHECK(ok && cycled);
    CHECK(total == 2000);
    int used = 0;
    for (int p = 0; p < 4; p++)
        used += next_off[p] > 0;
    CHECK(used == 4);
    eddy_batch_destroy(b);
    G->close(s);
}

static void test_rate(void)
{
    char err[512] = "";
    /* One event every 2 s: the first goes at once, the next is not due. */
    void *s = open_gen("rate: 0.5\n", err, sizeof err);
    CHECK_MSG(s != NULL, "%s", err);
    if (!s)
        return;
    eddy_batch *b = eddy_batch_new(64, 0);
    CHECK(G->poll(s, b, 100, 0, err, sizeof err) == 1);
    eddy_batch_reset(b);
    CHECK(G->poll(s, b, 100, 0, err, sizeof err) == 0);
    eddy_batch_destroy(b);
    G->close(s);
}

/* Event time follows the rate unless event_interval is set (issue 15: rate
 * 200 with the fixed 1 ms ran event time at 0.2x the wall clock). */
static void test_event_interval_follows_rate(void)
{
    static const struct {
        const char *yaml;
        int64_t step;
    } cases[] = {
        {"count: 3\nrate: 200\n", 5},
        {"count: 3\nrate: 200\nevent_interval: 2ms\n", 2},
        {"count: 3\nrate: 0\n", 1},
        {"count: 3\nrate: 4000\n", 0}, /* 0.25 ms: events 0 and 1 share a millisecond */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        eddy_batch *b = gen_all(cases[c].yaml, 100);
        if (!b)
            continue;
        CHECK_MSG(b->n == 3, "%s: %u events", cases[c].yaml, b->n);
        if (b->n == 3)
            CHECK_MSG(b->recs[1].ts - b->recs[0].ts == cases[c].step &&
                          b->recs[2].ts - b->recs[0].ts ==
                              (cases[c].step ? 2 * cases[c].step : 0),
                      "%s: times %lld %lld %lld", cases[c].yaml, (long long)b->recs[0].ts,
                      (long long)b->recs[1].ts, (long long)b->recs[2].ts);
        eddy_batch_destroy(b);
    }
}

static void bad(const char *yaml, const char *want)
{
    char err[512] = "";
    void *s = open_gen(yaml, err, sizeof err);
    CHECK_MSG(s == NULL, "accepted: %s", yaml);
    if (s)
        G->close(s);
    CHECK_CONTAINS(err, want);
}

static void test_bad_specs(void)
{
    bad("fields: {x: normal(1)}", "fields.x: normal(mu, sigma) takes 2 arguments, found 1");
    bad("fields: {x: 'gauss(1, 2)'}", "fields.x: unknown distribution 'gauss'");
    bad("fields: {x: 'normal(1, -2)'}", "sigma must be >= 0, found -2");
    bad("fields: {x: 'normal(a, 1)'}", "mu must be a number, found 'a'");
    bad("fields: {x: 'uniform(5, 1)'}", "a must be <= b");
    bad("fields:\n  x: uniform(5, 1)\n  x: const(1)", "x");
    bad("fields: {x: 'categorical(a:0.5, b)'}", "give a weight to every value or to none");
    bad("fields: {x: 'categorical(a:0, b:1)'}", "weight of 'a' must be > 0");
    bad("fields: {x: categorical()}", "needs at least one value");
    bad("fields: {x: bernoulli(1.5)}", "p must be in [0, 1], found 1.5");
    bad("fields: {x: 'int(1.5, 3)'}", "a must be an integer, found '1.5'");
    bad("fields: {x: exponential(0)}", "lambda must be > 0");
    bad("fields: {x: seq(1)}", "seq() takes 0 arguments, found 1");
    bad("fields: {x: normal 1}", "fields.x: expected a distribution such as normal(0, 1)");
    bad("fields: {x: 'normal(1, 2'}", "expected a distribution");
    bad("fields: {ts: const(1)}", "fields.ts: this field is set by the generator itself");
    bad("fields: {user_id: const(1)}", "key_field");
    bad("fields: {x: const(1)}\ndrift: {y: const(2)}\ndrift_at: 1s",
        "drift.y: not a field of `fields`");
    bad("fields: {x: const(1)}\ndrift: {x: const(2)}", "needs drift_at > 0");
    bad("fields: {x: const(1)}\ndrift_at: 1s", "drift_at is set but `drift` names no fields");
    bad("fields: {x: const(1)}\ndrift: {x: 'normal(0)'}\ndrift_at: 1s", "drift.x: normal(mu");
    bad("fields: {x: const(1)}\nanomaly_rate: 0.1", "needs anomaly_fields");
    bad("fields: {m: 'categorical(a, b)'}\nanomaly_rate: 0.1\nanomaly_fields: [m]",
        "'m' is not numeric");
    bad("fields: {x: const(1)}\nanomaly_rate: 0.1\nanomaly_fields: [q]", "'q' is not a field");
    bad("label_field: ts", "label_field");
}

/* start_time: now starts event time at the wall clock (the quick start's
 * read-back age, issue 15.8); anything but ms or now is refused. */
static void test_start_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    int64_t now = (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
    eddy_batch *a = gen_all("count: 3\nrate: 0\nstart_time: now\n", 8);
    CHECK(a && a->n == 3);
    if (a)
        CHECK_MSG(a->recs[0].ts >= now - 1000 && a->recs[0].ts <= now + 60000,
                  "first event time %lld, wall clock %lld", (long long)a->recs[0].ts,
                  (long long)now);
    eddy_batch_destroy(a);
    a = gen_all("count: 3\nrate: 0\nstart_time: 1000\n", 8);
    CHECK(a && a->n == 3 && a->recs[0].ts == 1000);
    eddy_batch_destroy(a);
    char err[512] = "";
    CHECK(open_gen("count: 3\nstart_time: later\n", err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "start_time: expected milliseconds since the epoch");
    CHECK(open_gen("count: 3\nstart_time: -5\n", err, sizeof err) == NULL);
}

int main(void)
{
    G = eddy_source_find("generator");
    CHECK(G != NULL);
    if (!G)
        return test_report();
    test_reproducible();
    test_record_shape();
    test_distributions();
    test_drift();
    test_anomalies();
    test_partitions();
    test_rate();
    test_event_interval_follows_rate();
    test_bad_specs();
    test_start_now();
    return test_report();
}
