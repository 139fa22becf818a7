/* operators, describe, version: everything here is generated from the
 * option tables, so `eddy describe`, docs/CONFIG.md and the parser agree. */
#include <event2/event.h>
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <msgpack.h>
#include <stdio.h>
#include <string.h>
#include <libfyaml.h>
#include <zstd.h>

#include "cli/cli.h"
#include "engine/alert/alert.h"
#include "engine/connector.h"
#include "engine/config/options.h"
#include "engine/plugin.h"
#include "connectors/kafka/kafka_conf.h"
#include "engine/config/sections.h"
#include "engine/registry.h"
#include "engine/state/state.h"
#include "lib/text/suggest.h"

static int load_plugin_dirs(int argc, char **argv, int *first_arg, bool *markdown, bool *all,
                            const char *usage)
{
    static const struct option longopts[] = {
        {"plugin-dir", required_argument, 0, 'p'},
        {"markdown", no_argument, 0, 'm'},
        {"all", no_argument, 0, 'A'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': {
            char err[512];
            if (eddy_ops_load_dir(optarg, err, sizeof err) != 0) {
                fprintf(stderr, "eddy: %s\n", err);
                return EXIT_PLUGIN;
            }
            break;
        }
        case 'm': *markdown = true; break;
        case 'A': *all = true; break;
        case 'h': fputs(usage, stdout); return -1;
        default: fputs(usage, stderr); return EXIT_USAGE;
        }
    }
    *first_arg = optind;
    /* What a worker loads without plugin_dirs too (not into the generated
     * reference: that is the built-ins' and the plugins' asked for). */
    char err[512];
    if (!*markdown && eddy_ops_load_default_dir(err, sizeof err) != 0) {
        fprintf(stderr, "eddy: the installed plugin directory: %s\n", err);
        return EXIT_PLUGIN;
    }
    return EXIT_OK;
}

static const char operators_usage[] =
    "usage: eddy operators [--plugin-dir DIR]...\n"
    "\n"
    "Lists the built-in operators, those of the installed plugin directory\n"
    "(" EDDY_PLUGINDIR ",\n"
    "when it exists) and those of the plugins in each DIR (*.so), with\n"
    "their version, ABI and origin. A plugin that fails the ABI checks is reported and\n"
    "the command exits 4.\n";

int cmd_operators(int argc, char **argv)
{
    int first;
    bool md = false, all = false;
    int rc = load_plugin_dirs(argc, argv, &first, &md, &all, operators_usage);
    if (rc != EXIT_OK)
        return rc < 0 ? EXIT_OK : rc;
    /* Columns as wide as their longest cell: a plugin's origin is its
     * path, far wider than "built-in". */
    int wn = (int)strlen("OPERATOR"), wv = (int)strlen("VERSION"), wo = (int)strlen("ORIGIN");
    for (size_t i = 0; i < eddy_ops_count(); i++) {
        const eddy_opdef *o = eddy_ops_at(i);
        int n = (int)strlen(o->d.name), v = o->d.version ? (int)strlen(o->d.version) : 1,
            g = (int)strlen(o->origin);
        wn = n > wn ? n : wn;
        wv = v > wv ? v : wv;
        wo = g > wo ? g : wo;
    }
    printf("%-*s  %-*s  %-5s  %-*s  %s\n", wn, "OPERATOR", wv, "VERSION", "ABI", wo, "ORIGIN",
           "SUMMARY");
    for (size_t i = 0; i < eddy_ops_count(); i++) {
        const eddy_opdef *o = eddy_ops_at(i);
        char abi[16];
        snprintf(abi, sizeof abi, "%u.%u", o->abi_major, o->abi_minor);
        printf("%-*s  %-*s  %-5s  %-*s  %s\n", wn, o->d.name, wv,
               o->d.version ? o->d.version : "-", abi, wo, o->origin,
               o->d.summary ? o->d.summary : "");
    }
    eddy_ops_unload_all();
    return EXIT_OK;
}

static void section(eddy_buf *out, bool md, const char *title, const char *intro,
                    const eddy_option *table)
{
    if (md) {
        eddy_buf_printf(out, "### %s\n\n%s\n\n", title, intro);
        eddy_options_markdown(table, out);
        eddy_buf_puts(out, "\n");
    } else {
        eddy_buf_printf(out, "%s\n  %s\n\n", title, intro);
        eddy_options_text(table, out);
        eddy_buf_puts(out, "\n");
    }
}

