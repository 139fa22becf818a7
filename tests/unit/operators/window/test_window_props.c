/* Property tests of the window operator: for random streams (fixed seeds)
 * with out-of-order and late events, for each window type, the results equal
 * a brute-force reference computed here from the plain list of events:
 * exact aggregates equal, sketches within their documented error; the late
 * output holds exactly the events that missed all their windows. Some runs
 * take a snapshot in the middle and continue in a fresh instance, some emit
 * `both` (only the final results are compared), some group globally. */
#include <math.h>

#include "tests/unit/operators/window/whost.h"

#define SIZE 100
#define SLIDE 25
#define GAP 40
#define CNT 7
#define GRACE 20
#define OOO 50
#define ITERS 40

enum { TUMBLING, HOPPING, SLIDING, SESSION, COUNT };
static const char *const type_names[] = {"tumbling", "hopping", "sliding", "session", "count"};

typedef struct tev {
    int64_t ts;
    int key, kind; /* kind: 0 amount missing, 1 null, 2 int */
    int64_t amount;
    int merchant;
} tev;

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void gen(tev *ev, int n, int nkeys, int64_t base, int step)
{
    int64_t t = base;
    for (int i = 0; i < n; i++) {
        t += (int64_t)(rnd() % (uint64_t)step);
        uint64_t r = rnd() % 100;
        int64_t dis = r < 75 ? 0 : r < 95 ? (int64_t)(rnd() % OOO) : (int64_t)(rnd() % (OOO * 4 + GRACE * 2));
        ev[i].ts = t - dis;
        ev[i].key = (int)(rnd() % (uint64_t)nkeys);
        uint64_t k = rnd() % 20;
        ev[i].kind = k == 0 ? 0 : k == 1 ? 1 : 2;
        ev[i].amount = (int64_t)(rnd() % 1051) - 50;
        ev[i].merchant = (int)(rnd() % 12);
    }
}

/* ---- driving the operator as the runtime does ------------------------------ */

static void put_record(eddy_batch *b, const tev *e, int seq, int global)
{
    eddy_record *r = eddy_batch_append(b);
    r->ts = e->ts;
    char s[16];
    int n = snprintf(s, sizeof s, "u%d", global ? 0 : e->key);
    eddy_value v = eddy_batch_string(b, s, (size_t)n);
    eddy_record_set(b, r, S("user"), &v);
    if (e->kind == 1) {
        v = eddy_v_null();
        eddy_record_set(b, r, S("amount"), &v);
    } else if (e->kind == 2) {
        v = eddy_v_int(e->amount);
        eddy_record_set(b, r, S("amount"), &v);
    }
    n = snprintf(s, sizeof s, "m%d", e->merchant);
    v = eddy_batch_string(b, s, (size_t)n);
    eddy_record_set(b, r, S("merchant"), &v);
    v = eddy_v_int(seq);
    eddy_record_set(b, r, S("seq"), &v);
}

/* Batches of 1..16 events; the watermark (max event time - OOO) is passed
 * after each batch when it advances; the end of input at the end. wm_at[i]
 * is the watermark the operator had when event i arrived. With snap_at >= 0
 * the state moves to a fresh instance through a snapshot before that batch. */
/* Durable state instead of a snapshot: the changelog written by
 * state_flush so far, compacted as Kafka would (the last record of each key;
 * a tombstone removes it), loaded key by key into a fresh instance. */
