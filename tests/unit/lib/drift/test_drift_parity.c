/* Parity with river 0.26.1, update by update, on the committed fixtures of
 * tests/fixtures/drift/gen_river_checks.py (argv[1]: their directory):
 *
 *  - every row of cases.tsv: river's two flags (warning_detected,
 *    drift_detected) after every update of a long stream must equal
 *    eddy_drift_flags(); the expected file lists only the updates with a
 *    flag set, so every other update must have none;
 *  - every row of parity.tsv: the flags and the statistic after every
 *    update of a shorter stream (statistic within STAT_TOL, relative).
 *
 * The signal eddy_drift_update() answers must be the flags folded (change
 * wins). KSWIN rows give a seed, which eddy draws from as CPython does. */
#include <math.h>

#include "tests/unit/test.h"
#include "lib/drift/drift.h"
#include "tests/unit/lib/drift/drift_opts.h"
#include "tests/unit/lib/drift/drift_stream.h"

#define MAXV 50000
/* river and eddy do the same operations in the same order; what is left is
 * libm's last bit (pow, log, sqrt), far below any threshold's effect. */
#define STAT_TOL 1e-12

static double xs[MAXV], want_stat[MAXV];
static unsigned want_flags[MAXV];
static long both_seen, warn_seen, change_seen, updates;

static const char *flag_name(unsigned f)
{
    static const char *const names[] = {"none", "warning", "change", "warning+change"};
    return f < 4 ? names[f] : "?";
}

/* Runs d over n values against want_flags (and want_stat when given);
 * prints the first few differences as expected vs seen. */
static void compare(const char *what, eddy_drift *d, long n, int with_stat)
{
    long bad_flags = 0, bad_sig = 0, bad_stat = 0;
    for (long i = 0; i < n; i++) {
        eddy_drift_signal s = eddy_drift_update(d, xs[i]);
        unsigned f = eddy_drift_flags(d), w = want_flags[i];
        unsigned folded = f & EDDY_DRIFT_FLAG_CHANGE ? EDDY_DRIFT_CHANGE : f;
        if (f != w && bad_flags++ < 5)
            fprintf(stderr, "%s: update %ld: river flags %s, eddy %s\n", what, i, flag_name(w),
                    flag_name(f));
        if ((unsigned)s != folded && bad_sig++ < 5)
            fprintf(stderr, "%s: update %ld: flags %s but signal %d\n", what, i, flag_name(f), s);
        both_seen += w == 3;
        warn_seen += (w & 1) != 0;
        change_seen += (w & 2) != 0;
        if (with_stat) {
            double e = want_stat[i], g = eddy_drift_statistic(d);
            if (!(fabs(e - g) <= STAT_TOL * fmax(1.0, fabs(e))) && bad_stat++ < 5)
                fprintf(stderr, "%s: update %ld: river statistic %.17g, eddy %.17g\n", what, i,
                        e, g);
        }
    }
    updates += n;
    CHECK_MSG(bad_flags == 0, "%s: %ld of %ld updates with other flags than river's", what,
              bad_flags, n);
    CHECK_MSG(bad_sig == 0, "%s: %ld signals are not the flags folded", what, bad_sig);
    CHECK_MSG(bad_stat == 0, "%s: %ld statistics differ from river's", what, bad_stat);
}

/* "<index> warning|change|warning change" per flagged update. */
static int load_events(const char *dir, const char *file, long n)
{
    char path[4096], line[256];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    memset(want_flags, 0, sizeof want_flags);
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        char *end;
        long i = strtol(line, &end, 10);
        unsigned fl = (strstr(end, "warning") ? 1u : 0u) | (strstr(end, "change") ? 2u : 0u);
        if (end == line || i < 0 || i >= n || fl == 0) {
            fprintf(stderr, "%s: bad line %s", path, line);
            rc = -1;
        } else {
            want_flags[i] = fl;
        }
    }
    fclose(f);
    return rc;
}

/* "<flags> <statistic>" per update, exactly n lines. */
static int load_updates(const char *dir, const char *file, long n)
{
    char path[4096], line[256];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    long k = 0;
    while (k <= n && fgets(line, sizeof line, f)) {
        char *end;
        unsigned long fl = strtoul(line, &end, 10);
        if (k == n || end == line || fl > 3)
            break;
        want_flags[k] = (unsigned)fl;
        want_stat[k++] = strtod(end, NULL);
    }
    fclose(f);
    if (k != n)
        fprintf(stderr, "%s: %ld update lines, want %ld (one per value)\n", path, k, n);
    return k == n ? 0 : -1;
}

/* Each manifest row: case, detector, options, expected file. */
static int run_manifest(const char *dir, const char *manifest, int per_update)
{
    char path[4096], line[1024];
    snprintf(path, sizeof path, "%s/%s", dir, manifest);
    FILE *f = fopen(path, "r");
    CHECK_MSG(f != NULL, "cannot open %s (run tests/fixtures/drift/gen_river_checks.py)", path);
    if (!f)
        return 0;
    int rows = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        line[strcspn(line, "\n")] = 0;
        char *save = NULL, *cs = strtok_r(line, "\t", &save), *det = strtok_r(NULL, "\t", &save),
             *opts = strtok_r(NULL, "\t", &save), *exp = strtok_r(NULL, "\t", &save);
        if (!cs || !det || !opts || !exp) {
            CHECK_MSG(0, "%s: a row without four tab-separated columns", manifest);
            continue;
        }
        char file[512], what[1024];
        snprintf(file, sizeof file, "%s.txt", cs);
        snprintf(what, sizeof what, "%s %s %s", cs, det, opts);
        long n = drift_load_stream(dir, file, xs, MAXV);
        eddy_drift *d = n > 0 ? drift_from_row(det, opts) : NULL;
        int ok = d && (per_update ? load_updates(dir, exp, n) : load_events(dir, exp, n)) == 0;
        CHECK_MSG(ok, "%s: cannot set up the row", what);
        if (ok)
            compare(what, d, n, per_update);
        eddy_drift_free(d);
        rows++;
    }
    fclose(f);
    return rows;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FIXTURE_DIR\n", argv[0]);
        return 1;
    }
    int events = run_manifest(argv[1], "cases.tsv", 0);
    long both_events = both_seen;
    int rows = run_manifest(argv[1], "parity.tsv", 1);
    fprintf(stderr, "%d + %d rows, %ld updates; river flags: %ld warning, %ld change, %ld both\n",
            events, rows, updates, warn_seen, change_seen, both_seen);
    /* Guards against fixtures that silently lost what this test is for. */
    CHECK_MSG(events >= 100, "cases.tsv: want at least 100 rows, saw %d", events);
    CHECK_MSG(rows >= 40, "parity.tsv: want at least 40 rows, saw %d", rows);
    CHECK_MSG(both_events > 0 && both_seen > both_events,
              "want updates with both flags in both manifests, saw %ld and %ld", both_events,
              both_seen - both_events);
    return test_report();
}
