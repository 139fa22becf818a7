#!/usr/bin/env bash
# eddy against a real Kafka broker (scripts/kafka.sh, Kafka 3.9.2 KRaft):
# produce -> eddy -> consume in each format, dead letters for malformed
# JSON/msgpack/Avro among good records, SIGKILL and restart without loss,
# pause/resume under a slow sink, SASL/SCRAM (and a wrong password), TLS,
# two workers splitting one group's partitions, topics plan/apply and
# `eddy tail`. The broker is stopped even when a check fails.
. "$(dirname "$0")/lib.sh"
# SASL/SCRAM with librdkafka 2.0.2 needs a 3.x broker (scripts/kafka.sh,
# "Version"): this test logs in with SCRAM, so it runs against 3.9.2; the
# others run against the 4.x default.
export EDDY_KAFKA_VERSION=${EDDY_KAFKA_SCRAM_VERSION:-3.9.2}

kafka_start
export B

# Records carry their event time (2026-01-01 from the generator); retention
# must not delete them as too old while a test runs.
topic() { kafka_topic "$1" "$2" retention.ms=-1; }

# run_eddy NAME CONFIG [TIMEOUT]: a bounded eddy run; output in $TMP/NAME.log
run_eddy() {
    timeout -s KILL "${3:-120}" "$EDDY" run -c "$2" >"$TMP/$1.out" 2>"$TMP/$1.log"
    local code=$?
    if [ "$code" = 0 ]; then ok; else bad "$1: eddy exited $code"; tail -20 "$TMP/$1.log" >&2; fi
}

# tail_json TOPIC FORMAT [extra]: the value of every record of TOPIC, as
# JSON lines in $TMP/TOPIC.jsonl (eddy tail --json wraps each in an envelope)
tail_json() {
    timeout 60 "$EDDY" tail "$1" --brokers "$B" --format "$2" --json "${@:3}" >"$TMP/$1.tail" 2>"$TMP/$1.tail.err"
    python3 -c '
import json, sys
for l in open(sys.argv[1]):
    if l.strip():
        print(json.dumps(json.loads(l)["value"]))' "$TMP/$1.tail" >"$TMP/$1.jsonl"
}

# load TOPIC FORMAT COUNT [SCHEMA]: COUNT generated records into TOPIC through eddy's Kafka sink
load() {
    local schema=""
    [ -n "${4:-}" ] && schema="schema: \"$4\","
    cat >"$TMP/load-$1.yaml" <<Y
worker: { name: load-$1, admin: { enabled: false } }
kafka: { brokers: "$B" }
sources:
  - name: gen
    type: generator
    count: $3
    rate: 0
    keys: 50
    seed: 7
    fields: { amount: "uniform(0, 100)", id: "seq()", merchant: "categorical(a, b, c)" }
pipelines:
  - name: load
    from: gen
    to:
      - { type: kafka, topic: "$1", $schema format: $2 }
Y
    run_eddy "load-$1" "$TMP/load-$1.yaml"
}

# passthrough NAME IN OUT FORMAT [GROUP] [SCHEMA] [EXTRA-SOURCE-YAML]: a bounded run IN -> OUT
passthrough_cfg() {
    local schema="" schema_line=""
    [ -n "${6:-}" ] && schema="schema: \"$6\"," && schema_line="schema: \"$6\""
    cat >"$TMP/$1.yaml" <<Y
worker: { name: $1, admin: { enabled: false }, flush_interval: 100ms }
kafka: { brokers: "$B", group: "${5:-g-$1}" }
sources:
  - name: in
    type: kafka
    topics: [ "$2" ]
    format: $4
    $schema_line
    stop_at_end: true
    ${7:-}
    dead_letter: { type: kafka, topic: "$2.dlq" }
pipelines:
  - name: p
    from: in
    steps:
      - project: { derive: { doubled: "amount * 2" } }
    to:
      - { type: kafka, topic: "$3", $schema format: $4 }
Y
}

AVSC=$SRC/tests/integration/data/event.avsc

# 1. Produce -> eddy -> consume, each format.
for fmt in json msgpack avro; do
    sch=""; [ "$fmt" = avro ] && sch=$AVSC
    topic "in-$fmt" 3; topic "out-$fmt" 3; topic "in-$fmt.dlq" 1
    load "in-$fmt" "$fmt" 3000 "$sch"
    passthrough_cfg "e2e-$fmt" "in-$fmt" "out-$fmt" "$fmt" "" "$sch"
    run_eddy "e2e-$fmt" "$TMP/e2e-$fmt.yaml"
    extra=(); [ "$fmt" = avro ] && extra=(--schema "$AVSC")
    tail_json "out-$fmt" "$fmt" "${extra[@]}"
    check "e2e $fmt: every record arrives once, transformed" python3 - "$TMP/out-$fmt.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ids = sorted(r["id"] for r in rows)
