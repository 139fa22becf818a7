#!/usr/bin/env bash
# End-to-end Kafka benchmark against a real broker (scripts/kafka.sh):
#
#   benchmarks/kafka/run.sh [RECORDS] [FORMATS...]     default: 5000000 msgpack json
#
# For each format it pre-loads RECORDS generated records of about 200 bytes
# into a 3-partition topic (through eddy's own Kafka sink), then measures on
# that topic, in the same run:
#   raw      librdkafka's raw consume rate (benchmarks/kafka/raw_consume.c)
#   raw_pipe librdkafka consume + produce of the same bytes to another topic
#            (benchmarks/kafka/raw_pipe.c, the sink's producer settings): the
#            floor of any passthrough built on librdkafka, with no eddy code
#   eddy     a passthrough pipeline: Kafka source (decode) -> Kafka sink
#            (encode, produce, acknowledged) into another topic
# and prints events/s (wall), events/s per CPU-second (all threads of the
# process, librdkafka's included), ns/event and peak RSS, and for eddy the
# time its processing threads spent committing (eddy_commit_milliseconds:
# sink flushes and offset commits, during which a thread processes
# nothing). eddy runs once per BENCH_THREADS value (default "1 2":
# worker.threads, a consumer per thread). The broker runs on the same 2
# cores, so wall-clock rates include its share.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-5000000}
shift || true
FORMATS=("$@")
[ ${#FORMATS[@]} -gt 0 ] || FORMATS=(msgpack json)
scripts/build.sh build
export EDDY_KAFKA_PORTS=auto
export BENCH_THREADS=${BENCH_THREADS:-1 2}
exec scripts/kafka.sh run -- bash -c '
set -euo pipefail
N=$1; shift
T=$(mktemp -d /tmp/eddy-bench.XXXXXX)
trap "rm -rf $T" EXIT
measure() { # NAME CMD...: runs CMD, prints "NAME wall_s cpu_s maxrss_kib"
    python3 - "$@" <<PY
import resource, subprocess, sys, time
t0 = time.monotonic()
p = subprocess.run(sys.argv[2:], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
wall = time.monotonic() - t0
open("$T/last.err", "w").write(p.stderr)
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
if p.returncode:
    sys.stderr.write(p.stdout + p.stderr)
    sys.exit(p.returncode)
print(sys.argv[1], round(wall, 3), round(ru.ru_utime + ru.ru_stime, 3), ru.ru_maxrss)
PY
}
printf "%-8s %-9s %10s %12s %14s %9s %9s\n" format stage records "events/s" "events/cpu-s" "ns/event" "rss MiB"
for fmt in "$@"; do
    for t in in out; do scripts/kafka.sh topic create "bench-$t-$fmt" 3 retention.ms=-1 >/dev/null 2>&1; done
    cat >$T/load.yaml <<Y
worker: { name: bench-load, admin: { enabled: false } }
kafka: { brokers: "$KAFKA_BROKERS" }
sources:
  - name: gen
    type: generator
    count: $N
    rate: 0
    keys: 100000
    partitions: 3
    fields:
      amount: "lognormal(3, 0.6)"
      merchant: "categorical(grocer, travel, games, casino, fuel, books)"
      country: "categorical(DE, FR, US, GB, NL)"
      currency: "categorical(EUR, USD, GBP)"
      card_present: "bernoulli(0.7)"
      session: "int(0, 1000000)"
      score: "uniform(0, 1)"
      channel: "categorical(web, app, pos)"
      note: "const(payment authorised by issuer; settlement pending)"
pipelines:
  - { name: load, from: gen, to: [ { type: kafka, topic: bench-in-$fmt, format: $fmt } ] }
Y
    build/eddy run -c $T/load.yaml 2>$T/load.log || { tail $T/load.log; exit 1; }
    raw=$(build/benchmarks/raw_consume "$KAFKA_BROKERS" bench-in-$fmt)
    bytes=$(echo "$raw" | sed -n "s/.*bytes=\([0-9]*\).*/\1/p")
    rwall=$(echo "$raw" | sed -n "s/.*wall_s=\([0-9.]*\).*/\1/p")
    rcpu=$(echo "$raw" | sed -n "s/.* cpu_s=\([0-9.]*\).*/\1/p")
    rrss=$(echo "$raw" | sed -n "s/.*peak_rss_mib=\([0-9.]*\).*/\1/p")
    python3 - "$fmt" "$N" "$rwall" "$rcpu" "$rrss" <<PY
import sys
fmt, n, rw, rc, rr = sys.argv[1], int(sys.argv[2]), *map(float, sys.argv[3:])
print("%-8s %-9s %10d %12.0f %14.0f %9.1f %9.1f" % (fmt, "raw", n, n / rw, n / rc, rc * 1e9 / n, rr))
PY
    scripts/kafka.sh topic create "bench-pipe-$fmt" 3 retention.ms=-1 >/dev/null 2>&1
    pipe=$(build/benchmarks/raw_pipe "$KAFKA_BROKERS" bench-in-$fmt bench-pipe-$fmt)
    python3 - "$fmt" "$N" "$pipe" <<PY
import re, sys
fmt, n, line = sys.argv[1], int(sys.argv[2]), sys.argv[3]
f = dict(re.findall(r"(\w+)=([\d.]+)", line))
w, c, r = float(f["wall_s"]), float(f["cpu_s"]), float(f["peak_rss_mib"])
print("%-8s %-9s %10d %12.0f %14.0f %9.1f %9.1f" % (fmt, "raw_pipe", n, n / w, n / c, c * 1e9 / n, r))
PY
    for th in $BENCH_THREADS; do
        cat >$T/pass.yaml <<Y
worker: { name: bench-pass, admin: { enabled: false }, flush_interval: 1s, threads: $th }
kafka: { brokers: "$KAFKA_BROKERS", group: bench-$fmt-$th-$$ }
sources:
  - { name: in, type: kafka, topics: [ bench-in-$fmt ], format: $fmt, stop_at_end: true }
pipelines:
  - { name: pass, from: in, to: [ { type: kafka, topic: bench-out-$fmt, format: $fmt } ] }
Y
        read -r _ ewall ecpu erss < <(measure eddy build/eddy run -c $T/pass.yaml)
        cms=$(sed -n "s/.*commit_ms=\([0-9]*\).*/\1/p" $T/last.err | awk "{ s += \$1 } END { print s + 0 }")
        python3 - "$fmt" "$N" "$bytes" "$rwall" "$rcpu" "$ewall" "$ecpu" "$erss" "$th" "$cms" <<PY
import sys
fmt, n, b, rw, rc, ew, ec, er, th, cms = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), *map(float, sys.argv[4:])
print("%-8s %-9s %10d %12.0f %14.0f %9.1f %9.1f" % (fmt, "eddy x%d" % th, n, n / ew, n / ec, ec * 1e9 / n, er / 1024))
print("%-8s payload %.0f bytes/record; eddy (%d thread(s)) = %.0f%% of raw consume (wall), %.0f%% (per CPU-second); committing took %.0f ms of thread time (%.0f%% of the wall time per thread)"
      % (fmt, b / n, th, 100 * rw / ew, 100 * rc / ec, cms, 100 * cms / 1000 / ew / th))
PY
    done
done
' bench "$N" "${FORMATS[@]}"
