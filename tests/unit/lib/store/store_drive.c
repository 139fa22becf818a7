/* Drives the `feature_store` sink from a script, for the integration tests
 * (tests/integration/test_redis.sh). Usage:
 *   store_drive option=value...      (the sink's options: store=redis port=...)
 * then one command per line on standard input, one answer line each:
 *   put <entity> <event_ms> name=value...   -> ok | error: <why>
 *   putn <prefix> <count> <event_ms>         -> ok   (entities <prefix>0.., v=<event_ms>, i=index)
 *   flush                                    -> flush <rc>
 *   get <entity>                             -> <json> | 404 | error <rc>
 *   pending | ready                          -> the store's answers
 * Values are typed like CSV cells (123 int, 1.5 double, true bool). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/batch.h"
#include "engine/connector.h"
#include "connectors/scalar.h"
#include "engine/core/error.h"
#include "engine/config/options.h"
#include "lib/store/store.h"
#include "engine/core/sym.h"

static const eddy_sink_ops *ops;
static void *sink;
static const char *view;

static void put_field(eddy_batch *b, eddy_record *r, const char *name, const char *text)
{
    eddy_value v;
    eddy_scalar_infer(text, strlen(text), &v);
    if (v.type == EDDY_STRING)
        v = eddy_batch_string(b, text, strlen(text));
    eddy_record_push(b, r, eddy_sym_intern(name, strlen(name)), v);
}

static void write_batch(eddy_batch *b)
{
    char err[512] = "";
    int rc = ops->write(sink, b, err, sizeof err);
    if (rc == 0)
        printf("ok\n");
    else
        printf("error: %s\n", err);
}

static void cmd_put(char *args, const char *entity_field)
{
    eddy_batch *b = eddy_batch_new(16, 0);
    eddy_record *r = eddy_batch_append(b);
    char *save = NULL, *ent = strtok_r(args, " \t", &save), *ts = strtok_r(NULL, " \t", &save);
    if (!ent || !ts) {
        printf("error: put <entity> <event_ms> name=value...\n");
        eddy_batch_destroy(b);
        return;
    }
    r->ts = strtoll(ts, NULL, 10);
    put_field(b, r, entity_field, ent);
    for (char *kv; (kv = strtok_r(NULL, " \t", &save));) {
        char *eq = strchr(kv, '=');
        if (!eq)
            continue;
        *eq = '\0';
        put_field(b, r, kv, eq + 1);
    }
    write_batch(b);
    eddy_batch_destroy(b);
}

static void cmd_putn(char *args, const char *entity_field)
{
    char prefix[64];
    long count;
    long long ts;
    if (sscanf(args, "%63s %ld %lld", prefix, &count, &ts) != 3 || count < 1) {
        printf("error: putn <prefix> <count> <event_ms>\n");
        return;
    }
    eddy_batch *b = eddy_batch_new((uint32_t)count, 0);
    eddy_sym ef = eddy_sym_intern(entity_field, strlen(entity_field));
    eddy_sym v = eddy_sym_intern("v", 1), i_sym = eddy_sym_intern("i", 1);
    for (long i = 0; i < count; i++) {
        eddy_record *r = eddy_batch_append(b);
        char ent[96];
        int len = snprintf(ent, sizeof ent, "%s%ld", prefix, i);
        r->ts = ts;
        eddy_record_push(b, r, ef, eddy_batch_string(b, ent, (size_t)len));
        eddy_record_push(b, r, v, eddy_v_int(ts));
        eddy_record_push(b, r, i_sym, eddy_v_int(i));
    }
    write_batch(b);
    eddy_batch_destroy(b);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    ops = eddy_sink_find("feature_store");
    if (!ops) {
        fprintf(stderr, "store_drive: no feature_store sink registered\n");
        return 2;
    }
    char err[512];
    eddy_opts *o = eddy_opts_from_pairs(ops->options, (const char *const *)argv + 1,
                                        (size_t)argc - 1, err, sizeof err);
    if (!o) {
        fprintf(stderr, "store_drive: %s\n", err);
        return 2;
    }
    view = eddy_opts_str(o, "view");
    char entity_field[64];
    snprintf(entity_field, sizeof entity_field, "%s", eddy_opts_str(o, "entity"));
    if (ops->open(o, "drive", NULL, &sink, err, sizeof err) != 0) {
        fprintf(stderr, "store_drive: %s\n", err);
        eddy_opts_free(o);
        return 2;
    }
    char line[8192];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strncmp(line, "put ", 4) == 0) {
            cmd_put(line + 4, entity_field);
        } else if (strncmp(line, "putn ", 5) == 0) {
            cmd_putn(line + 5, entity_field);
        } else if (strcmp(line, "flush") == 0) {
            printf("flush %d\n", ops->flush(sink));
        } else if (strncmp(line, "get ", 4) == 0) {
            eddy_buf b = {0};
            int rc = eddy_stores_get(view, line + 4, &b);
            if (rc == 0)
                printf("%.*s\n", (int)b.len, (const char *)b.data);
            else if (rc == EDDY_ENOTFOUND)
                printf("404\n");
            else
                printf("error %d %s\n", rc, eddy_strerror(rc));
            eddy_buf_free(&b);
        } else if (strcmp(line, "pending") == 0) {
            int64_t hw = 0, n = ops->pending(sink, &hw);
            printf("pending %lld high_water %lld\n", (long long)n, (long long)hw);
        } else if (strcmp(line, "ready") == 0) {
            char why[512];
            bool ok = eddy_stores_ready(why, sizeof why);
            printf("%s\n", ok ? "ready" : why);
        } else if (line[0]) {
            printf("error: unknown command '%s'\n", line);
        }
    }
    ops->close(sink);
    eddy_opts_free(o);
    return 0;
}
