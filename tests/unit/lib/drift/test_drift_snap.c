/* Detector snapshots: every detector fed half a stream, snapshotted,
 * restored into a fresh detector, then both fed the rest: the same signal,
 * flags and statistic on every update. Corrupt, short, foreign and other-
 * parameter snapshots are refused and leave the detector unchanged. */
#include <math.h>
#include <string.h>

#include "tests/unit/test.h"
#include "lib/buf/bytes.h"
#include "lib/drift/drift.h"
#include "lib/drift/stats.h"

#define N 6000

static double noise(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(*s >> 11) / 4503599627370496.0 - 1.0;
}

/* Numeric: three level shifts. Binary: an error rate that jumps. */
static void streams(double *num, double *bin)
{
    uint64_t s = 7;
    for (int i = 0; i < N; i++) {
        double level = i < 1500 ? 0.0 : i < 3000 ? 3.0 : i < 4500 ? -1.0 : 2.0;
        num[i] = level + noise(&s);
        double rate = i < 2000 ? 0.1 : i < 4000 ? 0.45 : 0.05;
        bin[i] = (noise(&s) + 1.0) / 2.0 < rate ? 1.0 : 0.0;
    }
}

typedef int (*maker)(eddy_drift **d, int variant);

static int mk_ph(eddy_drift **d, int v)
{
    eddy_page_hinkley_params p;
    eddy_page_hinkley_defaults(&p);
    p.threshold = v ? 20 : 50;
    return eddy_page_hinkley_new(&p, d, NULL, 0);
}
static int mk_ddm(eddy_drift **d, int v)
{
    eddy_ddm_params p;
    eddy_ddm_defaults(&p);
    p.drift_threshold += v;
    return eddy_ddm_new(&p, d, NULL, 0);
}
static int mk_eddm(eddy_drift **d, int v)
{
    eddy_eddm_params p;
    eddy_eddm_defaults(&p);
    p.warm_start += (uint32_t)v;
    return eddy_eddm_new(&p, d, NULL, 0);
}
static int mk_hddm_a(eddy_drift **d, int v)
{
    eddy_hddm_a_params p;
    eddy_hddm_a_defaults(&p);
    p.two_sided = v;
    return eddy_hddm_a_new(&p, d, NULL, 0);
}
static int mk_hddm_w(eddy_drift **d, int v)
{
    eddy_hddm_w_params p;
    eddy_hddm_w_defaults(&p);
    p.two_sided = v;
    return eddy_hddm_w_new(&p, d, NULL, 0);
}
static int mk_adwin(eddy_drift **d, int v)
{
    eddy_adwin_params p;
    eddy_adwin_defaults(&p);
    p.delta = v ? 0.01 : 0.002;
    return eddy_adwin_new(&p, d, NULL, 0);
}
static int mk_kswin(eddy_drift **d, int v)
{
    eddy_kswin_params p;
    eddy_kswin_defaults(&p);
    p.alpha = 0.0001;
    p.seed = 42 + (uint64_t)v;
    return eddy_kswin_new(&p, d, NULL, 0);
}
static int mk_cusum(eddy_drift **d, int v)
{
    eddy_cusum_params p;
    eddy_cusum_defaults(&p);
    p.h = 5.0 + v;
    return eddy_cusum_new(&p, d, NULL, 0);
}

static const struct {
    const char *name;
    maker make;
    int binary;
} dets[] = {
    {"page_hinkley", mk_ph, 0}, {"ddm", mk_ddm, 1},       {"eddm", mk_eddm, 1},
    {"hddm_a", mk_hddm_a, 1},   {"hddm_w", mk_hddm_w, 1}, {"adwin", mk_adwin, 0},
    {"kswin", mk_kswin, 0},     {"cusum", mk_cusum, 0},
};

static double num[N], bin[N];

