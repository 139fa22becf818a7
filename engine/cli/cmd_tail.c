/* `eddy tail TOPIC`: the records of a topic, decoded with the engine's
 * codecs, one readable line (or JSON object) each. Partitions are assigned
 * directly from metadata under a throwaway group id that never joins or
 * commits, so tailing never disturbs a consumer group. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "codec.h"
#include "config.h"
#include "connectors/kafka/kafka_conf.h"
#include "connectors/kafka/topics.h"
#include "runtime.h"
#include "sym.h"

#define MAX_SCHEMAS 32

static const char tail_usage[] =
    "usage: eddy tail TOPIC [-c FILE | --brokers HOST:PORT] [options]\n"
    "\n"
    "Prints the records of a Kafka topic, decoded, one line each: time, partition/offset,\n"
    "key, then the fields (amount=12.5 merchant=\"acme\"). A record that cannot be decoded\n"
    "is printed as ERROR with the reason and the byte where decoding failed; tail goes on.\n"
    "Without -f it reads every partition from its first retained record up to the end\n"
    "present at start-up and exits; with -f it waits for new records until interrupted.\n"
    "It joins no consumer group and commits nothing.\n"
    "\n"
    "  -c, --config FILE      take kafka.brokers and kafka.properties (e.g. SASL) from FILE\n"
    "  --brokers HOST:PORT    brokers to read from (default localhost:9092; overrides -c)\n"
    "  --format F             json (default), msgpack or avro\n"
    "  --schema FILE          Avro schema (.avsc) of the records; with --confluent give\n"
    "                         ID=FILE for each schema registry id (repeatable)\n"
    "  --confluent            payloads use the Confluent wire format (magic byte, schema id)\n"
    "  --json                 one JSON object per record: partition, offset, timestamp, key,\n"
    "                         value (or error)\n"
    "  -f, --follow           keep waiting for new records (start at the end)\n"
    "  --from-beginning       with -f, start at the first retained record\n"
    "  -n, --count N          stop after N records\n"
    "  --timeout DURATION     how long to wait for the brokers, and without -f for the next\n"
    "                         record, before giving up (default 10s)\n"
    "\n"
    "Exit codes: 0 done (or interrupted), 1 cannot connect, topic missing or no progress,\n"
    "2 usage, 3 invalid config.\n";

typedef struct tail_opts {
    const char *topic, *config, *brokers, *format;
    const char *schemas[MAX_SCHEMAS];
    int nschemas;
    int confluent, json, follow, from_beginning;
    long long count; /* 0: no limit */
    int timeout_ms;
} tail_opts;

typedef struct part {
    int32_t id;
    int64_t stop; /* offset after the last record to print; -1 = follow */
    int done;
} part;

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char last_log[512];

/* librdkafka retries on its own; its last warning explains a timeout. */
static void keep_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    (void)fac;
    if (level > 4)
        return;
    pthread_mutex_lock(&log_mu);
    snprintf(last_log, sizeof last_log, "%s", buf);
    pthread_mutex_unlock(&log_mu);
}

static void print_last_log(void)
{
    pthread_mutex_lock(&log_mu);
    if (last_log[0])
        fprintf(stderr, "  last client message: %s\n", last_log);
    pthread_mutex_unlock(&log_mu);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- output ------------------------------------------------------------- */

static int put_time(eddy_buf *out, int64_t ms)
{
    if (ms < 0)
        return eddy_buf_putc(out, '-');
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return eddy_buf_printf(out, "%lld", (long long)ms);
    return eddy_buf_printf(out, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                           (int)(ms % 1000));
}

/* Printable UTF-8 without control characters: shown as text; anything
 * else (binary keys) as hex. */
static int is_text(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
                                  : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (len == 0 || i + len > n || (len == 1 && (c < 0x20 || c == 0x7f)) ||
            (len == 2 && c < 0xc2))
            return 0;
        for (size_t k = 1; k < len; k++)
            if ((p[i + k] & 0xc0) != 0x80)
                return 0;
        i += len;
    }
    return 1;
}