static void *durable_move(void *st, eddy_ctx *ctx, tconf *c, int64_t wm)
{
    CHECK(eddy_op_window.state_flush(st, ctx) == 0);
    char err[256];
    void *st2 = eddy_op_window.create(whost(), ctx, (const eddy_opts *)(const void *)c, err,
                                      sizeof err);
    CHECK(st2 != NULL);
    for (size_t i = 0; i < g_ncl; i++) {
        int last = 1;
        for (size_t j = i + 1; j < g_ncl && last; j++)
            last = !(g_cl[j].klen == g_cl[i].klen && memcmp(g_cl[j].key, g_cl[i].key, g_cl[i].klen) == 0);
        if (!last || !g_cl[i].val)
            continue;
        CHECK(eddy_op_window.state_load(st2, ctx, g_cl[i].key, g_cl[i].klen, g_cl[i].version,
                                        g_cl[i].val, g_cl[i].vlen) == 0);
    }
    CHECK(eddy_op_window.state_loaded(st2, ctx, wm) == 0);
    eddy_op_window.destroy(st);
    return st2;
}

/* With durable set, the state moves through the changelog (durable_move),
 * flushed after random batches as the runtime's commits do. */
static int durable;

static void *run(void *st, eddy_ctx *ctx, tconf *c, const tev *ev, int n, int64_t *wm_at,
                 int global, int snap_at)
{
    int64_t maxts = INT64_MIN, wm = INT64_MIN;
    if (durable) {
        wcl_clear();
        CHECK(eddy_op_window.state_loaded(st, ctx, INT64_MIN) == 0);
    }
    for (int i = 0, batch = 0; i < n; batch++) {
        if (durable && batch == snap_at) {
            st = durable_move(st, ctx, c, wm);
        } else if (durable && rnd() % 3 == 0) {
            CHECK(eddy_op_window.state_flush(st, ctx) == 0);
        } else if (batch == snap_at) {
            void *data = NULL;
            size_t len = 0;
            int ver = eddy_op_window.snapshot(st, ctx, &data, &len);
            CHECK(ver == 1);
            char err[256];
            void *st2 = eddy_op_window.create(whost(), ctx, (const eddy_opts *)(const void *)c, err,
                                              sizeof err);
            CHECK(st2 != NULL);
            CHECK(eddy_op_window.restore(st2, ctx, ver, data, len) == 0);
            free(data);
            eddy_op_window.destroy(st);
            st = st2;
        }
        int bs = 1 + (int)(rnd() % 16);
        if (bs > n - i)
            bs = n - i;
        eddy_batch *b = eddy_batch_new(16, 0);
        for (int j = i; j < i + bs; j++) {
            wm_at[j] = wm;
            put_record(b, &ev[j], j, global);
            if (ev[j].ts > maxts)
                maxts = ev[j].ts;
        }
        CHECK(eddy_op_window.process(st, ctx, b) == EDDY_CONSUMED);
        eddy_batch_destroy(b);
        if (maxts - OOO > wm) {
            wm = maxts - OOO;
            CHECK(eddy_op_window.on_watermark(st, ctx, wm) == 0);
        }
        i += bs;
    }
    CHECK(eddy_op_window.on_watermark(st, ctx, EDDY_WATERMARK_END) == 0);
    return st;
}

/* ---- the reference ------------------------------------------------------------ */

typedef struct rwin {
    int key, open, dead, matched;
    int64_t start, end;
    int *ev;
    int nev, cap;
} rwin;

typedef struct rref {
    rwin *w;
    int nw, cap;
    char *late;
    int64_t *late_end;
} rref;

static int closed(int64_t end, int64_t wm) { return wm != INT64_MIN && end + GRACE <= wm; }
static int64_t floor_to(int64_t t, int64_t u) { return (t / u - (t % u < 0)) * u; }

static rwin *rwin_new(rref *r, int key, int64_t start, int64_t end)
{
    if (r->nw == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->w = realloc(r->w, sizeof *r->w * (size_t)r->cap);
    }
    rwin *w = &r->w[r->nw++];
    memset(w, 0, sizeof *w);
    w->key = key;
    w->start = start;
    w->end = end;
    w->open = 1;
    return w;
}

static rwin *rwin_get(rref *r, int key, int64_t start, int64_t end)
{
    for (int i = 0; i < r->nw; i++)
        if (r->w[i].key == key && r->w[i].start == start && r->w[i].end == end)
            return &r->w[i];
    return rwin_new(r, key, start, end);
}

