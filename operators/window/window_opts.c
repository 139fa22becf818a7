/* window: the option table (the source of docs/CONFIG.md and `eddy
 * describe window`), create and destroy. */
#include <stdio.h>
#include <string.h>

#include "operators/window/window.h"

const eddy_option eddy_window_options[] = {
    {"type", EDDY_OPT_ENUM, "tumbling", EDDY_NO_RANGE, "tumbling|hopping|sliding|session|count", 0,
     "tumbling: fixed, non-overlapping windows of `size`, aligned to the epoch. hopping: "
     "windows of `size` starting every `slide` (computed with slide-sized panes: each event "
     "is added once, a window merges its size/slide panes). sliding: one window per event "
     "over (ts - size, ts], inclusive of events at ts; the key's events are kept (at most "
     "`max_events`) to compute it. session: a key's events less than `gap` apart form one "
     "window [first, last + gap); sessions merge when an event bridges them. count: every "
     "`count` events of a key form one window [first ts, last ts + 1)."},
    {"size", EDDY_OPT_DURATION, NULL, 1, 3153600000000.0, NULL, 0,
     "Window length for tumbling, hopping and sliding windows (required for those)."},
    {"slide", EDDY_OPT_DURATION, NULL, 1, 3153600000000.0, NULL, 0,
     "Hopping windows only: distance between window starts. `size` must be a multiple of "
     "it (the panes are slide long)."},
    {"gap", EDDY_OPT_DURATION, NULL, 1, 3153600000000.0, NULL, 0,
     "Session windows only: a session ends after this long without an event of its key."},
    {"count", EDDY_OPT_INT, NULL, 1, 1000000000.0, NULL, 0,
     "Count windows only: events per window, per key. A partial window is emitted when the "
     "input ends or its key is evicted."},
    {"grace", EDDY_OPT_DURATION, "0ms", 0, 3153600000000.0, NULL, EDDY_OPT_NO_STATE,
     "Lateness allowed after a window's end: a window [start, end) closes (final result) "
     "once the watermark reaches end + grace. An event all of whose windows have closed "
     "goes to the `late` side output (see below). Not used by count windows."},
    {"key", EDDY_OPT_LIST, NULL, EDDY_NO_RANGE, NULL, 0,
     "Fields to group by, e.g. [user_id] or [user_id, country]; a missing field groups as "
     "null. Empty: one global group per source partition (keys are partitioned like the "
     "source, so every group is per partition task). A key field holding a map or an "
     "array sends the record to the dead-letter output."},
    {"time", EDDY_OPT_ENUM, "event", EDDY_NO_RANGE, "event|processing", 0,
     "event: the record's event time and the source's watermark (max event time seen - "
     "max_out_of_order, advanced by idle_timeout on a quiet partition). processing: the "
     "wall clock when the record is processed; windows close on a wall-clock timer and "
     "nothing is ever late."},
    {"emit", EDDY_OPT_ENUM, "final", EDDY_NO_RANGE, "final|update|both", EDDY_OPT_NO_STATE,
     "final: one result per window when it closes. update: after each batch, one result per "
     "window that changed (sliding: per key, the window ending at its newest event), at most "
     "one per key per `min_interval`; a change held back by min_interval is emitted when its "
     "window closes. both: updates and the final result. In update and both modes results "
     "carry `final` (true for the result emitted at close)."},
    {"min_interval", EDDY_OPT_DURATION, "0ms", 0, 3153600000000.0, NULL, EDDY_OPT_NO_STATE,
     "update and both modes: minimum wall-clock time between two updates of one key (0: "
     "every batch that changed it)."},
    {"aggregate", EDDY_OPT_MAP, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_REQUIRED,
     "Result fields, name: aggregate, e.g. { n: \"count()\", spend: \"sum(amount)\", "
     "p95: \"quantile(amount, 0.95)\", merchants: \"distinct(merchant)\" }. Aggregates: "
     "count() count(x) sum mean min max variance stddev first last ewma(x, alpha) rate() "
     "distinct(x) (HyperLogLog) quantile(x, q) (DDSketch) topk(x, k) histogram(x, lo, hi, "
     "bins). A value of the wrong type is skipped and counted in "
     "window_bad_values_total."},
    {"derive", EDDY_OPT_MAP, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_NO_STATE,
     "Fields computed from each result, name: expression (docs/EXPRESSIONS.md), in order, "
     "e.g. { avg_ticket: \"spend / n\", spend_change: \"spend - prev.spend\" }. An "
     "expression sees the result's fields and `prev`, the aggregates of the key's previous "
     "final window (missing, so null, for a key's first window). A failing expression "
     "gives null (counted in window_derive_errors_total)."},
    {"max_keys", EDDY_OPT_INT, "1000000", 1, 2000000000.0, NULL, EDDY_OPT_NO_STATE,
     "Most keys held at once. A new key beyond it evicts the least recently updated key: its "
     "open windows are emitted at once, as if closed (counted in "
     "eddy_window_evicted_keys_max_keys_total, logged)."},
    {"key_ttl", EDDY_OPT_DURATION, "0ms", 0, 3153600000000.0, NULL, EDDY_OPT_NO_STATE,
     "Evicts a key after this long without an event, in the window's time (watermark or "
     "wall clock), checked from the least recently updated key; its open windows are "
     "emitted at once (counted in eddy_window_evicted_keys_ttl_total). 0: never. Keys without open "
     "windows are dropped at once anyway, unless derive reads `prev`."},
    {"max_events", EDDY_OPT_INT, "100000", 1, 100000000.0, NULL, EDDY_OPT_NO_STATE,
     "Sliding windows only: events kept per key. Beyond it the oldest event is dropped (its "
     "own window emitted first if still open), counted in "
     "window_sliding_dropped_events_total; later windows then miss it."},
    {NULL, 0, NULL, EDDY_NO_RANGE, NULL, 0, NULL},
};

