/* `eddy tail TOPIC`: the records of a topic, decoded with the engine's
 * codecs, one readable line (or JSON object) each. The Kafka side is
 * tail_util.c, shared with `eddy alerts tail`. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "engine/format/codec.h"
#include "engine/config/config.h"
#include "engine/core/sym.h"
#include "cli/tail_util.h"

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

static int tail_format(void *arg, const tail_opts *o, const rd_kafka_message_t *m, int64_t ts,
                       const eddy_record *r, eddy_buf *line)
{
    (void)arg;
    if (format_line(line, m, ts, r, o->json) != 0)
        return -1;
    return r && (r->flags & EDDY_REC_ERROR) ? TAIL_MALFORMED : TAIL_PRINTED;
}

int cmd_tail(int argc, char **argv)
{
    tail_opts o = {.prog = "eddy tail", .format = "json", .timeout_ms = 10000};
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
            if (o.nschemas == TAIL_MAX_SCHEMAS) {
                fprintf(stderr, "eddy tail: at most %d --schema\n", TAIL_MAX_SCHEMAS);
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
    if (timeout && tail_parse_duration_opt(o.prog, "--timeout", timeout, &o.timeout_ms) != 0)
        return EXIT_USAGE;
    tail_stats st = {0};
    int code = tail_run(&o, tail_format, NULL, &st);
    if (st.ran)
        fprintf(stderr, "%lld record%s (%lld malformed) from %d partition%s of %s\n", st.printed,
                st.printed == 1 ? "" : "s", st.errors, st.nparts, st.nparts == 1 ? "" : "s",
                o.topic);
    return code;
}
