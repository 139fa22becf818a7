#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const char usage[] =
    "usage: eddy <command> [options]\n"
    "\n"
    "commands:\n"
    "  run -c FILE        run the pipelines of a config until input ends or SIGTERM\n"
    "  validate -c FILE   check a config without connecting to anything\n"
    "  operators          list the operators (built-in and plugins)\n"
    "  describe NAME      show the options of an operator, source:TYPE, sink:TYPE or a section\n"
    "  topics plan|apply -c FILE  compare / bring the cluster to the `topics:` section\n"
    "  tail TOPIC         print the records of a Kafka topic, decoded\n"
    "  alerts tail        print drift/anomaly alerts from a topic or a worker (--admin)\n"
    "  features get VIEW ENTITY  print an entity's latest features from the feature store\n"
    "  version            show versions of eddy, its ABI and its libraries\n"
    "\n"
    "`eddy <command> --help` explains a command. Exit codes: 0 ok, 1 runtime failure,\n"
    "2 usage error, 3 invalid configuration, 4 plugin load error.\n";

int cli_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0 || strcmp(arg, "help") == 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (cli_is_help(cmd)) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0)
        return cmd_version(argc - 1, argv + 1);
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {
        {"run", cmd_run},           {"validate", cmd_validate}, {"operators", cmd_operators},
        {"describe", cmd_describe}, {"version", cmd_version},
        {"topics", cmd_topics},     {"tail", cmd_tail},
        {"alerts", cmd_alerts},     {"features", cmd_features},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (strcmp(cmd, cmds[i].name) == 0)
            return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "eddy: unknown command '%s'\n\n%s", cmd, usage);
    return EXIT_USAGE;
}
