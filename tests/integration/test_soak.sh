#!/usr/bin/env bash
# The short form of the soak benchmark (benchmarks/soak/run.sh; its full
# form runs 30 minutes at 80 % of the maximum rate): the quick start's
# pipelines on a real broker for 100 s at 50 %, sampled every 5 s; RSS, open
# files and state bytes must not trend up after a 40 s warm-up (within 10 %
# here: a short run on a loaded machine) and the worker must keep up.
. "$(dirname "$0")/lib.sh"
if [ "${EDDY_SANITIZE:-none}" != none ]; then
    # AddressSanitizer keeps freed memory in quarantine (256 MB): RSS grows
    # by design there. The release build runs this test.
    echo "soak: skipped under sanitizers ($EDDY_SANITIZE)"
    exit 77
fi
out=$TMP/soak
SOAK_INTERVAL=5 SOAK_WARMUP=40 SOAK_TOLERANCE=10 SOAK_CALIBRATE=100000 SOAK_NO_PLOT=1 \
    EDDY_BUILD_DIR="$EDDY_BUILD" "$SRC/benchmarks/soak/run.sh" 100 50 "$out" >"$TMP/soak.out" 2>&1
rc=$?
check "the short soak is flat and keeps up (exit $rc; $(grep -E 'mean|lag|rate|soak:' "$TMP/soak.out" | tail -8 | tr '\n' ';'))" [ "$rc" = 0 ]
finish
