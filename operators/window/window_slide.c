/* Sliding windows: one window per event over (ts - size, ts]. A key keeps
 * its events (time + the aggregates' input values, strings copied into one
 * buffer per key), sorted by time; a window is computed when it closes by
 * adding the events in its range. Events are kept while a window that is
 * open, or may still open, can hold them: until ts <= watermark - grace -
 * size. At most max_events per key.
 *
 * Events whose window has been emitted form a prefix of the array ([0,
 * pend)): a new event that is not late has a later time than all of them. */
#include <stdlib.h>
#include <string.h>

#include "lib/buf/bytes.h"
#include "operators/window/window.h"

typedef struct wsv {
    uint8_t type;
    uint8_t pad_[3];
    uint32_t len;
    union {
        int64_t i;
        double d;
        uint64_t off; /* strings and bytes: offset in str */
    } u;
} wsv;

struct wslide {
    uint8_t *ev;                 /* events: int64 ts, then nfields wsv */
    uint32_t head, n, cap, pend; /* live events are [head, head + n) */
    uint8_t *str;
    size_t slen, scap, sdead;
};

static size_t esz(const window *w) { return 8 + sizeof(wsv) * w->nfields; }
static uint8_t *ev_at(const window *w, const wslide *s, uint32_t i)
{
    return s->ev + (size_t)(s->head + i) * esz(w);
}
static int64_t ev_ts(const window *w, const wslide *s, uint32_t i)
{
    int64_t ts;
    memcpy(&ts, ev_at(w, s, i), 8);
    return ts;
}
static wsv *ev_vals(const window *w, const wslide *s, uint32_t i)
{
    return (wsv *)(void *)(ev_at(w, s, i) + 8);
}
static bool is_str(uint8_t t) { return t == EDDY_STRING || t == EDDY_BYTES; }

void eddy_wslide_free(window *w, wslide *s)
{
    w->slide_bytes -= sizeof *s + (size_t)s->cap * esz(w) + s->scap;
    w->h->free(s->ev);
    w->h->free(s->str);
    w->h->free(s);
}

/* Copies the live strings into a buffer with room for `extra` more bytes. */
static int str_compact(window *w, wslide *s, size_t extra)
{
    size_t live = s->slen - s->sdead, cap = (live + extra) * 2;
    if (cap < 256)
        cap = 256;
    uint8_t *nb = w->h->alloc(cap);
    if (!nb)
        return -1;
    size_t o = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        wsv *v = ev_vals(w, s, i);
        for (uint32_t f = 0; f < w->nfields; f++)
            if (is_str(v[f].type) && v[f].len) {
                memcpy(nb + o, s->str + v[f].u.off, v[f].len);
                v[f].u.off = o;
                o += v[f].len;
            }
    }
    w->h->free(s->str);
    w->slide_bytes += cap - s->scap;
    s->str = nb;
    s->scap = cap;
    s->slen = o;
    s->sdead = 0;
    return 0;
}

static void drop_first(window *w, wslide *s)
{
    wsv *v = ev_vals(w, s, 0);
    for (uint32_t f = 0; f < w->nfields; f++)
        if (is_str(v[f].type))
            s->sdead += v[f].len;
    s->head++;
    s->n--;
    if (s->pend)
        s->pend--;
    if (!s->n) {
        s->head = 0;
        s->slen = s->sdead = 0;
    }
}

/* Loads event i's values into w->vals. */
static void load_vals(window *w, const wslide *s, uint32_t i)
{
    const wsv *v = ev_vals(w, s, i);
    for (uint32_t f = 0; f < w->nfields; f++) {
        eddy_value *x = &w->vtmp[f];
        memset(x, 0, sizeof *x);
        x->type = v[f].type;
        x->len = v[f].len;
        if (is_str(v[f].type))
            /* Only empty strings so far: no string memory (NULL + 0 is undefined). */
            x->u.s = s->str ? (const char *)s->str + v[f].u.off : "";
        else
            x->u.i = v[f].u.i;
        w->vals[f] = x;
    }
}

