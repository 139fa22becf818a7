/* Feature store write throughput through eddy_store_put (store.h): rows/s
 * into Redis (eddy or feast layout, pipelined EVALSHA batches) or into the
 * embedded SQLite store. Each row: one entity of `entities`, five double
 * features, an event time that grows every round (so every row is applied,
 * none is stale). Wall time covers put of every row plus the final flush,
 * i.e. until Redis acknowledged the last row.
 *
 *   EDDY_REDIS_AOF=no scripts/redis.sh run -- \
 *       sh -c 'build/benchmarks/store/bench_store redis $REDIS_PORT'
 *   build/benchmarks/store/bench_store embedded /tmp/dir */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "store/store.h"

#define BATCH 1024

static double now_s(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int run(eddy_store_conf *c, const char *label, long total, long entities)
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
    eddy_store_stats st;
    eddy_store_get_stats(s, &st);
    printf("%-22s rows %9ld  entities %7ld  wall %6.2f s  %9.0f rows/s  eddy cpu %5.2f s "
           "(%.0f rows per cpu-s)  written %llu stale %llu flush %d\n",
           label, total, entities, wall, total / wall, cpu, total / cpu,
           (unsigned long long)st.written, (unsigned long long)st.stale, frc);
    eddy_store_close(s);
    return frc != 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_store redis PORT [rows] | embedded DIR [rows]\n");
        return 2;
    }
    long total = argc > 3 ? atol(argv[3]) : 2000000, entities = 100000;
    const char *features[] = {"n", "spend", "avg", "sd", "p95"};
    eddy_store_conf c = {0};
    c.view = "bench";
    c.join_keys[0] = "user_id";
    c.njoin_keys = 1;
    c.features = features;
    c.nfeatures = 5;
    c.ttl_ms = 7LL * 86400 * 1000;
    int rc = 0;
    if (strcmp(argv[1], "redis") == 0) {
        c.kind = EDDY_STORE_REDIS;
        c.port = atoi(argv[2]);
        c.max_pending = 200000;
        c.flush_timeout_ms = 600000;
        for (uint32_t bs = 64; bs <= 1024; bs *= 4) {
            char label[64];
            c.batch_size = bs;
            c.layout = EDDY_LAYOUT_EDDY;
            snprintf(label, sizeof label, "redis eddy batch %u", bs);
            rc |= run(&c, label, total, entities);
            c.layout = EDDY_LAYOUT_FEAST;
            c.project = "bench";
            snprintf(label, sizeof label, "redis feast batch %u", bs);
            rc |= run(&c, label, total, entities);
        }
    } else {
        char path[512];
        snprintf(path, sizeof path, "%s/bench-features.db", argv[2]);
        c.kind = EDDY_STORE_EMBEDDED;
        c.path = path;
        rc |= run(&c, "embedded (sqlite)", total, entities);
    }
    return rc;
}