static void rwin_add(rwin *w, int e)
{
    if (w->nev == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 8;
        w->ev = realloc(w->ev, sizeof *w->ev * (size_t)w->cap);
    }
    w->ev[w->nev++] = e;
}

static void late(rref *r, int e, int64_t end)
{
    r->late[e] = 1;
    r->late_end[e] = end;
}

static void reference(int type, const tev *ev, int n, const int64_t *wm_at, int global, rref *r)
{
    int *cnt_open = calloc(16, sizeof(int)); /* count windows: open window index + 1 per key */
    for (int i = 0; i < n; i++) {
        const tev *e = &ev[i];
        int key = global ? 0 : e->key;
        int64_t wm = wm_at[i];
        switch (type) {
        case TUMBLING: {
            int64_t s = floor_to(e->ts, SIZE);
            if (closed(s + SIZE, wm))
                late(r, i, s + SIZE);
            else
                rwin_add(rwin_get(r, key, s, s + SIZE), i);
            break;
        }
        case HOPPING: {
            int64_t p = floor_to(e->ts, SLIDE);
            if (closed(p + SIZE, wm)) {
                late(r, i, p + SIZE);
                break;
            }
            for (int64_t s = p - SIZE + SLIDE; s <= p; s += SLIDE)
                if (!closed(s + SIZE, wm))
                    rwin_add(rwin_get(r, key, s, s + SIZE), i);
            break;
        }
        case SLIDING:
            if (closed(e->ts + 1, wm))
                late(r, i, e->ts + 1);
            break;
        case SESSION: {
            for (int k = 0; k < r->nw; k++)
                if (r->w[k].open && closed(r->w[k].end, wm))
                    r->w[k].open = 0;
            rwin *first = NULL;
            for (int k = 0; k < r->nw; k++) {
                rwin *w = &r->w[k];
                if (!w->open || w->key != key || !(w->start < e->ts + GAP && e->ts < w->end))
                    continue;
                if (!first) {
                    first = w;
                    continue;
                }
                for (int x = 0; x < w->nev; x++)
                    rwin_add(first, w->ev[x]);
                if (w->start < first->start)
                    first->start = w->start;
                if (w->end > first->end)
                    first->end = w->end;
                w->open = 0;
                w->dead = 1;
            }
            if (!first) {
                if (closed(e->ts + GAP, wm)) {
                    late(r, i, e->ts + GAP);
                    break;
                }
                first = rwin_new(r, key, e->ts, e->ts + GAP);
            }
            rwin_add(first, i);
            if (e->ts < first->start)
                first->start = e->ts;
            if (e->ts + GAP > first->end)
                first->end = e->ts + GAP;
            break;
        }
        case COUNT: {
            rwin *w = cnt_open[key] ? &r->w[cnt_open[key] - 1] : NULL;
            if (!w) {
                w = rwin_new(r, key, e->ts, e->ts + 1);
                cnt_open[key] = r->nw;
            }
            rwin_add(w, i);
            if (e->ts < w->start)
                w->start = e->ts;
            if (e->ts + 1 > w->end)
                w->end = e->ts + 1;
            if (w->nev == CNT)
                cnt_open[key] = 0;
            break;
        }
        }
    }
    if (type == SLIDING) /* one window per event that was not late */
        for (int i = 0; i < n; i++) {
            if (r->late[i])
                continue;
            int key = global ? 0 : ev[i].key;
            rwin *w = rwin_new(r, key, ev[i].ts - SIZE + 1, ev[i].ts + 1);
            for (int j = 0; j < n; j++)
                if (!r->late[j] && (global ? 0 : ev[j].key) == key && ev[j].ts > ev[i].ts - SIZE &&
                    ev[j].ts <= ev[i].ts)
                    rwin_add(w, j);
        }
    free(cnt_open);
}

/* ---- expected aggregates -------------------------------------------------------- */