void eddy_wslide_window(window *w, uint32_t k, int64_t t)
{
    const wslide *s = WKEY(w, k)->u.slide;
    wslot *sc = (wslot *)w->scratch;
    sc->start = t - w->size + 1;
    sc->end = t + 1;
    sc->count = 0;
    sc->flags = 0;
    sc->next = W_NIL;
    eddy_window_slot_init_states(w, sc);
    if (!s)
        return;
    uint32_t lo = 0, hi = s->n;
    while (lo < hi) { /* first event with ts > t - size */
        uint32_t mid = lo + (hi - lo) / 2;
        if (ev_ts(w, s, mid) > t - w->size)
            hi = mid;
        else
            lo = mid + 1;
    }
    static const eddy_value null_value;
    for (uint32_t i = lo; i < s->n; i++) {
        int64_t ts = ev_ts(w, s, i);
        if (ts > t)
            break;
        load_vals(w, s, i);
        for (uint32_t a = 0; a < w->nagg; a++) {
            const wagg *g = &w->agg[a];
            /* Bad values were counted when the event arrived. */
            (void)eddy_agg_add(g->spec, wstate(w, sc, a),
                               g->field == W_NIL ? &null_value : w->vals[g->field], ts);
        }
        sc->count++;
    }
}

/* The window of pending event `pend` is final now. */
static void emit_pending(window *w, uint32_t k, wslide *s)
{
    int64_t t = ev_ts(w, s, s->pend);
    eddy_wslide_window(w, k, t);
    wkey *key = WKEY(w, k);
    if (w->emit & W_EMIT_FINAL) {
        eddy_window_result(w, k, (wslot *)w->scratch, true);
    } else if ((key->flags & WK_DIRTY) && s->pend + 1 == s->n) {
        /* update mode: the newest window's held-back change. */
        key->flags &= ~WK_DIRTY;
        eddy_window_result(w, k, (wslot *)w->scratch, true);
    }
    if (w->use_prev)
        eddy_window_set_prev(w, k, (wslot *)w->scratch);
    s->pend++;
}

int eddy_wslide_add(window *w, uint32_t k, int64_t ts)
{
    const eddy_host *h = w->h;
    wkey *key = WKEY(w, k);
    wslide *s = key->u.slide;
    if (!s) {
        if (!(s = h->alloc(sizeof *s)))
            return -1;
        memset(s, 0, sizeof *s);
        key->u.slide = s;
        w->slide_bytes += sizeof *s;
    }
    /* Counted once, here: windows re-add the same values later. */
    eddy_window_count_bad(w, ts);
    if (s->n >= w->max_events) {
        if (s->pend == 0)
            emit_pending(w, k, s);
        drop_first(w, s);
        h->metric_add(w->m_slide_evict, 1);
    }
    size_t e = esz(w);
    if (s->head + s->n == s->cap) {
        if (s->head > 0 && s->head >= s->n) {
            memmove(s->ev, ev_at(w, s, 0), (size_t)s->n * e);
            s->head = 0;
        } else {
            uint32_t cap = s->cap ? s->cap * 2 : 8;
            uint8_t *ne = h->realloc(s->ev, (size_t)cap * e);
            if (!ne)
                return -1;
            w->slide_bytes += (size_t)(cap - s->cap) * e;
            s->ev = ne;
            s->cap = cap;
        }
    }
    size_t need = 0;
    for (uint32_t f = 0; f < w->nfields; f++)
        if (w->vals[f] && is_str(w->vals[f]->type))
            need += w->vals[f]->len;
    if (s->slen + need > s->scap && str_compact(w, s, need) != 0)
        return -1;
    uint32_t pos = s->n;
    while (pos > s->pend && ev_ts(w, s, pos - 1) > ts)
        pos--;
    if (pos < s->n)
        memmove(ev_at(w, s, pos + 1), ev_at(w, s, pos), (size_t)(s->n - pos) * e);
    s->n++;
    memcpy(ev_at(w, s, pos), &ts, 8);
    wsv *v = ev_vals(w, s, pos);
    for (uint32_t f = 0; f < w->nfields; f++) {
        const eddy_value *x = w->vals[f];
        memset(&v[f], 0, sizeof v[f]);
        if (!x)
            continue;
        v[f].type = x->type;
        if (is_str(x->type)) {
            v[f].len = x->len;
            v[f].u.off = s->slen;
            if (x->len)
                memcpy(s->str + s->slen, x->u.s, x->len);
            s->slen += x->len;
        } else if (x->type == EDDY_INT || x->type == EDDY_DOUBLE || x->type == EDDY_BOOL) {
            v[f].u.i = x->type == EDDY_BOOL ? x->u.b : x->u.i;
        }
        /* maps and arrays: kept as an empty value of their type, which the
         * aggregates reject as they would the original */
    }
    return 0;
}

