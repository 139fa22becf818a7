/* `abi_v1_0`: a plugin built against the literal ABI 1.0 header
 * (tests/fixtures/abi/eddy-1.0/eddy/operator.h), as a plugin compiled before
 * 1.1 was. The loader must accept it and the host must serve it through the
 * 1.0 part of eddy_host; test_plugins.sh runs it in a pipeline.
 *
 * It doubles `x`, writes its label and what it sees of the host on every
 * record (the host's minor, whether the whole 1.0 table is there, and
 * whether EDDY_HOST_HAS finds a 1.0 function by the 1.0 offsets), and emits
 * a record with the count at the end of input. */
#include <eddy/operator.h>
#include <stdio.h>
#include <string.h>

#if EDDY_ABI_MAJOR != 1 || EDDY_ABI_MINOR != 0
#error "abi_v1_0.c must be built against tests/fixtures/abi/eddy-1.0 (ABI 1.0)"
#endif

static const eddy_option v10_options[] = {
    {"label", EDDY_OPT_STRING, "v1.0", EDDY_NO_RANGE, NULL, 0, "Written to every record."},
    {NULL, 0, NULL, 0, 0, NULL, 0, NULL},
};

typedef struct v10 {
    const eddy_host *h;
    char label[64];
    eddy_sym x, x2, lab, minor, whole, has;
    int64_t count;
} v10;

static void *v10_create(const eddy_host *h, eddy_ctx *ctx, const eddy_opts *o, char *err,
                        size_t n)
{
    (void)ctx;
    v10 *s = h->alloc(sizeof *s);
    if (!s) {
        snprintf(err, n, "out of memory");
        return NULL;
    }
    memset(s, 0, sizeof *s);
    s->h = h;
    snprintf(s->label, sizeof s->label, "%s", h->opt_str(o, "label"));
    s->x = h->intern("x", 1);
    s->x2 = h->intern("x2", 2);
    s->lab = h->intern("label", 5);
    s->minor = h->intern("host_minor", 10);
    s->whole = h->intern("host_has_1_0", 12);
    s->has = h->intern("host_has_watermark", 18);
    return s;
}

static void set_int(const eddy_host *h, eddy_batch *b, eddy_record *r, eddy_sym k, int64_t v)
{
    eddy_value n;
    memset(&n, 0, sizeof n);
    n.type = EDDY_INT;
    n.u.i = v;
    h->record_set(b, r, k, &n);
}

static int v10_process(void *state, eddy_ctx *ctx, eddy_batch *in)
{
    v10 *s = state;
    const eddy_host *h = s->h;
    (void)ctx;
    uint32_t n = h->batch_count(in);
    for (uint32_t i = 0; i < n; i++) {
        eddy_record *r = h->batch_get(in, i);
        const eddy_value *x = h->record_get(r, s->x);
        if (x && x->type == EDDY_INT)
            set_int(h, in, r, s->x2, 2 * x->u.i);
        eddy_value l = h->batch_string(in, s->label, strlen(s->label));
        h->record_set(in, r, s->lab, &l);
        set_int(h, in, r, s->minor, h->abi_minor);
        /* sizeof(eddy_host) here is the 1.0 size: a newer host is bigger. */
        set_int(h, in, r, s->whole, h->struct_size >= sizeof(eddy_host));
        set_int(h, in, r, s->has, EDDY_HOST_HAS(h, ctx_watermark));
        s->count++;
    }
    return EDDY_FORWARD;
}

static int v10_watermark(void *state, eddy_ctx *ctx, int64_t wm)
{
    v10 *s = state;
    const eddy_host *h = s->h;
    if (wm != EDDY_WATERMARK_END)
        return 0;
    eddy_batch *b = h->emit_batch(ctx);
    if (!b)
        return -1;
    eddy_record *r = h->batch_append(b);
    eddy_value l = h->batch_string(b, "end", 3);
    h->record_set(b, r, s->lab, &l);
    set_int(h, b, r, h->intern("count", 5), s->count);
    return h->emit(ctx, b);
}

static void v10_destroy(void *state)
{
    v10 *s = state;
    s->h->free(s);
}

static const eddy_op_descriptor v10_op = {
    .struct_size = sizeof(eddy_op_descriptor),
    .name = "abi_v1_0",
    .version = "1.0.0",
    .summary = "Test operator built against the ABI 1.0 header",
    .options = v10_options,
    .create = v10_create,
    .process = v10_process,
    .on_watermark = v10_watermark,
    .destroy = v10_destroy,
};

EDDY_PLUGIN_DEFINE(&v10_op)
