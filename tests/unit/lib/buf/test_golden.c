/* Golden snapshots: bytes written by eddy and committed here, so a change
 * of byte order or layout fails instead of silently making every stored
 * snapshot unreadable. Both are little-endian (lib/buf/bytes.h), and were
 * also the bytes of the host-order writers they replaced on x86-64. If a
 * change here is intended, bump the format's version and keep reading the
 * old one. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/error.h"
#include "lib/agg/agg.h"
#include "lib/anomaly/anomaly.h"
#include "tests/unit/test.h"

/* zscore(window 3) after 1, 2, 4, 8, 3: frame "EDAN", version 1, name,
 * payload size, FNV-1a of the payload; then the state (u32 head, count,
 * since_resum, pad; f64 mean, m2), the ring, and the last statistic. */
static const unsigned char zscore_snap[] = {
    0x45, 0x44, 0x41, 0x4e, 0x01, 0x00, 0x06, 0x7a, 0x73, 0x63, 0x6f, 0x72,
    0x65, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa8, 0x29, 0x7b,
    0x83, 0x67, 0xa4, 0x88, 0x3e, 0x02, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00,
    0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x14, 0x40, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0x2b,
    0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x40, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x08, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
    0x40, 0x36, 0x2d, 0xb8, 0x9e, 0x82, 0x61, 0xe5, 0xbf
};

/* mean(x) after 1.5 and 2.25: version 1, kind, then u64 n = 2, f64 sum
 * 3.75, f64 compensation 0. */
static const unsigned char mean_state[] = {
    0x01, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x0e, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00
};

static const double inputs[] = {1, 2, 4, 8, 3};

static void test_zscore(void)
{
    eddy_zscore_params p = {.window = 3};
    eddy_anom *live, *restored;
    char err[128];
    CHECK(eddy_zscore_new(&p, &live, err, sizeof err) == 0);
    CHECK(eddy_zscore_new(&p, &restored, err, sizeof err) == 0);
    for (size_t i = 0; i < sizeof inputs / sizeof *inputs; i++)
        eddy_anom_update(live, inputs[i], (int64_t)i);

    /* Written today: the same bytes. */
    eddy_buf b = {0};
    CHECK(eddy_anom_snapshot(live, &b) == 0);
    CHECK(b.len == sizeof zscore_snap && memcmp(b.data, zscore_snap, b.len) == 0);

    /* Read back: the same detector, bit for bit. */
    CHECK(eddy_anom_restore(restored, zscore_snap, sizeof zscore_snap) == 0);
    CHECK(eddy_anom_statistic(restored) == eddy_anom_statistic(live));
    CHECK(fabs(eddy_anom_statistic(restored) - (3 - 14 / 3.0) / sqrt(56 / 9.0)) < 1e-12);
    double a = eddy_anom_update(live, 5, 5), r = eddy_anom_update(restored, 5, 5);
    CHECK(a == r && eddy_anom_statistic(live) == eddy_anom_statistic(restored));

    /* One byte of the payload changed: the checksum refuses it. */
    unsigned char bad[sizeof zscore_snap];
    memcpy(bad, zscore_snap, sizeof bad);
    bad[sizeof bad - 1] ^= 1;
    CHECK(eddy_anom_restore(restored, bad, sizeof bad) == EDDY_EPARSE);
    eddy_buf_free(&b);
    eddy_anom_free(live);
    eddy_anom_free(restored);
}

static void test_mean(void)
{
    char err[128];
    eddy_agg_spec *s = eddy_agg_parse("mean(x)", err, sizeof err);
    CHECK(s != NULL);
    if (!s)
        return;
    void *st = calloc(1, eddy_agg_state_size(s));
    eddy_agg_init(s, st);
    eddy_value v = {.type = EDDY_DOUBLE};
    v.u.d = 1.5;
    eddy_agg_add(s, st, &v, 10);
    v.u.d = 2.25;
    eddy_agg_add(s, st, &v, 20);
    eddy_buf b = {0};
    CHECK(eddy_agg_serialize(s, st, &b) == 0);
    CHECK(b.len == sizeof mean_state && memcmp(b.data, mean_state, b.len) == 0);

    void *back = calloc(1, eddy_agg_state_size(s));
    CHECK(eddy_agg_deserialize(s, back, mean_state, sizeof mean_state) == 0);
    eddy_value m = eddy_agg_result(s, back, 0, NULL);
    CHECK(m.type == EDDY_DOUBLE && m.u.d == 1.875);
    eddy_buf_free(&b);
    free(st);
    free(back);
    eddy_agg_spec_free(s);
}

int main(void)
{
    test_zscore();
    test_mean();
    return test_report();
}
