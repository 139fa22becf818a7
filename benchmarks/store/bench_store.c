/* Feature store write throughput through eddy_store_put (store.h): rows/s
 * into Redis (eddy or feast layout, pipelined EVALSHA batches) or into the
 * embedded SQLite store. Each row: one entity of `entities`, five double
 * features, an event time that grows every round (so every row is applied,
 * none is stale). Wall time covers put of every row plus the final flush,
 * i.e. until Redis acknowledged the last row. For Redis it also reports the
 * server's CPU time per row (INFO cpu before and after): redis-server runs
 * the upsert script on one thread, so that figure bounds the rows/s.
 *
 *   EDDY_REDIS_AOF=no scripts/redis.sh run -- \
 *       sh -c 'build/benchmarks/store/bench_store redis $REDIS_PORT [rows [layout [batch]]]'
 *   build/benchmarks/store/bench_store embedded /tmp/dir [rows]
 *
 * layout: eddy, feast or both (default); batch: rows per EVALSHA, 0 (default)
 * = 64, 256 and 1024 in turn. BENCH_TTL_MS overrides the ttl (default 7 d,
 * 0 = none). */
#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/core/batch.h"
#include "lib/store/store.h"

#define BATCH 1024

static double now_s(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* redis-server's user+sys CPU seconds so far, or -1. flush: empty the
 * database first, so earlier runs' newer rows do not make these stale. */
static double redis_cpu(int port, bool flush)
{
    if (port <= 0)
        return -1;
    redisContext *ctx = redisConnect("127.0.0.1", port);
    if (!ctx || ctx->err) {
        if (ctx)
            redisFree(ctx);
        return -1;
    }
    double cpu = -1;
    redisReply *r = flush ? redisCommand(ctx, "FLUSHALL") : NULL;
    if (r)
        freeReplyObject(r);
    r = redisCommand(ctx, "INFO cpu");
    if (r && r->type == REDIS_REPLY_STRING) {
        const char *u = strstr(r->str, "used_cpu_user:"), *s = strstr(r->str, "used_cpu_sys:");
        if (u && s)
            cpu = atof(u + 14) + atof(s + 13);
    }
    if (r)
        freeReplyObject(r);
    redisFree(ctx);
    return cpu;
}

static int run(eddy_store_conf *c, const char *label, long total, long entities, int port)
{
    /* Each run's event times are newer than the last run's: no row is stale. */
    static int64_t base = 1700000000000;
    base += (total / entities + 1) * 60000;
    eddy_store *s;
    char err[300];
    if (eddy_store_open(c, &s, err, sizeof err) != 0) {
        fprintf(stderr, "bench_store: %s\n", err);
        return 1;
    }
    static char ent[BATCH][24];
    static eddy_store_feature f[BATCH][5];
    static eddy_store_row rows[BATCH];
    static eddy_value ev[BATCH];
    double r0 = redis_cpu(port, true);
    double w0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
    long done = 0;
    while (done < total) {
        uint32_t n = 0;
        for (; n < BATCH && done + n < total; n++) {
            long i = done + n;
            int len = snprintf(ent[n], sizeof ent[n], "user%ld", i % entities);
            double x = (double)(i % 977);
            f[n][0] = (eddy_store_feature){"n", eddy_v_double(x)};
            f[n][1] = (eddy_store_feature){"spend", eddy_v_double(x * 3.5)};
            f[n][2] = (eddy_store_feature){"avg", eddy_v_double(x / 7)};
            f[n][3] = (eddy_store_feature){"sd", eddy_v_double(x / 11)};
            f[n][4] = (eddy_store_feature){"p95", eddy_v_double(x * 1.25)};
            ev[n] = eddy_v_str(ent[n], (uint32_t)len);
            rows[n] = (eddy_store_row){.entity = ent[n], .entity_len = (uint32_t)len,
                                       .entity_vals = &ev[n], .features = f[n], .nfeatures = 5,
                                       .event_ts = base + i / entities * 60000};
        }
        if (eddy_store_put(s, rows, n, err, sizeof err) != 0) {
            fprintf(stderr, "bench_store: %s\n", err);
            eddy_store_close(s);
            return 1;
        }
        done += n;
    }
    int frc = eddy_store_flush(s);
    double wall = now_s(CLOCK_MONOTONIC) - w0, cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    double r1 = redis_cpu(port, false);
    eddy_store_stats st;
    eddy_store_get_stats(s, &st);
    char rcpu[64] = "";
    if (r0 >= 0 && r1 >= 0)
        snprintf(rcpu, sizeof rcpu, "  redis cpu %5.2f s (%.2f us/row)", r1 - r0,
                 (r1 - r0) * 1e6 / total);
    printf("%-22s rows %8ld  wall %6.2f s  %7.0f rows/s  eddy cpu %5.2f s (%.2f us/row)%s  "
           "written %llu stale %llu flush %d\n",
           label, total, wall, total / wall, cpu, cpu * 1e6 / total, rcpu,
           (unsigned long long)st.written, (unsigned long long)st.stale, frc);
    fflush(stdout);
    eddy_store_close(s);
    return frc != 0 || st.written != (unsigned long long)total;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_store redis PORT [rows [eddy|feast|both [batch]]] | "
                        "embedded DIR [rows]\n");
        return 2;
    }
    long total = argc > 3 ? atol(argv[3]) : 2000000, entities = 100000;
    const char *layout = argc > 4 ? argv[4] : "both";
    long batch = argc > 5 ? atol(argv[5]) : 0;
    const char *features[] = {"n", "spend", "avg", "sd", "p95"};
    eddy_store_conf c = {0};
    c.view = "bench";
    c.join_keys[0] = "user_id";
    c.njoin_keys = 1;
    c.features = features;
    c.nfeatures = 5;
    c.ttl_ms = getenv("BENCH_TTL_MS") ? atoll(getenv("BENCH_TTL_MS")) : 7LL * 86400 * 1000;
    int rc = 0;
    if (strcmp(argv[1], "redis") == 0) {
        c.kind = EDDY_STORE_REDIS;
        c.port = atoi(argv[2]);
        c.max_pending = 200000;
        c.flush_timeout_ms = 600000;
        for (uint32_t bs = batch > 0 ? (uint32_t)batch : 64; bs <= (batch > 0 ? batch : 1024);
             bs *= 4) {
            char label[64];
            c.batch_size = bs;
            if (strcmp(layout, "feast") != 0) {
                c.layout = EDDY_LAYOUT_EDDY;
                snprintf(label, sizeof label, "redis eddy batch %u", bs);
                rc |= run(&c, label, total, entities, c.port);
            }
            if (strcmp(layout, "eddy") != 0) {
                c.layout = EDDY_LAYOUT_FEAST;
                c.project = "bench";
                snprintf(label, sizeof label, "redis feast batch %u", bs);
                rc |= run(&c, label, total, entities, c.port);
            }
        }
    } else {
        char path[512];
        snprintf(path, sizeof path, "%s/bench-features.db", argv[2]);
        c.kind = EDDY_STORE_EMBEDDED;
        c.path = path;
        rc |= run(&c, "embedded (sqlite)", total, entities, 0);
    }
    return rc;
}
