/* KSWIN on the shift stream, CUSUM on a synthetic shift, parameter checks. */
#include "tests/unit/test.h"
#include "lib/drift/drift.h"
#include "tests/unit/lib/drift/drift_stream.h"

static double xs[4096];

/* Deterministic noise in [-1, 1) so the test never depends on libc rand. */
static double noise(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(*s >> 11) / 4503599627370496.0 - 1.0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DATASET_DIR\n", argv[0]);
        return 1;
    }
    long n = drift_load_stream(argv[1], "shift_12345.txt", xs, 4096);
    CHECK_MSG(n == 2000, "shift_12345.txt: %ld values, want 2000", n);
    char err[256] = "";
    eddy_drift *d = NULL;

    /* KSWIN: exactly one change, shortly after the shift at 1000. */
    eddy_kswin_params kp;
    eddy_kswin_defaults(&kp);
    kp.alpha = 0.0001;
    kp.seed = 42;
    CHECK(eddy_kswin_new(&kp, &d, err, sizeof err) == 0);
    if (d && n == 2000) {
        int changes = 0;
        long first = -1;
        for (long i = 0; i < n; i++)
            if (eddy_drift_update(d, xs[i]) == EDDY_DRIFT_CHANGE) {
                changes++;
                if (first < 0)
                    first = i;
            }
        CHECK_MSG(changes == 1, "kswin: %d changes", changes);
        CHECK_MSG(first >= 1000 && first <= 1100, "kswin: change at %ld", first);
        CHECK_STR(eddy_drift_name(d), "kswin");
    }
    eddy_drift_free(d);

    /* CUSUM: unit noise, mean steps by 1.5 at 500; no alarm before, alarm
     * within 60 values after, for both directions. */
    for (int dir = -1; dir <= 1; dir += 2) {
        eddy_cusum_params cp;
        eddy_cusum_defaults(&cp);
        d = NULL;
        CHECK(eddy_cusum_new(&cp, &d, err, sizeof err) == 0);
        if (!d)
            continue;
        uint64_t seed = 7;
        long first = -1;
        for (long i = 0; i < 1000 && first < 0; i++) {
            double x = 10.0 + noise(&seed) + (i >= 500 ? dir * 1.5 : 0.0);
            if (eddy_drift_update(d, x) == EDDY_DRIFT_CHANGE)
                first = i;
        }
        CHECK_MSG(first >= 500 && first < 560, "cusum dir %d: first alarm at %ld", dir, first);
        CHECK(eddy_drift_statistic(d) > cp.h);
        eddy_drift_free(d);
    }

    /* Bad parameters are refused with a message naming the detector. */
    eddy_eddm_params ep;
    eddy_eddm_defaults(&ep);
    ep.alpha = 0.5;
    d = NULL;
    CHECK(eddy_eddm_new(&ep, &d, err, sizeof err) < 0);
    CHECK(d == NULL);
    CHECK_CONTAINS(err, "eddm");
    eddy_kswin_defaults(&kp);
    kp.stat_size = 80;
    CHECK(eddy_kswin_new(&kp, &d, err, sizeof err) < 0);
    CHECK_CONTAINS(err, "stat_size");
    eddy_adwin_params ap;
    eddy_adwin_defaults(&ap);
    ap.delta = 0.0;
    CHECK(eddy_adwin_new(&ap, &d, err, sizeof err) < 0);
    CHECK_CONTAINS(err, "delta");
    eddy_cusum_params cp;
    eddy_cusum_defaults(&cp);
    cp.h = -1;
    CHECK(eddy_cusum_new(&cp, &d, err, sizeof err) < 0);
    CHECK_CONTAINS(err, "h must");
    return test_report();
}
