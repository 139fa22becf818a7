#!/usr/bin/env bash
# Durable detector state against a real Kafka broker (scripts/kafka.sh): a
# keyed stream through a drift pipeline (adwin per key, with its update
# index), an anomaly pipeline (zscore per key) and a distribution_drift
# pipeline (a reference and windows per partition), the worker stopped with
# SIGKILL and SIGTERM several times while the stream arrives and restarted
# each time, then compared with a failure-free reference run over the same
# input:
#   - every output record (user, id) carries the reference's drift_signal,
#     drift_n and z_score (at-least-once: a record may come out twice after a
#     kill, but every copy must equal the reference: a detector that lost or
#     double-counted its state gives other values);
#   - the alerts of adwin and of distribution_drift: the same distinct
#     (alert_id, state, key) set as the reference: a restart neither fires
#     an alert again (a new id) nor forgets one, and distribution_drift's
#     checks (reference, windows) come out as in the uninterrupted run.
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
  - { name: sd-dist, partitions: 1, config: { retention.ms: "-1" } }
  - { name: sd-dist-ref, partitions: 1, config: { retention.ms: "-1" } }
  - { name: g-sd-in-changelog, partitions: 3, config: { cleanup.policy: compact } }
  - { name: sd-b, partitions: 1, config: { retention.ms: "-1" } }
  - { name: sd-b-alerts, partitions: 1, config: { retention.ms: "-1" } }
  - { name: g-sd-b-in-changelog, partitions: 1, config: { cleanup.policy: compact } }
sources: [ { name: x, type: generator, count: 1 } ]
pipelines: [ { name: x, from: x, to: [ { type: console } ] } ]
Y
expect_code "topics apply" 0 timeout 120 "$EDDY" topics apply -c "$TMP/topics.yaml"

# The input: KEYS users, a level shift of every user every 20,000 records
# (so adwin signals changes and zscore flags), keyed by user.
N=${STATE_RECORDS:-300000}
RATE=${STATE_RATE:-2500}
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

# det_cfg NAME GROUP DRIFT_OUT ANOM_OUT ALERTS_OUT STOP_AT_END STATE PORT DIST_ALERTS
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
  - name: dist
    from: in
    steps:
      - name: dd
        distribution_drift: { fields: [ x ], reference_size: 3000, window_size: 1500, sample_size: 256 }
        outputs:
          alerts: { type: kafka, topic: $9, format: json }
    to: []
Y
}

out() {
    kcat -C -b "$B" -t "$1" -e -q -f '%s\n' >"$TMP/$1.jsonl" 2>/dev/null
}

"$EDDY" run -c "$TMP/load.yaml" >/dev/null 2>"$TMP/load.log" &
loader=$!
pids+=("$loader")
port=$(free_port)
det_cfg d g-sd sd-drift sd-anom sd-alerts false "${STATE_D:-true}" "$port" sd-dist
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
while kill -0 "$loader" 2>/dev/null || [ "$kills" -lt 10 ]; do
    sleep "$(python3 -c 'import random; print(round(random.uniform(0.3, 2.5), 2))')"
    # SIGTERMs after the 2nd, 5th and 8th SIGKILL, SIGKILLs otherwise.
    case $kills in 2) want=1 ;; 5) want=2 ;; 8) want=3 ;; *) want=$terms ;; esac
    if [ "$terms" -lt "$want" ]; then
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
check "SIGKILLs and SIGTERMs landed while the stream arrived" [ "$kills" -ge 10 -a "$terms" -ge 3 ]
det_cfg d g-sd sd-drift sd-anom sd-alerts true "${STATE_D:-true}" "$port" sd-dist
timeout -s KILL 300 "$EDDY" run -c "$TMP/d.yaml" >/dev/null 2>"$TMP/d-final.log" ||
    { bad "the final run failed"; tail -5 "$TMP/d-final.log" >&2; }
check "the restarts restored detector state from the changelog" \
    grep -qE 'state restored: [1-9][0-9]* changelog record' "$TMP/d-final.log"
