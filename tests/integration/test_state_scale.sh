#!/usr/bin/env bash
# Scale-out with durable state against a real Kafka broker (issue 12, point
# 3): workers of one group share a keyed window over a 6-partition topic
# while a live stream arrives. Two workers start, a third joins mid-stream
# (partitions move to it with their state), one of the first two is killed
# with SIGKILL (its partitions move to the others after its session times
# out, restored from the changelog), the rest stop with SIGTERM, and a last
# bounded run closes every window. The union of all outputs must hold every
# (key, window) of a failure-free single worker's run with the same count:
# at-least-once, so repeated emissions are allowed, short or over-counted
# ones are not. STATE=false runs the same without durable state; the check
# must then fail (the control that shows it can).
# SCALE_GUARANTEE=exactly_once: the same with Kafka transactions; what a
# read_committed consumer sees equals the single worker's output exactly.
. "$(dirname "$0")/lib.sh"

kafka_start
export B
STATE=${STATE:-true}
N=${SCALE_RECORDS:-90000}
RATE=${SCALE_RATE:-2500}
GUARANTEE=${SCALE_GUARANTEE:-at_least_once}
# SCALE_THREADS=2: every worker reads with one consumer per thread (source
# instances), so partitions move between threads as well as workers.
THREADS=${SCALE_THREADS:-1}

cat >"$TMP/topics.yaml" <<Y
kafka: { brokers: "$B" }
topics:
  - { name: sc-in, partitions: 6, config: { retention.ms: "-1" } }
  - { name: sc-out, partitions: 6, config: { retention.ms: "-1" } }
  - { name: sc-ref, partitions: 6, config: { retention.ms: "-1" } }
  - { name: g-sc-in-changelog, partitions: 6, config: { cleanup.policy: compact } }
sources: [ { name: x, type: generator, count: 1 } ]
pipelines: [ { name: x, from: x, to: [ { type: console } ] } ]
Y
expect_code "topics apply" 0 timeout 120 "$EDDY" topics apply -c "$TMP/topics.yaml"

cat >"$TMP/load.yaml" <<Y
worker: { name: load, admin: { enabled: false } }
kafka: { brokers: "$B" }
sources:
  - name: gen
    type: generator
    count: $N
    rate: $RATE
    keys: 600
    key_field: user
    seed: 5
    fields: { amount: "uniform(0, 100)", id: "seq()" }
pipelines:
  - { name: load, from: gen, to: [ { type: kafka, topic: sc-in, format: json } ] }
Y

# win_cfg NAME GROUP OUT STOP_AT_END STATE GUARANTEE: the keyed window every worker runs
win_cfg() {
    cat >"$TMP/$1.yaml" <<Y
worker: { name: $1, admin: { enabled: false }, flush_interval: 100ms, threads: $THREADS }
kafka: { brokers: "$B", group: $2, properties: { session.timeout.ms: "6000" } }
state: { enabled: $5 }
processing: { guarantee: $6 }
sources:
  - { name: in, type: kafka, topics: [ sc-in ], format: json, stop_at_end: $4 }
pipelines:
  - name: p
    from: in
    steps:
      - name: win
        window: { size: 5s, key: [ user ], aggregate: { n: "count()", total: "sum(amount)" } }
    to:
      - { type: kafka, topic: $3, format: json }
Y
}

# start_worker NAME: a live worker of group g-sc; its pid in $wpid
start_worker() {
    win_cfg "$1" g-sc sc-out false "$STATE" "$GUARANTEE"
    "$EDDY" run -c "$TMP/$1.yaml" >/dev/null 2>"$TMP/$1.log" &
    wpid=$!
    pids+=("$wpid")
}

# produced: records the loader has written so far (its log is quiet; count
# the input topic's end offsets instead)
produced() {
    kcat -Q -b "$B" -t sc-in:0:-1 -t sc-in:1:-1 -t sc-in:2:-1 -t sc-in:3:-1 \
        -t sc-in:4:-1 -t sc-in:5:-1 2>/dev/null | awk '{ s += $NF } END { print s + 0 }'
}
# wait_produced N: until the loader has written N records (120 s at most)
wait_produced() {
    local i
    for i in $(seq 1 1200); do
        [ "$(produced)" -ge "$1" ] && return 0
        sleep 0.1
    done
    return 1
}
# owns NAME: the worker's last log line about its assignment says it holds partitions
assigned() { grep -q "kafka partitions assigned" "$TMP/$1.log"; }

"$EDDY" run -c "$TMP/load.yaml" >/dev/null 2>"$TMP/load.log" &
loader=$!
pids+=("$loader")

start_worker w1; w1=$wpid
start_worker w2; w2=$wpid
wait_produced $((N * 3 / 10)) || bad "the loader did not reach 30 %"
check "w1 and w2 hold partitions" assigned w1
check "w2 holds partitions" assigned w2
start_worker w3; w3=$wpid
wait_produced $((N * 6 / 10)) || bad "the loader did not reach 60 %"
check "w3 joined and got partitions" assigned w3
kill -KILL "$w2"; wait "$w2" 2>/dev/null
wait "$loader" || bad "the loader failed"
# The survivors take over w2's partitions once its session (6 s) times out,
# restore their state and read on; give them time to catch up, then stop
# them as a rolling deploy would.
sleep 12
kill -TERM "$w1" "$w3"
wait "$w1"; c1=$?
wait "$w3"; c3=$?
check "w1 and w3 stop with SIGTERM, exit 0 (got $c1, $c3)" [ "$c1" = 0 -a "$c3" = 0 ]
check "a survivor restored state from the changelog after the kill" \
    grep -qE 'state restored: [1-9][0-9]* changelog record' "$TMP/w1.log" "$TMP/w3.log"

# A last bounded worker closes every window still open.
# With SCALE_THREADS > 1 the bounded run has more threads (8) than
# partitions (6): the idle consumers end with the others.
FINAL_THREADS=1
[ "$THREADS" -gt 1 ] && FINAL_THREADS=8
THREADS=$FINAL_THREADS win_cfg final g-sc sc-out true "$STATE" "$GUARANTEE"
timeout -s KILL 300 "$EDDY" run -c "$TMP/final.yaml" >/dev/null 2>"$TMP/final.log" ||
    { bad "the final bounded run failed"; tail -5 "$TMP/final.log" >&2; }
# The reference: one failure-free worker, no durable state needed.
THREADS=1 win_cfg ref g-sc-ref sc-ref true false at_least_once
timeout -s KILL 300 "$EDDY" run -c "$TMP/ref.yaml" >/dev/null 2>"$TMP/ref.log" ||
    { bad "the reference run failed"; tail -5 "$TMP/ref.log" >&2; }
for t in sc-out sc-ref; do
    kcat -C -b "$B" -t $t -X isolation.level=read_committed -e -q -f '%s\n' >"$TMP/$t.jsonl" 2>/dev/null
done
if [ "$GUARANTEE" = exactly_once ]; then
    check "exactly-once: the read_committed windows equal a single uninterrupted worker's" \
        python3 "$SRC/tests/integration/exact_check.py" scale "$TMP/sc-ref.jsonl" "$TMP/sc-out.jsonl" "$N"
else
    check "every window of a single uninterrupted worker, none short or over-counted" \
        python3 "$SRC/tests/integration/state_check.py" "$TMP/sc-ref.jsonl" "$TMP/sc-out.jsonl" "$N"
fi

echo "state scale-out: $passed passed, $failed failed" >&2
[ "$failed" = 0 ]