static void window_destroy(void *state)
{
    window *w = state;
    if (!w)
        return;
    const eddy_host *h = w->h;
    eddy_window_state_free(w);
    eddy_window_durable_free(w);
    for (uint32_t i = 0; w->agg && i < w->nagg; i++)
        eddy_agg_spec_free(w->agg[i].spec);
    for (uint32_t i = 0; w->derive && i < w->nderive; i++)
        eddy_expr_free(w->derive[i].expr);
    h->free(w->agg);
    h->free(w->derive);
    h->free(w->keyf);
    h->free(w->fields);
    h->free(w->scratch);
    h->free(w->probe);
    h->free(w->pre);
    h->free(w->pkeys);
    h->free(w);
}

static void *zalloc(const eddy_host *h, size_t n)
{
    void *p = h->alloc(n ? n : 1);
    if (p)
        memset(p, 0, n ? n : 1);
    return p;
}

static eddy_sym sym(const eddy_host *h, const char *s) { return h->intern(s, strlen(s)); }

/* Names of the result record must be distinct: returns the clash, if any. */
static const char *clash(const window *w, const char *name, uint32_t upto_agg, uint32_t upto_der)
{
    static const char *const fixed[] = {"window_start", "window_end", "count", "prev", NULL};
    for (int i = 0; fixed[i]; i++)
        if (strcmp(name, fixed[i]) == 0)
            return "a built-in result field";
    if (w->emit != W_EMIT_FINAL && strcmp(name, "final") == 0)
        return "the built-in field `final` of update/both modes";
    for (uint32_t i = 0; i < w->nkeyf; i++)
        if (strcmp(name, w->h->sym_name(w->keyf[i])) == 0)
            return "a key field";
    for (uint32_t i = 0; i < upto_agg; i++)
        if (strcmp(name, w->h->sym_name(w->agg[i].name)) == 0)
            return "another aggregate";
    for (uint32_t i = 0; i < upto_der; i++)
        if (strcmp(name, w->h->sym_name(w->derive[i].name)) == 0)
            return "another derived field";
    return NULL;
}

static int field_index(window *w, eddy_sym f)
{
    for (uint32_t i = 0; i < w->nfields; i++)
        if (w->fields[i] == f)
            return (int)i;
    if (w->nfields == sizeof w->vals / sizeof w->vals[0])
        return -1;
    w->fields[w->nfields] = f;
    return (int)w->nfields++;
}

static int load_aggs(window *w, const eddy_opts *o, char *err, size_t errlen)
{
    const eddy_host *h = w->h;
    uint32_t n = h->opt_count(o, "aggregate");
    if (!n) {
        snprintf(err, errlen, "aggregate: give at least one, e.g. { n: \"count()\" }");
        return -1;
    }
    w->agg = zalloc(h, sizeof *w->agg * n);
    w->fields = zalloc(h, sizeof *w->fields * (sizeof w->vals / sizeof w->vals[0]));
    if (!w->agg || !w->fields) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t off = (sizeof(wslot) + 7) & ~(size_t)7;
    for (; w->nagg < n; w->nagg++) {
        wagg *g = &w->agg[w->nagg];
        const char *name = h->opt_key(o, "aggregate", w->nagg);
        const char *text = h->opt_item(o, "aggregate", w->nagg);
        const char *why = name && *name ? clash(w, name, w->nagg, 0) : "an empty name";
        if (why) {
            snprintf(err, errlen, "aggregate.%s: the name clashes with %s; choose another",
                     name ? name : "", why);
            return -1;
        }
        char perr[256];
        if (!(g->spec = eddy_agg_parse(text ? text : "", perr, sizeof perr))) {
            snprintf(err, errlen, "aggregate.%s: %s", name, perr);
            return -1;
        }
        g->name = sym(h, name);
        eddy_sym f = eddy_agg_field(g->spec);
        g->field = W_NIL;
        if (f) {
            int fi = field_index(w, f);
            if (fi < 0) {
                snprintf(err, errlen, "aggregate: at most %u distinct input fields",
                         (unsigned)(sizeof w->vals / sizeof w->vals[0]));
                return -1;
            }
            g->field = (uint32_t)fi;
        }
        g->off = off;
        off += (eddy_agg_state_size(g->spec) + 7) & ~(size_t)7;
    }
    w->slot_size = off;
    return 0;
}