/* Snapshot after `half` updates; both go on; answers the changes seen. */
static int run(int di, int half)
{
    const double *xs = dets[di].binary ? bin : num;
    eddy_drift *a = NULL, *b = NULL;
    CHECK(dets[di].make(&a, 0) == 0 && dets[di].make(&b, 0) == 0);
    if (!a || !b)
        return 0;
    for (int i = 0; i < half; i++)
        eddy_drift_update(a, xs[i]);
    eddy_buf snap = {0};
    CHECK(eddy_drift_snapshot(a, &snap) == 0);
    CHECK_MSG(eddy_drift_restore(b, snap.data, snap.len) == 0, "%s: restore", dets[di].name);
    CHECK_MSG(eddy_drift_flags(a) == eddy_drift_flags(b), "%s: flags after restore: want %u, got %u",
              dets[di].name, eddy_drift_flags(a), eddy_drift_flags(b));
    int changes = 0, diff = 0;
    for (int i = half; i < N; i++) {
        eddy_drift_signal sa = eddy_drift_update(a, xs[i]), sb = eddy_drift_update(b, xs[i]);
        double ta = eddy_drift_statistic(a), tb = eddy_drift_statistic(b);
        if (sa != sb || eddy_drift_flags(a) != eddy_drift_flags(b) ||
            memcmp(&ta, &tb, sizeof ta) != 0)
            diff++;
        changes += sa == EDDY_DRIFT_CHANGE;
    }
    CHECK_MSG(diff == 0, "%s: %d updates differ after a restore at %d", dets[di].name, diff, half);

    /* Refusals: every truncation, a flipped magic, trailing bytes, other
     * parameters, another detector. The target must stay unchanged. */
    eddy_drift *c = NULL;
    CHECK(dets[di].make(&c, 0) == 0);
    for (size_t cut = 0; cut < snap.len; cut++)
        if (eddy_drift_restore(c, snap.data, cut) == 0) {
            CHECK_MSG(0, "%s: a snapshot cut to %zu of %zu bytes was accepted", dets[di].name,
                      cut, snap.len);
            break;
        }
    eddy_buf_putc(&snap, 0);
    CHECK_MSG(eddy_drift_restore(c, snap.data, snap.len) != 0, "%s: trailing byte", dets[di].name);
    snap.len--;
    snap.data[0] ^= 0xff;
    CHECK(eddy_drift_restore(c, snap.data, snap.len) != 0);
    snap.data[0] ^= 0xff;
    eddy_drift *o = NULL;
    CHECK(dets[di].make(&o, 1) == 0);
    CHECK_MSG(eddy_drift_restore(o, snap.data, snap.len) != 0, "%s: other parameters accepted",
              dets[di].name);
    eddy_drift *f = NULL;
    CHECK(dets[(di + 1) % 8].make(&f, 0) == 0);
    CHECK(eddy_drift_restore(f, snap.data, snap.len) != 0);
    /* c refused everything: it behaves as a fresh detector. */
    eddy_drift *fresh = NULL;
    CHECK(dets[di].make(&fresh, 0) == 0);
    int cdiff = 0;
    for (int i = 0; i < N; i++)
        cdiff += eddy_drift_update(c, xs[i]) != eddy_drift_update(fresh, xs[i]);
    CHECK_MSG(cdiff == 0, "%s: a refused restore changed the detector", dets[di].name);
    eddy_drift_free(a);
    eddy_drift_free(b);
    eddy_drift_free(c);
    eddy_drift_free(o);
    eddy_drift_free(f);
    eddy_drift_free(fresh);
    eddy_buf_free(&snap);
    return changes;
}

/* Samples and categorical counters (distribution_drift's state): a
 * restored one goes on like the original; bad bytes are refused and
 * change nothing. */
