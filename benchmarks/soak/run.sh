#!/usr/bin/env bash
# Soak benchmark (issue 14): the quick start's pipelines (filter, project,
# keyed windows into the feature store, distribution drift, ADWIN, z-score,
# SPOT, ensemble, alerts and dead letters to Kafka) on a real broker at a
# share of their maximum rate, sampling RSS, open files, state bytes and
# consumer lag; they must stay flat after the warm-up.
#
#   benchmarks/soak/run.sh [SECONDS] [LOAD_PERCENT] [OUT_DIR]
#       defaults: 1800 s at 80 % into /tmp/eddy-soak (soak.tsv, soak.png)
#
# SOAK_INTERVAL (10 s), SOAK_WARMUP (a sixth, >= 30 s), SOAK_TOLERANCE (5 %)
# and SOAK_CALIBRATE (300000 records) tune it; EDDY_BUILD_DIR picks the
# build (build). The test suite runs a short form (tests/integration/
# test_soak.sh). Exits 1 when something was not flat.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${1:-1800}
LOAD=${2:-80}
OUT=${3:-/tmp/eddy-soak}
[ -n "${EDDY_BUILD_DIR:-}" ] || scripts/build.sh build
# The PNG needs matplotlib: the system's, or a venv kept in the cache.
PY=python3
if ! python3 -c "import matplotlib" 2>/dev/null && [ -z "${SOAK_NO_PLOT:-}" ]; then
    VENV=${EDDY_CACHE:-$HOME/.cache/eddy}/soak/venv
    if ! "$VENV/bin/python" -c "import matplotlib" 2>/dev/null; then
        python3 -m venv "$VENV" && "$VENV/bin/pip" install -q matplotlib==3.11.2 >&2 ||
            echo "soak: cannot install matplotlib; no PNG" >&2
    fi
    "$VENV/bin/python" -c "import matplotlib" 2>/dev/null && PY=$VENV/bin/python
fi
export EDDY_KAFKA_PORTS=auto
exec scripts/kafka.sh run -- "$PY" benchmarks/soak/soak.py "$SECS" "$LOAD" "$OUT"
