/* eddy command line: one file per command. Exit codes (docs/CLI.md "Exit codes"):
 * 0 success, 1 runtime failure, 2 usage error, 3 invalid configuration,
 * 4 plugin load error. */
#ifndef EDDY_CLI_H
#define EDDY_CLI_H

#include "engine/config/config.h"
#include "engine/runtime.h"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_CONFIG = 3, EXIT_PLUGIN = 4 };

int cmd_run(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_operators(int argc, char **argv);
int cmd_describe(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_topics(int argc, char **argv);
int cmd_tail(int argc, char **argv);
int cmd_alerts(int argc, char **argv);
int cmd_features(int argc, char **argv);

/* Loads and builds a config, printing every error to stderr. NULL on error
 * (*code set to EXIT_CONFIG). */
eddy_runtime *cli_load(const char *path, eddy_cfg **cfg, int *code);
int cli_is_help(const char *arg);

/* `eddy topics`: appends the changelog topic of every stateful Kafka source
 * (durable state) to the declared topics, unless declared (topics_state.c).
 * 0, or <0 on out of memory. */
struct eddy_topics;
int cli_topics_add_changelogs(eddy_cfg *cfg, const eddy_opts *kafka, struct eddy_topics *t);

#endif
