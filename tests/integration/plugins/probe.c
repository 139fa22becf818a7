/* `probe`: exercises the host paths a stateful operator uses. It consumes
 * its input (EDDY_CONSUMED), counts records, sets an event-time timer one
 * second after the first event and a wall-clock timer at once, and emits a
 * record when each timer fires and when the watermark ends. */
#include <eddy/operator.h>
#include <stdio.h>
#include <string.h>

static const eddy_option probe_options[] = {
    {"label", EDDY_OPT_STRING, "probe", EDDY_NO_RANGE, NULL, 0, "Written to every emitted record."},
    {NULL, 0, NULL, 0, 0, NULL, 0, NULL},
};

typedef struct probe {
    const eddy_host *h;
    eddy_ctx *ctx;
    char label[64];
    int64_t count, first_ts;
    int armed;
} probe;

static void *probe_create(const eddy_host *h, eddy_ctx *ctx, const eddy_opts *o, char *err,
                          size_t n)
{
    probe *p = h->alloc(sizeof *p);
    if (!p)
        return NULL;
    memset(p, 0, sizeof *p);
    p->h = h;
    p->ctx = ctx;
    snprintf(p->label, sizeof p->label, "%s", h->opt_str(o, "label"));
    return p;
}

static void emit_event(probe *p, const char *what, int64_t value)
{
    const eddy_host *h = p->h;
    eddy_batch *b = h->emit_batch(p->ctx);
    if (!b)
        return;
    eddy_record *r = h->batch_append(b);
    eddy_value v = h->batch_string(b, what, strlen(what));
    h->record_set(b, r, h->intern("event", 5), &v);
    v = h->batch_string(b, p->label, strlen(p->label));
    h->record_set(b, r, h->intern("label", 5), &v);
    eddy_value n = {0};
    n.type = EDDY_INT;
    n.u.i = value;
    h->record_set(b, r, h->intern("value", 5), &n);
    n.u.i = p->count;
    h->record_set(b, r, h->intern("count", 5), &n);
    h->emit(p->ctx, b);
}

static int probe_process(void *s, eddy_ctx *ctx, eddy_batch *in)
{
    probe *p = s;
    const eddy_host *h = p->h;
    uint32_t n = h->batch_count(in);
    for (uint32_t i = 0; i < n; i++) {
        int64_t ts = h->record_time(h->batch_get(in, i));
        if (!p->armed) {
            p->armed = 1;
            p->first_ts = ts;
            h->timer_set(ctx, 1, ts + 1000, 1);
            h->timer_set(ctx, 2, h->now_ms(), 0);
        }
        p->count++;
    }
    return EDDY_CONSUMED;
}

static int probe_watermark(void *s, eddy_ctx *ctx, int64_t wm)
{
    probe *p = s;
    if (wm == EDDY_WATERMARK_END)
        emit_event(p, "end", p->count);
    return 0;
}

static int probe_timer(void *s, eddy_ctx *ctx, uint64_t id, int64_t at)
{
    probe *p = s;
    emit_event(p, id == 1 ? "event_timer" : "wall_timer", id == 1 ? at - p->first_ts : 0);
    return 0;
}

static void probe_destroy(void *s)
{
    probe *p = s;
    p->h->free(p);
}

static const eddy_op_descriptor probe_op = {
    .struct_size = sizeof(eddy_op_descriptor),
    .name = "probe",
    .version = "1.0.0",
    .summary = "Test operator: emit, timers, watermarks",
    .options = probe_options,
    .create = probe_create,
    .process = probe_process,
    .on_watermark = probe_watermark,
    .on_timer = probe_timer,
    .destroy = probe_destroy,
};

EDDY_PLUGIN_DEFINE(&probe_op)