det_cfg dref g-sd-ref sd-drift-ref sd-anom-ref sd-alerts-ref true false "$port" sd-dist-ref
timeout -s KILL 300 "$EDDY" run -c "$TMP/dref.yaml" >/dev/null 2>"$TMP/dref.log" ||
    { bad "the reference run failed"; tail -5 "$TMP/dref.log" >&2; }
for t in sd-drift sd-anom sd-alerts sd-dist sd-drift-ref sd-anom-ref sd-alerts-ref sd-dist-ref; do out "$t"; done
check "detector outputs equal the failure-free run's (at-least-once)" \
    python3 "$SRC/tests/integration/state_check_detectors.py" "$TMP" "$N"

# ---- b. the alert state across a restart, deterministically ---------------------------
# 1,000 reference records and 1,000 shifted ones: distribution_drift fires
# (psi and the dataset share); a restart then reads 1,000 more shifted
# records: the drift goes on, so nothing may fire again (a forgotten alert
# state fires twice more); a third run reads 1,000 unshifted records: both
# alerts resolve, with the ids they fired with (STATE_D=false: the third run
# has no reference and no firing alert to resolve, so this check fails).
cat >"$TMP/b.yaml" <<Y
worker: { name: b, admin: { enabled: false }, flush_interval: 100ms }
kafka: { brokers: "$B", group: g-sd-b }
state: { enabled: ${STATE_D:-true} }
sources:
  - { name: in, type: kafka, topics: [ sd-b ], format: json, stop_at_end: true }
pipelines:
  - name: dist
    from: in
    steps:
      - name: dd
        distribution_drift: { fields: [ x ], statistics: [ psi ], reference_size: 1000, window_size: 1000, sample_size: 256 }
        outputs:
          alerts: { type: kafka, topic: sd-b-alerts, format: json }
    to: []
Y
load_b() { # COUNT SEED SHIFT
    cat >"$TMP/load-b.yaml" <<Y
worker: { name: load-b, admin: { enabled: false } }
kafka: { brokers: "$B" }
sources:
  - { name: gen, type: generator, count: $1, seed: $2, fields: { amount: "uniform(0, 100)" } }
pipelines:
  - name: load
    from: gen
    steps:
      - { name: shift, project: { derive: { x: "amount + $3" } } }
    to: [ { type: kafka, topic: sd-b, format: json } ]
Y
    timeout 120 "$EDDY" run -c "$TMP/load-b.yaml" >/dev/null 2>&1 || bad "b: load"
}
load_b 1000 1 0
load_b 1000 2 50
timeout -s KILL 120 "$EDDY" run -c "$TMP/b.yaml" >/dev/null 2>"$TMP/b-1.log" || bad "b: first run"
load_b 1000 3 50
timeout -s KILL 120 "$EDDY" run -c "$TMP/b.yaml" >/dev/null 2>"$TMP/b-2.log" || bad "b: second run"
load_b 1000 4 0
timeout -s KILL 120 "$EDDY" run -c "$TMP/b.yaml" >/dev/null 2>"$TMP/b-3.log" || bad "b: third run"
out sd-b-alerts
firing=$(grep -c '"state":"firing"' "$TMP/sd-b-alerts.jsonl")
check "b: a firing alert is not fired again after a restart (2 firing, got $firing)" [ "$firing" = 2 ]
check "b: after another restart both resolve, with the ids they fired with" python3 - "$TMP/sd-b-alerts.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
fired = sorted(r["alert_id"] for r in rows if r["state"] == "firing")
resolved = sorted(r["alert_id"] for r in rows if r["state"] == "resolved")
print(f"b: fired {fired}, resolved {resolved}", file=sys.stderr)
sys.exit(0 if len(fired) == 2 and fired == resolved else 1)
PY
check "b: the first run fired (psi and the dataset share)" [ "$(grep -c alert=1 "$TMP/b-1.log")" = 2 ]

echo "state detectors: $passed passed, $failed failed" >&2
[ "$failed" = 0 ]
