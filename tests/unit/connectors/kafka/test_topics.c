/* `topics:` parsing, and plan / apply / check against librdkafka's mock
 * cluster. The 2.0.2 mock answers metadata but none of the Admin API
 * (CreateTopics, CreatePartitions, DescribeConfigs, AlterConfigs): those
 * paths are tested here for their failure reports, and against a real
 * broker by the integration tests. */
#include "tests/unit/connectors/kafka/topics_util.h"

#include "engine/core/error.h"
#include "engine/config/options.h"
#include "connectors/kafka/kafka_conf.h"

static void test_parse_ok(void)
{
    eddy_cfg *cfg;
    eddy_topics *t = parse_topics("topics:\n"
                                  "  - name: payments\n"
                                  "    partitions: 6\n"
                                  "    replication: 3\n"
                                  "    config:\n"
                                  "      retention.ms: 604800000\n"
                                  "      cleanup.policy: compact\n"
                                  "  - name: audit.log-v1_x\n",
                                  &cfg);
    CHECK_MSG(t != NULL, "%s", cfg_errors(cfg));
    if (t) {
        CHECK(t->n == 2);
        CHECK_STR(t->v[0].name, "payments");
        CHECK(t->v[0].partitions == 6);
        CHECK(t->v[0].replication == 3);
        CHECK(t->v[0].nconfigs == 2);
        CHECK_STR(t->v[0].keys[0], "retention.ms");
        CHECK_STR(t->v[0].vals[0], "604800000");
        CHECK_STR(t->v[0].keys[1], "cleanup.policy");
        CHECK_STR(t->v[0].vals[1], "compact");
        CHECK_STR(t->v[0].where, "t.yaml:2:5");
        CHECK_STR(t->v[1].name, "audit.log-v1_x");
        CHECK(t->v[1].partitions == 1);
        CHECK(t->v[1].replication == 1);
        CHECK(t->v[1].nconfigs == 0);
    }
    eddy_topics_free(t);
    eddy_cfg_free(cfg);

    /* No section: an empty set, not an error. */
    t = parse_topics("kafka:\n  brokers: x:1\n", &cfg);
    CHECK(t && t->n == 0);
    eddy_topics_free(t);
    eddy_cfg_free(cfg);
}

static void expect_error(const char *yaml, const char *msg)
{
    eddy_cfg *cfg;
    eddy_topics *t = parse_topics(yaml, &cfg);
    CHECK_MSG(t == NULL, "accepted:\n%s", yaml);
    CHECK_CONTAINS(cfg_errors(cfg), msg);
    eddy_topics_free(t);
    eddy_cfg_free(cfg);
}

static void test_parse_errors(void)
{
    expect_error("topics:\n  - name: a\n    partitons: 3\n",
                 "t.yaml:3:5: topics[0].partitons: unknown key 'partitons'");
    expect_error("topics:\n  - name: a\n    partitions: 0\n", "t.yaml:3:17: topics[0].partitions:");
    expect_error("topics:\n  - name: a\n    replication: two\n", "t.yaml:3:18: topics[0].replication:");
    expect_error("topics:\n  - partitions: 2\n", "t.yaml:2:5: topics[0]: missing required key 'name'");
    expect_error("topics:\n  - name: a\n  - name: b\n  - name: a\n",
                 "t.yaml:4:11: topics[2].name: topic 'a' is declared twice (first at t.yaml:2:5)");
    expect_error("topics:\n  - name: \"pay ments\"\n",
                 "t.yaml:2:11: topics[0].name: topic name 'pay ments' may only hold letters");
    expect_error("topics:\n  - name: ..\n", "topic name '..' cannot be '.' or '..'");
    expect_error("topics:\n  name: a\n", "t.yaml:2:3: topics: expected a sequence of topics");
    expect_error("topics:\n  - name: a\n    config: [x]\n", "t.yaml:3:13: topics[0].config:");
    expect_error("topics:\n  - name: a\n    config:\n      retention.ms: [1]\n",
                 "topics[0].config");
    /* Every error is reported, not only the first. */
    eddy_cfg *cfg;
    eddy_topics *t = parse_topics("topics:\n  - name: a\n    partitions: -1\n  - nme: b\n", &cfg);
    CHECK(t == NULL);
    CHECK(cfg && eddy_cfg_errors(cfg) >= 2);
    eddy_topics_free(t);
    eddy_cfg_free(cfg);
}

static void test_option_table(void)
{
    for (const eddy_option *o = eddy_topic_options; o->name; o++)
        CHECK_MSG(o->description && strlen(o->description) > 10, "%s has no description", o->name);
    eddy_buf b = {0};
    CHECK(eddy_options_markdown(eddy_topic_options, &b) == 0);
    CHECK(eddy_buf_putc(&b, 0) == 0);
    CHECK_CONTAINS((const char *)b.data, "replication");
    eddy_buf_free(&b);
}

