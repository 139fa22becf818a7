/* The Kafka side of `eddy tail` and `eddy alerts tail` (tail_util.h).
 * Partitions are assigned directly from metadata under a throwaway group id
 * that never joins or commits, so tailing never disturbs a consumer group. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "engine/format/codec.h"
#include "engine/config/config.h"
#include "connectors/kafka/kafka_conf.h"
#include "connectors/kafka/topics.h"
#include "cli/tail_util.h"

typedef struct part {
    int32_t id;
    int64_t stop; /* offset after the last record to print; -1 = follow */
    int done;
} part;

volatile sig_atomic_t tail_interrupted;

static void on_signal(int sig)
{
    (void)sig;
    tail_interrupted = 1;
}

void tail_catch_signals(void)
{
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int tail_parse_duration_opt(const char *prog, const char *opt, const char *s, int *out_ms)
{
    char err[256];
    int64_t v;
    bool bad = eddy_parse_duration(s, &v, err, sizeof err) != 0;
    if (bad || v < 1 || v > 3600000) {
        fprintf(stderr, "%s: %s %s: %s\n", prog, opt, s, bad ? err : "expected between 1ms and 1h");
        return -1;
    }
    *out_ms = (int)v;
    return 0;
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

/* ---- set-up ------------------------------------------------------------- */

static int make_codec(const tail_opts *o, eddy_codec **codec)
{
    int fmt = eddy_format_parse(o->format);
    if (fmt < 0) {
        fprintf(stderr, "%s: --format %s: expected json, msgpack or avro\n", o->prog, o->format);
        return EXIT_USAGE;
    }
    int framed = o->confluent && !o->confluent_any; /* decode() strips the header */
    eddy_codec_conf cc = {.format = (eddy_format)fmt, .confluent = framed};
    eddy_schema_ref refs[TAIL_MAX_SCHEMAS];
    char ids[TAIL_MAX_SCHEMAS][16];
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
        } else if (framed) {
            fprintf(stderr,
                    "%s: --schema %s: with --confluent, give ID=FILE (the schema "
                    "registry id the payloads carry, e.g. --schema 7=payment.avsc)\n",
                    o->prog, s);
            return EXIT_USAGE;
        } else if (cc.avro_schema) {
            fprintf(stderr, "%s: --schema given twice without --confluent\n", o->prog);
            return EXIT_USAGE;
        } else {
            cc.avro_schema = s;
        }
    }
    if (nrefs && !framed) {
        fprintf(stderr, "%s: --schema ID=FILE needs --confluent\n", o->prog);
        return EXIT_USAGE;
    }
    if (fmt != EDDY_FMT_AVRO && (o->nschemas || o->confluent)) {
        fprintf(stderr, "%s: --schema and --confluent are for --format avro\n", o->prog);
        return EXIT_USAGE;
    }
    if (fmt == EDDY_FMT_AVRO && !o->nschemas) {
        fprintf(stderr, "%s: --format avro needs --schema FILE (.avsc)%s\n", o->prog,
                framed ? ", as ID=FILE with --confluent" : "");
        return EXIT_USAGE;
    }
    cc.schemas = refs;
    cc.nschemas = nrefs;
    char err[1024];
    if (eddy_codec_new(&cc, codec, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", o->prog, err);
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
            fprintf(stderr, "%s: %s\n", o->prog, err);
            return EXIT_RUNTIME;
        }
    }
    const char *brokers = o->brokers ? o->brokers : eddy_opts_str(kafka, "brokers");
    int code = EXIT_OK;
    rd_kafka_conf_t *conf = NULL;
    if (brokers && strcmp(brokers, "embedded") == 0) {
        /* Say how, not only that it cannot: the running worker logs the
         * broker's address, and serves its alerts on the admin API. */
        fprintf(stderr,
                "%s: kafka.brokers is `embedded`: that broker lives inside the running `eddy "
                "run`. Its log line \"embedded Kafka broker started\" gives the address "
                "(brokers=127.0.0.1:PORT); pass it: --brokers 127.0.0.1:PORT%s\n",
                o->prog,
                strcmp(o->prog, "eddy alerts") == 0
                    ? ". Or read the worker's recent alerts from its admin API: eddy alerts "
                      "tail --admin 127.0.0.1:9464 (worker.admin.listen)"
                    : "");
        code = EXIT_USAGE;
        goto out;
    }
    /* --brokers overrides the config's brokers and keeps its properties
     * (e.g. SASL); an `embedded` in the config must not start a broker here. */
    const char *cb = eddy_opts_str(kafka, "brokers");
    bool skip = cb && strcmp(cb, "embedded") == 0;
    if (!(conf = eddy_kafka_conf(skip ? NULL : kafka, skip ? kafka : NULL,
                                 skip ? "properties" : NULL, "tail", err, sizeof err))) {
        fprintf(stderr, "%s: %s\n", o->prog, err);
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
            fprintf(stderr, "%s: %s: %s\n", o->prog, props[i][0], why);
            code = EXIT_RUNTIME;
            goto out;
        }
    if (o->brokers &&
        rd_kafka_conf_set(conf, "bootstrap.servers", o->brokers, why, sizeof why) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "%s: --brokers %s: %s\n", o->prog, o->brokers, why);
        code = EXIT_USAGE;
        goto out;
    }
    rd_kafka_conf_set_log_cb(conf, keep_log);
    if (!(*out = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why))) {
        fprintf(stderr, "%s: cannot create a Kafka consumer: %s\n", o->prog, why);
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
        fprintf(stderr, "%s: cannot reach the Kafka brokers within %d ms: %s\n", o->prog,
                o->timeout_ms, rd_kafka_err2str(e));
        print_last_log();
        return EXIT_RUNTIME;
    }
    const rd_kafka_metadata_topic_t *mt = NULL;
    for (int i = 0; i < md->topic_cnt && !mt; i++)
        if (strcmp(md->topics[i].topic, o->topic) == 0)
            mt = &md->topics[i];
    if (!mt || mt->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || mt->partition_cnt == 0) {
        fprintf(stderr, "%s: topic %s does not exist\n", o->prog, o->topic);
        rd_kafka_metadata_destroy(md);
        return EXIT_RUNTIME;
    }
    if (mt->err && mt->err != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE) {
        fprintf(stderr, "%s: topic %s: %s\n", o->prog, o->topic, rd_kafka_err2str(mt->err));
        rd_kafka_metadata_destroy(md);
        return EXIT_RUNTIME;
    }
    int n = mt->partition_cnt, code = EXIT_OK;
    part *p = calloc((size_t)n, sizeof *p);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n);
    if (!p || !l) {
        fprintf(stderr, "%s: out of memory\n", o->prog);
        code = EXIT_RUNTIME;
        goto out;
    }
    long long gone = 0;
    int gone_parts = 0;
    for (int i = 0; i < n; i++) {
        p[i].id = mt->partitions[i].id;
        p[i].stop = -1;
        int64_t start = o->follow && !o->from_beginning ? RD_KAFKA_OFFSET_END : RD_KAFKA_OFFSET_BEGINNING;
        if (!o->follow) {
            int64_t lo, hi;
            e = rd_kafka_query_watermark_offsets(rk, o->topic, p[i].id, &lo, &hi, o->timeout_ms);
            if (e) {
                fprintf(stderr, "%s: %s [%d]: cannot read the offsets within %d ms: %s\n", o->prog,
                        o->topic, (int)p[i].id, o->timeout_ms, rd_kafka_err2str(e));
                print_last_log();
                code = EXIT_RUNTIME;
                goto out;
            }
            p[i].stop = hi;
            p[i].done = hi <= lo;
            start = lo;
            if (lo > 0) {
                gone += lo;
                gone_parts++;
            }
        }
        if (!p[i].done)
            rd_kafka_topic_partition_list_add(l, o->topic, p[i].id)->offset = start;
    }
    /* Records that were written and are gone must not look like records
     * that never were (alerts stamped with old event times age out at once
     * under retention.ms). */
    if (code == EXIT_OK && gone)
        fprintf(stderr,
                "%s: %s: %lld record%s before the log start offset of %d partition%s %s been "
                "removed by the topic's retention or compaction (retention.ms counts from each "
                "record's timestamp)\n",
                o->prog, o->topic, gone, gone == 1 ? "" : "s", gone_parts,
                gone_parts == 1 ? "" : "s", gone == 1 ? "has" : "have");
    if (l->cnt && (e = rd_kafka_assign(rk, l)) != 0) {
        fprintf(stderr, "%s: cannot assign the partitions of %s: %s\n", o->prog, o->topic,
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
    tail_format_fn fmt;
    void *arg;
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

/* With confluent_any the codec reads plain Avro: the header is checked and
 * skipped here, whatever schema id it names. */
static void decode(tail_state *s, eddy_record *r, const rd_kafka_message_t *m)
{
    const uint8_t *p = m->payload;
    size_t n = m->len;
    if (s->o->confluent_any) {
        if (n < 5 || p[0] != 0) {
            eddy_record_fail(s->batch, r, "decode", 0,
                             n && p[0] != 0 ? "bad magic byte 0x%02x (the Confluent wire format "
                                              "starts with 0x00) at byte 0"
                                            : "truncated Confluent header: %u of 5 bytes",
                             n && p[0] != 0 ? (unsigned)p[0] : (unsigned)n);
            return;
        }
        p += 5;
        n -= 5;
    }
    eddy_codec_decode(s->codec, s->batch, r, p, n);
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
        decode(s, r, m);
    }
    eddy_buf_reset(&s->line);
    int rc = s->fmt(s->arg, s->o, m, ts, r, &s->line);
    if (rc < 0)
        return -1;
    fwrite(s->line.data, 1, s->line.len, stdout);
    s->errors += rc != TAIL_PRINTED;
    s->printed += rc != TAIL_SKIPPED;
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
        fprintf(stderr, "%s: %s\n", s->o->prog, rd_kafka_message_errstr(m));
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
        fprintf(stderr, "%s: out of memory printing a record\n", s->o->prog);
        return -1;
    }
    if (p->stop >= 0 && m->offset + 1 >= p->stop)
        finish_part(s, p);
    return s->o->count && s->printed >= s->o->count ? 1 : 0;
}