static int put_key(eddy_buf *out, const rd_kafka_message_t *m, int json)
{
    const unsigned char *k = m->key;
    if (!k)
        return json ? eddy_buf_puts(out, "null") : eddy_buf_putc(out, '-');
    int rc = 0;
    if (is_text(k, m->key_len) && m->key_len > 0) {
        if (json)
            return eddy_buf_json_str(out, (const char *)k, m->key_len);
        if (!memchr(k, ' ', m->key_len) && !memchr(k, '"', m->key_len))
            return eddy_buf_put(out, k, m->key_len);
        return eddy_buf_json_str(out, (const char *)k, m->key_len);
    }
    rc |= eddy_buf_puts(out, json ? "\"0x" : "0x");
    for (size_t i = 0; i < m->key_len; i++)
        rc |= eddy_buf_printf(out, "%02x", k[i]);
    if (json)
        rc |= eddy_buf_putc(out, '"');
    return rc;
}

static int put_fields(eddy_buf *out, const eddy_record *r)
{
    int rc = 0;
    for (uint32_t i = 0; i < r->nfields; i++) {
        const eddy_field *f = &r->fields[i];
        rc |= eddy_buf_putc(out, ' ');
        rc |= eddy_buf_puts(out, eddy_sym_name(f->name));
        rc |= eddy_buf_putc(out, '=');
        rc |= eddy_value_to_json(&f->v, out);
    }
    return rc;
}

/* One line for one message; r is its decoded record (NULL: tombstone). */
static int format_line(eddy_buf *out, const rd_kafka_message_t *m, int64_t ts,
                       const eddy_record *r, int json)
{
    int rc = 0;
    if (json) {
        rc |= eddy_buf_printf(out, "{\"partition\":%d,\"offset\":%lld,\"timestamp\":", (int)m->partition,
                              (long long)m->offset);
        rc |= ts >= 0 ? eddy_buf_printf(out, "%lld", (long long)ts) : eddy_buf_puts(out, "null");
        rc |= eddy_buf_puts(out, ",\"key\":");
        rc |= put_key(out, m, 1);
        if (!r) {
            rc |= eddy_buf_puts(out, ",\"value\":null");
        } else if (r->flags & EDDY_REC_ERROR) {
            rc |= eddy_buf_puts(out, ",\"error\":");
            const char *why = r->err_reason ? r->err_reason : "cannot decode";
            rc |= eddy_buf_json_str(out, why, strlen(why));
            rc |= eddy_buf_printf(out, ",\"error_offset\":%llu", (unsigned long long)r->err_offset);
        } else {
            rc |= eddy_buf_puts(out, ",\"value\":");
            rc |= eddy_record_to_json(r, out);
        }
        return rc | eddy_buf_puts(out, "}\n");
    }
    rc |= put_time(out, ts);
    rc |= eddy_buf_printf(out, " %d/%lld ", (int)m->partition, (long long)m->offset);
    rc |= put_key(out, m, 0);
    if (!r)
        rc |= eddy_buf_puts(out, " (tombstone: no value)");
    else if (r->flags & EDDY_REC_ERROR)
        rc |= eddy_buf_printf(out, " ERROR: %s", r->err_reason ? r->err_reason : "cannot decode");
    else
        rc |= put_fields(out, r);
    return rc | eddy_buf_putc(out, '\n');
}

/* ---- set-up ------------------------------------------------------------- */