assert ids == list(range(3000)), (len(ids), ids[:5])
assert all(abs(r["doubled"] - 2 * r["amount"]) < 1e-9 for r in rows)
PY
done

# 2. Dead letters: malformed JSON, msgpack and Avro mixed into good records.
python3 - "$TMP/mixed" <<'PY'
import json, os, struct, sys
d = sys.argv[1]
os.makedirs(d)
def w(name, i, data):
    open(os.path.join(d, f"{name}-{i:04d}"), "wb").write(data)
def mp_map(m):  # tiny msgpack encoder for str keys, int values
    out = bytes([0x80 | len(m)])
    for k, v in m.items():
        kb = k.encode()
        out += bytes([0xa0 | len(kb)]) + kb + bytes([0xcb]) + struct.pack(">d", v)
    return out
for i in range(200):
    good = i % 10 != 3
    rec = {"id": float(i), "amount": float(i)}
    w("json", i, json.dumps({"id": i, "amount": i}).encode() if good else b'{"id": %d, "amount": }' % i)
    w("msgpack", i, mp_map(rec) if good else b"\xc1\x00\x01")
PY
topic in-mixed-json 1; topic in-mixed-json.dlq 1; topic out-mixed-json 1
topic in-mixed-msgpack 1; topic in-mixed-msgpack.dlq 1; topic out-mixed-msgpack 1
for fmt in json msgpack; do
    (cd "$TMP/mixed" && ls $fmt-* | xargs kcat -P -b "$B" -t "in-mixed-$fmt") || bad "produce mixed $fmt"
    passthrough_cfg "mixed-$fmt" "in-mixed-$fmt" "out-mixed-$fmt" "$fmt"
    run_eddy "mixed-$fmt" "$TMP/mixed-$fmt.yaml"
    tail_json "out-mixed-$fmt" "$fmt"
    kcat -C -b "$B" -t "in-mixed-$fmt.dlq" -e -q -f '%o|%h\n' >"$TMP/dlq-$fmt.txt" 2>/dev/null
    check "dlq $fmt: good records all arrive" python3 -c '