static int tail_loop(tail_state *s, rd_kafka_t *rk)
{
    int64_t last = now_ms();
    while (!tail_interrupted && (s->o->follow || s->left > 0)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m) {
            if (s->o->follow) {
                fflush(stdout);
            } else if (now_ms() - last > s->o->timeout_ms) {
                fprintf(stderr,
                        "%s: no record from %d partition%s of %s for %d ms before "
                        "reaching its end; stopping\n",
                        s->o->prog, s->left, s->left == 1 ? "" : "s", s->o->topic,
                        s->o->timeout_ms);
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

int tail_run(const tail_opts *o, tail_format_fn fmt, void *arg, tail_stats *st)
{
    tail_state s = {.o = o, .fmt = fmt, .arg = arg};
    rd_kafka_t *rk = NULL;
    int code = make_codec(o, &s.codec);
    if (code == EXIT_OK)
        code = make_consumer(o, &rk);
    if (code == EXIT_OK)
        code = assign_partitions(rk, o, &s.parts, &s.nparts);
    if (code == EXIT_OK && !(s.batch = eddy_batch_new(1, (size_t)256 << 20))) {
        fprintf(stderr, "%s: out of memory\n", o->prog);
        code = EXIT_RUNTIME;
    }
    if (code == EXIT_OK) {
        for (int i = 0; i < s.nparts; i++)
            s.left += !s.parts[i].done;
        tail_catch_signals();
        code = tail_loop(&s, rk);
        fflush(stdout);
        *st = (tail_stats){.printed = s.printed, .errors = s.errors, .nparts = s.nparts, .ran = 1};
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