static int make_codec(const tail_opts *o, eddy_codec **codec)
{
    int fmt = eddy_format_parse(o->format);
    if (fmt < 0) {
        fprintf(stderr, "eddy tail: --format %s: expected json, msgpack or avro\n", o->format);
        return EXIT_USAGE;
    }
    eddy_codec_conf cc = {.format = (eddy_format)fmt, .confluent = o->confluent};
    eddy_schema_ref refs[MAX_SCHEMAS];
    char ids[MAX_SCHEMAS][16];
    size_t nrefs = 0;
    for (int i = 0; i < o->nschemas; i++) {
        const char *s = o->schemas[i], *eq = strchr(s, '=');
        size_t idlen = eq ? (size_t)(eq - s) : 0;
        int64_t id;
        if (eq && idlen < sizeof ids[0]) {
            memcpy(ids[i], s, idlen);
            ids[i][idlen] = 0;
        }
        if (eq && idlen < sizeof ids[0] && eddy_parse_int(ids[i], &id) == 0 && id >= 0 &&
            id <= INT32_MAX) {
            refs[nrefs].id = (int32_t)id;
            refs[nrefs++].path = eq + 1;
        } else if (o->confluent) {
            fprintf(stderr,
                    "eddy tail: --schema %s: with --confluent, give ID=FILE (the schema "
                    "registry id the payloads carry, e.g. --schema 7=payment.avsc)\n",
                    s);
            return EXIT_USAGE;
        } else if (cc.avro_schema) {
            fprintf(stderr, "eddy tail: --schema given twice without --confluent\n");
            return EXIT_USAGE;
        } else {
            cc.avro_schema = s;
        }
    }
    if (nrefs && !o->confluent) {
        fprintf(stderr, "eddy tail: --schema ID=FILE needs --confluent\n");
        return EXIT_USAGE;
    }
    if (fmt != EDDY_FMT_AVRO && (o->nschemas || o->confluent)) {
        fprintf(stderr, "eddy tail: --schema and --confluent are for --format avro\n");
        return EXIT_USAGE;
    }
    if (fmt == EDDY_FMT_AVRO && !o->nschemas) {
        fprintf(stderr, "eddy tail: --format avro needs --schema FILE (.avsc)%s\n",
                o->confluent ? ", as ID=FILE with --confluent" : "");
        return EXIT_USAGE;
    }
    cc.schemas = refs;
    cc.nschemas = nrefs;
    char err[1024];
    if (eddy_codec_new(&cc, codec, err, sizeof err) != 0) {
        fprintf(stderr, "eddy tail: %s\n", err);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* A consumer for the brokers of -c FILE or --brokers. */
static int make_consumer(const tail_opts *o, rd_kafka_t **out)
{
    eddy_cfg *cfg = NULL;
    eddy_opts *kafka = NULL;
    char err[1024];
    if (o->config) {
        if (!(cfg = eddy_cfg_load(o->config))) {
            fprintf(stderr, "eddy: out of memory loading %s\n", o->config);
            return EXIT_RUNTIME;
        }
        if (eddy_topics_load_sections(cfg, &kafka, NULL) != 0) {
            size_t n = eddy_cfg_errors(cfg);
            for (size_t i = 0; i < n; i++)
                fprintf(stderr, "%s\n", eddy_cfg_error(cfg, i));
            fprintf(stderr, "%s: %zu error%s\n", o->config, n, n == 1 ? "" : "s");
            eddy_cfg_free(cfg);
            return EXIT_CONFIG;
        }
    } else {
        if (!(kafka = eddy_opts_from_pairs(eddy_kafka_options, NULL, 0, err, sizeof err))) {
            fprintf(stderr, "eddy tail: %s\n", err);
            return EXIT_RUNTIME;
        }
    }
    const char *brokers = o->brokers ? o->brokers : eddy_opts_str(kafka, "brokers");
    int code = EXIT_OK;
    rd_kafka_conf_t *conf = NULL;
    if (brokers && strcmp(brokers, "embedded") == 0) {
        fprintf(stderr, "eddy tail: the embedded broker lives inside `eddy run` and cannot be "
                        "reached from another process; give --brokers HOST:PORT\n");
        code = EXIT_USAGE;
        goto out;
    }
    /* --brokers overrides the config's brokers and keeps its properties
     * (e.g. SASL); an `embedded` in the config must not start a broker here. */
    const char *cb = eddy_opts_str(kafka, "brokers");
    bool skip = cb && strcmp(cb, "embedded") == 0;
    if (!(conf = eddy_kafka_conf(skip ? NULL : kafka, skip ? kafka : NULL,
                                 skip ? "properties" : NULL, "tail", err, sizeof err))) {
        fprintf(stderr, "eddy tail: %s\n", err);
        code = EXIT_CONFIG;
        goto out;
    }
    char group[96], why[512];
    snprintf(group, sizeof group, "eddy-tail-%ld-%lld", (long)getpid(), (long long)time(NULL));
    const char *const props[][2] = {
        {"group.id", group},               {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"}, {"enable.partition.eof", "true"},
        {"auto.offset.reset", "earliest"},
    };
    for (size_t i = 0; i < sizeof props / sizeof props[0]; i++)
        if (rd_kafka_conf_set(conf, props[i][0], props[i][1], why, sizeof why) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "eddy tail: %s: %s\n", props[i][0], why);
            code = EXIT_RUNTIME;
            goto out;
        }
    if (o->brokers &&
        rd_kafka_conf_set(conf, "bootstrap.servers", o->brokers, why, sizeof why) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "eddy tail: --brokers %s: %s\n", o->brokers, why);
        code = EXIT_USAGE;
        goto out;
    }
    rd_kafka_conf_set_log_cb(conf, keep_log);
    if (!(*out = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why))) {
        fprintf(stderr, "eddy tail: cannot create a Kafka consumer: %s\n", why);
        code = EXIT_RUNTIME;
        goto out;
    }
    conf = NULL;
    rd_kafka_poll_set_consumer(*out);
out:
    if (conf)
        rd_kafka_conf_destroy(conf);
    eddy_opts_free(kafka);
    eddy_cfg_free(cfg);
    return code;
}

