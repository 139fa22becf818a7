#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "engine/config/config.h"
#include "engine/obs/log.h"
#include "engine/plugin.h"
#include "engine/graph.h"
#include "engine/runtime.h"
#include "engine/worker.h"

static const char run_usage[] =
    "usage: eddy run -c FILE [--admin HOST:PORT]\n"
    "\n"
    "Runs every pipeline of the config. Logs go to stderr (worker.log sets level and\n"
    "format); sinks of type console write to stdout. The admin server serves /healthz,\n"
    "/readyz, /metrics and /v1/pipelines. SIGTERM or SIGINT drains (finish the batch in\n"
    "hand, flush sinks) and exits 0; a second signal exits at once.\n"
    "\n"
    "  -c, --config FILE    the YAML config\n"
    "  --admin HOST:PORT    override worker.admin.listen (port 0: any free port; an\n"
    "                       address off loopback needs worker.admin.token)\n"
    "\n"
    "Exit codes: 0 drained or input ended, 1 runtime failure, 2 usage, 3 invalid config.\n";

eddy_runtime *cli_load(const char *path, eddy_cfg **cfgp, int *code)
{
    eddy_cfg *cfg = eddy_cfg_load(path);
    *cfgp = cfg;
    if (!cfg) {
        fprintf(stderr, "eddy: out of memory loading %s\n", path);
        *code = EXIT_RUNTIME;
        return NULL;
    }
    eddy_runtime *rt = eddy_cfg_errors(cfg) ? NULL : eddy_runtime_build(cfg, true);
    if (!rt) {
        size_t n = eddy_cfg_errors(cfg);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "%s\n", eddy_cfg_error(cfg, i));
        fprintf(stderr, "%s: %zu error%s\n", path, n, n == 1 ? "" : "s");
        *code = EXIT_CONFIG;
    }
    return rt;
}

int cmd_run(int argc, char **argv)
{
    const char *path = NULL, *admin = NULL;
    static const struct option longopts[] = {
        {"config", required_argument, 0, 'c'},
        {"admin", required_argument, 0, 'a'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'a': admin = optarg; break;
        case 'h': fputs(run_usage, stdout); return EXIT_OK;
        default: fputs(run_usage, stderr); return EXIT_USAGE;
        }
    }
    if (!path || optind != argc) {
        fputs(run_usage, stderr);
        return EXIT_USAGE;
    }
    eddy_cfg *cfg;
    int code = EXIT_OK;
    eddy_runtime *rt = cli_load(path, &cfg, &code);
    if (!rt) {
        eddy_cfg_free(cfg);
        eddy_ops_unload_all();
        return code;
    }
    eddy_log_setup((eddy_log_level)eddy_log_level_parse(eddy_opts_str(rt->log, "level")),
                   (eddy_log_format)eddy_log_format_parse(eddy_opts_str(rt->log, "format")), 2);
    code = eddy_worker_run(rt, admin);
    eddy_runtime_free(rt);
    eddy_cfg_free(cfg);
    eddy_ops_unload_all();
    if (code == 0)
        eddy_log(EDDY_LOG_INFO, NULL, "stopped cleanly");
    return code;
}

static const char validate_usage[] =
    "usage: eddy validate -c FILE\n"
    "\n"
    "Checks a config without connecting to anything: YAML syntax, every key and value\n"
    "against the option tables, references between sources, pipelines and steps,\n"
    "plugins, and each operator's options (every operator is created once and\n"
    "destroyed). Every error is printed as file:line:col: path: message.\n"
    "\n"
    "Exit codes: 0 valid, 2 usage, 3 invalid.\n";

int cmd_validate(int argc, char **argv)
{
    const char *path = NULL;
    static const struct option longopts[] = {
        {"config", required_argument, 0, 'c'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'h': fputs(validate_usage, stdout); return EXIT_OK;
        default: fputs(validate_usage, stderr); return EXIT_USAGE;
        }
    }
    if (!path && optind < argc)
        path = argv[optind++];
    if (!path || optind != argc) {
        fputs(validate_usage, stderr);
        return EXIT_USAGE;
    }
    eddy_cfg *cfg;
    int code = EXIT_OK;
    eddy_runtime *rt = cli_load(path, &cfg, &code);
    if (rt) {
        printf("%s: ok (%d source%s, %d pipeline%s)\n", path, rt->nsources,
               rt->nsources == 1 ? "" : "s", rt->npipelines, rt->npipelines == 1 ? "" : "s");
        eddy_runtime_free(rt);
    }
    eddy_cfg_free(cfg);
    eddy_ops_unload_all();
    return code;
}
