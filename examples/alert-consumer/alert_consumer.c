/* alert_consumer: read eddy's drift/anomaly alerts from a Kafka topic.
 *
 * A starting point for an on-call integration (paging, chat, a ticket): it
 * joins a consumer group, decodes each message with avro-c against eddy's
 * alert schema (configs/schemas/alert.avsc), and prints one line per alert:
 *
 *   firing critical payments/amount/ psi=6.40236 critical: distribution drift ...
 *
 * Replace print_alert() with what your integration does. Depends only on
 * librdkafka and avro-c; see README.md. */
#include <avro.h>
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: alert_consumer -b HOST:PORT -t TOPIC [options]\n"
    "\n"
    "  -b, --brokers HOST:PORT  Kafka bootstrap servers\n"
    "  -t, --topic TOPIC        the topic a step's `outputs: { alerts: ... }` writes to\n"
    "  -g, --group ID           consumer group (default eddy-alert-consumer); offsets are\n"
    "                           committed, so a restart goes on where it stopped\n"
    "  -s, --schema FILE        alert schema (default configs/schemas/alert.avsc)\n"
    "  --confluent              values use the Confluent wire format (byte 0, 4-byte\n"
    "                           schema id, then Avro); any schema id is read with FILE\n"
    "  -n, --count N            exit after N alerts (exit 1 if the timeout comes first)\n"
    "  --timeout SECONDS        exit after this long (default 30; 0 = never)\n"
    "  --latest                 a new group starts with the alerts produced from now on\n"
    "                           (default: at the oldest retained alert)\n"
    "\n"
    "Exit codes: 0 done, 1 fewer than N alerts before the timeout or a Kafka error,\n"
    "2 usage or schema error.\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *s = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (s = malloc((size_t)n + 1)) != NULL && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    fclose(f);
    if (s) {
        s[n] = '\0';
        *len = (size_t)n;
    }
    return s;
}

/* The decoder: one schema, one reusable value. */
typedef struct decoder {
    avro_schema_t schema;
    avro_value_iface_t *iface;
    avro_value_t value;
    avro_reader_t reader;
} decoder;

static int decoder_init(decoder *d, const char *path)
{
    size_t len = 0;
    char *json = read_file(path, &len);
    if (!json) {
        fprintf(stderr, "alert_consumer: cannot read the schema %s\n", path);
        return -1;
    }
    int rc = avro_schema_from_json_length(json, len, &d->schema);
    free(json);
    if (rc != 0) {
        fprintf(stderr, "alert_consumer: %s: %s\n", path, avro_strerror());
        return -1;
    }
    if (!(d->iface = avro_generic_class_from_schema(d->schema)) ||
        avro_generic_value_new(d->iface, &d->value) != 0 ||
        !(d->reader = avro_reader_memory(NULL, 0))) {
        fprintf(stderr, "alert_consumer: avro-c: %s\n", avro_strerror());
        return -1;
    }
    return 0;
}

static void decoder_free(decoder *d)
{
    if (d->reader)
        avro_reader_free(d->reader);
    if (d->iface) {
        avro_value_decref(&d->value);
        avro_value_iface_decref(d->iface);
    }
    if (d->schema)
        avro_schema_decref(d->schema);
}

/* A string field, "" when missing. */
static const char *str(avro_value_t *rec, const char *name)
{
    avro_value_t f;
    const char *s = NULL;
    size_t n = 0;
    if (avro_value_get_by_name(rec, name, &f, NULL) != 0 || avro_value_get_string(&f, &s, &n) != 0)
        return "";
    return s;
}

static double dbl(avro_value_t *rec, const char *name)
{
    avro_value_t f;
    double d = 0;
    if (avro_value_get_by_name(rec, name, &f, NULL) == 0)
        avro_value_get_double(&f, &d);
    return d;
}

