/* `eddy topics plan|apply -c FILE`: the `topics:` section against the
 * cluster at kafka.brokers (connectors/kafka/topics.h). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "engine/config/config.h"
#include "connectors/kafka/topics.h"

#define EXIT_PENDING 5 /* plan: changes are pending */
#define EXIT_DIFFERS 6 /* differences apply cannot fix */

static const char topics_usage[] =
    "usage: eddy topics plan -c FILE [--timeout DURATION]\n"
    "       eddy topics apply -c FILE [--timeout DURATION]\n"
    "\n"
    "Compares the topics declared in the `topics:` section of FILE with the Kafka cluster\n"
    "at kafka.brokers (with kafka.properties, e.g. SASL settings). Only the `kafka:` and\n"
    "`topics:` sections are read; `eddy validate` checks the rest.\n"
    "\n"
    "plan prints one line per finding and changes nothing:\n"
    "  + create NAME (...)   the topic is missing: apply creates it with its configs\n"
    "  ~ NAME: ...           partitions to add or a config to set: apply changes it\n"
    "  ! NAME: ...           a difference apply cannot fix (more partitions than declared,\n"
    "                        another replication factor)\n"
    "  = NAME: up to date\n"
    "apply prints the plan, carries it out (create topics, add partitions, alter configs;\n"
    "configs not declared keep their value) and prints the outcome of each action.\n"
    "\n"
    "  -c, --config FILE        the YAML config\n"
    "  --timeout DURATION       bound on each request to the brokers (default 30s; waiting\n"
    "                           for unreachable brokers stops after at most 10s)\n"
    "\n"
    "Exit codes: 0 nothing to change (plan) or every change applied (apply),\n"
    "5 changes are pending (plan), 6 differences apply cannot fix (fewer partitions or\n"
    "another replication factor declared than the cluster has), 1 brokers unreachable or\n"
    "a change failed, 2 usage, 3 invalid config.\n";

static int print_cfg_errors(eddy_cfg *cfg, const char *path)
{
    size_t n = eddy_cfg_errors(cfg);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%s\n", eddy_cfg_error(cfg, i));
    fprintf(stderr, "%s: %zu error%s\n", path, n, n == 1 ? "" : "s");
    return EXIT_CONFIG;
}

static int run(bool apply, const char *path, int timeout_ms)
{
    eddy_cfg *cfg = eddy_cfg_load(path);
    if (!cfg) {
        fprintf(stderr, "eddy: out of memory loading %s\n", path);
        return EXIT_RUNTIME;
    }
    eddy_opts *kafka = NULL;
    eddy_topics *topics = NULL;
    if (eddy_topics_load_sections(cfg, &kafka, &topics) != 0 ||
        cli_topics_add_changelogs(cfg, kafka, topics) != 0) {
        int code = print_cfg_errors(cfg, path);
        eddy_cfg_free(cfg);
        return code;
    }
    int code = EXIT_OK;
    char err[2048];
    rd_kafka_t *rk = NULL;
    eddy_buf report = {0};
    const char *brokers = eddy_opts_str(kafka, "brokers");
    if (topics->n == 0) {
        fprintf(stderr, "%s declares no topics (add a `topics:` section); nothing to do\n", path);
        goto out;
    }
    if (brokers && strcmp(brokers, "embedded") == 0) {
        fprintf(stderr,
                "eddy topics: kafka.brokers is `embedded`: that broker lives inside `eddy run`, "
                "which creates the declared topics itself; nothing to do here\n");
        goto out;
    }
    if (!(rk = eddy_topics_client(kafka, err, sizeof err))) {
        fprintf(stderr, "eddy topics: %s\n", err);
        code = EXIT_CONFIG;
        goto out;
    }
    int n = 0, problems = 0, rc;
    if (apply)
        rc = eddy_topics_apply(topics, rk, timeout_ms, &report, &n, &problems, err, sizeof err);
    else
        rc = eddy_topics_plan(topics, rk, timeout_ms, &report, &n, &problems, err, sizeof err);
    if (report.len)
        fwrite(report.data, 1, report.len, stdout);
    fflush(stdout);
    if (rc != 0) {
        fprintf(stderr, "eddy topics %s (brokers %s): %s\n", apply ? "apply" : "plan", brokers,
                err);
        code = EXIT_RUNTIME;
    } else if (problems > 0) {
        /* Not "nothing to change" while the cluster differs from the
         * config in ways eddy cannot fix: a person must decide. */
        if (!apply && n > 0)
            fprintf(stderr, "%d change%s pending (`eddy topics apply -c %s`), and ", n,
                    n == 1 ? "" : "s", path);
        fprintf(stderr,
                "%d difference%s between the cluster and %s that apply cannot fix (the ! "
                "lines): change the declaration to match, or the cluster with Kafka's own "
                "tools\n", problems, problems == 1 ? "" : "s", path);
        code = EXIT_DIFFERS;
    } else if (!apply && n > 0) {
        fprintf(stderr, "%d change%s pending; run `eddy topics apply -c %s`\n", n,
                n == 1 ? "" : "s", path);
        code = EXIT_PENDING;
    } else if (!apply) {
        fprintf(stderr, "nothing to change\n");
    } else {
        fprintf(stderr, "topics are as declared\n");
    }
out:
    eddy_buf_free(&report);
    if (rk)
        rd_kafka_destroy(rk);
    eddy_topics_free(topics);
    eddy_opts_free(kafka);
    eddy_cfg_free(cfg);
    return code;
}

int cmd_topics(int argc, char **argv)
{
    const char *path = NULL, *timeout = "30s";
    static const struct option longopts[] = {
        {"config", required_argument, 0, 'c'},
        {"timeout", required_argument, 0, 't'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    if (argc < 2) {
        fputs(topics_usage, stderr);
        return EXIT_USAGE;
    }
    if (cli_is_help(argv[1])) {
        fputs(topics_usage, stdout);
        return EXIT_OK;
    }
    bool apply = strcmp(argv[1], "apply") == 0;
    if (!apply && strcmp(argv[1], "plan") != 0) {
        fprintf(stderr, "eddy topics: unknown action '%s' (expected plan or apply)\n\n%s", argv[1],
                topics_usage);
        return EXIT_USAGE;
    }
    int c;
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 't': timeout = optarg; break;
        case 'h': fputs(topics_usage, stdout); return EXIT_OK;
        default: fputs(topics_usage, stderr); return EXIT_USAGE;
        }
    }
    if (!path || optind != argc - 1) {
        fputs(topics_usage, stderr);
        return EXIT_USAGE;
    }
    int64_t ms = 0;
    char err[256];
    bool bad = eddy_parse_duration(timeout, &ms, err, sizeof err) != 0;
    if (bad || ms < 1 || ms > 3600000) {
        fprintf(stderr, "eddy topics: --timeout %s: %s\n", timeout,
                bad ? err : "expected between 1ms and 1h");
        return EXIT_USAGE;
    }
    return run(apply, path, (int)ms);
}
