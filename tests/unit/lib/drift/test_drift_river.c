/* Each detector replays river's documented example on the reference streams
 * and must report the same indices. The warning filter is river's example
 * loop: a warning is reported once, then again only after a change. */
#include "tests/unit/test.h"
#include "lib/drift/drift.h"
#include "tests/unit/lib/drift/drift_stream.h"

#define MAXN 4096
#define MAXEV 64

static double shift[MAXN], binary[MAXN];
static long n_shift, n_binary;

typedef struct {
    long at;
    eddy_drift_signal sig;
} event;

/* Runs d over xs, collecting events as river's example loop prints them. */
static int run(eddy_drift *d, const double *xs, long n, event *ev)
{
    int k = 0, print_warning = 1;
    for (long i = 0; i < n; i++) {
        eddy_drift_signal s = eddy_drift_update(d, xs[i]);
        if (s == EDDY_DRIFT_WARNING && print_warning && k < MAXEV) {
            ev[k++] = (event){i, s};
            print_warning = 0;
        }
        if (s == EDDY_DRIFT_CHANGE && k < MAXEV) {
            ev[k++] = (event){i, s};
            print_warning = 1;
        }
    }
    return k;
}

static void expect(const char *what, eddy_drift *d, const double *xs, long n, const event *want,
                   int n_want)
{
    event got[MAXEV];
    CHECK_MSG(d != NULL, "%s: constructor failed", what);
    if (!d)
        return;
    int k = run(d, xs, n, got);
    int same = k == n_want;
    for (int i = 0; same && i < k; i++)
        same = got[i].at == want[i].at && got[i].sig == want[i].sig;
    if (!same) {
        fprintf(stderr, "%s: got", what);
        for (int i = 0; i < k; i++)
            fprintf(stderr, " %s@%ld", got[i].sig == EDDY_DRIFT_CHANGE ? "change" : "warning",
                    got[i].at);
        fputc('\n', stderr);
    }
    CHECK_MSG(same, "%s: signals differ from river's", what);
    /* A reset detector replays the stream identically. */
    eddy_drift_reset(d);
    int k2 = run(d, xs, n, got);
    CHECK_MSG(k2 == k, "%s: replay after reset gave %d events, first run %d", what, k2, k);
    eddy_drift_free(d);
}

#define W(i) {i, EDDY_DRIFT_WARNING}
#define C(i) {i, EDDY_DRIFT_CHANGE}
#define N(a) (int)(sizeof(a) / sizeof(a[0]))

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DATASET_DIR\n", argv[0]);
        return 1;
    }
    n_shift = drift_load_stream(argv[1], "shift_12345.txt", shift, MAXN);
    n_binary = drift_load_stream(argv[1], "binary_42.txt", binary, MAXN);
    CHECK_MSG(n_shift == 2000, "shift_12345.txt: %ld values, want 2000", n_shift);
    CHECK_MSG(n_binary == 2000, "binary_42.txt: %ld values, want 2000", n_binary);
    if (n_shift != 2000 || n_binary != 2000)
        return test_report();

    char err[256] = "";
    eddy_drift *d;

    eddy_page_hinkley_params ph;
    eddy_page_hinkley_defaults(&ph);
    d = NULL;
    eddy_page_hinkley_new(&ph, &d, err, sizeof err);
    CHECK_STR(d ? eddy_drift_name(d) : "", "page_hinkley");
    expect("page_hinkley", d, shift, n_shift, (event[]){C(1006)}, 1);

    eddy_ddm_params ddm;
    eddy_ddm_defaults(&ddm);
    d = NULL;
    eddy_ddm_new(&ddm, &d, err, sizeof err);
    event ddm_want[] = {W(1084), C(1334), W(1492)};
    expect("ddm", d, binary, n_binary, ddm_want, N(ddm_want));

    eddy_eddm_params eddm;
    eddy_eddm_defaults(&eddm);
    eddm.alpha = 0.8;
    eddm.beta = 0.75;
    d = NULL;
    eddy_eddm_new(&eddm, &d, err, sizeof err);
    event eddm_want[] = {W(1059), C(1278)};
    expect("eddm", d, binary, n_binary, eddm_want, N(eddm_want));

    eddy_hddm_a_params ha;
    eddy_hddm_a_defaults(&ha);
    d = NULL;
    eddy_hddm_a_new(&ha, &d, err, sizeof err);
    event ha_want[] = {W(451), C(1206)};
    expect("hddm_a", d, binary, n_binary, ha_want, N(ha_want));

    eddy_hddm_w_params hw;
    eddy_hddm_w_defaults(&hw);
    d = NULL;
    eddy_hddm_w_new(&hw, &d, err, sizeof err);
    event hw_want[] = {W(451), C(1077)};
    expect("hddm_w", d, binary, n_binary, hw_want, N(hw_want));

    eddy_adwin_params ad;
    eddy_adwin_defaults(&ad);
    d = NULL;
    eddy_adwin_new(&ad, &d, err, sizeof err);
    expect("adwin", d, shift, n_shift, (event[]){C(1023)}, 1);

    return test_report();
}