/* Partitions from metadata, each with the offset to stop at (the high
 * watermark at start-up, without -f), then assigned. */
static int assign_partitions(rd_kafka_t *rk, const tail_opts *o, part **parts, int *nparts)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, &md, o->timeout_ms);
    if (e) {
        fprintf(stderr, "eddy tail: cannot reach the Kafka brokers within %d ms: %s\n",
                o->timeout_ms, rd_kafka_err2str(e));
        print_last_log();
        return EXIT_RUNTIME;
    }
    const rd_kafka_metadata_topic_t *mt = NULL;
    for (int i = 0; i < md->topic_cnt && !mt; i++)
        if (strcmp(md->topics[i].topic, o->topic) == 0)
            mt = &md->topics[i];
    if (!mt || mt->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || mt->partition_cnt == 0) {
        fprintf(stderr, "eddy tail: topic %s does not exist\n", o->topic);
        rd_kafka_metadata_destroy(md);
        return EXIT_RUNTIME;
    }
    if (mt->err && mt->err != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE) {
        fprintf(stderr, "eddy tail: topic %s: %s\n", o->topic, rd_kafka_err2str(mt->err));
        rd_kafka_metadata_destroy(md);
        return EXIT_RUNTIME;
    }
    int n = mt->partition_cnt, code = EXIT_OK;
    part *p = calloc((size_t)n, sizeof *p);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n);
    if (!p || !l) {
        fprintf(stderr, "eddy tail: out of memory\n");
        code = EXIT_RUNTIME;
        goto out;
    }
    for (int i = 0; i < n; i++) {
        p[i].id = mt->partitions[i].id;
        p[i].stop = -1;
        int64_t start = o->follow && !o->from_beginning ? RD_KAFKA_OFFSET_END : RD_KAFKA_OFFSET_BEGINNING;
        if (!o->follow) {
            int64_t lo, hi;
            e = rd_kafka_query_watermark_offsets(rk, o->topic, p[i].id, &lo, &hi, o->timeout_ms);
            if (e) {
                fprintf(stderr, "eddy tail: %s [%d]: cannot read the offsets within %d ms: %s\n",
                        o->topic, (int)p[i].id, o->timeout_ms, rd_kafka_err2str(e));
                print_last_log();
                code = EXIT_RUNTIME;
                goto out;
            }
            p[i].stop = hi;
            p[i].done = hi <= lo;
            start = lo;
        }
        if (!p[i].done)
            rd_kafka_topic_partition_list_add(l, o->topic, p[i].id)->offset = start;
    }
    if (l->cnt && (e = rd_kafka_assign(rk, l)) != 0) {
        fprintf(stderr, "eddy tail: cannot assign the partitions of %s: %s\n", o->topic,
                rd_kafka_err2str(e));
        code = EXIT_RUNTIME;
    }
