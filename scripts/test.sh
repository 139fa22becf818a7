#!/usr/bin/env bash
# The whole test suite: installs what is missing, then builds and runs every
# test twice, as a release build and under AddressSanitizer +
# UndefinedBehaviorSanitizer. Ends with "N passed, N failed"; exits non-zero
# on any failure. Tests that need services start and stop them themselves.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test || exit 1
# The real Kafka broker for integration tests comes from Maven; fetch it
# before any test runs so no test timeout includes the download: the 4.x
# default, and 3.9.2 for the tests that log in with SASL/SCRAM.
scripts/kafka.sh fetch >&2 || exit 1
EDDY_KAFKA_VERSION=3.9.2 scripts/kafka.sh fetch >&2 || exit 1
total_pass=0
total_fail=0
run_suite() { # NAME BUILD-DIR MESON-OPTIONS...
  local name=$1 dir=$2
  shift 2
  echo "== $name build ($dir)"
  if ! scripts/build.sh "$dir" "$@"; then
    echo "$name: build failed" >&2
    ninja -C "$dir" 2>&1 | tail -30
    total_fail=$((total_fail + 1))
    return
  fi
  meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes 2 \
    | grep --line-buffered -vE '^(Ok|Expected Fail|Fail|Unexpected Pass|Skipped|Timeout): '
  # Count from meson's machine-readable log, not its console text.
  read -r p f < <(python3 - "$dir/meson-logs/testlog.json" <<'PY'
import json, sys
p = f = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("result") in ("OK", "EXPECTEDFAIL"):
        p += 1
    elif r.get("result") != "SKIP":
        f += 1
print(p, f)
PY
)
  echo "$name: $p passed, $f failed"
  total_pass=$((total_pass + p))
  total_fail=$((total_fail + f))
}
run_suite release build
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0 \
  run_suite sanitize build-sanitize -Db_sanitize=address,undefined -Dbuildtype=debugoptimized -Dbenchmarks=false
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