/* What to do with one alert: here, one line on stdout. */
static void print_alert(avro_value_t *a)
{
    printf("%s %s %s/%s/%s %s=%.6g %s\n", str(a, "state"), str(a, "severity"),
           str(a, "pipeline"), str(a, "feature"), str(a, "key"), str(a, "statistic"),
           dbl(a, "value"), str(a, "message"));
    fflush(stdout);
}

/* avro-c allocates what a string length in the payload says before it
 * reads the string, so a foreign or corrupt message could ask for
 * gigabytes. This walks the payload against the schema first and checks
 * every length against the bytes there are; it covers the types of the
 * alert schema (records, unions and primitives). 0 and *p past the value,
 * or -1. */
static int read_varint(const unsigned char **p, const unsigned char *end, int64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        unsigned char b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1); /* zigzag */
            return 0;
        }
    }
    return -1;
}

static int check_value(avro_schema_t s, const unsigned char **p, const unsigned char *end,
                       int depth)
{
    int64_t n;
    if (depth > 16)
        return -1;
    switch (avro_typeof(s)) {
    case AVRO_NULL:
        return 0;
    case AVRO_BOOLEAN:
        return *p < end ? (*p += 1, 0) : -1;
    case AVRO_INT32:
    case AVRO_INT64:
        return read_varint(p, end, &n);
    case AVRO_FLOAT:
        return end - *p >= 4 ? (*p += 4, 0) : -1;
    case AVRO_DOUBLE:
        return end - *p >= 8 ? (*p += 8, 0) : -1;
    case AVRO_STRING:
    case AVRO_BYTES:
        if (read_varint(p, end, &n) != 0 || n < 0 || n > end - *p)
            return -1;
        *p += n;
        return 0;
    case AVRO_UNION:
        if (read_varint(p, end, &n) != 0 || n < 0 || (size_t)n >= avro_schema_union_size(s))
            return -1;
        return check_value(avro_schema_union_branch(s, (int)n), p, end, depth + 1);
    case AVRO_RECORD:
        for (size_t i = 0; i < avro_schema_record_size(s); i++)
            if (check_value(avro_schema_record_field_get_by_index(s, (int)i), p, end,
                            depth + 1) != 0)
                return -1;
        return 0;
    default:
        return -1; /* not a type of the alert schema */
    }
}

/* Decodes one message value. 0, or -1 with the reason in err. */
static int decode(decoder *d, const rd_kafka_message_t *m, int confluent, char *err, size_t n)
{
    const char *p = m->payload;
    size_t len = m->len;
    if (!p || len == 0) {
        snprintf(err, n, "empty value");
        return -1;
    }
    if (confluent) {
        if ((unsigned char)p[0] != 0 || len < 5) {
            snprintf(err, n, "not the Confluent wire format (first byte 0x%02x, %zu bytes)",
                     (unsigned char)p[0], len);
            return -1;
        }
        p += 5; /* magic byte, schema id: one schema here whatever the id */
        len -= 5;
    }
    const unsigned char *q = (const unsigned char *)p, *end = q + len;
    int bad = check_value(d->schema, &q, end, 0) != 0;
    if (bad || q != end) {
        snprintf(err, n, "not an alert record (%s at byte %zu of the Avro body)%s",
                 bad ? "truncated, or a length beyond the message" : "bytes left over",
                 (size_t)(q - (const unsigned char *)p),
                 !confluent && m->len > 5 && ((const char *)m->payload)[0] == 0
                     ? "; Confluent framing? try --confluent"
                     : "");
        return -1;
    }
    avro_reader_memory_set_source(d->reader, p, (int64_t)len);
    avro_value_reset(&d->value);
    if (avro_value_read(d->reader, &d->value) != 0) {
        snprintf(err, n, "not an alert record: %s", avro_strerror());
        return -1;
    }
    return 0;
}

typedef struct opts {
    const char *brokers, *topic, *group, *schema;
    int confluent, latest;
    long count;
    double timeout;
} opts;

