/* `eddy tail` and `eddy topics` end to end against librdkafka's mock
 * cluster: records produced in each format and read back by the eddy
 * binary (EDDY_BIN); topic plans of a config. */
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/connectors/kafka/topics_util.h"

#include "engine/core/batch.h"
#include "engine/format/codec.h"
#include "engine/core/sym.h"

#define TS 1700000000000LL /* 2023-11-14T22:13:20.000Z */

static const char schema[] = "{\"type\":\"record\",\"name\":\"Payment\",\"fields\":["
                             "{\"name\":\"amount\",\"type\":\"double\"},"
                             "{\"name\":\"merchant\",\"type\":\"string\"}]}";

static char schema_path[256], config_path[256];
static char out[65536];

/* Runs eddy with args; stdout and stderr in `out`; the exit code. */
static int run(const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", EDDY_BIN, args);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static size_t count_lines(const char *s, const char *needle)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void produce(rd_kafka_t *p, const char *topic, int32_t part, const char *key, size_t klen,
                    const void *val, size_t vlen)
{
    rd_kafka_resp_err_t e =
        rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(part),
                          RD_KAFKA_V_KEY(key, klen), RD_KAFKA_V_VALUE((void *)val, vlen),
                          RD_KAFKA_V_TIMESTAMP(TS), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_END);
    CHECK_MSG(e == 0, "produce %s: %s", topic, rd_kafka_err2str(e));
}

/* The payment record encoded by the engine's codec. */
static void encode_payment(eddy_format fmt, int confluent, eddy_buf *buf)
{
    eddy_schema_ref ref = {7, schema_path};
    eddy_codec_conf cc = {.format = fmt};
    if (fmt == EDDY_FMT_AVRO && confluent) {
        cc.confluent = 1;
        cc.schemas = &ref;
        cc.nschemas = 1;
        cc.write_schema_id = 7;
    } else if (fmt == EDDY_FMT_AVRO) {
        cc.avro_schema = schema_path;
    }
    eddy_codec *c = NULL;
    char err[512];
    CHECK_MSG(eddy_codec_new(&cc, &c, err, sizeof err) == 0, "%s", err);
    eddy_batch *b = eddy_batch_new(1, 0);
    eddy_record *r = eddy_batch_append(b);
    eddy_record_push(b, r, eddy_sym_intern("amount", 6), eddy_v_double(12.5));
    eddy_record_push(b, r, eddy_sym_intern("merchant", 8), eddy_v_str("acme", 4));
    eddy_buf_reset(buf);
    CHECK_MSG(c && eddy_codec_encode(c, r, buf, err, sizeof err) == 0, "%s", err);
    eddy_batch_destroy(b);
    eddy_codec_destroy(c);
}