static const struct {
    const char *name, *title, *intro;
    const eddy_option *table;
} sections[] = {
    {"worker", "worker", "Top-level `worker:` mapping: the process.", eddy_worker_options},
    {"worker.admin", "worker.admin", "The admin HTTP server.", eddy_admin_options},
    {"worker.log", "worker.log", "Structured logs on stderr.", eddy_log_options},
    {"kafka", "kafka", "Top-level `kafka:` mapping: brokers and client settings shared by every "
     "Kafka source, sink and dead-letter output.", eddy_kafka_options},
    {"state", "state", "Top-level `state:` mapping: durable state of stateful steps in Kafka "
     "changelog topics (see docs/STATE.md).",
     eddy_state_options},
    {"processing", "processing", "Top-level `processing:` mapping: the delivery guarantee.",
     eddy_processing_options},
    {"source", "sources[]: common keys",
     "Keys every source has, besides its connector's own (below), `timestamp`, `watermark` and "
     "`dead_letter` (a sink mapping: rejected records go there, with the reason).",
     eddy_source_common_options},
    {"source.timestamp", "sources[].timestamp", "Where a record's event time comes from.",
     eddy_timestamp_options},
    {"source.watermark", "sources[].watermark", "How far event time may run out of order.",
     eddy_watermark_options},
    {"pipeline", "pipelines[]",
     "A pipeline reads a source or another pipeline's stream and runs `steps` (a list; each "
     "step is `{<operator>: {options}}` with optional `name`, `after`, `outputs` (side "
     "outputs such as `late` or `alerts`, each a sink mapping) and `alerts` (noise controls, "
     "below)) into `to` (a list of sinks, each with `type`, optional `name` and `after`). "
     "`dead_letter` is a sink for records its operators reject.",
     eddy_pipeline_options},
    {"alerts", "pipelines[].steps[].alerts",
     "Noise controls of the alerts a step raises (drift and anomaly operators), per alert key "
     "(feature and entity key). Alert time is event time, so replays give the same alerts. "
     "Alerts go to the step's `outputs: { alerts: <sink> }`, to GET /v1/alerts and to the log.",
     eddy_alert_policy_options},
};

static int describe_one(const char *name, bool md, eddy_buf *out)
{
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
        if (strcmp(name, sections[i].name) == 0) {
            section(out, md, sections[i].title, sections[i].intro, sections[i].table);
            return 0;
        }
    if (strncmp(name, "source:", 7) == 0) {
        const eddy_source_ops *s = eddy_source_find(name + 7);
        if (s) {
            char t[64];
            snprintf(t, sizeof t, "source `type: %s`", s->type);
            section(out, md, t, s->summary, s->options);
            return 0;
        }
    }
    if (strncmp(name, "sink:", 5) == 0) {
        const eddy_sink_ops *s = eddy_sink_find(name + 5);
        if (s) {
            char t[64];
            snprintf(t, sizeof t, "sink `type: %s`", s->type);
            section(out, md, t, s->summary, s->options);
            return 0;
        }
    }
    const eddy_opdef *o = eddy_ops_find(name);
    if (o) {
        char t[128];
        snprintf(t, sizeof t, "operator `%s` (%s, version %s, ABI %u.%u)", o->d.name, o->origin,
                 o->d.version ? o->d.version : "-", o->abi_major, o->abi_minor);
        /* The admin requests it acts on (ABI 1.3), after its summary. */
        char sum[1024];
        size_t n = (size_t)snprintf(sum, sizeof sum, "%s", o->d.summary ? o->d.summary : "");
        for (const char *const *r = o->declares_requests ? o->d.requests : NULL; r && *r; r++)
            if (n < sizeof sum)
                n += (size_t)snprintf(sum + n, sizeof sum - n,
                                      "%s`POST /v1/pipelines/{pipeline}/steps/{step}/%s`",
                                      r == o->d.requests ? ". Admin requests: " : ", ", *r);
        if (n < sizeof sum && o->declares_requests && o->d.requests && o->d.requests[0])
            snprintf(sum + n, sizeof sum - n, ".");
        section(out, md, t, sum, o->d.options);
        return 0;
    }
    return -1;
}

static void describe_all(bool md, eddy_buf *out)
{
    if (md)
        eddy_buf_puts(out,
                      "# Configuration reference\n\n"
                      "Generated by `eddy describe --all --markdown` from the option tables "
                      "that also parse and validate configs; do not edit by hand "
                      "(`scripts/gen-docs.sh` rewrites it, and a test fails when it is stale).\n\n"
                      "Durations: `500ms`, `5s`, `5m`, `2h`, `7d` (a bare number is "
                      "milliseconds). Sizes: `64MiB`, `10kB`, `1GB`. Any string value may be "
                      "`${ENV_VAR}` (substituted) or `file:/path` (the file's contents); such "
                      "values are secrets and never logged.\n\n## Engine\n\n");
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
        describe_one(sections[i].name, md, out);
    if (md)
        eddy_buf_puts(out, "## Sources\n\n");
    for (const eddy_source_ops *const *s = eddy_sources_all(); *s; s++) {
        char n[64];
        snprintf(n, sizeof n, "source:%s", (*s)->type);
        describe_one(n, md, out);
    }
    if (md)
        eddy_buf_puts(out, "## Sinks\n\n");
    for (const eddy_sink_ops *const *s = eddy_sinks_all(); *s; s++) {
        char n[64];
        snprintf(n, sizeof n, "sink:%s", (*s)->type);
        describe_one(n, md, out);
    }
    if (md)
        eddy_buf_puts(out, "## Operators\n\n");
    for (size_t i = 0; i < eddy_ops_count(); i++)
        describe_one(eddy_ops_at(i)->d.name, md, out);
}

