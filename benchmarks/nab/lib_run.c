/* NAB driver for the anomaly library: reads NAB CSVs (timestamp,value) and
 * writes timestamp,value,anomaly_score with one detector per series, fresh
 * for each file. The same scores must come out of the eddy pipeline that
 * replaces it.
 *
 *   lib_run DETECTOR IN.csv OUT.csv [key=value ...]
 *   lib_run DETECTOR NAB_DATA_DIR OUT_DIR [key=value ...]
 *     writes OUT_DIR/DETECTOR/<category>/DETECTOR_<name>.csv for every
 *     <category>/<name>.csv under NAB_DATA_DIR.
 *
 * DETECTOR is any univariate detector name of eddy_anom_new_default, or
 * "hst" (Half-Space Trees on the value alone, limits learnt). key=value
 * pairs override the nab detector's parameters (for tuning); the pair
 * protocol=nab gives the nab detector each series' minimum and maximum
 * before its first row (and Half-Space Trees its limits), as NAB's own
 * harness does (shared/datasets/nab/SCORING.md, "NAB protocol"). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/anomaly/anomaly.h"

typedef struct {
    const char *key;
    size_t off;
} nab_knob;

#define KNOB(f) {#f, offsetof(eddy_nab_params, f)}
static const nab_knob knobs[] = {EDDY_NAB_KNOBS(KNOB)};

static char **overrides;
static int n_overrides;
static int nab_protocol;            /* protocol=nab: the range is given */
static double file_lo, file_hi;     /* the current series' range */

static int apply_overrides(eddy_nab_params *p)
{
    if (nab_protocol) {
        p->range_lo = file_lo;
        p->range_hi = file_hi;
    }
    for (int i = 0; i < n_overrides; i++) {
        if (strcmp(overrides[i], "protocol=nab") == 0 || strcmp(overrides[i], "protocol=causal") == 0)
            continue;
        char *eq = strchr(overrides[i], '=');
        size_t klen = eq ? (size_t)(eq - overrides[i]) : 0;
        size_t k = 0, nk = sizeof knobs / sizeof knobs[0];
        while (k < nk && !(strlen(knobs[k].key) == klen &&
                           strncmp(knobs[k].key, overrides[i], klen) == 0))
            k++;
        if (!eq || k == nk) {
            fprintf(stderr, "lib_run: unknown nab parameter in '%s'\n", overrides[i]);
            return -1;
        }
        *(double *)((char *)p + knobs[k].off) = strtod(eq + 1, NULL);
    }
    return 0;
}

typedef struct {
    eddy_anom *a;
    eddy_hst *h;
} detector;

static int det_new(const char *name, detector *d)
{
    char err[256] = "";
    int rc;
    d->a = NULL;
    d->h = NULL;
    if (strcmp(name, "hst") == 0) {
        eddy_hst_params p;
        eddy_hst_defaults(&p, 1);
        if (nab_protocol && file_hi > file_lo) {
            p.limits_lo = &file_lo;
            p.limits_hi = &file_hi;
        }
        rc = eddy_hst_new(&p, &d->h, err, sizeof err);
    } else if (strcmp(name, "nab") == 0) {
        eddy_nab_params p;
        eddy_nab_defaults(&p);
        if (apply_overrides(&p) != 0)
            return -1;
        rc = eddy_nab_new(&p, &d->a, err, sizeof err);
    } else {
        rc = eddy_anom_new_default(name, &d->a, err, sizeof err);
    }
    if (rc != 0)
        fprintf(stderr, "lib_run: %s\n", err[0] ? err : "out of memory");
    return rc;
}

static void det_free(detector *d)
{
    eddy_anom_free(d->a);
    eddy_hst_free(d->h);
}

/* "YYYY-MM-DD HH:MM:SS" as milliseconds since the epoch (UTC). */
static int parse_ts(const char *s, int64_t *ms)
{
    struct tm tm = {0};
    const char *end = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
    if (!end)
        return -1;
    *ms = (int64_t)timegm(&tm) * 1000;
    return 0;
}

