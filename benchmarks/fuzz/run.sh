#!/usr/bin/env bash
# benchmarks/fuzz/run.sh SECONDS [HARNESS...]: runs each libFuzzer harness of
# tests/fuzz (all of them by default: json msgpack avro avro_file csv config
# expr state admin) for SECONDS, one after the other, starting from a copy of
# its seed corpus (tests/fuzz/corpus/<harness>) with its dictionary
# (tests/fuzz/<harness>.dict) when there is one. Builds the clang build dir
# (build-fuzz, or $EDDY_FUZZ_BUILD) first when needed.
#
# Prints the executions of each harness; exits non-zero when any harness
# crashed, hung, leaked, ran out of memory or had a sanitizer report, and
# then keeps its work dir (under /tmp) with the log and the input that did
# it, whose path is printed. Environment: EDDY_FUZZ_JOBS=N runs N processes
# per harness (libFuzzer -fork=N); EDDY_FUZZ_KEEP=1 keeps the work dirs.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
secs=${1:?usage: benchmarks/fuzz/run.sh SECONDS [HARNESS...]}
shift
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(json msgpack avro avro_file csv config expr state admin)
dir=${EDDY_FUZZ_BUILD:-build-fuzz}
jobs=${EDDY_FUZZ_JOBS:-1}

if [ ! -f "$dir/build.ninja" ]; then
  echo "fuzz: configuring $dir (clang, ASan + UBSan, libFuzzer)"
  if ! CC=clang CXX=clang++ meson setup "$dir" -Dfuzz=true -Dtests=false -Dbenchmarks=false \
      -Db_sanitize=address,undefined -Dbuildtype=debugoptimized >"$dir.setup.log" 2>&1; then
    cat "$dir.setup.log" >&2
    exit 1
  fi
  rm -f "$dir.setup.log"
fi
targets=()
for h in "${harnesses[@]}"; do targets+=("tests/fuzz/fuzz_$h"); done
if ! out=$(ninja -C "$dir" "${targets[@]}" 2>&1); then
  printf '%s\n' "$out" >&2
  echo "fuzz: build failed" >&2
  exit 1
fi

# Longest input per harness: enough for every structure the decoders know,
# short enough that each execution stays fast.
max_len() {
  case $1 in
    expr) echo 1024 ;;
    avro_file) echo 8192 ;;
    *) echo 4096 ;;
  esac
}

work=$(mktemp -d "${TMPDIR:-/tmp}/eddy-fuzz.XXXXXX")
# The csv and avro_file harnesses write each input to a file: on a disk
# (ext4) writeback was most of their time (csv: 2.2 k/s there, 12 k/s on
# tmpfs), so their files go to /dev/shm when it is writable.
tmpbase=$work
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  tmpbase=$(mktemp -d /dev/shm/eddy-fuzz.XXXXXX)
  trap 'rm -rf "$tmpbase"' EXIT
fi
failed=0
total=0
for h in "${harnesses[@]}"; do
  w=$work/$h
  mkdir -p "$w/corpus" "$w/artifacts" "$tmpbase/$h.tmp"
  [ -d "tests/fuzz/corpus/$h" ] && cp -r "tests/fuzz/corpus/$h/." "$w/corpus/"
  args=("$w/corpus" -max_total_time="$secs" -max_len="$(max_len "$h")" -timeout=10
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$w/artifacts/")
  [ -f "tests/fuzz/$h.dict" ] && args+=(-dict="$root/tests/fuzz/$h.dict")
  [ "$jobs" -gt 1 ] && args+=(-fork="$jobs" -ignore_crashes=0)
  # avro-c is built without frame pointers: its leaks need the slow
  # unwinder to reach the names that lsan.supp suppresses. Not for
  # avro_file: there it was 40 % of the time (perf: libgcc's unwinder on
  # every malloc; 5.2 k executions/s with two processes), and its leaks,
  # checked once at exit, are matched by the library's name instead.
  unwind=
  case $h in avro) unwind=:fast_unwind_on_malloc=0 ;; esac
  # avro-c leaks about 110 bytes for each container file it opens (see
  # tests/fuzz/lsan.supp), so libFuzzer's per-input leak check (a full
  # LeakSanitizer scan when an input's mallocs and frees differ) ran after
  # every input: 500 executions/s instead of 4,000. Leaks are still checked,
  # with the same suppressions, when the process exits.
  case $h in avro_file) args+=(-detect_leaks=0) ;; esac
  start=$(date +%s)
  # TMPDIR: the harnesses' temporary files (tmpfs when there is one).
  TMPDIR=$tmpbase/$h.tmp \
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1$unwind \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  LSAN_OPTIONS=suppressions=$root/tests/fuzz/lsan.supp:print_suppressions=0 \
    "$dir/tests/fuzz/fuzz_$h" "${args[@]}" </dev/null >"$w/log" 2>&1
  rc=$?
  elapsed=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$w/log" | tail -1)
  if [ -z "$execs" ]; then # -fork: the last status line has the total
    execs=$(grep -oE '^#[0-9]+' "$w/log" | tail -1 | tr -d '#')
  fi
  execs=${execs:-0}
  total=$((total + execs))
  if [ "$rc" = 0 ] && ! grep -qE '^(==[0-9]+==ERROR|SUMMARY: |.*runtime error: )' "$w/log"; then
    printf 'fuzz %-10s %12d executions in %4d s (%d/s)\n' "$h" "$execs" "$elapsed" \
      $((execs / (elapsed > 0 ? elapsed : 1)))
  else
    failed=$((failed + 1))
    printf 'fuzz %-10s FAILED (exit %d) after %d executions\n' "$h" "$rc" "$execs"
    grep -E 'ERROR|SUMMARY|runtime error|fuzz check failed|deadly signal|Test unit written' "$w/log" \
      | head -8 | sed 's/^/    /'
    for a in "$w"/artifacts/*; do
      [ -e "$a" ] && echo "    input: $a"
    done
    echo "    log: $w/log"
  fi
done
if [ "$failed" = 0 ] && [ -z "${EDDY_FUZZ_KEEP:-}" ]; then
  rm -rf "$work"
else
  echo "fuzz: work dir kept: $work"
fi
echo "fuzz: ${#harnesses[@]} harnesses, $failed with findings, $total executions"
[ "$failed" = 0 ]
