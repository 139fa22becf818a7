/* The standard process_* metrics of Prometheus clients (CPU seconds,
 * resident and virtual memory, open and maximum file descriptors, start
 * time), read from /proc when /metrics is scraped: a scrape sees the
 * process as it is, and nothing runs between scrapes. */
#include "engine/obs/metrics.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static void set(eddy_metrics *m, const char *name, const char *help, eddy_metric_kind kind,
                double v)
{
    eddy_metric *g = eddy_metrics_get(m, name, help, kind, NULL);
    if (g)
        eddy_metric_set(g, v);
}

static double start_time_seconds(void)
{
    /* starttime (field 22 of /proc/self/stat, clock ticks after boot) plus
     * btime (/proc/stat): the same as the Go and Python clients. */
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long long ticks = 0;
    for (int field = 2; p && field < 22; field++)
        p = strchr(p + 1, ' ');
    if (!p || sscanf(p + 1, "%llu", &ticks) != 1)
        return 0;
    unsigned long long btime = 0;
    if (!(f = fopen("/proc/stat", "r")))
        return 0;
    char line[256];
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "btime %llu", &btime) == 1)
            break;
    fclose(f);
    long hz = sysconf(_SC_CLK_TCK);
    return hz > 0 ? (double)btime + (double)ticks / (double)hz : 0;
}

void eddy_process_metrics_update(eddy_metrics *m)
{
    if (!m)
        return;
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        set(m, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
            EDDY_METRIC_COUNTER,
            (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
    unsigned long long vpages = 0, rpages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%llu %llu", &vpages, &rpages) == 2) {
            double page = (double)sysconf(_SC_PAGESIZE);
            set(m, "process_virtual_memory_bytes", "Virtual memory size in bytes.",
                EDDY_METRIC_GAUGE, (double)vpages * page);
            set(m, "process_resident_memory_bytes", "Resident memory size in bytes.",
                EDDY_METRIC_GAUGE, (double)rpages * page);
        }
        fclose(f);
    }
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        long n = 0;
        struct dirent *e;
        while ((e = readdir(d)))
            n += e->d_name[0] != '.';
        closedir(d);
        set(m, "process_open_fds", "Number of open file descriptors.", EDDY_METRIC_GAUGE,
            (double)(n - 1)); /* not the one opendir holds */
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        set(m, "process_max_fds", "Maximum number of open file descriptors.", EDDY_METRIC_GAUGE,
            (double)rl.rlim_cur);
    static double start;
    if (!start)
        start = start_time_seconds();
    set(m, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
        EDDY_METRIC_GAUGE, start);
}