out:
    if (l)
        rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_metadata_destroy(md);
    if (code != EXIT_OK) {
        free(p);
        return code;
    }
    *parts = p;
    *nparts = n;
    return EXIT_OK;
}

/* ---- the loop ----------------------------------------------------------- */

typedef struct tail_state {
    const tail_opts *o;
    eddy_codec *codec;
    eddy_batch *batch;
    eddy_buf line;
    part *parts;
    int nparts, left;
    long long printed, errors;
} tail_state;

static part *find_part(tail_state *s, int32_t id)
{
    for (int i = 0; i < s->nparts; i++)
        if (s->parts[i].id == id)
            return &s->parts[i];
    return NULL;
}

static void finish_part(tail_state *s, part *p)
{
    if (p && !p->done) {
        p->done = 1;
        s->left--;
    }
}

static int print_message(tail_state *s, const rd_kafka_message_t *m)
{
    eddy_batch_reset(s->batch);
    eddy_record *r = NULL;
    rd_kafka_timestamp_type_t tst;
    int64_t ts = rd_kafka_message_timestamp(m, &tst);
    if (m->payload) {
        if (!(r = eddy_batch_append(s->batch)))
            return -1;
        r->ts = ts >= 0 ? ts : EDDY_TS_NONE;
        r->partition = m->partition;
        r->offset = m->offset;
        r->topic = s->o->topic;
        eddy_codec_decode(s->codec, s->batch, r, m->payload, m->len);
        s->errors += (r->flags & EDDY_REC_ERROR) != 0;
    }
    eddy_buf_reset(&s->line);
    if (format_line(&s->line, m, ts, r, s->o->json) != 0)
        return -1;
    fwrite(s->line.data, 1, s->line.len, stdout);
    s->printed++;
    return 0;
}

/* 0 go on, 1 stop, <0 failed (said why). */
static int handle(tail_state *s, rd_kafka_message_t *m)
{
    part *p = find_part(s, m->partition);
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (!s->o->follow)
            finish_part(s, p);
        return 0;
    }
    if (m->err) {
        fprintf(stderr, "eddy tail: %s\n", rd_kafka_message_errstr(m));
        return m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                       m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
                       m->err == RD_KAFKA_RESP_ERR__AUTHENTICATION
                   ? -1
                   : 0;
    }
    if (!p || (p->stop >= 0 && m->offset >= p->stop)) {
        finish_part(s, p);
        return 0;
    }
    if (print_message(s, m) != 0) {
        fprintf(stderr, "eddy tail: out of memory printing a record\n");
        return -1;
    }
    if (p->stop >= 0 && m->offset + 1 >= p->stop)
        finish_part(s, p);
    return s->o->count && s->printed >= s->o->count ? 1 : 0;
}

static int tail_loop(tail_state *s, rd_kafka_t *rk)
{
    int64_t last = now_ms();
    while (!interrupted && (s->o->follow || s->left > 0)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m) {
            if (s->o->follow) {
                fflush(stdout);
            } else if (now_ms() - last > s->o->timeout_ms) {
                fprintf(stderr,
                        "eddy tail: no record from %d partition%s of %s for %d ms before "
                        "reaching its end; stopping\n",
                        s->left, s->left == 1 ? "" : "s", s->o->topic, s->o->timeout_ms);
                print_last_log();
                return EXIT_RUNTIME;
            }
            continue;
        }
        last = now_ms();
        int rc = handle(s, m);
        rd_kafka_message_destroy(m);
        if (rc < 0)
            return EXIT_RUNTIME;
        if (rc > 0)
            break;
    }
    return EXIT_OK;
}

