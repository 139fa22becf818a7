/* eddy_kafka_conf (kafka section + connector properties), secrets kept out
 * of messages, the embedded broker, and the connector option tables. */
#include "tests/unit/connectors/kafka/kafka_util.h"

static void get(rd_kafka_conf_t *c, const char *name, char *out, size_t len)
{
    size_t n = len;
    if (rd_kafka_conf_get(c, name, out, &n) != RD_KAFKA_CONF_OK)
        snprintf(out, len, "(unset)");
}

static void defaults(void)
{
    char err[512] = "", v[256];
    rd_kafka_conf_t *c = eddy_kafka_conf(NULL, NULL, NULL, NULL, err, sizeof err);
    CHECK_MSG(c != NULL, "%s", err);
    if (!c)
        return;
    get(c, "bootstrap.servers", v, sizeof v);
    CHECK_STR(v, "localhost:9092");
    get(c, "client.id", v, sizeof v);
    CHECK_STR(v, "eddy");
    rd_kafka_conf_destroy(c);
    c = eddy_kafka_conf(NULL, NULL, NULL, "payments", err, sizeof err);
    get(c, "client.id", v, sizeof v);
    CHECK_STR(v, "eddy-payments");
    rd_kafka_conf_destroy(c);
}

static void layering(void)
{
    char err[512] = "", v[256];
    eddy_opts *k = kt_opts(eddy_kafka_options,
                           (const char *[]){"brokers=b1:9092,b2:9092", "client_id=quota-id",
                                            "properties=linger.ms:7,sasl.username:eddy,acks:all"},
                           3);
    eddy_opts *x = kt_opts(eddy_kafka_sink.options,
                           (const char *[]){"topic=t", "properties=linger.ms:9"}, 2);
    rd_kafka_conf_t *c = eddy_kafka_conf(k, x, "properties", "payments", err, sizeof err);
    CHECK_MSG(c != NULL, "%s", err);
    if (c) {
        get(c, "bootstrap.servers", v, sizeof v);
        CHECK_STR(v, "b1:9092,b2:9092");
        get(c, "client.id", v, sizeof v);
        CHECK_STR(v, "quota-id"); /* exactly as given: quotas match on it */
        get(c, "linger.ms", v, sizeof v);
        CHECK_STR(v, "9"); /* the connector's map wins */
        get(c, "sasl.username", v, sizeof v);
        CHECK_STR(v, "eddy");
        rd_kafka_conf_destroy(c);
    }
    CHECK_STR(eddy_kafka_user_prop(k, x, "properties", "linger.ms"), "9");
    CHECK_STR(eddy_kafka_user_prop(k, x, "properties", "acks"), "all");
    CHECK(eddy_kafka_user_prop(k, x, "properties", "compression.type") == NULL);
    CHECK(!eddy_kafka_is_embedded(k));
    eddy_opts_free(x);
    eddy_opts_free(k);
}

static void errors_name_the_property(void)
{
    char err[512] = "";
    eddy_opts *k = kt_opts(eddy_kafka_options,
                           (const char *[]){"properties=sasl.password:hunter2-SECRET,no.such.prop:1"},
                           1);
    rd_kafka_conf_t *c = eddy_kafka_conf(k, NULL, NULL, NULL, err, sizeof err);
    CHECK(c == NULL);
    CHECK_CONTAINS(err, "no.such.prop");
    CHECK_CONTAINS(err, "kafka.properties");
    CHECK(strstr(err, "hunter2") == NULL);
    eddy_opts_free(k);

    k = kt_opts(eddy_kafka_options, (const char *[]){"properties=security.protocol:bogus"}, 1);
    c = eddy_kafka_conf(k, NULL, NULL, NULL, err, sizeof err);
    CHECK(c == NULL);
    CHECK_CONTAINS(err, "security.protocol");
    CHECK_CONTAINS(err, "bogus"); /* not a secret: librdkafka's reason is kept */
    eddy_opts_free(k);

    /* A secret's invalid value is never quoted (librdkafka's text would). */
    c = rd_kafka_conf_new();
    CHECK(eddy_kafka_conf_set(c, "test", "ssl_key", "TOPSECRET-VALUE", err, sizeof err) != 0);
    CHECK_CONTAINS(err, "ssl_key");
    CHECK_CONTAINS(err, "hidden");
    CHECK(strstr(err, "TOPSECRET") == NULL);
    rd_kafka_conf_destroy(c);

    CHECK(eddy_kafka_secret_name("sasl.password"));
    CHECK(eddy_kafka_secret_name("ssl.key.pem"));
    CHECK(eddy_kafka_secret_name("sasl.oauthbearer.client.secret"));
    CHECK(eddy_kafka_secret_name("SSL.KEYSTORE.PASSWORD"));
    CHECK(!eddy_kafka_secret_name("sasl.username"));
    CHECK(!eddy_kafka_secret_name("bootstrap.servers"));
}