/* The nearest name describe knows (sections, source:TYPE, sink:TYPE,
 * operators), into buf; NULL when nothing is close. */
static const char *suggest_name(const char *word, char *buf, size_t len)
{
    eddy_suggest sg;
    eddy_suggest_init(&sg, word, strlen(word));
    char names[64][72];
    size_t n = 0;
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
        eddy_suggest_try(&sg, sections[i].name);
    for (const eddy_source_ops *const *s = eddy_sources_all(); *s && n < 64; s++) {
        snprintf(names[n], sizeof names[n], "source:%s", (*s)->type);
        eddy_suggest_try(&sg, names[n++]);
    }
    for (const eddy_sink_ops *const *s = eddy_sinks_all(); *s && n < 64; s++) {
        snprintf(names[n], sizeof names[n], "sink:%s", (*s)->type);
        eddy_suggest_try(&sg, names[n++]);
    }
    for (size_t i = 0; i < eddy_ops_count(); i++)
        eddy_suggest_try(&sg, eddy_ops_at(i)->d.name);
    const char *best = eddy_suggest_best(&sg, eddy_suggest_tolerance(strlen(word)));
    if (!best)
        return NULL;
    snprintf(buf, len, "%s", best); /* best may point into names[] */
    return buf;
}

static const char describe_usage[] =
    "usage: eddy describe [--markdown] [--plugin-dir DIR]... NAME\n"
    "       eddy describe --all [--markdown]\n"
    "\n"
    "Shows the options of NAME: an operator (filter), a connector (source:file,\n"
    "sink:console) or an engine section (worker, worker.admin, worker.log, kafka, source,\n"
    "source.timestamp, source.watermark, pipeline): name, type, default, range and\n"
    "description, from the same table that parses the config. --all shows everything;\n"
    "--all --markdown is docs/CONFIG.md. Exit codes: 0 ok, 2 unknown NAME, 4 plugin error.\n";

int cmd_describe(int argc, char **argv)
{
    int first;
    bool md = false, all = false;
    int rc = load_plugin_dirs(argc, argv, &first, &md, &all, describe_usage);
    if (rc != EXIT_OK)
        return rc < 0 ? EXIT_OK : rc;
    eddy_buf out = {0};
    if (all && first == argc) {
        describe_all(md, &out);
    } else if (!all && first == argc - 1) {
        if (describe_one(argv[first], md, &out) != 0) {
            const char *colon = strchr(argv[first], ':');
            char kind[16] = "";
            if (colon && (size_t)(colon - argv[first]) < sizeof kind)
                memcpy(kind, argv[first], (size_t)(colon - argv[first]));
            const char *left_out = colon ? eddy_left_out_reason(kind, colon + 1) : NULL;
            if (left_out)
                fprintf(stderr, "eddy: %s type '%s' is not built into this eddy (%s)\n", kind,
                        colon + 1, left_out);
            else {
                char sug[80];
                const char *best = suggest_name(argv[first], sug, sizeof sug);
                if (best)
                    fprintf(stderr, "eddy: nothing called '%s'; did you mean '%s'?\n", argv[first],
                            best);
                else
                    fprintf(stderr, "eddy: nothing called '%s' (try `eddy operators`, "
                            "source:TYPE, sink:TYPE or worker)\n", argv[first]);
            }
            eddy_ops_unload_all();
            return EXIT_USAGE;
        }
    } else {
        fputs(describe_usage, stderr);
        eddy_ops_unload_all();
        return EXIT_USAGE;
    }
    fwrite(out.data, 1, out.len, stdout);
    eddy_buf_free(&out);
    eddy_ops_unload_all();
    return EXIT_OK;
}

int cmd_version(int argc, char **argv)
{
    if (argc > 1 && cli_is_help(argv[1])) {
        puts("usage: eddy version\n\nPrints eddy's version, its operator ABI and library versions.");
        return EXIT_OK;
    }
    printf("eddy %s\n", EDDY_VERSION);
    printf("operator ABI %d.%d\n", EDDY_ABI_MAJOR, EDDY_ABI_MINOR);
    printf("librdkafka %s\n", rd_kafka_version_str());
    printf("libevent %s\n", event_get_version());
    printf("msgpack-c %s\n", msgpack_version());
    printf("zstd %s\n", ZSTD_versionString());
#ifdef EDDY_AVRO_VERSION
    printf("avro-c %s\n", EDDY_AVRO_VERSION);
#else
    printf("avro-c not built in (%s)\n", eddy_left_out_reason("format", "avro"));
#endif
    printf("libfyaml %s\n", fy_library_version());
    return EXIT_OK;
}
