#!/usr/bin/env bash
# Durable detector state against a real Kafka broker (scripts/kafka.sh): a
# keyed stream through a drift pipeline (adwin per key, with its update
# index) and an anomaly pipeline (zscore per key), the worker stopped with
# SIGKILL and SIGTERM several times while the stream arrives and restarted
# each time, then compared with a failure-free reference run over the same
# input:
#   - every output record (user, id) carries the reference's drift_signal,
#     drift_n and z_score (at-least-once: a record may come out twice after a
#     kill, but every copy must equal the reference: a detector that lost or
#     double-counted its state gives other values);
#   - the alerts: the same distinct (alert_id, state) set as the reference:
#     a restart neither re-fires a firing alert (a new id) nor forgets one.
# STATE_D=false runs the loop without durable state: the checks must fail.
# Every process and the broker are stopped even when a check fails.
. "$(dirname "$0")/lib.sh"

kafka_start
export B

cat >"$TMP/topics.yaml" <<Y
kafka: { brokers: "$B" }
topics:
  - { name: sd-in, partitions: 3, config: { retention.ms: "-1" } }
  - { name: sd-drift, partitions: 3, config: { retention.ms: "-1" } }
  - { name: sd-anom, partitions: 3, config: { retention.ms: "-1" } }
  - { name: sd-alerts, partitions: 1, config: { retention.ms: "-1" } }
  - { name: sd-drift-ref, partitions: 3, config: { retention.ms: "-1" } }
  - { name: sd-anom-ref, partitions: 3, config: { retention.ms: "-1" } }
  - { name: sd-alerts-ref, partitions: 1, config: { retention.ms: "-1" } }
  - { name: g-sd-in-changelog, partitions: 3, config: { cleanup.policy: compact } }
sources: [ { name: x, type: generator, count: 1 } ]
pipelines: [ { name: x, from: x, to: [ { type: console } ] } ]
Y
expect_code "topics apply" 0 timeout 120 "$EDDY" topics apply -c "$TMP/topics.yaml"

# The input: KEYS users, a level shift of every user every 20,000 records
# (so adwin signals changes and zscore flags), keyed by user.
N=${STATE_RECORDS:-300000}
RATE=${STATE_RATE:-8000}
cat >"$TMP/load.yaml" <<Y
worker: { name: load, admin: { enabled: false } }
kafka: { brokers: "$B" }
sources:
  - name: gen
    type: generator
    count: $N
    rate: $RATE
    keys: 50
    key_field: user
    seed: 5
    fields: { amount: "uniform(0, 100)", id: "seq()" }
pipelines:
  - name: load
    from: gen
    steps:
      - { name: shift, project: { derive: { x: "amount + 60 * (floor(id / 20000) % 2)" }, key: "user" } }
    to: [ { type: kafka, topic: sd-in, format: json } ]
Y

# det_cfg NAME GROUP DRIFT_OUT ANOM_OUT ALERTS_OUT STOP_AT_END STATE PORT
det_cfg() {
    cat >"$TMP/$1.yaml" <<Y
worker: { name: $1, admin: { enabled: true, listen: "127.0.0.1:$8" }, flush_interval: 100ms }
kafka: { brokers: "$B", group: $2, properties: { session.timeout.ms: "6000" } }
state: { enabled: $7 }
sources:
  - { name: in, type: kafka, topics: [ sd-in ], format: json, stop_at_end: $6 }
pipelines:
  - name: drift
    from: in
    steps:
      - name: dr
        adwin: { field: x, key: [ user ], index_field: drift_n, quiet_period: 200 }
        outputs:
          alerts: { type: kafka, topic: $5, format: json }
    to: [ { type: kafka, topic: $3, format: json } ]
  - name: anom
    from: in
    steps:
      - name: z
        zscore: { field: x, key: [ user ], window: 50 }
        alerts: { enabled: false }
    to: [ { type: kafka, topic: $4, format: json } ]
Y
}

out() {
    kcat -C -b "$B" -t "$1" -e -q -f '%s\n' >"$TMP/$1.jsonl" 2>/dev/null
}

"$EDDY" run -c "$TMP/load.yaml" >/dev/null 2>"$TMP/load.log" &
loader=$!
pids+=("$loader")
port=$(free_port)
det_cfg d g-sd sd-drift sd-anom sd-alerts false "${STATE_D:-true}" "$port"
kills=0 terms=0 runs=0
start_run() {
    runs=$((runs + 1))
    "$EDDY" run -c "$TMP/d.yaml" >/dev/null 2>"$TMP/d-$runs.log" &
    pid=$!
    pids+=("$pid")
    # Kill after the assignment (see test_state.sh: librdkafka 2.0.2's
    # cooperative-sticky abort on a SIGTERM before the first assignment).
    local i
    for i in $(seq 1 300); do
        grep -q "kafka partitions assigned" "$TMP/d-$runs.log" && break
        sleep 0.1
    done
}
start_run
while kill -0 "$loader" 2>/dev/null || [ "$kills" -lt 5 ]; do
    sleep "$(python3 -c 'import random; print(round(random.uniform(0.3, 2.5), 2))')"
    if { [ "$kills" = 2 ] || [ "$kills" = 5 ]; } && [ "$terms" -lt $((kills / 2)) ]; then
        kill -TERM "$pid"; wait "$pid"
        code=$?
        check "SIGTERM exits 0 (got $code)" [ "$code" = 0 ]
        terms=$((terms + 1))
    else
        kill -KILL "$pid"; wait "$pid" 2>/dev/null
        kills=$((kills + 1))
    fi
    [ "$kills" -ge 20 ] && break
    start_run
done
kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
wait "$loader" || bad "the loader failed"
echo "kill loop: $kills SIGKILL(s), $terms SIGTERM(s), $runs run(s)" >&2
check "several SIGKILLs and SIGTERMs landed" [ "$kills" -ge 5 -a "$terms" -ge 1 ]
det_cfg d g-sd sd-drift sd-anom sd-alerts true "${STATE_D:-true}" "$port"
timeout -s KILL 300 "$EDDY" run -c "$TMP/d.yaml" >/dev/null 2>"$TMP/d-final.log" ||
    { bad "the final run failed"; tail -5 "$TMP/d-final.log" >&2; }
check "the restarts restored detector state from the changelog" \
    grep -qE 'state restored: [1-9][0-9]* changelog record' "$TMP/d-final.log"
det_cfg dref g-sd-ref sd-drift-ref sd-anom-ref sd-alerts-ref true false "$port"
timeout -s KILL 300 "$EDDY" run -c "$TMP/dref.yaml" >/dev/null 2>"$TMP/dref.log" ||
    { bad "the reference run failed"; tail -5 "$TMP/dref.log" >&2; }
for t in sd-drift sd-anom sd-alerts sd-drift-ref sd-anom-ref sd-alerts-ref; do out "$t"; done
check "detector outputs equal the failure-free run's (at-least-once)" \
    python3 "$SRC/tests/integration/state_check_detectors.py" "$TMP" "$N"

echo "state detectors: $passed passed, $failed failed" >&2
[ "$failed" = 0 ]