static void stats_roundtrip(void)
{
    eddy_sample *a = eddy_sample_new(64, 9), *b = eddy_sample_new(64, 1), *c = eddy_sample_new(32, 9);
    for (int i = 0; i < 500; i++)
        eddy_sample_add(a, num[i]);
    eddy_sample_sorted(a); /* slot order after a sort must travel too */
    for (int i = 500; i < 700; i++)
        eddy_sample_add(a, num[i]);
    eddy_buf s = {0};
    CHECK(eddy_sample_put(a, &s) == 0);
    eddy_rd r = eddy_rd_of(s.data, s.len);
    CHECK(eddy_sample_get(b, &r) == 0 && r.left == 0);
    for (int i = 700; i < 3000; i++) {
        eddy_sample_add(a, num[i]);
        eddy_sample_add(b, num[i]);
    }
    CHECK(eddy_sample_seen(a) == eddy_sample_seen(b) && eddy_sample_size(b) == 64);
    CHECK(memcmp(eddy_sample_sorted(a), eddy_sample_sorted(b), 64 * sizeof(double)) == 0);
    r = eddy_rd_of(s.data, s.len);
    CHECK(eddy_sample_get(c, &r) != 0); /* another capacity */
    for (size_t cut = 0; cut < s.len; cut += 7) {
        eddy_sample *d = eddy_sample_new(64, 1);
        r = eddy_rd_of(s.data, cut);
        CHECK(eddy_sample_get(d, &r) != 0 && eddy_sample_seen(d) == 0);
        eddy_sample_free(d);
    }
    eddy_buf_free(&s);

    eddy_catcount *x = eddy_catcount_new(4), *y = eddy_catcount_new(4), *z = eddy_catcount_new(5);
    const char *cats[] = {"a", "bb", "", "dddd", "e", "f"};
    for (int i = 0; i < 200; i++)
        eddy_catcount_add(x, cats[(i * 7) % 6], strlen(cats[(i * 7) % 6]), 1.0 + (i % 3));
    eddy_buf t = {0};
    CHECK(eddy_catcount_put(x, &t) == 0);
    r = eddy_rd_of(t.data, t.len);
    CHECK(eddy_catcount_get(y, &r) == 0 && r.left == 0);
    for (int i = 0; i < 100; i++) {
        eddy_catcount_add(x, cats[i % 6], strlen(cats[i % 6]), 2.0);
        eddy_catcount_add(y, cats[i % 6], strlen(cats[i % 6]), 2.0);
    }
    double ax[16], ay[16], bx[16], by[16];
    size_t ka = 0, kb = 0;
    CHECK(eddy_catcount_align(x, x, ax, ay, 16, &ka) == 0);
    CHECK(eddy_catcount_align(y, y, bx, by, 16, &kb) == 0);
    CHECK(ka == kb && ka == 5 && memcmp(ax, bx, ka * sizeof(double)) == 0);
    CHECK(eddy_catcount_total(x) == eddy_catcount_total(y));
    r = eddy_rd_of(t.data, t.len);
    CHECK(eddy_catcount_get(z, &r) != 0 && eddy_catcount_size(z) == 0); /* another capacity */
    for (size_t cut = 0; cut < t.len; cut++) {
        r = eddy_rd_of(t.data, cut);
        CHECK(eddy_catcount_get(z, &r) != 0);
    }
    /* A repeated category is refused and leaves the counter as it was. */
    eddy_buf u = {0};
    eddy_put_u32(&u, 4), eddy_put_u32(&u, 2), eddy_put_f64(&u, 0), eddy_put_u64(&u, 2);
    eddy_put_cstr(&u, "a"), eddy_put_f64(&u, 1), eddy_put_cstr(&u, "a"), eddy_put_f64(&u, 1);
    uint64_t before = eddy_catcount_total(y);
    r = eddy_rd_of(u.data, u.len);
    CHECK(eddy_catcount_get(y, &r) != 0 && eddy_catcount_total(y) == before);
    eddy_buf_free(&t);
    eddy_buf_free(&u);
    eddy_sample_free(a);
    eddy_sample_free(b);
    eddy_sample_free(c);
    eddy_catcount_free(x);
    eddy_catcount_free(y);
    eddy_catcount_free(z);
}

/* EDDM can end an update with both flags set (river's warning_detected and
 * drift_detected): a snapshot taken there restores both, and the pending
 * reset. A snapshot of the format before the warning bit (flags byte 1)
 * still restores, as a change without warning. */
static void both_flags(void)
{
    eddy_eddm_params p;
    eddy_eddm_defaults(&p);
    eddy_drift *a = NULL, *b = NULL, *c = NULL;
    CHECK(eddy_eddm_new(&p, &a, NULL, 0) == 0 && eddy_eddm_new(&p, &b, NULL, 0) == 0 &&
          eddy_eddm_new(&p, &c, NULL, 0) == 0);
    if (!a || !b || !c)
        return;
    int at = -1;
    for (int i = 0; i < N && at < 0; i++) {
        eddy_drift_update(a, bin[i]);
        if (eddy_drift_flags(a) == (EDDY_DRIFT_FLAG_WARNING | EDDY_DRIFT_FLAG_CHANGE))
            at = i;
    }
    CHECK_MSG(at > 0, "eddm: no update with both flags in the binary stream (want one, saw %d)",
              at);
    eddy_buf s = {0};
    CHECK(eddy_drift_snapshot(a, &s) == 0 && eddy_drift_restore(b, s.data, s.len) == 0);
    CHECK_MSG(eddy_drift_flags(b) == 3u, "eddm: flags restored: want 3, got %u",
              eddy_drift_flags(b));
    int d = 0;
    for (int i = at + 1; i < N; i++) {
        d += eddy_drift_update(a, bin[i]) != eddy_drift_update(b, bin[i]);
        d += eddy_drift_flags(a) != eddy_drift_flags(b);
    }
    CHECK_MSG(d == 0, "eddm: %d updates differ after a restore with both flags", d);
    /* The flags byte follows "EDRF", the version and the name "eddm". */
    size_t fb = 4 + 4 + 4 + 4;
    CHECK(s.len > fb && s.data[fb] == 3);
    s.data[fb] = 1;
    CHECK(eddy_drift_restore(c, s.data, s.len) == 0);
    CHECK_MSG(eddy_drift_flags(c) == EDDY_DRIFT_FLAG_CHANGE, "eddm: old-format flags: want 2, got %u",
              eddy_drift_flags(c));
    s.data[fb] = 4;
    CHECK(eddy_drift_restore(c, s.data, s.len) != 0);
    eddy_buf_free(&s);
    eddy_drift_free(a);
    eddy_drift_free(b);
    eddy_drift_free(c);
}