static int load_derive(window *w, const eddy_opts *o, char *err, size_t errlen)
{
    const eddy_host *h = w->h;
    uint32_t n = h->opt_count(o, "derive");
    if (!n)
        return 0;
    if (!(w->derive = zalloc(h, sizeof *w->derive * n))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (; w->nderive < n; w->nderive++) {
        wderive *d = &w->derive[w->nderive];
        const char *name = h->opt_key(o, "derive", w->nderive);
        const char *src = h->opt_item(o, "derive", w->nderive);
        const char *why = name && *name ? clash(w, name, w->nagg, w->nderive) : "an empty name";
        if (why) {
            snprintf(err, errlen, "derive.%s: the name clashes with %s; choose another",
                     name ? name : "", why);
            return -1;
        }
        char cerr[256];
        if (!(d->expr = eddy_expr_compile(src ? src : "", cerr, sizeof cerr))) {
            snprintf(err, errlen, "derive.%s: %s", name, cerr);
            return -1;
        }
        d->name = sym(h, name);
        /* Keeping the previous window costs a slot per key: only when asked. */
        if (src && strstr(src, "prev"))
            w->use_prev = true;
    }
    return 0;
}

static int load_shape(window *w, const eddy_opts *o, char *err, size_t errlen)
{
    const eddy_host *h = w->h;
    const char *type = h->opt_str(o, "type");
    static const char *const types[] = {"tumbling", "hopping", "sliding", "session", "count"};
    w->type = W_TUMBLING;
    for (int i = 0; i < 5; i++)
        if (type && strcmp(type, types[i]) == 0)
            w->type = (wtype)i;
    bool has_size = h->opt_str(o, "size") != NULL, has_slide = h->opt_str(o, "slide") != NULL,
         has_gap = h->opt_str(o, "gap") != NULL, has_count = h->opt_str(o, "count") != NULL;
    const char *t = types[w->type];
    bool want_size = w->type == W_TUMBLING || w->type == W_HOPPING || w->type == W_SLIDING;
    if (want_size != has_size) {
        snprintf(err, errlen, want_size ? "%s windows need `size`, e.g. size: 1m"
                                        : "`size` does not apply to %s windows", t);
        return -1;
    }
    if ((w->type == W_HOPPING) != has_slide) {
        snprintf(err, errlen, has_slide ? "`slide` applies to hopping windows only (type is %s)"
                                        : "hopping windows need `slide`, e.g. slide: 1m", t);
        return -1;
    }
    if ((w->type == W_SESSION) != has_gap) {
        snprintf(err, errlen, has_gap ? "`gap` applies to session windows only (type is %s)"
                                      : "session windows need `gap`, e.g. gap: 30s", t);
        return -1;
    }
    if ((w->type == W_COUNT) != has_count) {
        snprintf(err, errlen, has_count ? "`count` applies to count windows only (type is %s)"
                                        : "count windows need `count`, e.g. count: 100", t);
        return -1;
    }
    w->size = h->opt_int(o, "size");
    w->slide = h->opt_int(o, "slide");
    w->gap = h->opt_int(o, "gap");
    w->count = h->opt_int(o, "count");
    if (w->type == W_HOPPING && (w->slide > w->size || w->size % w->slide != 0)) {
        snprintf(err, errlen,
                 "hopping windows: size (%lldms) must be a multiple of slide (%lldms), so that "
                 "every window is made of whole panes",
                 (long long)w->size, (long long)w->slide);
        return -1;
    }
    w->grace = h->opt_int(o, "grace");
    w->min_interval = h->opt_int(o, "min_interval");
    w->key_ttl = h->opt_int(o, "key_ttl");
    w->max_keys = (uint32_t)h->opt_int(o, "max_keys");
    w->max_events = (uint32_t)h->opt_int(o, "max_events");
    if (!w->max_keys)
        w->max_keys = 1000000;
    if (!w->max_events)
        w->max_events = 100000;
    const char *tm = h->opt_str(o, "time");
    w->proc_time = tm && strcmp(tm, "processing") == 0;
    const char *em = h->opt_str(o, "emit");
    w->emit = !em || strcmp(em, "final") == 0 ? W_EMIT_FINAL
              : strcmp(em, "update") == 0     ? W_EMIT_UPDATE
                                              : W_EMIT_BOTH;
    uint32_t nk = h->opt_count(o, "key");
    if (nk) {
        if (nk > 255) {
            snprintf(err, errlen, "key: at most 255 fields");
            return -1;
        }
        if (!(w->keyf = zalloc(h, sizeof *w->keyf * nk))) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        for (; w->nkeyf < nk; w->nkeyf++) {
            const char *f = h->opt_item(o, "key", w->nkeyf);
            if (!f || !*f || !(w->keyf[w->nkeyf] = sym(h, f))) {
                snprintf(err, errlen, "key[%u]: empty field name", w->nkeyf);
                return -1;
            }
            for (uint32_t j = 0; j < w->nkeyf; j++)
                if (w->keyf[j] == w->keyf[w->nkeyf]) {
                    snprintf(err, errlen, "key[%u]: field '%s' is listed twice", w->nkeyf, f);
                    return -1;
                }
        }
    }
    return 0;
}

static void *window_create(const eddy_host *h, eddy_ctx *ctx, const eddy_opts *opts, char *err,
                           size_t errlen)
{
    window *w = zalloc(h, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->h = h;
    w->ctx = ctx;
    w->wm = W_NONE;
    w->timer_at = W_NEVER;
    w->lru_head = w->lru_tail = W_NIL;
    if (load_shape(w, opts, err, errlen) != 0 || load_aggs(w, opts, err, errlen) != 0 ||
        load_derive(w, opts, err, errlen) != 0) {
        window_destroy(w);
        return NULL;
    }
    if (!(w->scratch = zalloc(h, w->slot_size)) ||
        (w->type == W_SLIDING && !(w->probe = zalloc(h, w->slot_size)))) {
        snprintf(err, errlen, "out of memory");
        window_destroy(w);
        return NULL;
    }
    /* Chunks of about 1 MiB: few allocations, little waste at the end. */
    uint32_t shift = 4;
    while (shift < 16 && ((size_t)w->slot_size << (shift + 1)) <= (1u << 20))
        shift++;
    eddy_wpool_init(&w->slots, w->slot_size, shift);
    eddy_wpool_init(&w->keys, sizeof(wkey), 12);
    w->s_start = sym(h, "window_start");
    w->s_end = sym(h, "window_end");
    w->s_count = sym(h, "count");
    w->s_final = sym(h, "final");
    w->s_prev = sym(h, "prev");
    w->s_late_reason = sym(h, "_late_reason");
    w->s_late_end = sym(h, "_late_window_end");
    w->m_late = h->metric(ctx, "window_late_records_total",
                          "Records that arrived after all their windows closed (sent to the "
                          "late output)", EDDY_METRIC_COUNTER);
    w->m_evict_ttl = h->metric(ctx, "window_evicted_keys_ttl_total",
                               "Keys evicted after key_ttl without an event", EDDY_METRIC_COUNTER);
    w->m_evict_max = h->metric(ctx, "window_evicted_keys_max_keys_total",
                               "Keys evicted because max_keys was reached", EDDY_METRIC_COUNTER);
    w->m_bytes = h->metric(ctx, "window_state_bytes", "Memory held by the window's state",
                           EDDY_METRIC_GAUGE);
    w->m_keys = h->metric(ctx, "window_keys", "Keys held by the window", EDDY_METRIC_GAUGE);
    w->m_bad = h->metric(ctx, "window_bad_values_total",
                         "Values an aggregate could not use (e.g. a string for sum)",
                         EDDY_METRIC_COUNTER);
    w->m_slide_evict = h->metric(ctx, "window_sliding_dropped_events_total",
                                 "Events dropped from a sliding window's store (max_events)",
                                 EDDY_METRIC_COUNTER);
    w->m_derive_err = h->metric(ctx, "window_derive_errors_total",
                                "Derived fields that failed to evaluate (set to null)",
                                EDDY_METRIC_COUNTER);
    return w;
}

const eddy_op_descriptor eddy_op_window = {
    .struct_size = sizeof(eddy_op_descriptor),
    .name = "window",
    .version = "1.0.0",
    .summary = "Windows (tumbling, hopping, sliding, session, count) with aggregates per key",
    .options = eddy_window_options,
    .create = window_create,
    .process = eddy_window_process,
    .on_watermark = eddy_window_on_watermark,
    .on_timer = eddy_window_on_timer,
    .snapshot = eddy_window_snapshot,
    .restore = eddy_window_restore,
    .destroy = window_destroy,
    .state_flags = EDDY_STATE_KEYED,
    .state_flush = eddy_window_state_flush,
    .state_load = eddy_window_state_load,
    .state_loaded = eddy_window_state_loaded,
};
