/* One check of distribution_drift: every feature's current window against
 * its reference, then the dataset-level rule. Each feature's result is an
 * alert check (host->alert) keyed by the feature, so noise controls apply
 * per feature; the dataset-level check has feature "". */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "operators/drift/dist.h"

static const char *const stat_alert_names[ST_N] = {"psi", "ks_pvalue", "js", "wasserstein"};

typedef struct fres {
    double val[ST_N];
    int breach[ST_N];
    double ks_stat, w_raw;
    int computed;
} fres;

static int numeric(dist *d, dfeat *f, fres *res)
{
    uint32_t nr = eddy_sample_size(f->ref.s), nc = eddy_sample_size(f->cur.s);
    if (nr < d->min_samples || nc < d->min_samples)
        return 0;
    const double *R = eddy_sample_sorted(f->ref.s);
    const double *C = eddy_sample_sorted(f->cur.s);
    int rc = 0;
    if (d->stats[ST_PSI]) {
        rc |= eddy_psi(R, nr, C, nc, &d->bp, &res->val[ST_PSI]);
        res->breach[ST_PSI] = res->val[ST_PSI] >= d->thr[ST_PSI];
    }
    if (d->stats[ST_KS]) {
        rc |= eddy_ks_2samp(R, nr, C, nc, &res->ks_stat, &res->val[ST_KS]);
        res->breach[ST_KS] = res->val[ST_KS] < d->thr[ST_KS];
    }
    if (d->stats[ST_JS]) {
        rc |= eddy_js_distance(R, nr, C, nc, &d->bp, &res->val[ST_JS]);
        res->breach[ST_JS] = res->val[ST_JS] >= d->thr[ST_JS];
    }
    if (d->stats[ST_WASSERSTEIN]) {
        rc |= eddy_wasserstein(R, nr, C, nc, &res->w_raw, &res->val[ST_WASSERSTEIN]);
        res->breach[ST_WASSERSTEIN] = res->val[ST_WASSERSTEIN] >= d->thr[ST_WASSERSTEIN];
    }
    if (rc != 0) {
        d->h->log(d->ctx, EDDY_LOG_WARN, "distribution_drift: feature '%s': statistics failed "
                                         "(error %d); skipped this check", f->name, rc);
        return 0;
    }
    res->computed = 1;
    return 1;
}

static void fill_bounds(dist *d, eddy_alert *a)
{
    a->current_start_ms = d->cb.start;
    a->current_end_ms = d->cb.end;
    a->current_n = d->cb.n;
    a->reference_start_ms = d->rb.start;
    a->reference_end_ms = d->rb.end;
    a->reference_n = d->rb.n;
}

static int report_record(dist *d, dfeat *f, const fres *res, double chi_p, double chi_stat,
                         int drifted, int64_t ts)
{
    const eddy_host *h = d->h;
    eddy_batch *b = h->emit_batch(d->ctx);
    if (!b)
        return 0;
    eddy_record *r = h->batch_append(b);
    if (!r)
        return -1;
    h->record_set_time(r, ts);
#define SETV(name, v)                                                                          \
    do {                                                                                       \
        eddy_value v_ = (v);                                                                   \
        h->record_set(b, r, h->intern(name, strlen(name)), &v_);                               \
    } while (0)
    eddy_value s = h->batch_string(b, f->name, strlen(f->name));
    SETV("feature", s);
    eddy_value x = {.type = EDDY_DOUBLE};
    eddy_value iv = {.type = EDDY_INT};
    if (f->categorical) {
        x.u.d = chi_stat;
        SETV("chi2", x);
        x.u.d = chi_p;
        SETV("chi2_pvalue", x);
    } else {
        for (int k = 0; k < ST_N; k++)
            if (d->stats[k]) {
                x.u.d = res->val[k];
                SETV(stat_alert_names[k], x);
            }
        if (d->stats[ST_KS]) {
            x.u.d = res->ks_stat;
            SETV("ks_statistic", x);
        }
    }
    eddy_value bv = {.type = EDDY_BOOL};
    bv.u.b = drifted;
    SETV("drifted", bv);
    iv.u.i = (int64_t)d->rb.n;
    SETV("reference_n", iv);
    iv.u.i = (int64_t)d->cb.n;
    SETV("current_n", iv);
    iv.u.i = d->cb.start;
    SETV("current_start", iv);
    iv.u.i = d->cb.end;
    SETV("current_end", iv);
#undef SETV
    return h->emit_side(d->ctx, "checks", b);
}

