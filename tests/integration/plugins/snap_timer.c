/* `snap_timer`: an operator with only a whole-operator snapshot/restore
 * (as every plugin of ABI 1.0/1.1 has) and a host event-time timer, for
 * test_state.sh: the host must keep both durable.
 *
 * It counts records, and the first record whose `arm` field is true sets
 * timer 7 at that record's event time + 5 s; on_timer counts firings. The
 * snapshot is {u64 count, u64 fired} (little endian on the test machine).
 * A restart between the arming and the firing must neither lose the count
 * (the whole-snapshot fallback) nor the timer (the host's timers record). */
#include <eddy/operator.h>
#include <stdio.h>
#include <string.h>

typedef struct snap {
    const eddy_host *h;
    eddy_sym arm;
    uint64_t count, fired;
    int armed;
} snap;

static void *st_create(const eddy_host *h, eddy_ctx *ctx, const eddy_opts *o, char *err, size_t n)
{
    (void)ctx;
    (void)o;
    snap *s = h->alloc(sizeof *s);
    if (!s) {
        snprintf(err, n, "out of memory");
        return NULL;
    }
    memset(s, 0, sizeof *s);
    s->h = h;
    s->arm = h->intern("arm", 3);
    return s;
}

static int st_process(void *state, eddy_ctx *ctx, eddy_batch *in)
{
    snap *s = state;
    uint32_t n = s->h->batch_count(in);
    for (uint32_t i = 0; i < n; i++) {
        eddy_record *r = s->h->batch_get(in, i);
        s->count++;
        const eddy_value *a = s->h->record_get(r, s->arm);
        if (!s->armed && a && a->type == EDDY_BOOL && a->u.b) {
            s->armed = 1;
            if (s->h->timer_set(ctx, 7, s->h->record_time(r) + 5000, 1) != 0)
                return -1;
        }
    }
    return EDDY_FORWARD;
}

static int st_timer(void *state, eddy_ctx *ctx, uint64_t id, int64_t at)
{
    (void)ctx;
    (void)at;
    snap *s = state;
    if (id == 7)
        s->fired++;
    return EDDY_FORWARD;
}

static int st_snapshot(void *state, eddy_ctx *ctx, void **data, size_t *len)
{
    (void)ctx;
    snap *s = state;
    uint64_t *v = s->h->alloc(3 * sizeof *v);
    if (!v)
        return -1;
    v[0] = s->count;
    v[1] = s->fired;
    v[2] = (uint64_t)s->armed;
    *data = v;
    *len = 3 * sizeof *v;
    return 1;
}

static int st_restore(void *state, eddy_ctx *ctx, int version, const void *data, size_t len)
{
    (void)ctx;
    snap *s = state;
    uint64_t v[3];
    if (version != 1 || len != sizeof v)
        return -1;
    memcpy(v, data, sizeof v);
    s->count = v[0];
    s->fired = v[1];
    s->armed = (int)v[2];
    return 0;
}

static void st_destroy(void *state)
{
    snap *s = state;
    if (s)
        s->h->free(s);
}

static const eddy_option st_options[] = {
    {NULL, 0, NULL, 0, 0, NULL, 0, NULL},
};

static const eddy_op_descriptor snap_timer_op = {
    .struct_size = sizeof(eddy_op_descriptor),
    .name = "snap_timer",
    .version = "1.0.0",
    .summary = "Counts records and timer firings, kept by a whole snapshot (a test plugin).",
    .options = st_options,
    .create = st_create,
    .process = st_process,
    .on_timer = st_timer,
    .snapshot = st_snapshot,
    .restore = st_restore,
    .destroy = st_destroy,
};

EDDY_PLUGIN_DEFINE(&snap_timer_op)