static void test_load_sections(void)
{
    const char *yaml = "kafka:\n  brokers: h:1\n  properties:\n    security.protocol: SASL_SSL\n"
                       "topics:\n  - name: a\nsources: whatever\n";
    eddy_cfg *cfg = eddy_cfg_load_string("t.yaml", yaml, strlen(yaml));
    eddy_opts *k;
    eddy_topics *t;
    CHECK(eddy_topics_load_sections(cfg, &k, &t) == 0);
    CHECK_STR(eddy_opts_str(k, "brokers"), "h:1");
    CHECK(t && t->n == 1);
    eddy_opts_free(k);
    eddy_topics_free(t);
    eddy_cfg_free(cfg);

    yaml = "kafka:\n  brokerz: h:1\n";
    cfg = eddy_cfg_load_string("t.yaml", yaml, strlen(yaml));
    CHECK(eddy_topics_load_sections(cfg, &k, NULL) == EDDY_ECONFIG);
    CHECK(k == NULL);
    CHECK_CONTAINS(cfg_errors(cfg), "t.yaml:2:3: kafka.brokerz: unknown key 'brokerz'");
    eddy_cfg_free(cfg);
}

static rd_kafka_t *client_for(const char *bootstraps)
{
    char pair[300], err[512];
    snprintf(pair, sizeof pair, "brokers=%s", bootstraps);
    const char *pairs[] = {pair};
    eddy_opts *k = eddy_opts_from_pairs(eddy_kafka_options, pairs, 1, err, sizeof err);
    rd_kafka_t *rk = k ? eddy_topics_client(k, err, sizeof err) : NULL;
    CHECK_MSG(rk != NULL, "%s", err);
    eddy_opts_free(k);
    return rk;
}

static const char *text(eddy_buf *b)
{
    if (eddy_buf_putc(b, 0) != 0)
        return "";
    b->len--;
    return (const char *)b->data;
}

static const char declared[] = "topics:\n"
                               "  - name: payments\n"
                               "    partitions: 6\n"
                               "    config:\n"
                               "      cleanup.policy: delete\n"
                               "  - name: orders\n"
                               "    partitions: 6\n"
                               "  - name: big\n"
                               "    partitions: 2\n"
                               "  - name: same\n"
                               "    partitions: 2\n"
                               "  - name: wide\n"
                               "    partitions: 1\n"
                               "    replication: 1\n";

static void test_plan_and_check(mock *m, rd_kafka_t *rk)
{
    eddy_cfg *cfg;
    eddy_topics *t = parse_topics(declared, &cfg);
    CHECK_MSG(t != NULL, "%s", cfg_errors(cfg));
    if (!t) {
        eddy_cfg_free(cfg);
        return;
    }
    CHECK(rd_kafka_mock_topic_create(m->mc, "orders", 3, 1) == 0);
    CHECK(rd_kafka_mock_topic_create(m->mc, "big", 4, 1) == 0);
    CHECK(rd_kafka_mock_topic_create(m->mc, "same", 2, 1) == 0);
    eddy_buf rep = {0};
    char err[2048] = "";
    int changes = -1, problems = -1;
    int rc = eddy_topics_plan(t, rk, 5000, &rep, &changes, &problems, err, sizeof err);
    CHECK_MSG(rc == 0, "%s", err);
    const char *r = text(&rep);
    CHECK_MSG(problems == 1, "%d differences apply cannot fix, expected 1 (big)", problems);
    CHECK_CONTAINS(r, "+ create payments (partitions 6, replication 1, cleanup.policy=delete)\n");
    CHECK_CONTAINS(r, "~ orders: partitions 3 -> 6 (keys move: a key's later records go to "
                      "another partition");
    CHECK_CONTAINS(r, "! big: has 4 partitions, declared 2 (cannot shrink)\n");
    CHECK_CONTAINS(r, "= same: up to date\n");
    CHECK_CONTAINS(r, "+ create wide (partitions 1, replication 1)\n");
    CHECK(changes == 3);
    /* Declaration order. */
    CHECK(strstr(r, "payments") < strstr(r, "orders") && strstr(r, "big") < strstr(r, "same"));

    /* Start-up check: missing topics are errors, the rest warnings. */
    eddy_buf warn = {0};
    rc = eddy_topics_check(t, rk, 5000, "pipeline.yaml", &warn, err, sizeof err);
    CHECK(rc == EDDY_ENOTFOUND);
    CHECK_STR(err, "topics payments, wide are declared but do not exist; run `eddy topics apply "
                   "-c pipeline.yaml`");
    CHECK_CONTAINS(text(&warn), "~ orders: partitions 3 -> 6 (keys move");
    CHECK_CONTAINS(text(&warn), "! big: has 4 partitions, declared 2 (cannot shrink)\n");
    CHECK(!strstr(text(&warn), "same"));

    /* The embedded cluster's way to create topics. */
    eddy_buf created = {0};
    CHECK(eddy_topics_apply_mock(t, m->mc, &created, err, sizeof err) == 0);
    CHECK_CONTAINS(text(&created), "created payments (partitions 6, replication 1)\n");
    CHECK_CONTAINS(text(&created), "created wide (partitions 1, replication 1)\n");
    CHECK(!strstr(text(&created), "orders"));

    /* Metadata now shows them (the mock applies at once, metadata may lag).
     * The same topics without configs: the mock cannot describe them. */
    eddy_topics_free(t);
    eddy_cfg_free(cfg);
    t = parse_topics("topics:\n  - name: payments\n    partitions: 6\n"
                     "  - name: orders\n    partitions: 6\n  - name: wide\n",
                     &cfg);
    for (int i = 0; i < 50; i++) {
        eddy_buf_reset(&warn);
        if ((rc = eddy_topics_check(t, rk, 5000, "pipeline.yaml", &warn, err, sizeof err)) == 0)
            break;
    }
    CHECK_MSG(rc == 0, "%s", err);
    eddy_buf_reset(&rep);
    rc = eddy_topics_plan(t, rk, 5000, &rep, &changes, NULL, err, sizeof err);
    CHECK_MSG(rc == 0, "%s", err);
    CHECK_CONTAINS(text(&rep), "= payments: up to date\n");
    CHECK_CONTAINS(text(&rep), "= wide: up to date\n");
    CHECK(changes == 1); /* orders still needs partitions */

    eddy_buf_free(&rep);
    eddy_buf_free(&warn);
    eddy_buf_free(&created);
    eddy_topics_free(t);
    eddy_cfg_free(cfg);
}

