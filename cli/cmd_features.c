/* `eddy features get VIEW ENTITY`: the latest features of one entity, as
 * JSON, either from a running worker's serving endpoint (--admin) or
 * straight from the store a config's `feature_store` sink writes (-c). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/http_get.h"
#include "engine/core/error.h"
#include "engine/graph.h"
#include "lib/store/store.h"

static const char features_usage[] =
    "usage: eddy features get VIEW ENTITY (--admin HOST:PORT | -c FILE)\n"
    "\n"
    "Prints the latest features of ENTITY in feature view VIEW as one JSON object:\n"
    "{\"view\",\"entity\",\"event_time\",\"age_ms\",\"features\":{...}}.\n"
    "\n"
    "  --admin HOST:PORT  ask a running worker (GET /v1/features/VIEW/ENTITY; or an\n"
    "                     http:// or https:// URL). Its admin token, if it has one, is\n"
    "                     read from EDDY_ADMIN_TOKEN; EDDY_ADMIN_CACERT names the CA file\n"
    "                     of an https:// server with its own certificate\n"
    "  -c, --config FILE  read the store that FILE's feature_store sink for VIEW writes\n"
    "                     (Redis or the embedded SQLite file)\n"
    "\n"
    "Exit codes: 0 found, 1 not found or the store cannot be reached, 2 usage,\n"
    "3 invalid configuration.\n";

#if EDDY_HAVE_LIBCURL
static int from_admin(const char *admin, const char *view, const char *entity)
{
    CURL *c = cli_http_new(10000L, "eddy-features/" EDDY_VERSION);
    if (!c) {
        fprintf(stderr, "eddy features: cannot initialise libcurl\n");
        return EXIT_RUNTIME;
    }
    char *v = curl_easy_escape(c, view, 0), *e = curl_easy_escape(c, entity, 0);
    char url[2048], base[512], err[CURL_ERROR_SIZE];
    cli_admin_base(admin, base, sizeof base);
    snprintf(url, sizeof url, "%s/v1/features/%s/%s", base, v ? v : "", e ? e : "");
    curl_free(v);
    curl_free(e);
    eddy_buf body = {0};
    long status = 0;
    int rc = cli_http_get(c, url, &body, &status, err, sizeof err);
    curl_easy_cleanup(c);
    curl_global_cleanup();
    int code = EXIT_OK;
    if (rc != 0) {
        fprintf(stderr, "eddy features: GET %s: %s\n", url, err);
        code = EXIT_RUNTIME;
    } else if (status != 200) {
        int n = body.len && body.data[body.len - 1] == '\n' ? (int)body.len - 1 : (int)body.len;
        fprintf(stderr, "eddy features: GET %s: HTTP %ld: %.*s%s\n", url, status, n,
                body.data ? (const char *)body.data : "", cli_http_hint(status));
        code = EXIT_RUNTIME;
    } else {
        fwrite(body.data, 1, body.len, stdout);
        if (body.len && body.data[body.len - 1] != '\n')
            putchar('\n');
    }
    eddy_buf_free(&body);
    return code;
}
#else
static int from_admin(const char *admin, const char *view, const char *entity)
{
    fprintf(stderr, "eddy features: --admin %s: %s; read the store with -c FILE\n", admin,
            cli_no_http());
    return EXIT_USAGE;
}
#endif

static int from_config(const char *path, const char *view, const char *entity)
{
    eddy_cfg *cfg;
    int code = EXIT_OK;
    eddy_runtime *rt = cli_load(path, &cfg, &code);
    if (!rt) {
        eddy_cfg_free(cfg);
        return code;
    }
    const rt_sink *found = NULL;
    for (int i = 0; i < rt->nsinks && !found; i++) {
        const rt_sink *s = rt->sinks[i];
        const char *sv = s->ops && strcmp(s->ops->type, "feature_store") == 0
                             ? eddy_opts_str(s->opts, "view")
                             : NULL;
        if (sv && strcmp(sv, view) == 0)
            found = s;
    }
    if (!found) {
        fprintf(stderr, "eddy features: %s has no feature_store sink for view '%s'\n", path, view);
        code = EXIT_RUNTIME;
    } else {
        eddy_store_conf conf;
        eddy_store *st = NULL;
        char err[512];
        if (eddy_store_conf_from_opts(found->opts, &conf, err, sizeof err) != 0 ||
            eddy_store_open(&conf, &st, err, sizeof err) != 0) {
            fprintf(stderr, "eddy features: %s\n", err);
            code = EXIT_RUNTIME;
        } else {
            eddy_buf out = {0};
            int rc = eddy_store_get(st, view, entity, &out);
            if (rc == 0) {
                fwrite(out.data, 1, out.len, stdout);
                putchar('\n');
            } else if (rc == EDDY_ENOTFOUND) {
                fprintf(stderr, "eddy features: no features for entity '%s' in view '%s' "
                                "(absent or expired)\n", entity, view);
                code = EXIT_RUNTIME;
            } else {
                fprintf(stderr, "eddy features: reading view '%s': %s\n", view,
                        eddy_strerror(rc));
                code = EXIT_RUNTIME;
            }
            eddy_buf_free(&out);
            eddy_store_close(st);
        }
    }
    eddy_runtime_free(rt);
    eddy_cfg_free(cfg);
    return code;
}

int cmd_features(int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        fputs(features_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "get") != 0) {
        fprintf(stderr, "eddy features: unknown subcommand '%s' (expected get)\n%s", argv[1],
                features_usage);
        return EXIT_USAGE;
    }
    const char *admin = NULL, *config = NULL;
    static const struct option longopts[] = {
        {"admin", required_argument, 0, 'a'},
        {"config", required_argument, 0, 'c'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    int c;
    optind = 1;
    argc--;
    argv++;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'a':
            admin = optarg;
            break;
        case 'c':
            config = optarg;
            break;
        case 'h':
            fputs(features_usage, stdout);
            return EXIT_OK;
        default:
            fputs(features_usage, stderr);
            return EXIT_USAGE;
        }
    }
    if (argc - optind != 2 || (!admin) == (!config)) {
        fprintf(stderr, "eddy features get: give VIEW and ENTITY, and one of --admin or -c\n%s",
                features_usage);
        return EXIT_USAGE;
    }
    const char *view = argv[optind], *entity = argv[optind + 1];
    return admin ? from_admin(admin, view, entity) : from_config(config, view, entity);
}