typedef struct expect {
    int64_t n, c, sum, mn, mx, first, last;
    double mean, var, median;
    int distinct;
} expect;

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void compute(const tev *ev, const rwin *w, expect *x)
{
    memset(x, 0, sizeof *x);
    int64_t *vals = malloc(sizeof *vals * (size_t)(w->nev + 1));
    int seen[12] = {0};
    int64_t fts = INT64_MAX, lts = INT64_MIN;
    for (int k = 0; k < w->nev; k++) {
        const tev *e = &ev[w->ev[k]];
        x->n++;
        if (!seen[e->merchant]++)
            x->distinct++;
        if (e->kind != 2)
            continue;
        vals[x->c++] = e->amount;
        x->sum += e->amount;
        /* by event time; ties: the first arrival for first, the last for last
         * (the window's events are listed in arrival order, or for sliding
         * windows in arrival order too, as the reference builds them) */
        if (e->ts < fts) {
            fts = e->ts;
            x->first = e->amount;
        }
        if (e->ts >= lts) {
            lts = e->ts;
            x->last = e->amount;
        }
    }
    if (x->c) {
        qsort(vals, (size_t)x->c, sizeof *vals, cmp_i64);
        x->mn = vals[0];
        x->mx = vals[x->c - 1];
        x->mean = (double)x->sum / (double)x->c;
        double m2 = 0;
        for (int64_t k = 0; k < x->c; k++)
            m2 += ((double)vals[k] - x->mean) * ((double)vals[k] - x->mean);
        x->var = x->c > 1 ? m2 / (double)(x->c - 1) : 0;
        x->median = (double)vals[(int64_t)(0.5 * (double)(x->c - 1))];
    }
    free(vals);
}

static double q_err, d_err;

static int close_rel(double a, double b, double rel)
{
    return fabs(a - b) <= rel * fmax(1.0, fmax(fabs(a), fabs(b)));
}

/* Whether result record r carries exactly the expected values. */
static int matches(const eddy_record *r, const expect *x, char *why, size_t n)
{
    double v;
    if (iget(r, "n", -1) != x->n || iget(r, "count", -1) != x->n) {
        snprintf(why, n, "n %lld != %lld", (long long)iget(r, "n", -1), (long long)x->n);
        return 0;
    }
    if (iget(r, "c", -1) != x->c || iget(r, "s", INT64_MIN) != x->sum) {
        snprintf(why, n, "c/sum %lld/%lld != %lld/%lld", (long long)iget(r, "c", -1),
                 (long long)iget(r, "s", -1), (long long)x->c, (long long)x->sum);
        return 0;
    }
    if (x->c == 0) {
        int nulls = !nget(r, "mn", &v) && !nget(r, "mx", &v) && !nget(r, "avg", &v) &&
                    !nget(r, "fst", &v) && !nget(r, "lst", &v) && !nget(r, "q", &v);
        snprintf(why, n, "aggregates of no values are not null");
        return nulls;
    }
    if (iget(r, "mn", INT64_MIN) != x->mn || iget(r, "mx", INT64_MIN) != x->mx ||
        iget(r, "fst", INT64_MIN) != x->first || iget(r, "lst", INT64_MIN) != x->last) {
        snprintf(why, n, "min/max/first/last %lld/%lld/%lld/%lld != %lld/%lld/%lld/%lld",
                 (long long)iget(r, "mn", 0), (long long)iget(r, "mx", 0),
                 (long long)iget(r, "fst", 0), (long long)iget(r, "lst", 0), (long long)x->mn,
                 (long long)x->mx, (long long)x->first, (long long)x->last);
        return 0;
    }
    if (!nget(r, "avg", &v) || !close_rel(v, x->mean, 1e-12)) {
        snprintf(why, n, "mean %.17g != %.17g", v, x->mean);
        return 0;
    }
    int has_var = nget(r, "var", &v);
    if (x->c > 1 ? !has_var || !close_rel(v, x->var, 1e-9) : has_var) {
        snprintf(why, n, "variance %.17g != %.17g", v, x->var);
        return 0;
    }
    if (!nget(r, "q", &v) || fabs(v - x->median) > q_err * fabs(x->median) + 1e-9) {
        snprintf(why, n, "median %.17g not within %g of %.17g", v, q_err, x->median);
        return 0;
    }
    if (!nget(r, "d", &v) || fabs(v - x->distinct) > fmax(0.5, 3 * d_err * x->distinct)) {
        snprintf(why, n, "distinct %g != %d", v, x->distinct);
        return 0;
    }
    return 1;
}

