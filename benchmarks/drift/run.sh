#!/usr/bin/env bash
# Drift detector speed, eddy next to river, on the same streams (see
# bench_detectors.c and river_speed.py). Builds nothing: build
# bench_detectors first (ninja -C build benchmarks/drift/bench_detectors).
#
# usage: benchmarks/drift/run.sh
# environment:
#   BENCH          bench_detectors binary (default build/benchmarks/drift/bench_detectors)
#   N              eddy updates per run (10000000); KSWIN_N for KSWIN (300000)
#   RIVER_N        river updates per run (200000); RIVER_KSWIN_N for KSWIN (5000)
#   PYTHON         interpreter with river installed (python3)
# Prints both raw outputs and a table; exits 1 if a target is missed:
# >= 20 M updates/s for page_hinkley, ddm and cusum, >= 5 M for adwin.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BENCH=${BENCH:-$ROOT/build/benchmarks/drift/bench_detectors}
N=${N:-10000000}
KSWIN_N=${KSWIN_N:-300000}
RIVER_N=${RIVER_N:-200000}
RIVER_KSWIN_N=${RIVER_KSWIN_N:-5000}
PYTHON=${PYTHON:-python3}

if [ ! -x "$BENCH" ]; then
    echo "run.sh: $BENCH is not built (ninja -C build benchmarks/drift/bench_detectors, or set BENCH)" >&2
    exit 2
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

echo "== eddy: $N updates per run ($KSWIN_N for kswin)"
"$BENCH" "$N" "$KSWIN_N" | tee "$TMP/eddy.out" || exit 1

river_ok=1
if "$PYTHON" -c 'import river' 2>/dev/null; then
    for s in stationary shift stationary01 shift01; do
        "$BENCH" --dump "$s" "$RIVER_N" >"$TMP/$s.txt" || exit 1
    done
    echo "== river $("$PYTHON" -c 'import river; print(river.__version__)'): $RIVER_N updates per run ($RIVER_KSWIN_N for kswin)"
    "$PYTHON" "$HERE/river_speed.py" "$TMP" "$RIVER_KSWIN_N" | tee "$TMP/river.out" || river_ok=0
else
    echo "== river is not installed for $PYTHON: eddy only"
    : >"$TMP/river.out"
fi

echo
"$PYTHON" - "$TMP/eddy.out" "$TMP/river.out" <<'PY'
import sys
TARGET = {"page_hinkley": 20.0, "ddm": 20.0, "cusum": 20.0, "adwin": 5.0}
def read(path):
    rows = {}
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) == 9:
                rows[(p[0], p[1])] = {"n": int(p[2]), "ns": float(p[4]), "mups": float(p[5]),
                                      "changes": int(p[6]), "rss": int(p[8])}
    return rows
eddy, river = read(sys.argv[1]), read(sys.argv[2])
hdr = (f"{'detector':<13}{'stream':<11}{'eddy Mupd/s':>12}{'eddy ns/upd':>12}{'eddy RSS MiB':>13}"
       f"{'river kupd/s':>13}{'river ns/upd':>13}{'speedup':>9}{'target':>9}")
print(hdr)
print("-" * len(hdr))
missed = []
for (det, stream), e in eddy.items():
    r = river.get((det, stream))
    t = TARGET.get(det)
    verdict = "-" if t is None else ("ok" if e["mups"] >= t else "MISSED")
    if verdict == "MISSED":
        missed.append(f"{det} {stream}: {e['mups']:.2f} M/s < {t:g} M/s")
    rk = f"{r['mups'] * 1e3:.1f}" if r else "n/a"
    rn = f"{r['ns']:.0f}" if r else "n/a"
    sp = f"{r['ns'] / e['ns']:.0f}x" if r else "n/a"
    tcol = verdict if t is None else f"{verdict} {t:g}M"
    print(f"{det:<13}{stream:<11}{e['mups']:>12.2f}{e['ns']:>12.2f}{e['rss'] / 1024:>13.1f}"
          f"{rk:>13}{rn:>13}{sp:>9}{tcol:>9}")
if missed:
    print("targets missed: " + "; ".join(missed))
    sys.exit(1)
print("targets met (>= 20 M updates/s for page_hinkley, ddm, cusum; >= 5 M for adwin)")
PY
rc=$?
[ "$river_ok" = 1 ] || { echo "run.sh: river_speed.py failed" >&2; exit 1; }
exit $rc