static int tail(const tail_opts *o)
{
    tail_state s = {.o = o};
    rd_kafka_t *rk = NULL;
    int code = make_codec(o, &s.codec);
    if (code == EXIT_OK)
        code = make_consumer(o, &rk);
    if (code == EXIT_OK)
        code = assign_partitions(rk, o, &s.parts, &s.nparts);
    if (code == EXIT_OK && !(s.batch = eddy_batch_new(1, (size_t)256 << 20))) {
        fprintf(stderr, "eddy tail: out of memory\n");
        code = EXIT_RUNTIME;
    }
    if (code == EXIT_OK) {
        for (int i = 0; i < s.nparts; i++)
            s.left += !s.parts[i].done;
        struct sigaction sa = {.sa_handler = on_signal};
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        code = tail_loop(&s, rk);
        fflush(stdout);
        fprintf(stderr, "%lld record%s (%lld malformed) from %d partition%s of %s\n", s.printed,
                s.printed == 1 ? "" : "s", s.errors, s.nparts, s.nparts == 1 ? "" : "s", o->topic);
    }
    if (rk) {
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
    }
    eddy_buf_free(&s.line);
    if (s.batch)
        eddy_batch_destroy(s.batch);
    eddy_codec_destroy(s.codec);
    free(s.parts);
    return code;
}

int cmd_tail(int argc, char **argv)
{
    tail_opts o = {.format = "json", .timeout_ms = 10000};
    const char *timeout = NULL;
    static const struct option longopts[] = {
        {"config", required_argument, 0, 'c'},   {"brokers", required_argument, 0, 'b'},
        {"format", required_argument, 0, 'F'},   {"schema", required_argument, 0, 's'},
        {"confluent", no_argument, 0, 'C'},      {"json", no_argument, 0, 'j'},
        {"from-beginning", no_argument, 0, 'B'}, {"follow", no_argument, 0, 'f'},
        {"count", required_argument, 0, 'n'},    {"timeout", required_argument, 0, 't'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0},
    };
    int c;
    int64_t v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:fn:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': o.config = optarg; break;
        case 'b': o.brokers = optarg; break;
        case 'F': o.format = optarg; break;
        case 's':
            if (o.nschemas == MAX_SCHEMAS) {
                fprintf(stderr, "eddy tail: at most %d --schema\n", MAX_SCHEMAS);
                return EXIT_USAGE;
            }
            o.schemas[o.nschemas++] = optarg;
            break;
        case 'C': o.confluent = 1; break;
        case 'j': o.json = 1; break;
        case 'B': o.from_beginning = 1; break;
        case 'f': o.follow = 1; break;
        case 'n':
            if (eddy_parse_int(optarg, &v) != 0 || v < 1) {
                fprintf(stderr, "eddy tail: --count %s: expected a number >= 1\n", optarg);
                return EXIT_USAGE;
            }
            o.count = v;
            break;
        case 't': timeout = optarg; break;
        case 'h': fputs(tail_usage, stdout); return EXIT_OK;
        default: fputs(tail_usage, stderr); return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fputs(tail_usage, stderr);
        return EXIT_USAGE;
    }
    o.topic = argv[optind];
    if (timeout) {
        char err[256];
        bool bad = eddy_parse_duration(timeout, &v, err, sizeof err) != 0;
        if (bad || v < 1 || v > 3600000) {
            fprintf(stderr, "eddy tail: --timeout %s: %s\n", timeout,
                    bad ? err : "expected between 1ms and 1h");
            return EXIT_USAGE;
        }
        o.timeout_ms = (int)v;
    }
    return tail(&o);
}
