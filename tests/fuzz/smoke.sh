#!/usr/bin/env bash
# The fuzzing smoke run of the test suite: every libFuzzer harness for a few
# seconds (benchmarks/fuzz/run.sh), failing on any finding. Registered only
# in the release build dir (tests/meson.build), so scripts/test.sh runs it
# once; it builds its own clang dir (build-fuzz) on first use. Skipped
# (exit 77) when clang cannot link libFuzzer.
set -uo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-15}
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' >"$probe/p.c"
if ! command -v clang >/dev/null || ! clang -fsanitize=fuzzer,address,undefined "$probe/p.c" \
    -o "$probe/p" 2>"$probe/err"; then
  echo "fuzz smoke: skipped, clang with libFuzzer not found (Debian: clang libclang-rt-14-dev)"
  cat "$probe/err" 2>/dev/null
  exit 77
fi
exec benchmarks/fuzz/run.sh "$secs"