/* A KSWIN snapshot of the layout before the CPython generator (u32 len,
 * u64 generator, f64 p-value, window) still restores: the window comes
 * back and the detector goes on; the new layout's generator position is
 * range-checked. */
static void kswin_old_layout(void)
{
    eddy_kswin_params p;
    eddy_kswin_defaults(&p);
    p.seed = 42;
    eddy_drift *d = NULL, *e = NULL;
    CHECK(eddy_kswin_new(&p, &d, NULL, 0) == 0 && eddy_kswin_new(&p, &e, NULL, 0) == 0);
    if (!d || !e)
        return;
    eddy_buf b = {0}, params = {0};
    eddy_put_f64(&params, p.alpha), eddy_put_u32(&params, p.window_size);
    eddy_put_u32(&params, p.stat_size), eddy_put_u64(&params, p.seed);
    eddy_buf_put(&b, "EDRF", 4), eddy_put_u32(&b, 1), eddy_put_cstr(&b, "kswin");
    eddy_put_u8(&b, 0), eddy_put_str(&b, params.data, params.len);
    uint32_t len = p.window_size;
    eddy_put_u32(&b, len), eddy_put_u64(&b, 12345), eddy_put_f64(&b, 0.5);
    for (uint32_t i = 0; i < len; i++)
        eddy_put_f64(&b, num[i]);
    CHECK_MSG(eddy_drift_restore(d, b.data, b.len) == 0, "kswin: old layout refused (want restored)");
    CHECK_MSG(eddy_drift_statistic(d) == 0.5, "kswin: old layout p-value: want 0.5, got %g",
              eddy_drift_statistic(d));
    int changes = 0;
    for (int i = 0; i < 3000; i++) /* the window is full: a test per update */
        changes += eddy_drift_update(d, num[len + (uint32_t)i]) == EDDY_DRIFT_CHANGE;
    CHECK_MSG(changes > 0, "kswin after an old-layout restore: want changes at the shift at 1500, "
              "saw %d", changes);
    /* The new layout: a generator position past 624 is refused. */
    eddy_buf n = {0};
    CHECK(eddy_drift_snapshot(d, &n) == 0);
    size_t pos = 4 + 4 + 4 + 5 + 1 + 4 + params.len + 4 + 8; /* frame, len, p-value */
    CHECK(n.len > pos + 4);
    uint32_t bad = 625;
    memcpy(n.data + pos, &bad, 4); /* little-endian hosts only, as the CI runs */
    CHECK_MSG(eddy_drift_restore(e, n.data, n.len) != 0, "kswin: generator position 625 accepted");
    eddy_buf_free(&b);
    eddy_buf_free(&params);
    eddy_buf_free(&n);
    eddy_drift_free(d);
    eddy_drift_free(e);
}

int main(void)
{
    streams(num, bin);
    stats_roundtrip();
    for (int di = 0; di < 8; di++) {
        int total = 0;
        /* Halves inside warm-up, mid-stream, right at a shift. */
        const int at[] = {10, 1000, 1503, N / 2, 4020};
        for (size_t k = 0; k < sizeof at / sizeof at[0]; k++)
            total += run(di, at[k]);
        fprintf(stderr, "%s: %d changes after the restore points\n", dets[di].name, total);
    }
    /* A detector restored right after a CHANGE resets on its next update
     * like the original (the lazy reset travels in the snapshot). */
    eddy_drift *a = NULL, *b = NULL;
    mk_ph(&a, 1);
    mk_ph(&b, 1);
    int at = -1;
    for (int i = 0; i < N && at < 0; i++)
        if (eddy_drift_update(a, num[i]) == EDDY_DRIFT_CHANGE)
            at = i;
    CHECK(at > 0);
    eddy_buf s = {0};
    CHECK(eddy_drift_snapshot(a, &s) == 0 && eddy_drift_restore(b, s.data, s.len) == 0);
    int d = 0;
    for (int i = at + 1; i < N; i++)
        d += eddy_drift_update(a, num[i]) != eddy_drift_update(b, num[i]);
    CHECK(d == 0);
    eddy_buf_free(&s);
    eddy_drift_free(a);
    eddy_drift_free(b);
    both_flags();
    kswin_old_layout();
    return test_report();
}