import json,sys
rows=[json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert sorted(int(r["id"]) for r in rows)==[i for i in range(200) if i%10!=3], len(rows)' "$TMP/out-mixed-$fmt.jsonl"
    check "dlq $fmt: every bad record with its reason" python3 -c '
import sys
lines=[l for l in open(sys.argv[1]) if l.strip()]
assert len(lines)==20, len(lines)
for l in lines:
    assert "eddy.error.reason=" in l and "eddy.source.offset=" in l, l' "$TMP/dlq-$fmt.txt"
done
# Avro: a good record, a truncated one, garbage.
topic in-mixed-avro 1; topic in-mixed-avro.dlq 1; topic out-mixed-avro 1
load "in-mixed-avro" avro 100 "$AVSC"
printf '\x02\x80' >"$TMP/bad1"; printf 'not avro at all' >"$TMP/bad2"
kcat -P -b "$B" -t in-mixed-avro "$TMP/bad1" "$TMP/bad2" || bad "produce bad avro"
passthrough_cfg "mixed-avro" "in-mixed-avro" "out-mixed-avro" avro "" "$AVSC"
run_eddy "mixed-avro" "$TMP/mixed-avro.yaml"
tail_json "out-mixed-avro" avro --schema "$AVSC"
check "dlq avro: good records arrive" test "$(wc -l <"$TMP/out-mixed-avro.jsonl")" = 100
check "dlq avro: bad records in the DLQ" test "$(kcat -C -b "$B" -t in-mixed-avro.dlq -e -q -f '%o\n' | wc -l)" = 2

# 3. SIGKILL mid-run and restart: nothing lost (duplicates allowed, counted).
#    The first run is throttled (small batches, a lingering producer) so the
#    kill lands mid-stream; the restart runs at full speed.
topic in-kill 3; topic out-kill 3; topic in-kill.dlq 1
load in-kill msgpack 200000
kill_cfg() { # NAME BATCH LINGER PENDING
    cat >"$TMP/$1.yaml" <<Y
worker: { name: $1, admin: { enabled: false }, flush_interval: 100ms, batch_size: $2 }
kafka: { brokers: "$B", group: g-kill, properties: { session.timeout.ms: "6000" } }
sources:
  - { name: in, type: kafka, topics: [ in-kill ], format: msgpack, stop_at_end: true }
pipelines:
  - name: p
    from: in
    steps:
      - project: { derive: { doubled: "amount * 2" } }
    to:
      - { type: kafka, topic: out-kill, format: msgpack, max_pending: $4, properties: { linger.ms: "$3" } }
Y
}
kill_cfg kill-slow 100 20 200
kill_cfg kill 1024 5 100000
"$EDDY" run -c "$TMP/kill-slow.yaml" >/dev/null 2>"$TMP/kill1.log" &
pid=$!; pids+=("$pid")
for i in $(seq 1 300); do
    n=$(kcat -C -b "$B" -t out-kill -e -q -f '.\n' 2>/dev/null | wc -l)
    [ "$n" -ge 5000 ] && break
    sleep 0.1
done
kill -KILL "$pid"; wait "$pid" 2>/dev/null
check "kill -9 happened mid-stream ($n of 200000 out)" [ "$n" -ge 5000 -a "$n" -lt 150000 ]
run_eddy kill "$TMP/kill.yaml" 180
check "the restart carried on from the committed offsets" grep -q "delivered=[1-9]" "$TMP/kill.log"
tail_json out-kill msgpack
check "kill -9: every record delivered at least once" python3 - "$TMP/out-kill.jsonl" <<'PY'
import json, sys, collections
c = collections.Counter(json.loads(l)["id"] for l in open(sys.argv[1]) if l.strip())
missing = [i for i in range(200000) if i not in c]
dups = sum(v - 1 for v in c.values())
print(f"kill -9 test: {len(c)} distinct, {dups} duplicates (at-least-once)", file=sys.stderr)
assert not missing, missing[:10]
PY

# 4. Pause/resume under a slow sink: a producer that lingers 200 ms per batch
#    and a pending limit far below one batch.
topic in-slow 1; topic out-slow 1; topic in-slow.dlq 1
load in-slow json 20000
cat >"$TMP/slow.yaml" <<Y
worker: { name: slow, admin: { enabled: false } }
kafka: { brokers: "$B", group: g-slow }
sources:
  - { name: in, type: kafka, topics: [ in-slow ], format: json, stop_at_end: true }
pipelines:
  - name: p
    from: in
    to:
      - { type: kafka, topic: out-slow, format: json, max_pending: 100, properties: { linger.ms: "200" } }
Y
run_eddy slow "$TMP/slow.yaml"
check "slow sink pauses the source" grep -q "sources paused" "$TMP/slow.log"
check "and resumes it" grep -q "sources resumed" "$TMP/slow.log"
tail_json out-slow json
check "slow sink: every record arrives" test "$(wc -l <"$TMP/out-slow.jsonl")" = 20000

# 5. SASL/SCRAM with the password from the environment, and a wrong one.
topic in-sasl 1; topic out-sasl 1; topic in-sasl.dlq 1
load in-sasl json 100
scram_cfg() {
    cat >"$TMP/$1.yaml" <<Y
worker: { name: $1, admin: { enabled: false } }
kafka:
  brokers: "$KAFKA_SASL_BROKERS"
  group: g-$1
  properties:
    security.protocol: SASL_PLAINTEXT
    sasl.mechanisms: SCRAM-SHA-256
    sasl.username: eddy
    sasl.password: "\${EDDY_TEST_KAFKA_PASSWORD}"
sources:
  - { name: in, type: kafka, topics: [ in-sasl ], format: json, stop_at_end: true }
pipelines:
  - { name: p, from: in, to: [ { type: kafka, topic: out-sasl, format: json } ] }
Y
}
scram_cfg sasl
EDDY_TEST_KAFKA_PASSWORD=eddy-secret run_eddy sasl "$TMP/sasl.yaml"
check "sasl: records arrive" test "$(kcat -C -b "$B" -t out-sasl -e -q | wc -l)" = 100
scram_cfg sasl-bad
start=$(date +%s)
EDDY_TEST_KAFKA_PASSWORD=wrong-password timeout -s KILL 60 "$EDDY" run -c "$TMP/sasl-bad.yaml" >/dev/null 2>"$TMP/sasl-bad.log"
code=$?
check "wrong password: exits 1, not a hang (got $code)" [ "$code" = 1 ]
check "wrong password: clear error" grep -qi "authentication" "$TMP/sasl-bad.log"
check "wrong password: within 30s" [ $(($(date +%s) - start)) -lt 30 ]
if grep -q "wrong-password" "$TMP/sasl-bad.log"; then bad "password leaked into the log"; else ok; fi

# 6. TLS with the harness's CA.
cat >"$TMP/tls.yaml" <<Y
worker: { name: tls, admin: { enabled: false } }
kafka:
  brokers: "$KAFKA_SSL_BROKERS"
  group: g-tls
  properties: { security.protocol: SSL, ssl.ca.location: "$KAFKA_SSL_CA" }
sources:
  - { name: in, type: kafka, topics: [ in-sasl ], format: json, stop_at_end: true }
pipelines:
  - { name: p, from: in, to: [ { type: file, path: "$TMP/tls.ndjson", format: json } ] }
Y
run_eddy tls "$TMP/tls.yaml"
check "tls: records arrive" test "$(wc -l <"$TMP/tls.ndjson")" = 100

# 7. Two workers in one group split the partitions.
topic in-group 4; topic in-group.dlq 1
for w in 1 2; do
    cat >"$TMP/group$w.yaml" <<Y
worker: { name: group$w, admin: { enabled: false }, flush_interval: 100ms }
kafka: { brokers: "$B", group: g-split }
sources:
  - { name: in, type: kafka, topics: [ in-group ], format: json }
pipelines:
  - { name: p, from: in, to: [ { type: file, path: "$TMP/group$w.ndjson", format: json } ] }
Y
    "$EDDY" run -c "$TMP/group$w.yaml" >/dev/null 2>"$TMP/group$w.log" &
    pids+=($!)
done
gp=("${pids[@]: -2}")
sleep 8   # both join the group
load in-group json 4000
for i in $(seq 1 60); do
    n=$(cat "$TMP"/group?.ndjson 2>/dev/null | wc -l)
    [ "$n" -ge 4000 ] && break
    sleep 0.5
done
kill -TERM "${gp[@]}"; wait "${gp[@]}" 2>/dev/null
check "group: worker 1 received records" test -s "$TMP/group1.ndjson"
check "group: worker 2 received records" test -s "$TMP/group2.ndjson"
check "group: together every record" test "$(cat "$TMP"/group?.ndjson | python3 -c '
import json,sys
print(len({json.loads(l)["id"] for l in sys.stdin if l.strip()}))')" = 4000

# 8. Topics as configuration against the real broker.
cat >"$TMP/topics.yaml" <<Y
kafka: { brokers: "$B" }
topics:
  - { name: declared-a, partitions: 3, config: { retention.ms: "3600000", cleanup.policy: delete } }
  - { name: in-kill, partitions: 3 }
Y
expect_code "topics plan: changes pending" 5 "$EDDY" topics plan -c "$TMP/topics.yaml"
expect_out "topics plan" "+ create declared-a (partitions 3"
expect_code "topics apply" 0 "$EDDY" topics apply -c "$TMP/topics.yaml"
expect_code "topics plan after apply" 0 "$EDDY" topics plan -c "$TMP/topics.yaml"
sed -i 's/partitions: 3, config/partitions: 5, config/; s/"3600000"/"7200000"/' "$TMP/topics.yaml"
expect_code "topics plan: grow + config" 5 "$EDDY" topics plan -c "$TMP/topics.yaml"
expect_out "topics plan: grow" "~ declared-a: partitions 3 -> 5"
expect_out "topics plan: growing says keys move" "(keys move:"
expect_out "topics plan: config" "~ declared-a: retention.ms 3600000 -> 7200000"
expect_code "topics apply: grow + config" 0 "$EDDY" topics apply -c "$TMP/topics.yaml"
expect_code "topics plan: up to date" 0 "$EDDY" topics plan -c "$TMP/topics.yaml"
expect_out "topics plan: up to date" "= declared-a: up to date"
# Differences apply cannot fix are not "nothing to change" (issue 15.3).
sed -i 's/partitions: 5, config/partitions: 2, config/' "$TMP/topics.yaml"
expect_code "topics plan: declared fewer partitions" 6 "$EDDY" topics plan -c "$TMP/topics.yaml"
expect_out "topics plan: the ! line" "! declared-a: has 5 partitions, declared 2 (cannot shrink)"
expect_out "topics plan: the summary" "1 difference between the cluster and"
expect_code "topics apply: declared fewer partitions" 6 "$EDDY" topics apply -c "$TMP/topics.yaml"
# A worker refuses to start when a declared topic is missing.
cat >"$TMP/missing.yaml" <<Y
worker: { admin: { enabled: false } }
kafka: { brokers: "$B" }
topics: [ { name: never-created, partitions: 1 } ]
sources:
  - { name: s, type: generator, count: 1 }
pipelines:
  - { name: p, from: s, to: [ { type: kafka, topic: never-created } ] }
Y
expect_code "missing declared topic" 1 "$EDDY" run -c "$TMP/missing.yaml"
expect_out "missing declared topic" "never-created is declared but does not exist"
finish
