/* Durable state of distribution_drift (plugin ABI 1.2).
 *
 * Records (version 1, lib/buf/bytes.h), keyed:
 *   ""                    the head: bounds of the reference, current, last
 *                         and lagged windows, the lag ring's head and fill,
 *                         have_ref, have_last, first_ts, win_end, take_next;
 *   "<feature>\x1fref"    the feature's reference window,
 *   "<feature>\x1fcur"    its current window,
 *   "<feature>\x1flast"   its last closed window,
 *   "<feature>\x1flag<k>" its lagged window in ring slot k.
 * A window is u8 kind (0 numeric: eddy_sample_put, 1 categorical:
 * eddy_catcount_put), so a record of another kind or capacity is refused.
 *
 * What a commit costs: the current reservoir of every feature changes with
 * every record, so a commit after any record rewrites the `cur` record of
 * each feature (bounded by sample_size values, or `categories` counters).
 * The reference is rewritten only while it fills or when it moves, the last
 * and lagged windows only when a window closed (D_* bits in dist.h).
 *
 * The reference-request counter is not kept: it counts the admin requests
 * of this process (ctx_requests), which restart at 0 with it, so it is
 * re-read at state_loaded instead; a request that was still waiting for a
 * closed window (take_next) is kept. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf/bytes.h"
#include "operators/drift/dist.h"

#define REC_VERSION 1

enum { R_REF, R_CUR, R_LAST, R_LAG };

static int put_bounds(eddy_buf *b, const dbounds *x)
{
    return eddy_put_i64(b, x->start) || eddy_put_i64(b, x->end) || eddy_put_u64(b, x->n);
}

static dbounds get_bounds(eddy_rd *r)
{
    dbounds x;
    x.start = eddy_get_i64(r);
    x.end = eddy_get_i64(r);
    x.n = eddy_get_u64(r);
    return x;
}

static int put_head(const dist *d, eddy_buf *b)
{
    if (put_bounds(b, &d->rb) || put_bounds(b, &d->cb) || put_bounds(b, &d->lb) ||
        eddy_put_u32(b, d->lag) || eddy_put_u32(b, d->nlag) || eddy_put_u32(b, d->lag_head))
        return -1;
    for (uint32_t k = 0; k < d->lag; k++)
        if (put_bounds(b, &d->lagb[k]))
            return -1;
    return eddy_put_u8(b, (uint8_t)(d->have_ref != 0)) ||
           eddy_put_u8(b, (uint8_t)(d->have_last != 0)) || eddy_put_i64(b, d->first_ts) ||
           eddy_put_i64(b, d->win_end) || eddy_put_u8(b, (uint8_t)(d->take_next != 0));
}

static int get_head(dist *d, eddy_rd *r)
{
    dbounds rb = get_bounds(r), cb = get_bounds(r), lb = get_bounds(r);
    uint32_t lag = eddy_get_u32(r), nlag = eddy_get_u32(r), head = eddy_get_u32(r);
    if (r->err || lag != d->lag || nlag > lag || (lag && head >= lag) || (!lag && head))
        return -1;
    eddy_rd probe = *r;
    if (!eddy_take(&probe, (size_t)lag * 24))
        return -1;
    uint8_t hr = eddy_get_u8(&probe), hl = eddy_get_u8(&probe);
    int64_t first_ts = eddy_get_i64(&probe), win_end = eddy_get_i64(&probe);
    uint8_t tn = eddy_get_u8(&probe);
    if (probe.err || probe.left || hr > 1 || hl > 1 || tn > 1)
        return -1;
    for (uint32_t k = 0; k < lag; k++)
        d->lagb[k] = get_bounds(r);
    d->rb = rb;
    d->cb = cb;
    d->lb = lb;
    d->nlag = nlag;
    d->lag_head = head;
    d->have_ref = hr;
    d->have_last = hl;
    d->first_ts = first_ts;
    d->win_end = win_end;
    d->take_next = tn;
    return 0;
}

static int put_win(const dfeat *f, const dwin *w, eddy_buf *b)
{
    if (eddy_put_u8(b, (uint8_t)f->categorical))
        return -1;
    return f->categorical ? eddy_catcount_put(w->c, b) : eddy_sample_put(w->s, b);
}

static int get_win(const dfeat *f, dwin *w, eddy_rd *r)
{
    if (eddy_get_u8(r) != (uint8_t)f->categorical || r->err)
        return -1;
    eddy_rd one = *r; /* the window must be the whole record */
    int rc = f->categorical ? eddy_catcount_get(w->c, &one) : eddy_sample_get(w->s, &one);
    return rc != 0 || one.err || one.left ? -1 : 0;
}

typedef struct wr {
    dist *d;
    eddy_ctx *ctx;
    eddy_buf k, v;
} wr;

