/* Host functions added in ABI 1.1: alert(), metric_labels(), ctx_requests().
 *
 * An alert that changes state goes to three places: the step's `alerts`
 * side output (a Kafka topic, a file, a webhook...), the worker's
 * recent-alerts ring (/v1/alerts, `eddy alerts tail --admin`), and the log
 * (warn when firing, info when resolved). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/exec.h"
#include "engine/host_ext.h"
#include "engine/obs/log.h"
#include "engine/plugin_abi.h"

eddy_metric *eddy_host_step_metric(eddy_ctx *ctx, const char *name, const char *help,
                                   eddy_metric_kind kind, const char *const *kv, uint32_t n)
{
    /* Every metric eddy exports starts with eddy_ (Prometheus convention:
     * one namespace per exporter), operators' and plugins' too: the host
     * adds it when the operator did not. */
    char full[160];
    if (strncmp(name, "eddy_", 5) != 0) {
        snprintf(full, sizeof full, "eddy_%s", name);
        name = full;
    }
    eddy_buf lb = {0};
    eddy_metrics_label(&lb, "pipeline", ctx->p->name);
    eddy_metrics_label(&lb, "step", ctx->st->name);
    for (uint32_t i = 0; i < n; i++)
        eddy_metrics_label(&lb, kv[2 * i], kv[2 * i + 1] ? kv[2 * i + 1] : "");
    eddy_buf_putc(&lb, '\0');
    eddy_metric *m = lb.data ? eddy_metrics_get(ctx->rt->metrics, name, help, kind,
                                                (const char *)lb.data)
                             : NULL;
    eddy_buf_free(&lb);
    return m;
}

eddy_metric *eddy_host_metric_labels(eddy_ctx *ctx, const char *name, const char *help,
                                     eddy_metric_kind kind, const char *const *labels,
                                     uint32_t n)
{
    if (!ctx || !name || (n && !labels))
        return NULL;
    for (uint32_t i = 0; i < n; i++)
        if (!labels[2 * i])
            return NULL;
    return eddy_host_step_metric(ctx, name, help, kind, labels, n);
}

uint64_t eddy_host_ctx_requests(const eddy_ctx *ctx, const char *what)
{
    if (!ctx || !ctx->st || !what)
        return 0;
    rt_step *st = ctx->st;
    uint64_t n = 0;
    pthread_mutex_lock(&st->req_mu);
    for (int k = 0; k < 8 && st->req_names[k]; k++)
        if (strcmp(st->req_names[k], what) == 0) {
            n = atomic_load(&st->req_counts[k]);
            break;
        }
    pthread_mutex_unlock(&st->req_mu);
    return n;
}

static const char *nz(const char *s) { return s ? s : ""; }

static void count_suppressed(eddy_ctx *ctx, eddy_alert_suppress why)
{
    rt_step *st = ctx->st;
    int i = why == EDDY_SUPPRESS_COOLDOWN ? 0 : 1;
    if (!st->m_suppressed[i]) {
        const char *kv[] = {"reason", i == 0 ? "cooldown" : "rate_limit"};
        st->m_suppressed[i] = eddy_host_step_metric(ctx, "eddy_alerts_suppressed_total",
                                          "Alert firings held back by noise controls",
                                          EDDY_METRIC_COUNTER, kv, 1);
    }
    eddy_metric_add(st->m_suppressed[i], 1);
}

static void count_alert(eddy_ctx *ctx, int sev, int firing)
{
    rt_step *st = ctx->st;
    if (sev < 0 || sev > 2)
        sev = 2;
    if (!st->m_alerts[sev][firing]) {
        const char *kv[] = {"severity", eddy_severity_name(sev), "state",
                            firing ? "firing" : "resolved"};
        st->m_alerts[sev][firing] = eddy_host_step_metric(ctx, "eddy_alerts_total",
                                                "Alerts emitted, by severity and state",
                                                EDDY_METRIC_COUNTER, kv, 2);
    }
    eddy_metric_add(st->m_alerts[sev][firing], 1);
}

static int has_output(const rt_step *st, const char *name)
{
    for (int k = 0; k < st->nouts; k++)
        if (strcmp(st->out_names[k], name) == 0)
            return 1;
    return 0;
}