/* The mock answers no Admin API request: apply reports each failure and
 * returns an error, configs of an existing topic cannot be read, and the
 * start-up check turns that into a warning. */
static void test_admin_api_failures(mock *m, rd_kafka_t *rk)
{
    eddy_cfg *cfg;
    eddy_topics *t = parse_topics("topics:\n  - name: fresh\n    partitions: 2\n", &cfg);
    eddy_buf rep = {0};
    char err[2048] = "";
    int failures = 0;
    int rc = eddy_topics_apply(t, rk, 1000, &rep, &failures, NULL, err, sizeof err);
    CHECK(rc < 0);
    CHECK(failures == 1);
    CHECK_CONTAINS(text(&rep), "+ create fresh (partitions 2, replication 1)\n");
    CHECK_CONTAINS(text(&rep), "! fresh: create failed: ");
    CHECK_CONTAINS(err, "1 of 1 change failed");
    eddy_topics_free(t);
    eddy_cfg_free(cfg);

    CHECK(rd_kafka_mock_topic_create(m->mc, "kept", 1, 1) == 0);
    t = parse_topics("topics:\n  - name: kept\n    config:\n      retention.ms: 1000\n", &cfg);
    eddy_buf_reset(&rep);
    int changes = 0;
    rc = eddy_topics_plan(t, rk, 1000, &rep, &changes, NULL, err, sizeof err);
    CHECK(rc == EDDY_EIO);
    CHECK_CONTAINS(err, "cannot read the configs of topic kept: ");
    eddy_buf warn = {0};
    for (int i = 0; i < 50; i++) {
        eddy_buf_reset(&warn);
        if ((rc = eddy_topics_check(t, rk, 1000, "p.yaml", &warn, err, sizeof err)) == 0)
            break;
    }
    CHECK_MSG(rc == 0, "%s", err);
    CHECK_CONTAINS(text(&warn), "! kept: configs unknown: ");
    eddy_buf_free(&warn);
    eddy_buf_free(&rep);
    eddy_topics_free(t);
    eddy_cfg_free(cfg);
}

static void test_unreachable(void)
{
    /* Port 1 on loopback: nothing listens there. */
    rd_kafka_t *rk = client_for("127.0.0.1:1");
    eddy_cfg *cfg;
    eddy_topics *t = parse_topics("topics:\n  - name: a\n", &cfg);
    eddy_buf rep = {0};
    char err[2048] = "";
    int changes = 0;
    CHECK(rk && t);
    if (rk && t) {
        CHECK(eddy_topics_plan(t, rk, 1500, &rep, &changes, NULL, err, sizeof err) == EDDY_EIO);
        CHECK_CONTAINS(err, "cannot get metadata from the Kafka brokers within 1500 ms");
        CHECK(eddy_topics_check(t, rk, 1500, "p.yaml", &rep, err, sizeof err) == EDDY_EIO);
    }
    eddy_buf_free(&rep);
    eddy_topics_free(t);
    eddy_cfg_free(cfg);
    if (rk)
        rd_kafka_destroy(rk);
}

int main(void)
{
    test_parse_ok();
    test_parse_errors();
    test_option_table();
    test_load_sections();
    mock m = {0};
    CHECK(mock_start(&m) == 0);
    if (m.mc) {
        rd_kafka_t *rk = client_for(m.bootstraps);
        if (rk) {
            test_plan_and_check(&m, rk);
            test_admin_api_failures(&m, rk);
            rd_kafka_destroy(rk);
        }
    }
    mock_stop(&m);
    test_unreachable();
    return test_report();
}