static int run_file(const char *det, const char *in, const char *out)
{
    FILE *f = fopen(in, "r");
    if (!f) {
        fprintf(stderr, "lib_run: %s: %s\n", in, strerror(errno));
        return -1;
    }
    FILE *o = fopen(out, "w");
    if (!o) {
        fprintf(stderr, "lib_run: %s: %s\n", out, strerror(errno));
        fclose(f);
        return -1;
    }
    char line[512];
    if (nab_protocol) {
        /* The range of the whole file, known before the first row. */
        file_lo = INFINITY;
        file_hi = -INFINITY;
        while (fgets(line, sizeof line, f)) {
            char *comma = strchr(line, ','), *end;
            double v = comma ? strtod(comma + 1, &end) : NAN;
            if (comma && end != comma + 1 && isfinite(v)) {
                file_lo = fmin(file_lo, v);
                file_hi = fmax(file_hi, v);
            }
        }
        rewind(f);
        if (!(file_hi >= file_lo))
            file_lo = file_hi = 0;
        /* A constant series (art_flatline) still gets a range, as run.sh
         * gives it: one unit above its value. */
        if (file_hi == file_lo)
            file_hi = file_lo + 1;
    }
    detector d;
    if (det_new(det, &d) != 0) {
        fclose(f);
        fclose(o);
        return -1;
    }
    long lineno = 0;
    int rc = 0;
    fprintf(o, "timestamp,value,anomaly_score\n");
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = 0;
        if (lineno == 1 && strncmp(line, "timestamp", 9) == 0)
            continue;
        char *comma = strchr(line, ',');
        int64_t ts;
        char *end;
        double v = comma ? strtod(comma + 1, &end) : NAN;
        if (!comma || end == comma + 1 || parse_ts(line, &ts) != 0) {
            fprintf(stderr, "lib_run: %s:%ld: expected 'YYYY-MM-DD HH:MM:SS,number', got '%s'\n",
                    in, lineno, line);
            rc = -1;
            break;
        }
        double s = d.h ? eddy_hst_update(d.h, &v, 1) : eddy_anom_update(d.a, v, ts);
        if (!(s >= 0.0))
            s = 0.0;
        *comma = 0;
        fprintf(o, "%s,%s,%.9g\n", line, comma + 1, s);
    }
    det_free(&d);
    fclose(f);
    if (fclose(o) != 0)
        rc = -1;
    return rc;
}

static int run_corpus(const char *det, const char *data, const char *outdir)
{
    char path[4096], dst[4096];
    snprintf(dst, sizeof dst, "%s/%s", outdir, det);
    mkdir(outdir, 0777);
    mkdir(dst, 0777);
    DIR *top = opendir(data);
    if (!top) {
        fprintf(stderr, "lib_run: %s: %s\n", data, strerror(errno));
        return -1;
    }
    struct dirent *c;
    int rc = 0, files = 0;
    while (rc == 0 && (c = readdir(top))) {
        if (c->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", data, c->d_name);
        DIR *cat = opendir(path);
        if (!cat)
            continue;
        snprintf(dst, sizeof dst, "%s/%s/%s", outdir, det, c->d_name);
        mkdir(dst, 0777);
        struct dirent *e;
        while (rc == 0 && (e = readdir(cat))) {
            size_t l = strlen(e->d_name);
            if (l < 5 || strcmp(e->d_name + l - 4, ".csv") != 0)
                continue;
            char in[4096], out[4096];
            snprintf(in, sizeof in, "%s/%s/%s", data, c->d_name, e->d_name);
            snprintf(out, sizeof out, "%s/%s/%s/%s_%s", outdir, det, c->d_name, det, e->d_name);
            rc = run_file(det, in, out);
            files++;
        }
        closedir(cat);
    }
    closedir(top);
    if (rc == 0)
        fprintf(stderr, "lib_run: %d series scored with %s\n", files, det);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s DETECTOR IN.csv|NAB_DATA_DIR OUT.csv|OUT_DIR [key=value ...]\n",
                argv[0]);
        return 2;
    }
    overrides = argv + 4;
    n_overrides = argc - 4;
    for (int i = 0; i < n_overrides; i++)
        nab_protocol |= strcmp(overrides[i], "protocol=nab") == 0;
    struct stat st;
    if (stat(argv[2], &st) != 0) {
        fprintf(stderr, "lib_run: %s: %s\n", argv[2], strerror(errno));
        return 1;
    }
    int rc = S_ISDIR(st.st_mode) ? run_corpus(argv[1], argv[2], argv[3])
                                 : run_file(argv[1], argv[2], argv[3]);
    return rc == 0 ? 0 : 1;
}
