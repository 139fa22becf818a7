/* Builds a detector from a fixture row: a detector name and options as
 * benchmarks/drift/signals.sh takes them ("-" or space-separated
 * NAME=VALUE, river's parameter names), so the unit tests read the same
 * manifests as the end-to-end test. */
#ifndef EDDY_TEST_DRIFT_OPTS_H
#define EDDY_TEST_DRIFT_OPTS_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/drift/drift.h"

/* One option into the detector's params; 0, or -1 for an unknown name. */
static int drift_opt_set(const char *det, void *params, const char *k, const char *v)
{
    double x = strtod(v, NULL);
    int b = strcmp(v, "true") == 0;
#define D(name, field) if (strcmp(k, name) == 0) { p->field = x; return 0; }
#define U(name, field) if (strcmp(k, name) == 0) { p->field = (uint32_t)x; return 0; }
#define B(name, field) if (strcmp(k, name) == 0) { p->field = b; return 0; }
    if (strcmp(det, "page_hinkley") == 0) {
        eddy_page_hinkley_params *p = params;
        U("min_instances", min_instances) D("delta", delta) D("threshold", threshold)
        D("alpha", alpha)
        if (strcmp(k, "mode") == 0) {
            p->mode = strcmp(v, "up") == 0 ? EDDY_PH_UP
                    : strcmp(v, "down") == 0 ? EDDY_PH_DOWN : EDDY_PH_BOTH;
            return 0;
        }
    } else if (strcmp(det, "ddm") == 0) {
        eddy_ddm_params *p = params;
        U("warm_start", warm_start) D("warning_threshold", warning_threshold)
        D("drift_threshold", drift_threshold)
    } else if (strcmp(det, "eddm") == 0) {
        eddy_eddm_params *p = params;
        U("warm_start", warm_start) D("alpha", alpha) D("beta", beta)
    } else if (strcmp(det, "hddm_a") == 0) {
        eddy_hddm_a_params *p = params;
        D("drift_confidence", drift_confidence) D("warning_confidence", warning_confidence)
        B("two_sided", two_sided)
    } else if (strcmp(det, "hddm_w") == 0) {
        eddy_hddm_w_params *p = params;
        D("drift_confidence", drift_confidence) D("warning_confidence", warning_confidence)
        D("lambda", lambda) B("two_sided", two_sided)
    } else if (strcmp(det, "adwin") == 0) {
        eddy_adwin_params *p = params;
        D("delta", delta) U("clock", clock) U("max_buckets", max_buckets)
        U("min_window_length", min_window_length) U("grace_period", grace_period)
    } else if (strcmp(det, "kswin") == 0) {
        eddy_kswin_params *p = params;
        D("alpha", alpha) U("window_size", window_size) U("stat_size", stat_size)
        if (strcmp(k, "seed") == 0) {
            p->seed = strtoull(v, NULL, 10);
            return 0;
        }
    }
#undef D
#undef U
#undef B
    return -1;
}

/* The detector of a manifest row, or NULL after saying why on stderr. */
static eddy_drift *drift_from_row(const char *det, const char *opts)
{
    union {
        eddy_page_hinkley_params ph;
        eddy_ddm_params ddm;
        eddy_eddm_params eddm;
        eddy_hddm_a_params ha;
        eddy_hddm_w_params hw;
        eddy_adwin_params ad;
        eddy_kswin_params ks;
    } p;
    if (strcmp(det, "page_hinkley") == 0) eddy_page_hinkley_defaults(&p.ph);
    else if (strcmp(det, "ddm") == 0) eddy_ddm_defaults(&p.ddm);
    else if (strcmp(det, "eddm") == 0) eddy_eddm_defaults(&p.eddm);
    else if (strcmp(det, "hddm_a") == 0) eddy_hddm_a_defaults(&p.ha);
    else if (strcmp(det, "hddm_w") == 0) eddy_hddm_w_defaults(&p.hw);
    else if (strcmp(det, "adwin") == 0) eddy_adwin_defaults(&p.ad);
    else if (strcmp(det, "kswin") == 0) eddy_kswin_defaults(&p.ks);
    else {
        fprintf(stderr, "unknown detector %s\n", det);
        return NULL;
    }
    char buf[512];
    snprintf(buf, sizeof buf, "%s", strcmp(opts, "-") == 0 ? "" : opts);
    for (char *save = NULL, *kv = strtok_r(buf, " ", &save); kv; kv = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq || (*eq = 0, drift_opt_set(det, &p, kv, eq + 1) != 0)) {
            fprintf(stderr, "%s: bad option '%s'\n", det, kv);
            return NULL;
        }
    }
    eddy_drift *d = NULL;
    char err[256] = "";
    int rc = strcmp(det, "page_hinkley") == 0 ? eddy_page_hinkley_new(&p.ph, &d, err, sizeof err)
           : strcmp(det, "ddm") == 0         ? eddy_ddm_new(&p.ddm, &d, err, sizeof err)
           : strcmp(det, "eddm") == 0        ? eddy_eddm_new(&p.eddm, &d, err, sizeof err)
           : strcmp(det, "hddm_a") == 0      ? eddy_hddm_a_new(&p.ha, &d, err, sizeof err)
           : strcmp(det, "hddm_w") == 0      ? eddy_hddm_w_new(&p.hw, &d, err, sizeof err)
           : strcmp(det, "adwin") == 0       ? eddy_adwin_new(&p.ad, &d, err, sizeof err)
                                             : eddy_kswin_new(&p.ks, &d, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "%s %s: %s\n", det, opts, err);
        return NULL;
    }
    return d;
}
#endif
