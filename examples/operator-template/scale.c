/* An eddy operator plugin, built out of tree against the installed header:
 *
 *   make            # uses `pkg-config eddy-operator`
 *
 * `scale` multiplies a numeric field by a factor and writes the result to
 * another field. Copy this folder to start your own operator: rename it,
 * change the option table, and fill in the lifecycle functions. The option
 * table is all eddy needs to parse, validate, default and document your
 * options (`eddy describe scale --plugin-dir .`). */
#include <eddy/operator.h>
#include <stdio.h>
#include <string.h>

static const eddy_option scale_options[] = {
    {"field", EDDY_OPT_FIELD, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_REQUIRED,
     "Numeric field to read."},
    {"factor", EDDY_OPT_DOUBLE, "1.0", -1e12, 1e12, NULL, 0, "Multiplier."},
    {"output", EDDY_OPT_FIELD, "scaled", EDDY_NO_RANGE, NULL, 0, "Field to write the product to."},
    {NULL, 0, NULL, 0, 0, NULL, 0, NULL},
};

/* Per (step, partition) state. Everything the host gives us lives in the
 * host table; this plugin links nothing of eddy. */
typedef struct scale {
    const eddy_host *host;
    eddy_sym field, output;
    double factor;
    uint64_t seen; /* records scaled, not yet added to the host-kept total */
    eddy_metric *skipped;
} scale;

static void *scale_create(const eddy_host *host, eddy_ctx *ctx, const eddy_opts *opts, char *err,
                          size_t errlen)
{
    if (host->abi_major != EDDY_ABI_MAJOR) {
        snprintf(err, errlen, "host ABI %u, plugin ABI %d", host->abi_major, EDDY_ABI_MAJOR);
        return NULL;
    }
    scale *s = host->alloc(sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    memset(s, 0, sizeof *s);
    s->host = host;
    const char *f = host->opt_str(opts, "field");
    const char *o = host->opt_str(opts, "output");
    s->field = host->intern(f, strlen(f));
    s->output = host->intern(o, strlen(o));
    s->factor = host->opt_double(opts, "factor");
    s->skipped = host->metric(ctx, "eddy_scale_skipped_total",
                              "Records whose field was missing or not a number",
                              EDDY_METRIC_COUNTER);
    return s;
}

static int scale_process(void *state, eddy_ctx *ctx, eddy_batch *in)
{
    scale *s = state;
    const eddy_host *h = s->host;
    uint32_t n = h->batch_count(in);
    for (uint32_t i = 0; i < n; i++) {
        eddy_record *r = h->batch_get(in, i);
        const eddy_value *v = h->record_get(r, s->field);
        double x;
        if (v && v->type == EDDY_INT)
            x = (double)v->u.i;
        else if (v && v->type == EDDY_DOUBLE)
            x = v->u.d;
        else {
            h->metric_add(s->skipped, 1);
            continue;
        }
        eddy_value out = {0};
        out.type = EDDY_DOUBLE;
        out.u.d = x * s->factor;
        if (h->record_set(in, r, s->output, &out) != 0)
            return -1;
        s->seen++;
    }
    /* Durable state with little code (ABI 1.2): the host keeps the bytes
     * under a key, writes them to the changelog at each commit and gives
     * them back after a restart or rebalance. The key could be an entity
     * (the record key) for per-key state; here it is one counter. An older
     * host lacks state_put: the count then lives in memory only. */
    if (EDDY_HOST_HAS(h, state_put)) {
        size_t len = 0;
        const void *old = h->state_get(ctx, "seen", 4, &len);
        uint64_t total = 0;
        if (old && len == sizeof total)
            memcpy(&total, old, sizeof total);
        total += s->seen;
        s->seen = 0;
        if (h->state_put(ctx, "seen", 4, &total, sizeof total) != 0)
            return -1;
    }
    return EDDY_FORWARD;
}

static void scale_destroy(void *state)
{
    scale *s = state;
    if (s)
        s->host->free(s);
}

static const eddy_op_descriptor scale_op = {
    .struct_size = sizeof(eddy_op_descriptor),
    .name = "scale",
    .version = "1.0.0",
    .summary = "Multiply a numeric field by a factor (the plugin template).",
    .options = scale_options,
    .create = scale_create,
    .process = scale_process,
    .destroy = scale_destroy,
    .state_flags = EDDY_STATE_HOST, /* the host keeps our state_put keys durable */
};

EDDY_PLUGIN_DEFINE(&scale_op)
