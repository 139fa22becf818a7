#!/usr/bin/env bash
# Cost of durable state against a real broker (scripts/kafka.sh), issue 12:
#
#   benchmarks/state/run.sh [RECORDS] [KEYS] [RESTORE_KEYS]
#       defaults: 2000000 records, 10000 keys, 1000000 restore keys
#
# 1. Throughput of a windowed Kafka pipeline (JSON in, tumbling 60 s window
#    per user with count/sum/mean, results to a topic; the job J2 of the
#    peer comparison) over RECORDS pre-loaded records, in the same run:
#      off-1s     state.enabled: false, flush_interval 1s (no durability)
#      off-100ms  the same, flush_interval 100ms
#      alos-1s    durable state (changelog), flush_interval 1s
#      alos-100ms durable state, flush_interval 100ms
#      eos-1s     exactly-once: durable state, outputs, changelog and offsets
#                 in one Kafka transaction per commit, flush_interval 1s
#      eos-100ms  the same, flush_interval 100ms
#      cache-100ms durable state and a local cache (state.cache_dir), 100ms
#    Each is run BENCH_REPS times (default 3, a fresh consumer group each);
#    the run with the median wall time is printed. Each prints events/s
#    (wall), events per CPU-second (all threads of the
#    process), ns/event and peak RSS, and the durable runs their changelog
#    traffic: records, bytes per record (key + value, before compression),
#    and the share of the off run's rate at the same interval.
# 2. Restore: RESTORE_KEYS distinct keys into an hour-long window (nothing
#    closes), written with a local cache (state.cache_dir), SIGTERM (state
#    goes to the changelog and the cache files get their trailer), then two
#    restarts stopped once restored: a cold one without the cache (the
#    changelog alone) and a warm one from the cache files (plus the few
#    changelog records the cold one added): records read and keys/s each.
# The broker runs on the same machine, so wall-clock rates include its share.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-2000000}
KEYS=${2:-10000}
RK=${3:-1000000}
scripts/build.sh build
export EDDY_KAFKA_PORTS=auto
export BENCH_REPS=${BENCH_REPS:-3}
exec scripts/kafka.sh run -- bash -c '
set -euo pipefail
N=$1 KEYS=$2 RK=$3 REPS=$BENCH_REPS
T=$(mktemp -d /tmp/eddy-bench.XXXXXX)
trap "rm -rf $T" EXIT
B=$KAFKA_BROKERS
measure() { # NAME CMD...: runs CMD, prints "NAME wall_s cpu_s maxrss_kib"
    python3 - "$@" <<PY
import resource, subprocess, sys, time
t0 = time.monotonic()
p = subprocess.run(sys.argv[2:], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
wall = time.monotonic() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
if p.returncode:
    sys.stderr.write(p.stdout + p.stderr)
    sys.exit(p.returncode)
print(sys.argv[1], round(wall, 3), round(ru.ru_utime + ru.ru_stime, 3), ru.ru_maxrss)
PY
}
# changelog TOPIC: "records bytes" of a changelog topic (key + value bytes)
changelog() {
    kcat -C -b "$B" -t "$1" -e -q -f "%K %S\n" 2>/dev/null |
        awk "{ n++; b += (\$1 > 0 ? \$1 : 0) + (\$2 > 0 ? \$2 : 0) } END { print n + 0, b + 0 }"
}
gen() { # NAME TOPIC COUNT KEYS
    cat >$T/gen-$1.yaml <<Y
worker: { name: gen-$1, admin: { enabled: false } }
kafka: { brokers: "$B" }
sources:
  - name: gen
    type: generator
    count: $3
    rate: 0
    keys: $4
    key_field: user
    partitions: 3
    fields: { amount: "lognormal(3, 0.6)", merchant: "categorical(grocer, travel, games, fuel)", id: "seq()" }
pipelines:
  - { name: load, from: gen, to: [ { type: kafka, topic: $2, format: json } ] }
Y
    build/eddy run -c $T/gen-$1.yaml 2>$T/gen-$1.log || { tail $T/gen-$1.log; exit 1; }
}
job() { # NAME GROUP IN STATE FLUSH SIZE STOP_AT_END [KEY_FIELD [GUARANTEE]]
    cat >$T/$1.yaml <<Y
worker: { name: $1, admin: { enabled: false }, flush_interval: $5 }
kafka: { brokers: "$B", group: $2 }
state: { enabled: $4 }
processing: { guarantee: ${9:-at_least_once} }
sources:
  - { name: in, type: kafka, topics: [ $3 ], format: json, stop_at_end: $7 }
pipelines:
  - name: p
    from: in
    steps:
      - name: win
        window: { size: $6, key: [ ${8:-user} ], aggregate: { n: "count()", total: "sum(amount)", avg: "mean(amount)" } }
    to: [ { type: kafka, topic: out-$1, format: json } ]
Y
}
scripts/kafka.sh topic create st-in 3 retention.ms=-1 >/dev/null 2>&1
scripts/kafka.sh topic create rs-in 3 retention.ms=-1 >/dev/null 2>&1
gen load st-in "$N" "$KEYS"
echo "== windowed Kafka pipeline, $N JSON records, $KEYS keys, 3 partitions"
printf "%-11s %12s %14s %9s %9s %12s %10s %8s\n" run "events/s" "events/cpu-s" "ns/event" "rss MiB" "changelog" "B/record" "vs off"
declare -A rate
# The first run warms the broker and the page cache and is not printed;
# each durable run follows the run without state at the same interval.
for r in warm-1s off-1s alos-1s eos-1s off-100ms alos-100ms eos-100ms cache-100ms; do
    st=false; [ "${r%%-*}" != off ] && [ "${r%%-*}" != warm ] && st=true
    gu=at_least_once; [ "${r%%-*}" = eos ] && gu=exactly_once
    fl=${r#*-}
    g=b-$r-$$
    scripts/kafka.sh topic create out-$r 3 retention.ms=-1 >/dev/null 2>&1
    # REPS runs (a fresh group each), the median by wall time kept: one
    # run of a few seconds on a shared 2-core machine is noisy.
    runs=()
    for k in $(seq 1 "$REPS"); do
        scripts/kafka.sh topic create $g-$k-in-changelog 3 cleanup.policy=compact >/dev/null 2>&1
        job $r $g-$k st-in $st $fl 60s true user $gu
        [ "${r%%-*}" = cache ] && sed -i "s|^state: .*|state: { enabled: true, cache_dir: \"$T/cache-$r-$k\" }|" $T/$r.yaml
        runs+=("$(measure $r build/eddy run -c $T/$r.yaml) $g-$k")
    done
    read -r _ w c m gk < <(printf "%s\n" "${runs[@]}" | sort -k2 -n | sed -n "$(( (REPS + 1) / 2 ))p")
    read -r cr cb < <(changelog $gk-in-changelog)
    rate[$r]=$(python3 -c "print($N / $w)")
    [ "$r" = warm-1s ] && continue
    python3 - "$r" "$N" "$w" "$c" "$m" "$cr" "$cb" "${rate[off-$fl]:-0}" <<PY
import sys
r, n, w, c, m, cr, cb, off = sys.argv[1], int(sys.argv[2]), *map(float, sys.argv[3:])
vs = "%.0f%%" % (100 * n / w / off) if off else "-"
bpr = "%.0f" % (cb / cr) if cr else "-"
print("%-11s %12.0f %14.0f %9.0f %9.1f %12d %10s %8s" % (r, n / w, n / c, c * 1e9 / n, m / 1024, cr, bpr, vs))
PY
done
echo "== restore: $RK keys (one per record: key: [id]) in an open 1 h window, SIGTERM, cold restart (changelog only), warm restart (local cache)"
gen restore rs-in "$RK" "$RK"
scripts/kafka.sh topic create out-rs 3 retention.ms=-1 >/dev/null 2>&1
scripts/kafka.sh topic create g-rs-$$-in-changelog 3 cleanup.policy=compact >/dev/null 2>&1
port=$(python3 -c "import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])")
job rs g-rs-$$ rs-in true 1s 1h false id
sed -i "s/admin: { enabled: false }/admin: { enabled: true, listen: \"127.0.0.1:$port\" }/" $T/rs.yaml
sed "s|^state: .*|state: { enabled: true, cache_dir: \"$T/cache\" }|" $T/rs.yaml >$T/rs-cache.yaml
build/eddy run -c $T/rs-cache.yaml 2>$T/rs-1.log &
pid=$!
# until the worker has read the whole input (600 s at most), then a commit
for i in $(seq 1 600); do
    sleep 1
    got=$(curl -fs "http://127.0.0.1:$port/metrics" 2>/dev/null |
          awk "/^eddy_source_records_total/ { s += \$NF } END { print s + 0 }")
    [ "${got:-0}" -ge "$RK" ] && break
done
sleep 3
t0=$(date +%s.%N)
kill -TERM $pid; wait $pid || true
t1=$(date +%s.%N)
read -r cr cb < <(changelog g-rs-$$-in-changelog)
echo "first run read $got records; SIGTERM to exit (final state flush) took $(python3 -c "print(round($t1 - $t0, 2))") s"
echo "changelog: $cr records, $cb bytes (key + value, before compression), $(python3 -c "print(round($cb / max($cr, 1)))") B/record"
echo "cache files: $(du -sb $T/cache | cut -f1) bytes"
restart() { # CONFIG LOG: a restart, stopped once its 3 partitions are restored
    build/eddy run -c $1 2>$2 &
    pid=$!
    for i in $(seq 1 600); do
        sleep 1
        [ "$(grep -c "state restored" $2)" -ge 3 ] && break
    done
    kill -TERM $pid; wait $pid || true
}
restart $T/rs.yaml $T/rs-2.log
restart $T/rs-cache.yaml $T/rs-3.log
grep -h "state restored" $T/rs-2.log $T/rs-3.log | python3 -c "
import re, sys
n = a = ms = 0
cn = cl = ca = cms = 0
for l in sys.stdin:
    m = re.search(r\"state restored: (\\d+) changelog record\\(s\\), (\\d+) applied, in (\\d+) ms\", l)
    if m:
        n += int(m.group(1)); a += int(m.group(2)); ms += int(m.group(3))
    m = re.search(r\"state restored: (\\d+) record\\(s\\) from the local cache and (\\d+) changelog record\\(s\\) from offset \\d+, (\\d+) applied, in (\\d+) ms\", l)
    if m:
        cn += int(m.group(1)); cl += int(m.group(2)); ca += int(m.group(3)); cms += int(m.group(4))
print(f\"restore from the changelog: {n} records read, {a} keys applied, {ms} ms summed over partitions: {a / max(ms, 1) * 1000:,.0f} keys/s\")
print(f\"restore from the local cache: {cn} records from the cache and {cl} from the changelog, {ca} keys applied, {cms} ms summed over partitions: {ca / max(cms, 1) * 1000:,.0f} keys/s\")
"
' bench "$N" "$KEYS" "$RK"