static rd_kafka_t *make_consumer(const opts *o)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *const props[][2] = {
        {"bootstrap.servers", o->brokers},
        {"group.id", o->group},
        {"auto.offset.reset", o->latest ? "latest" : "earliest"},
        {"enable.auto.commit", "true"},
    };
    for (size_t i = 0; i < sizeof props / sizeof props[0]; i++)
        if (rd_kafka_conf_set(conf, props[i][0], props[i][1], err, sizeof err) !=
            RD_KAFKA_CONF_OK) {
            fprintf(stderr, "alert_consumer: %s: %s\n", props[i][0], err);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "alert_consumer: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, o->topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        fprintf(stderr, "alert_consumer: subscribe %s: %s\n", o->topic, rd_kafka_err2str(e));
        rd_kafka_destroy(rk);
        return NULL;
    }
    return rk;
}

static int parse_args(int argc, char **argv, opts *o)
{
    static const struct option longopts[] = {
        {"brokers", required_argument, 0, 'b'}, {"topic", required_argument, 0, 't'},
        {"group", required_argument, 0, 'g'},   {"schema", required_argument, 0, 's'},
        {"confluent", no_argument, 0, 'C'},     {"count", required_argument, 0, 'n'},
        {"timeout", required_argument, 0, 'T'}, {"latest", no_argument, 0, 'L'},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0},
    };
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "b:t:g:s:n:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'b': o->brokers = optarg; break;
        case 't': o->topic = optarg; break;
        case 'g': o->group = optarg; break;
        case 's': o->schema = optarg; break;
        case 'C': o->confluent = 1; break;
        case 'L': o->latest = 1; break;
        case 'n':
            o->count = strtol(optarg, &end, 10);
            if (*end || end == optarg || o->count < 1) {
                fprintf(stderr, "alert_consumer: --count %s: expected a number >= 1\n", optarg);
                return 2;
            }
            break;
        case 'T':
            o->timeout = strtod(optarg, &end);
            if (*end || end == optarg || !(o->timeout >= 0)) {
                fprintf(stderr, "alert_consumer: --timeout %s: expected seconds >= 0\n", optarg);
                return 2;
            }
            break;
        case 'h': fputs(usage, stdout); exit(0);
        default: fputs(usage, stderr); return 2;
        }
    }
    if (!o->brokers || !o->topic || optind != argc) {
        fputs(usage, stderr);
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    opts o = {.group = "eddy-alert-consumer", .schema = "configs/schemas/alert.avsc",
              .timeout = 30};
    int code = parse_args(argc, argv, &o);
    if (code)
        return code;
    decoder d = {0};
    if (decoder_init(&d, o.schema) != 0) {
        decoder_free(&d);
        return 2;
    }
    rd_kafka_t *rk = make_consumer(&o);
    if (!rk) {
        decoder_free(&d);
        return 1;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    long alerts = 0, bad = 0;
    double until = o.timeout > 0 ? now_s() + o.timeout : 0;
    code = 0;
    while (!stop && (!o.count || alerts < o.count)) {
        if (until && now_s() >= until) {
            if (o.count) {
                fprintf(stderr, "alert_consumer: timeout after %g s: %ld of %ld alerts\n",
                        o.timeout, alerts, o.count);
                code = 1;
            }
            break;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m)
            continue;
        if (m->err) {
            /* End of a partition is no error; anything else is reported,
             * and a missing topic or denied access ends the run. */
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                fprintf(stderr, "alert_consumer: %s\n", rd_kafka_message_errstr(m));
            if (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
                code = 1;
                stop = 1;
            }
        } else {
            char why[300];
            if (decode(&d, m, o.confluent, why, sizeof why) == 0) {
                print_alert(&d.value);
                alerts++;
            } else {
                fprintf(stderr, "alert_consumer: %s [%d] offset %lld: %s; skipped\n", o.topic,
                        (int)m->partition, (long long)m->offset, why);
                bad++;
            }
        }
        rd_kafka_message_destroy(m);
    }
    fprintf(stderr, "alert_consumer: %ld alert%s, %ld skipped\n", alerts, alerts == 1 ? "" : "s",
            bad);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    decoder_free(&d);
    return code;
}