/* ---- one property run ------------------------------------------------------------ */

static const char *const agg_keys[] = {"n", "s", "c", "mn", "mx", "avg", "var", "fst", "lst", "d", "q"};
static const char *const agg_vals[] = {"count()", "sum(amount)", "count(amount)", "min(amount)",
                                       "max(amount)", "mean(amount)", "variance(amount)",
                                       "first(amount)", "last(amount)", "distinct(merchant)",
                                       "quantile(amount, 0.5)"};
static const char *const key_user[] = {"user"};

static int failures_shown;

static void one(int type, int iter)
{
    rng_state = 0x9e3779b97f4a7c15ull ^ ((uint64_t)(type * 1000 + iter + 1) * 0x2545f4914f6cdd1dull);
    int n = 100 + (int)(rnd() % 500), nkeys = 1 + (int)(rnd() % 6);
    int global = iter % 5 == 4, both = iter % 4 == 2, snap = iter % 3 != 0;
    durable = iter % 3 == 2; /* the state moves through the changelog, not a snapshot */
    int64_t base = iter % 2 ? 1000 : -5000; /* negative times exercise floor division */
    tev *ev = calloc((size_t)n, sizeof *ev);
    int64_t *wm_at = calloc((size_t)n, sizeof *wm_at);
    /* sessions need gaps between a key's events to form several sessions */
    gen(ev, n, nkeys, base, type == SESSION ? 40 : 12);

    tconf c = {0};
    char size[32], slide[32], gap[32], cnt[32], grace[32];
    snprintf(size, sizeof size, "%d", SIZE);
    snprintf(slide, sizeof slide, "%d", SLIDE);
    snprintf(gap, sizeof gap, "%d", GAP);
    snprintf(cnt, sizeof cnt, "%d", CNT);
    snprintf(grace, sizeof grace, "%d", GRACE);
    conf_set(&c, "type", type_names[type]);
    if (type == TUMBLING || type == HOPPING || type == SLIDING)
        conf_set(&c, "size", size);
    if (type == HOPPING)
        conf_set(&c, "slide", slide);
    if (type == SESSION)
        conf_set(&c, "gap", gap);
    if (type == COUNT)
        conf_set(&c, "count", cnt);
    conf_set(&c, "grace", grace);
    if (both)
        conf_set(&c, "emit", "both");
    if (!global)
        conf_list(&c, "key", key_user, 1);
    conf_map(&c, "aggregate", agg_keys, agg_vals, sizeof agg_keys / sizeof agg_keys[0]);

    eddy_ctx ctx;
    char err[256];
    void *st = wcreate(&ctx, &c, err, sizeof err);
    CHECK_MSG(st != NULL, "%s", err);
    if (!st)
        return;
    int snap_at = snap ? 1 + (int)(rnd() % 20) : -1;
    st = run(st, &ctx, &c, ev, n, wm_at, global, snap_at);

    rref ref = {0};
    ref.late = calloc((size_t)n, 1);
    ref.late_end = calloc((size_t)n, sizeof *ref.late_end);
    reference(type, ev, n, wm_at, global, &ref);

    /* every final result matches one reference window, and none is left */
    int bad = 0, finals = 0;
    for (uint32_t i = 0; ctx.res && i < ctx.res->n; i++) {
        const eddy_record *r = &ctx.res->recs[i];
        const eddy_value *fin = eddy_record_get(r, S("final"));
        if (both && !(fin && fin->type == EDDY_BOOL && fin->u.b))
            continue;
        finals++;
        char user[16] = "";
        sget(r, "user", user, sizeof user);
        int key = atoi(user + 1);
        int64_t s = iget(r, "window_start", 0), e = iget(r, "window_end", 0);
        int found = 0;
        char why[256] = "no window with that key and bounds";
        for (int k = 0; k < ref.nw && !found; k++) {
            rwin *w = &ref.w[k];
            if (w->dead || w->matched || w->key != key || w->start != s || w->end != e)
                continue;
            expect x;
            compute(ev, w, &x);
            if (matches(r, &x, why, sizeof why)) {
                w->matched = 1;
                found = 1;
            }
        }
        if (!found && failures_shown++ < 10)
            fprintf(stderr, "%s iter %d: result key u%d [%lld, %lld): %s\n", type_names[type], iter,
                    key, (long long)s, (long long)e, why);
        bad += !found;
        if (r->ts != e - 1)
            bad++;
    }
    int expected = 0;
    for (int k = 0; k < ref.nw; k++)
        if (!ref.w[k].dead && ref.w[k].nev > 0)
            expected++;
    CHECK_MSG(bad == 0, "%s iter %d: %d result(s) without a matching reference window",
              type_names[type], iter, bad);
    CHECK_MSG(finals == expected, "%s iter %d: %d results, reference has %d windows",
              type_names[type], iter, finals, expected);

    /* the late output holds exactly the events that missed all their windows */
    int nlate = 0, late_ok = 1;
    char *got = calloc((size_t)n, 1);
    for (uint32_t i = 0; ctx.late && i < ctx.late->n; i++) {
        const eddy_record *r = &ctx.late->recs[i];
        int64_t seq = iget(r, "seq", -1);
        char reason[160] = "";
        sget(r, "_late_reason", reason, sizeof reason);
        if (seq < 0 || seq >= n || got[seq] || !ref.late[seq] ||
            iget(r, "_late_window_end", 0) != ref.late_end[seq] ||
            !strstr(reason, "closed at watermark") || r->ts != ev[seq].ts)
            late_ok = 0;
        else
            got[seq] = 1;
    }
    for (int i = 0; i < n; i++)
        nlate += ref.late[i];
    CHECK_MSG(late_ok && ctx.late ? ctx.late->n == (uint32_t)nlate : nlate == 0,
              "%s iter %d: late output differs (%u records, reference %d, contents %s)",
              type_names[type], iter, ctx.late ? ctx.late->n : 0, nlate, late_ok ? "ok" : "wrong");
    /* the metric is summed over instances (a snapshot run has two) */
    double m = 0;
    for (uint32_t i = 0; i < ctx.nm; i++)
        if (strcmp(ctx.m[i].name, "window_late_records_total") == 0)
            m += ctx.m[i].v;
    CHECK(m == nlate);

    free(got);
    for (int k = 0; k < ref.nw; k++)
        free(ref.w[k].ev);
    free(ref.w);
    free(ref.late);
    free(ref.late_end);
    wfree(st, &ctx);
    free(ev);
    free(wm_at);
}

int main(void)
{
    char err[128];
    eddy_agg_spec *q = eddy_agg_parse("quantile(amount, 0.5)", err, sizeof err);
    eddy_agg_spec *d = eddy_agg_parse("distinct(merchant)", err, sizeof err);
    CHECK(q && d);
    q_err = q ? eddy_agg_error(q) : 0;
    d_err = d ? eddy_agg_error(d) : 0;
    eddy_agg_spec_free(q);
    eddy_agg_spec_free(d);
    for (int type = TUMBLING; type <= COUNT; type++)
        for (int iter = 0; iter < ITERS; iter++)
            one(type, iter);
    return test_report();
}