int eddy_host_alert(eddy_ctx *ctx, const eddy_alert *in)
{
    if (!ctx || !in || in->struct_size < EDDY_ALERT_MIN_SIZE_1_1)
        return EDDY_EINVAL;
    if (!ctx->th || !ctx->st->alert_policy.enabled)
        return 0; /* validation probe, or alerts turned off for the step */
    /* A plugin built against a shorter eddy_alert: copy what it has. */
    eddy_alert a = {0};
    memcpy(&a, in, in->struct_size < sizeof a ? in->struct_size : sizeof a);
    a.struct_size = sizeof a;
    if (!ctx->alerts) {
        ctx->alerts = eddy_alert_state_new(&ctx->st->alert_policy);
        if (!ctx->alerts)
            return EDDY_ENOMEM;
    }
    /* The alert key is (detector, feature, entity key): the statistic is
     * what the alert says, not a separate alert (a feature whose PSI and KS
     * both breach, or a detector's warning becoming a change, is one
     * alert); and one alert per key across the step's partitions (below). */
    char akey[512];
    int kl = snprintf(akey, sizeof akey, "%s\x1f%s\x1f%s", nz(a.detector), nz(a.feature),
                      nz(a.key));
    if (kl < 0)
        return EDDY_EINVAL;
    if ((size_t)kl >= sizeof akey)
        kl = (int)sizeof akey - 1;
    uint64_t id = 0;
    eddy_alert_suppress why;
    int firing = 0, sent_sev = -1;
    int sev = ctx->st->alert_policy.severity >= 0 ? ctx->st->alert_policy.severity : a.severity;
    int rc = eddy_alert_check_sev(ctx->alerts, akey, (size_t)kl, a.breach != 0, a.time_ms, &id,
                                  &why, &firing, &sent_sev);
    if (rc == EDDY_ALERT_SUPPRESSED) {
        count_suppressed(ctx, why);
        return 0;
    }
    if (rc < 0)
        return rc;
    /* A breach of an alert already firing is news only when it is more
     * severe than what was sent (a drift detector's warning becoming a
     * change): the same alert again, same id. Anything else is skipped
     * here, before the merge table's mutex. */
    int escalates = rc == EDDY_ALERT_NONE && firing && a.breach && sev > sent_sev;
    eddy_alert_merge *mg = ctx->st->alert_policy.per_partition ? NULL : ctx->st->alert_merge;
    uint64_t mid = id;
    int send = 0;
    if (rc == EDDY_ALERT_FIRING || escalates) {
        int msev = sev;
        if (mg)
            send = eddy_alert_merge_fire(mg, akey, (size_t)kl, ctx, id, sev,
                                         rc == EDDY_ALERT_FIRING, &mid, &msev);
        else /* per partition; a severity not known (state of version 1) is only noted */
            send = rc == EDDY_ALERT_FIRING || sent_sev >= 0;
        eddy_alert_state_sent(ctx->alerts, akey, (size_t)kl, mid, msev);
        sev = msev;
        rc = EDDY_ALERT_FIRING;
    } else if (rc == EDDY_ALERT_RESOLVED) {
        /* The resolve says the severity the alert was sent with, not the
         * clearing check's. */
        int msev = -1;
        send = mg ? eddy_alert_merge_resolve(mg, akey, (size_t)kl, ctx, id, &mid, &msev) : 1;
        send = send && ctx->st->alert_policy.resolve;
        sev = msev >= 0 ? msev : sent_sev >= 0 ? sent_sev : sev;
    }
    if (!send)
        return 0;
    id = mid;
    eddy_runtime *rt = ctx->rt;
    eddy_alert_event e = {
        .a = &a,
        .id = id,
        .firing = rc == EDDY_ALERT_FIRING,
        .severity = sev,
        .worker = rt->worker ? eddy_opts_str(rt->worker, "name") : "",
        .pipeline = ctx->p->name,
        .step = ctx->st->name,
        .partition = ctx->partition,
        .emitted_at_ms = eddy_now_ms(),
        .message = a.message,
    };
    char msg[512];
    if (!e.message) {
        eddy_alert_message(&e, msg, sizeof msg);
        e.message = msg;
    }
    count_alert(ctx, sev, e.firing);

    eddy_buf js = {0};
    if (eddy_alert_json(&e, &js) == 0)
        eddy_alert_ring_push(rt->alerts, (const char *)js.data, js.len);
    eddy_buf_free(&js);
    if (ctx->st->alert_policy.log)
        eddy_log(e.firing ? EDDY_LOG_WARN : EDDY_LOG_INFO,
                 (const char *[]){"pipeline", ctx->p->name, "step", ctx->st->name, "alert", "1",
                                  NULL},
                 "%s", e.message);

    if (!has_output(ctx->st, "alerts"))
        return 1; /* logged and on /v1/alerts; no topic configured */
    eddy_batch *b = eddy_exec_batch_get(ctx->th);
    if (!b)
        return EDDY_ENOMEM;
    b->partition = ctx->partition;
    eddy_record *r = eddy_batch_append(b);
    rc = r ? eddy_alert_record(&e, b, r) : EDDY_ENOMEM;
    if (rc == 0)
        rc = eddy_exec_side(ctx->th, ctx->p, ctx->st, "alerts", b);
    eddy_exec_batch_put(ctx->th, b);
    return rc < 0 ? rc : 1;
}