static void fill(mock *m)
{
    static const char *const topics[] = {"t-json", "t-msgpack", "t-avro", "t-confluent", "t-empty"};
    for (size_t i = 0; i < sizeof topics / sizeof topics[0]; i++)
        CHECK(rd_kafka_mock_topic_create(m->mc, topics[i], 2, 1) == 0);
    char err[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", m->bootstraps, err, sizeof err);
    rd_kafka_conf_set_log_cb(c, mock_quiet_log);
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    CHECK_MSG(p != NULL, "%s", err);
    if (!p)
        return;
    const char good[] = "{\"amount\":12.5,\"merchant\":\"acme\"}";
    produce(p, "t-json", 0, "k1", 2, good, strlen(good));
    produce(p, "t-json", 0, "\x01\x02", 2, "{\"amount\":", 10);
    const char other[] = "{\"amount\":7,\"tags\":[\"a\"]}";
    produce(p, "t-json", 1, "k 3", 3, other, strlen(other));
    produce(p, "t-json", 1, "k4", 2, NULL, 0);
    eddy_buf buf = {0};
    encode_payment(EDDY_FMT_MSGPACK, 0, &buf);
    produce(p, "t-msgpack", 1, "m1", 2, buf.data, buf.len);
    produce(p, "t-msgpack", 1, "m2", 2, "\xc1", 1); /* never used in msgpack */
    encode_payment(EDDY_FMT_AVRO, 0, &buf);
    produce(p, "t-avro", 0, "a1", 2, buf.data, buf.len);
    encode_payment(EDDY_FMT_AVRO, 1, &buf);
    produce(p, "t-confluent", 0, "c1", 2, buf.data, buf.len);
    produce(p, "t-confluent", 0, "c2", 2, "\x00\x00\x00\x00\x09\x02", 6); /* unknown id 9 */
    eddy_buf_free(&buf);
    CHECK(rd_kafka_flush(p, 10000) == 0);
    rd_kafka_destroy(p);
}

static void test_formats(const char *bs)
{
    char args[1024];
    snprintf(args, sizeof args, "tail t-json --brokers %s", bs);
    CHECK_MSG(run(args) == 0, "%s", out);
    CHECK_CONTAINS(out, "2023-11-14T22:13:20.000Z 0/0 k1 amount=12.5 merchant=\"acme\"\n");
    CHECK_CONTAINS(out, "2023-11-14T22:13:20.000Z 0/1 0x0102 ERROR: unexpected end of input "
                        "(expected a value) at byte 10\n");
    CHECK_CONTAINS(out, "1/0 \"k 3\" amount=7 tags=[\"a\"]\n");
    CHECK_CONTAINS(out, "1/1 k4 (tombstone: no value)\n");
    CHECK_CONTAINS(out, "4 records (1 malformed) from 2 partitions of t-json");

    snprintf(args, sizeof args, "tail t-json --brokers %s --json", bs);
    CHECK_MSG(run(args) == 0, "%s", out);
    CHECK_CONTAINS(out, "{\"partition\":0,\"offset\":0,\"timestamp\":1700000000000,\"key\":\"k1\","
                        "\"value\":{\"amount\":12.5,\"merchant\":\"acme\"}}\n");
    CHECK_CONTAINS(out, "{\"partition\":0,\"offset\":1,\"timestamp\":1700000000000,"
                        "\"key\":\"0x0102\",\"error\":\"");
    CHECK_CONTAINS(out, "\"key\":\"k4\",\"value\":null}\n");

    snprintf(args, sizeof args, "tail t-msgpack --brokers %s --format msgpack", bs);
    CHECK_MSG(run(args) == 0, "%s", out);
    CHECK_CONTAINS(out, "1/0 m1 amount=12.5 merchant=\"acme\"\n");
    CHECK_CONTAINS(out, "1/1 m2 ERROR: ");
    CHECK_CONTAINS(out, "2 records (1 malformed)");

    snprintf(args, sizeof args, "tail t-avro --brokers %s --format avro --schema %s", bs,
             schema_path);
    CHECK_MSG(run(args) == 0, "%s", out);
    CHECK_CONTAINS(out, "0/0 a1 amount=12.5 merchant=\"acme\"\n");

    snprintf(args, sizeof args, "tail t-confluent --brokers %s --format avro --confluent --schema 7=%s",
             bs, schema_path);
    CHECK_MSG(run(args) == 0, "%s", out);
    CHECK_CONTAINS(out, "0/0 c1 amount=12.5 merchant=\"acme\"\n");
    CHECK_CONTAINS(out, "0/1 c2 ERROR: unknown schema id 9 at byte 1");

    /* Avro without the framing it expects: an error per record, no abort. */
    snprintf(args, sizeof args, "tail t-confluent --brokers %s --format avro --schema %s", bs,
             schema_path);
    CHECK_MSG(run(args) == 0, "%s", out);
    CHECK(count_lines(out, "ERROR: ") >= 1);
}

static void test_modes(const char *bs)
{
    char args[1024];
    snprintf(args, sizeof args, "tail t-json --brokers %s -n 1", bs);
    CHECK_MSG(run(args) == 0, "%s", out);
    CHECK_CONTAINS(out, "1 record (");
    CHECK(count_lines(out, "2023-11-14T") == 1);

    /* Following from the beginning, stopped by the count. */
    snprintf(args, sizeof args, "tail t-json --brokers %s -f --from-beginning --count 4", bs);
    CHECK_MSG(run(args) == 0, "%s", out);
    CHECK_CONTAINS(out, "4 records (1 malformed)");

    snprintf(args, sizeof args, "tail t-empty --brokers %s", bs);
    CHECK_MSG(run(args) == 0, "%s", out);
    CHECK_CONTAINS(out, "0 records (0 malformed) from 2 partitions of t-empty");

    /* Brokers from a config file. */
    FILE *f = fopen(config_path, "w");
    CHECK(f != NULL);
    if (f) {
        fprintf(f, "kafka:\n  brokers: \"%s\"\n", bs);
        fclose(f);
    }
    snprintf(args, sizeof args, "tail t-avro -c %s --format avro --schema %s", config_path,
             schema_path);
    CHECK_MSG(run(args) == 0, "%s", out);
    CHECK_CONTAINS(out, "0/0 a1 amount=12.5 merchant=\"acme\"\n");
}

static void test_failures(const char *bs)
{
    char args[1024];
    snprintf(args, sizeof args, "tail nope --brokers %s", bs);
    CHECK(run(args) == 1);
    CHECK_CONTAINS(out, "eddy tail: topic nope does not exist");

    CHECK(run("tail t-json --brokers 127.0.0.1:1 --timeout 1s") == 1);
    CHECK_CONTAINS(out, "cannot reach the Kafka brokers within 1000 ms");

    CHECK(run("tail") == 2);
    CHECK_CONTAINS(out, "usage: eddy tail TOPIC");
    CHECK(run("tail t --format xml") == 2);
    CHECK_CONTAINS(out, "--format xml: expected json, msgpack or avro");
    CHECK(run("tail t --format avro") == 2);
    CHECK_CONTAINS(out, "--format avro needs --schema FILE");
    snprintf(args, sizeof args, "tail t --format avro --confluent --schema %s", schema_path);
    CHECK(run(args) == 2);
    CHECK_CONTAINS(out, "with --confluent, give ID=FILE");
    CHECK(run("tail t --count 0") == 2);
    CHECK(run("tail t --timeout 5mn") == 2);
    CHECK(run("tail t --brokers embedded") == 2);
    CHECK(run("tail --help") == 0);
    CHECK_CONTAINS(out, "Exit codes:");

    FILE *f = fopen(config_path, "w");
    if (f) {
        fputs("kafka:\n  brokerz: x\n", f);
        fclose(f);
    }
    snprintf(args, sizeof args, "tail t -c %s", config_path);
    CHECK(run(args) == 3);
    CHECK_CONTAINS(out, ":2:3: kafka.brokerz: unknown key 'brokerz'");
}

static void write_config(const char *yaml)
{
    FILE *f = fopen(config_path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(yaml, f);
        fclose(f);
    }
}

static void test_topics_cli(const char *bs)
{
    char yaml[1024], args[1024];
    snprintf(yaml, sizeof yaml,
             "kafka:\n  brokers: \"%s\"\n"
             "topics:\n  - name: t-json\n    partitions: 4\n  - name: t-avro\n    partitions: 2\n"
             "  - name: t-new\n    partitions: 3\n",
             bs);
    write_config(yaml);
    snprintf(args, sizeof args, "topics plan -c %s", config_path);
    CHECK_MSG(run(args) == 5, "%s", out);
    CHECK_CONTAINS(out, "~ t-json: partitions 2 -> 4 (keys move");
    CHECK_CONTAINS(out, "= t-avro: up to date\n");
    CHECK_CONTAINS(out, "+ create t-new (partitions 3, replication 1)\n");
    CHECK_CONTAINS(out, "2 changes pending; run `eddy topics apply -c ");

    /* The mock implements no Admin API: every action fails, clearly. */
    snprintf(args, sizeof args, "topics apply -c %s --timeout 1s", config_path);
    CHECK_MSG(run(args) == 1, "%s", out);
    CHECK_CONTAINS(out, "! t-new: create failed: ");
    CHECK_CONTAINS(out, "! t-json: add partitions failed: ");
    CHECK_CONTAINS(out, "2 of 2 changes failed");

    snprintf(yaml, sizeof yaml, "kafka:\n  brokers: \"%s\"\ntopics:\n  - name: t-avro\n    partitions: 2\n", bs);
    write_config(yaml);
    snprintf(args, sizeof args, "topics plan -c %s", config_path);
    CHECK_MSG(run(args) == 0, "%s", out);
    CHECK_CONTAINS(out, "= t-avro: up to date\nnothing to change\n");

    write_config("kafka:\n  brokers: \"127.0.0.1:1\"\ntopics:\n  - name: a\n");
    snprintf(args, sizeof args, "topics plan -c %s --timeout 1s", config_path);
    CHECK(run(args) == 1);
    CHECK_CONTAINS(out, "eddy topics plan (brokers 127.0.0.1:1): cannot get metadata from the "
                        "Kafka brokers within 1000 ms");

    write_config("topics:\n  - name: a\n    partitions: 0\n  - name: a\n");
    snprintf(args, sizeof args, "topics plan -c %s", config_path);
    CHECK(run(args) == 3);
    CHECK_CONTAINS(out, ":3:17: topics[0].partitions:");
    CHECK_CONTAINS(out, "2 errors");

    write_config("kafka:\n  brokers: h:1\n");
    snprintf(args, sizeof args, "topics plan -c %s", config_path);
    CHECK(run(args) == 0);
    CHECK_CONTAINS(out, "declares no topics");

    CHECK(run("topics") == 2);
    CHECK(run("topics shrink -c x.yaml") == 2);
    CHECK_CONTAINS(out, "unknown action 'shrink'");
    CHECK(run("topics plan") == 2);
    CHECK(run("topics plan -c x.yaml --timeout 0") == 2);
    CHECK(run("topics --help") == 0);
    CHECK_CONTAINS(out, "5 changes are pending (plan)");
}

int main(void)
{
    const char *dir = getenv("TMPDIR");
    snprintf(schema_path, sizeof schema_path, "%s/eddy-tail-%d.avsc", dir && *dir ? dir : "/tmp",
             (int)getpid());
    snprintf(config_path, sizeof config_path, "%s/eddy-tail-%d.yaml", dir && *dir ? dir : "/tmp",
             (int)getpid());
    FILE *f = fopen(schema_path, "w");
    if (!f || fputs(schema, f) < 0) {
        perror(schema_path);
        return 2;
    }
    fclose(f);
    mock m = {0};
    CHECK(mock_start(&m) == 0);
    if (m.mc) {
        fill(&m);
        test_formats(m.bootstraps);
        test_modes(m.bootstraps);
        test_failures(m.bootstraps);
        test_topics_cli(m.bootstraps);
    }
    mock_stop(&m);
    unlink(schema_path);
    unlink(config_path);
    return test_report();
}
