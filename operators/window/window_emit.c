/* Result records and late records. A result carries the key fields,
 * window_start and window_end (ms, end exclusive), the aggregates by name,
 * the derived fields, `count` (events in the window) and, in update/both
 * modes, `final`. Its time is window_end - 1 (the last instant inside the
 * window) and its key is the group key (the value of a single key field, an
 * array of the values for several, null for a global window). */
#include <stdio.h>
#include <string.h>

#include "operators/window/window.h"

static eddy_batch *out_batch(window *w, eddy_batch **slot)
{
    if (!*slot && !(*slot = w->h->emit_batch(w->ctx)))
        w->err = EDDY_EXPR_ENOMEM;
    return *slot;
}

static void fail(window *w, const char *what)
{
    if (!w->err)
        w->h->log(w->ctx, EDDY_LOG_ERROR, "window: %s: the batch's memory limit was reached", what);
    w->err = EDDY_EXPR_ENOMEM;
}

static int set(window *w, eddy_batch *b, eddy_record *r, eddy_sym name, eddy_value v)
{
    return w->h->record_set(b, r, name, &v);
}

/* A value built outside the batch (key bytes, expression constants) copied in. */
static eddy_value own(window *w, eddy_batch *b, eddy_value v)
{
    if ((v.type == EDDY_STRING || v.type == EDDY_BYTES) && v.len) {
        eddy_value c = w->h->batch_string(b, v.u.s, v.len);
        if (!c.u.s)
            return (eddy_value){.type = 0xff};
        c.type = v.type;
        return c;
    }
    return v;
}

static int set_key(window *w, eddy_batch *b, eddy_record *r, const wkey *key)
{
    const eddy_host *h = w->h;
    const uint8_t *kb = wkey_bytes(key);
    eddy_value *items = NULL;
    if (w->nkeyf > 1 && !(items = h->batch_alloc(b, sizeof *items * w->nkeyf)))
        return -1;
    eddy_value rk = {0};
    for (uint32_t i = 0; i < w->nkeyf; i++) {
        eddy_value v = own(w, b, eddy_window_key_field(kb, key->klen, i));
        if (v.type == 0xff || set(w, b, r, w->keyf[i], v) != 0)
            return -1;
        if (items)
            items[i] = v;
        else
            rk = v;
    }
    if (items) {
        rk.type = EDDY_ARRAY;
        rk.len = w->nkeyf;
        rk.u.items = items;
    }
    h->record_set_key(r, &rk);
    return 0;
}

static int set_prev(window *w, eddy_batch *b, eddy_record *r, const wkey *key)
{
    if (!w->use_prev || key->prev == W_NIL)
        return 0;
    const eddy_host *h = w->h;
    wslot *ps = WSLOT(w, key->prev);
    eddy_kv *kvs = h->batch_alloc(b, sizeof *kvs * w->nagg);
    if (!kvs)
        return -1;
    for (uint32_t a = 0; a < w->nagg; a++) {
        const char *name = h->sym_name(w->agg[a].name);
        kvs[a].key = eddy_v_str(name, (uint32_t)strlen(name));
        kvs[a].val = eddy_agg_result(w->agg[a].spec, wstate(w, ps, a), ps->end - ps->start, b);
    }
    eddy_value m = {0};
    m.type = EDDY_MAP;
    m.len = w->nagg;
    m.u.kvs = kvs;
    return set(w, b, r, w->s_prev, m);
}

static int derive(window *w, eddy_batch *b, eddy_record *r, const wkey *key)
{
    const eddy_host *h = w->h;
    if (set_prev(w, b, r, key) != 0)
        return -1;
    for (uint32_t d = 0; d < w->nderive; d++) {
        eddy_value v;
        char why[256];
        int rc = eddy_expr_eval_why(w->derive[d].expr, b, r, &v, why, sizeof why);
        if (rc == EDDY_EXPR_ENOMEM)
            return -1;
        if (rc < 0) {
            h->metric_add(w->m_derive_err, 1);
            h->log(w->ctx, EDDY_LOG_DEBUG, "window: derive.%s: %s", h->sym_name(w->derive[d].name),
                   why);
            v = (eddy_value){0};
        } else if (eddy_expr_owns(w->derive[d].expr, &v)) {
            v = own(w, b, v);
            if (v.type == 0xff)
                return -1;
        }
        if (set(w, b, r, w->derive[d].name, v) != 0)
            return -1;
    }
    if (w->use_prev)
        h->record_remove(r, w->s_prev);
    return 0;
}

void eddy_window_result(window *w, uint32_t k, wslot *s, bool final)
{
    const eddy_host *h = w->h;
    eddy_batch *b = out_batch(w, &w->out);
    if (!b)
        return;
    eddy_record *r = h->batch_append(b);
    if (!r) {
        fail(w, "result");
        return;
    }
    const wkey *key = WKEY(w, k);
    int bad = set_key(w, b, r, key) != 0 || set(w, b, r, w->s_start, eddy_v_int(s->start)) != 0 ||
              set(w, b, r, w->s_end, eddy_v_int(s->end)) != 0;
    for (uint32_t a = 0; a < w->nagg && !bad; a++) {
        eddy_value v = eddy_agg_result(w->agg[a].spec, wstate(w, s, a), s->end - s->start, b);
        bad = set(w, b, r, w->agg[a].name, v) != 0;
    }
    bad = bad || set(w, b, r, w->s_count, eddy_v_int(s->count)) != 0 ||
          (w->emit != W_EMIT_FINAL && set(w, b, r, w->s_final, eddy_v_bool(final)) != 0) ||
          (w->nderive && derive(w, b, r, key) != 0);
    if (bad) {
        h->batch_drop(b, h->batch_count(b) - 1); /* half built */
        fail(w, "result");
        return;
    }
    h->record_set_time(r, s->end - 1);
    if (h->batch_count(b) >= W_OUT_BATCH) {
        if (h->emit(w->ctx, b) < 0)
            w->err = EDDY_EXPR_EINVAL;
        w->out = NULL;
    }
}

void eddy_window_late(window *w, const eddy_record *r, int64_t start, int64_t end)
{
    const eddy_host *h = w->h;
    h->metric_add(w->m_late, 1);
    eddy_batch *b = out_batch(w, &w->late);
    if (!b)
        return;
    eddy_record *lr = h->batch_append(b);
    char reason[160];
    int n = snprintf(reason, sizeof reason, "window [%lld, %lld) closed at watermark %lld",
                     (long long)start, (long long)end, (long long)w->wm);
    eddy_value rv = h->batch_string(b, reason, (size_t)n);
    if (!lr || h->record_copy(b, lr, r) != 0 || !rv.u.s ||
        set(w, b, lr, w->s_late_reason, rv) != 0 ||
        set(w, b, lr, w->s_late_end, eddy_v_int(end)) != 0) {
        if (lr)
            h->batch_drop(b, h->batch_count(b) - 1);
        fail(w, "late record");
        return;
    }
    if (h->batch_count(b) >= W_OUT_BATCH) {
        if (h->emit_side(w->ctx, "late", b) < 0)
            w->err = EDDY_EXPR_EINVAL;
        w->late = NULL;
    }
}

void eddy_window_flush(window *w)
{
    const eddy_host *h = w->h;
    if (w->out) {
        if (h->emit(w->ctx, w->out) < 0)
            w->err = EDDY_EXPR_EINVAL;
        w->out = NULL;
    }
    if (w->late) {
        if (h->emit_side(w->ctx, "late", w->late) < 0)
            w->err = EDDY_EXPR_EINVAL;
        w->late = NULL;
    }
}