static int write_win(wr *x, const dfeat *f, int role, uint32_t slot, const dwin *w)
{
    static const char *const roles[] = {"ref", "cur", "last", "lag"};
    x->k.len = x->v.len = 0;
    char tag[24];
    int tl = role == R_LAG ? snprintf(tag, sizeof tag, "\x1flag%u", slot)
                           : snprintf(tag, sizeof tag, "\x1f%s", roles[role]);
    if (eddy_buf_put(&x->k, f->name, strlen(f->name)) || eddy_buf_put(&x->k, tag, (size_t)tl) ||
        put_win(f, w, &x->v))
        return -1;
    return x->d->h->state_write(x->ctx, x->k.data, x->k.len, REC_VERSION, x->v.data, x->v.len);
}

int eddy_dist_state_flush(void *state, eddy_ctx *ctx)
{
    dist *d = state;
    if (!d->dirty)
        return 0;
    wr x = {d, ctx, {0}, {0}};
    int rc = 0;
    for (uint32_t i = 0; i < d->nf && rc >= 0; i++) {
        const dfeat *f = &d->f[i];
        if (d->dirty & (D_REF | D_REST))
            rc = write_win(&x, f, R_REF, 0, &f->ref);
        if (rc >= 0 && (d->dirty & (D_CUR | D_REST)))
            rc = write_win(&x, f, R_CUR, 0, &f->cur);
        if (rc >= 0 && (d->dirty & D_REST))
            rc = write_win(&x, f, R_LAST, 0, &f->last);
        for (uint32_t k = 0; rc >= 0 && f->lag && (d->dirty & D_REST) && k < d->lag; k++)
            rc = write_win(&x, f, R_LAG, k, &f->lag[k]);
    }
    if (rc >= 0) {
        x.v.len = 0;
        rc = put_head(d, &x.v) ? -1 : d->h->state_write(ctx, "", 0, REC_VERSION, x.v.data, x.v.len);
    }
    eddy_buf_free(&x.k);
    eddy_buf_free(&x.v);
    if (rc < 0)
        return rc; /* the bits stay: the next flush writes everything again */
    d->dirty = 0;
    return 0;
}

int eddy_dist_state_load(void *state, eddy_ctx *ctx, const void *key, size_t klen, int version,
                         const void *data, size_t len)
{
    dist *d = state;
    const eddy_host *h = d->h;
    if (!data)
        return 0; /* never written: records are only ever replaced */
    if (version != REC_VERSION) {
        h->log(ctx, EDDY_LOG_ERROR, "distribution_drift: state record version %d is not "
               "supported (this build reads %d)", version, REC_VERSION);
        return -1;
    }
    eddy_rd r = eddy_rd_of(data, len);
    const char *why = NULL;
    if (klen == 0) {
        if (get_head(d, &r) != 0)
            why = "the window bounds record is malformed or of another lag";
    } else {
        const char *k = key, *sep = memchr(k, '\x1f', klen);
        dfeat *f = NULL;
        for (uint32_t i = 0; sep && i < d->nf; i++)
            if (strlen(d->f[i].name) == (size_t)(sep - k) && memcmp(d->f[i].name, k, sep - k) == 0)
                f = &d->f[i];
        const char *role = sep ? sep + 1 : "";
        size_t rl = sep ? klen - (size_t)(sep + 1 - k) : 0;
        dwin *w = NULL;
        if (f && rl == 3 && memcmp(role, "ref", 3) == 0)
            w = &f->ref;
        else if (f && rl == 3 && memcmp(role, "cur", 3) == 0)
            w = &f->cur;
        else if (f && rl == 4 && memcmp(role, "last", 4) == 0)
            w = &f->last;
        else if (f && rl > 3 && rl < 14 && memcmp(role, "lag", 3) == 0) {
            char num[12];
            memcpy(num, role + 3, rl - 3);
            num[rl - 3] = '\0';
            char *end;
            unsigned long slot = strtoul(num, &end, 10);
            if (*end == '\0' && f->lag && slot < d->lag)
                w = &f->lag[slot];
        }
        if (!w)
            why = "a record of a feature or window this step does not have";
        else if (get_win(f, w, &r) != 0)
            why = "a window record is malformed, truncated, or of another sample_size, "
                  "categories or feature kind";
    }
    if (why) {
        h->log(ctx, EDDY_LOG_ERROR, "distribution_drift: cannot restore the state: %s", why);
        return -1;
    }
    return 0;
}

int eddy_dist_state_loaded(void *state, eddy_ctx *ctx, int64_t watermark)
{
    (void)watermark;
    dist *d = state;
    d->ctx = ctx;
    if (EDDY_HOST_HAS(d->h, ctx_requests))
        d->requests = d->h->ctx_requests(ctx, "reference");
    return 0;
}