static void reason_broker(void)
{
    char b[128];
    eddy_kafka_reason_broker("sasl_ssl://10.0.0.1:9093/1: SASL authentication error", b, sizeof b);
    CHECK_STR(b, "10.0.0.1:9093");
    eddy_kafka_reason_broker("sasl_plaintext://127.0.0.1:19093/bootstrap: Failed", b, sizeof b);
    CHECK_STR(b, "127.0.0.1:19093");
    eddy_kafka_reason_broker("1/1 brokers are down", b, sizeof b);
    CHECK_STR(b, "");
}

static void embedded(void)
{
    char err[512] = "", v[256];
    const char *a = eddy_kafka_embedded(err, sizeof err);
    CHECK_MSG(a != NULL, "%s", err);
    if (!a)
        return;
    char first[256];
    snprintf(first, sizeof first, "%s", a);
    CHECK(strncmp(first, "127.0.0.1:", 10) == 0);
    CHECK_STR(eddy_kafka_embedded(err, sizeof err), first); /* one per process */
    CHECK(eddy_kafka_embedded_cluster() != NULL);
    CHECK(eddy_kafka_embedded_topic("conf.t", 2, err, sizeof err) == 0);
    CHECK(eddy_kafka_embedded_topic("conf.t", 2, err, sizeof err) == 0); /* exists: fine */
    eddy_opts *k = kt_opts(eddy_kafka_options, (const char *[]){"brokers=embedded"}, 1);
    CHECK(eddy_kafka_is_embedded(k));
    rd_kafka_conf_t *c = eddy_kafka_conf(k, NULL, NULL, NULL, err, sizeof err);
    CHECK(c != NULL);
    if (c) {
        get(c, "bootstrap.servers", v, sizeof v);
        CHECK_STR(v, first);
        rd_kafka_conf_destroy(c);
    }
    eddy_opts_free(k);
    eddy_kafka_embedded_stop();
    CHECK(eddy_kafka_embedded_cluster() == NULL);
    eddy_kafka_embedded_stop(); /* twice is harmless */
    a = eddy_kafka_embedded(err, sizeof err); /* starts again on demand */
    CHECK(a != NULL);
    eddy_kafka_embedded_stop();
}

static void tables(void)
{
    CHECK(eddy_source_find("kafka") == &eddy_kafka_source);
    CHECK(eddy_sink_find("kafka") == &eddy_kafka_sink);
    const eddy_option *t[] = {eddy_kafka_source.options, eddy_kafka_sink.options};
    for (int k = 0; k < 2; k++)
        for (const eddy_option *o = t[k]; o->name; o++)
            CHECK_MSG(o->description && strlen(o->description) > 10, "option %s", o->name);
    /* Defaults of both tables parse. */
    char err[512];
    eddy_opts *o = eddy_opts_from_pairs(eddy_kafka_source.options, (const char *[]){"topics=a"}, 1,
                                        err, sizeof err);
    CHECK_MSG(o != NULL, "%s", err);
    CHECK(eddy_opts_int(o, "batch_size") == 1024);
    CHECK_STR(eddy_opts_str(o, "start"), "earliest");
    eddy_opts_free(o);
    o = eddy_opts_from_pairs(eddy_kafka_sink.options, (const char *[]){"topic=a"}, 1, err,
                             sizeof err);
    CHECK_MSG(o != NULL, "%s", err);
    CHECK(eddy_opts_int(o, "max_pending") == 100000);
    CHECK(eddy_opts_int(o, "timeout") == 30000);
    eddy_opts_free(o);
    CHECK(eddy_opts_from_pairs(eddy_kafka_source.options, NULL, 0, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "topics");
}

int main(void)
{
    eddy_log_setup(EDDY_LOG_ERROR, EDDY_LOGFMT_LOGFMT, 2);
    defaults();
    layering();
    errors_name_the_property();
    reason_broker();
    embedded();
    tables();
    return test_report();
}