int eddy_dist_check(dist *d, int64_t ts)
{
    const eddy_host *h = d->h;
    uint32_t checked = 0, drifted = 0;
    int can_alert = EDDY_HOST_HAS(h, alert);
    h->metric_add(d->m_checks, 1);
    for (uint32_t i = 0; i < d->nf; i++) {
        dfeat *f = &d->f[i];
        eddy_alert a = {.struct_size = sizeof a, .detector = "distribution", .feature = f->name,
                        .key = "", .p_value = NAN, .severity = EDDY_SEV_WARNING, .time_ms = ts};
        fill_bounds(d, &a);
        fres res = {0};
        double chi_p = 1, chi_stat = 0;
        int is_drift = 0;
        if (f->categorical) {
            size_t k = 0;
            if (eddy_catcount_total(f->ref.c) < d->min_samples ||
                eddy_catcount_total(f->cur.c) < d->min_samples)
                continue;
            if (eddy_catcount_align(f->ref.c, f->cur.c, d->scratch_a, d->scratch_b, d->scratch_n,
                                    &k) != 0)
                continue;
            uint32_t dof;
            if (eddy_chi2_homogeneity(d->scratch_a, d->scratch_b, k, &chi_stat, &chi_p, &dof) != 0)
                continue;
            is_drift = chi_p < d->chi2_pvalue;
            a.statistic = "chi2_pvalue";
            a.value = chi_p;
            a.threshold = d->chi2_pvalue;
            a.p_value = chi_p;
            h->metric_set(f->gauge[ST_N], chi_p);
        } else {
            if (!numeric(d, f, &res))
                continue;
            int any = 0, all = 1, first = -1, first_breach = -1;
            for (int s = 0; s < ST_N; s++) {
                if (!d->stats[s])
                    continue;
                h->metric_set(f->gauge[s], res.val[s]);
                if (first < 0)
                    first = s;
                if (res.breach[s]) {
                    any = 1;
                    if (first_breach < 0)
                        first_breach = s;
                } else {
                    all = 0;
                }
            }
            is_drift = d->all ? all : any;
            int s = is_drift && first_breach >= 0 ? first_breach : first;
            a.statistic = stat_alert_names[s];
            a.value = res.val[s];
            a.threshold = d->thr[s];
            if (d->stats[ST_KS])
                a.p_value = res.val[ST_KS];
        }
        checked++;
        drifted += is_drift != 0;
        a.breach = is_drift;
        if (can_alert && h->alert(d->ctx, &a) < 0)
            return -1;
        if (d->report && report_record(d, f, &res, chi_p, chi_stat, is_drift, ts) < 0)
            return -1;
    }
    h->metric_add(d->m_drifted, drifted);
    /* The dataset alert summarises several features; for a step that
     * watches one it would repeat the feature's alert (issue 15.7). */
    if (d->dataset_share > 0 && d->nf > 1 && checked > 0 && can_alert) {
        double share = (double)drifted / checked;
        eddy_alert a = {.struct_size = sizeof a, .breach = share >= d->dataset_share,
                        .detector = "distribution", .feature = "", .key = "",
                        .statistic = "drifted_share", .value = share,
                        .threshold = d->dataset_share, .p_value = NAN,
                        .severity = EDDY_SEV_CRITICAL, .time_ms = ts};
        fill_bounds(d, &a);
        if (h->alert(d->ctx, &a) < 0)
            return -1;
    }
    return 0;
}