void eddy_wslide_close(window *w, uint32_t k, int64_t now)
{
    wslide *s = WKEY(w, k)->u.slide;
    if (!s)
        return;
    while (s->pend < s->n && w_closed(w, w_add(ev_ts(w, s, s->pend), 1), now)) {
        emit_pending(w, k, s);
        s = WKEY(w, k)->u.slide;
    }
    int64_t keep_after = now == W_NEVER ? W_NEVER : w_add(now, -(w->grace + w->size));
    while (s->n && s->pend && ev_ts(w, s, 0) <= keep_after)
        drop_first(w, s);
    if (s->sdead > 4096 && s->sdead * 2 > s->slen)
        (void)str_compact(w, s, 0); /* on failure the dead bytes simply stay */
}

int64_t eddy_wslide_pending(const window *w, uint32_t k)
{
    const wslide *s = WKEY(w, k)->u.slide;
    return s && s->pend < s->n ? ev_ts(w, s, s->pend) : W_NONE;
}

int64_t eddy_wslide_max_ts(const window *w, uint32_t k)
{
    const wslide *s = WKEY(w, k)->u.slide;
    return s && s->n ? ev_ts(w, s, s->n - 1) : W_NONE;
}

uint32_t eddy_wslide_count(const window *w, uint32_t k)
{
    const wslide *s = WKEY(w, k)->u.slide;
    return s ? s->n : 0;
}

/* ---- snapshots: [u32 n][u32 pend] then per event [i64 ts] and per field
 * [u8 type][payload: 8 bytes for int/double/bool, u32 len + data for
 * strings and bytes, nothing otherwise], little-endian (lib/buf/bytes.h). */

int eddy_wslide_save(const window *w, uint32_t k, eddy_buf *out)
{
    const wslide *s = WKEY(w, k)->u.slide;
    uint32_t n = s ? s->n : 0, pend = s ? s->pend : 0;
    if (eddy_put_u32(out, n) || eddy_put_u32(out, pend))
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        if (eddy_put_i64(out, ev_ts(w, s, i)))
            return -1;
        const wsv *v = ev_vals(w, s, i);
        for (uint32_t f = 0; f < w->nfields; f++) {
            if (eddy_put_u8(out, v[f].type))
                return -1;
            if (is_str(v[f].type)) {
                /* An empty string may have no storage at all (s->str
                 * NULL): NULL + 0 is undefined (the state fuzzer). */
                const uint8_t *sp = v[f].len ? s->str + v[f].u.off : (const uint8_t *)"";
                if (eddy_put_str(out, sp, v[f].len))
                    return -1;
            } else if (v[f].type == EDDY_INT || v[f].type == EDDY_DOUBLE ||
                       v[f].type == EDDY_BOOL) {
                if (eddy_put_i64(out, v[f].u.i))
                    return -1;
            }
        }
    }
    return 0;
}

int eddy_wslide_load(window *w, uint32_t k, const uint8_t *p, size_t n, size_t *used)
{
    eddy_rd r = eddy_rd_of(p, n);
    uint32_t cnt = eddy_get_u32(&r), pend = eddy_get_u32(&r);
    if (r.err || pend > cnt)
        return -1;
    eddy_value vals[64];
    for (uint32_t i = 0; i < cnt; i++) {
        int64_t ts = eddy_get_i64(&r);
        for (uint32_t f = 0; f < w->nfields; f++) {
            eddy_value *x = &vals[f];
            memset(x, 0, sizeof *x);
            x->type = eddy_get_u8(&r);
            if (is_str(x->type)) {
                uint32_t len;
                x->u.s = (const char *)eddy_get_str(&r, &len);
                x->len = len;
            } else if (x->type == EDDY_INT || x->type == EDDY_DOUBLE || x->type == EDDY_BOOL) {
                x->u.i = eddy_get_i64(&r);
                if (x->type == EDDY_BOOL)
                    x->u.b = x->u.i != 0;
            } else if (x->type > EDDY_MAP) {
                return -1;
            }
            if (r.err)
                return -1;
            w->vals[f] = x;
        }
        if (r.err)
            return -1;
        /* Appended in order: loaded events are all "pending" until pend is
         * set, so nothing is emitted or reordered on the way in. */
        wslide *s = WKEY(w, k)->u.slide;
        if (s && s->n && ev_ts(w, s, s->n - 1) > ts)
            return -1;
        if (eddy_wslide_add(w, k, ts) != 0)
            return -1;
    }
    wslide *s = WKEY(w, k)->u.slide;
    if (s)
        s->pend = pend < s->n ? pend : s->n;
    *used = n - r.left;
    return 0;
}
