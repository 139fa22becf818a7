#!/usr/bin/env bash
# Drift alerts through a real Kafka broker: a drifting stream is produced to
# a topic, a worker reads it and sends its distribution_drift alerts to an
# alert topic in Avro (configs/schemas/alert.avsc), keyed
# pipeline/feature/key; the alert topic holds exactly the expected firing
# and resolved alerts, decodable with the schema by `eddy tail`, by `eddy
# alerts tail` and by the example consumer (examples/alert-consumer).
. "$(dirname "$0")/lib.sh"

kafka_start
AVSC=$SRC/configs/schemas/alert.avsc
for t in events drift.alerts; do
    kafka_topic "$t" 1 retention.ms=-1
done
# distribution_drift keeps durable state: its source needs a changelog.
kafka_topic drift-watch-events-changelog 1 cleanup.policy=compact

run_eddy() { # NAME CONFIG
    timeout -s KILL 120 "$EDDY" run -c "$2" >"$TMP/$1.out" 2>"$TMP/$1.log"
    local code=$?
    if [ "$code" = 0 ]; then ok; else bad "$1: eddy exited $code"; tail -20 "$TMP/$1.log" >&2; fi
}

cat >"$TMP/load.yaml" <<Y
worker: { name: load, admin: { enabled: false } }
kafka: { brokers: "$B" }
sources:
  - name: s
    type: generator
    seed: 3
    rate: 0
    count: 20000
    keys: 20
    event_interval: 1s
    fields:
      amount: "normal(50, 10)"
      merchant: "categorical(a:0.5, b:0.3, c:0.2)"
    drift:
      amount: "normal(80, 10)"
      merchant: "categorical(a:0.1, b:0.3, c:0.6)"
    drift_at: 2h
    drift_for: 2h
pipelines:
  - { name: load, from: s, to: [ { type: kafka, topic: events, format: json } ] }
Y
run_eddy load "$TMP/load.yaml"

cat >"$TMP/watch.yaml" <<Y
worker: { name: watcher, admin: { enabled: false }, flush_interval: 100ms }
kafka: { brokers: "$B", group: drift-watch }
sources:
  - { name: events, type: kafka, topics: [ events ], format: json, stop_at_end: true }
pipelines:
  - name: p
    from: events
    steps:
      - name: dd
        distribution_drift:
          fields: [amount]
          categorical: [merchant]
          reference: first_n
          reference_size: 2000
          window_period: 30m
        alerts: { min_consecutive: 1, resolve_after: 1 }
        outputs:
          alerts: { type: kafka, topic: drift.alerts, format: avro, schema: "$AVSC" }
    to:
      - { type: file, path: /dev/null }
Y
run_eddy watch "$TMP/watch.yaml"

timeout 60 "$EDDY" tail drift.alerts --brokers "$B" --format avro --schema "$AVSC" --json \
    >"$TMP/alerts.tail" 2>"$TMP/alerts.err"
check "eddy tail decodes the alert topic with the Avro schema" [ -s "$TMP/alerts.tail" ]
python3 - "$TMP/alerts.tail" >"$TMP/out" 2>&1 <<'P'
import json, sys, datetime
got = []
for line in open(sys.argv[1]):
    e = json.loads(line)
    assert "value" in e, e
    a = e["value"]
    t = datetime.datetime.utcfromtimestamp(a["time"] / 1000).strftime("%H:%M:%S")
    key = "p/%s/" % a["feature"]
    assert e["key"] == key, (e["key"], key)
    got.append("%s %s %s %s" % (a["state"], a["feature"] or "-", a["statistic"], t))
# Alerts are stamped with the time of writing (sink timestamp: auto), not
# the old event time they are about: retention.ms counts from the stamp,
# and alerts about a replay stamped 2026-01-01 were deleted at once.
import time
now = time.time() * 1000
for line in open(sys.argv[1]):
    e = json.loads(line)
    assert abs(e["timestamp"] - now) < 600000, ("stamped with", e["timestamp"], "now", now, "event time", e["value"]["time"])
want = ["firing amount psi 02:29:59", "firing merchant chi2_pvalue 02:29:59",
        "firing - drifted_share 02:29:59", "resolved amount psi 04:29:59",
        "resolved merchant chi2_pvalue 04:29:59", "resolved - drifted_share 04:29:59"]
print("exact alerts" if got == want else "got %s" % got)
P
expect_out "alert topic holds exactly the expected firing and resolved alerts, keyed pipeline/feature/key" "exact alerts"

if "$EDDY" alerts --help >/dev/null 2>&1; then
    expect_code "eddy alerts tail (topic)" 0 timeout 60 "$EDDY" alerts tail drift.alerts --brokers "$B" --format avro --schema "$AVSC"
    expect_out "eddy alerts tail shows firing" "FIRING"
    expect_out "eddy alerts tail shows resolved" "RESOLVED"
fi
CONSUMER=$BUILD/examples/alert-consumer/alert_consumer
if [ -x "$CONSUMER" ]; then
    expect_code "example consumer" 0 timeout 60 "$CONSUMER" --brokers "$B" --topic drift.alerts \
        --schema "$AVSC" --count 6 --group example-consumer
    expect_out "example consumer decodes firing alerts" "firing"
    expect_out "example consumer decodes resolved alerts" "resolved"
fi
# Records removed by retention are said, not silently missing.
printf '{"partitions":[{"topic":"drift.alerts","partition":0,"offset":2}],"version":1}\n' >"$TMP/del.json"
if "$KAFKA" tool org.apache.kafka.tools.DeleteRecordsCommand --bootstrap-server "$B" \
    --offset-json-file "$TMP/del.json" >"$TMP/del.out" 2>&1; then
    timeout 60 "$EDDY" tail drift.alerts --brokers "$B" --format avro --schema "$AVSC" >"$TMP/tail2.out" 2>"$TMP/tail2.err"
    check "eddy tail says records were removed ($(tail -2 "$TMP/tail2.err" | tr '\n' ' '))" \
        grep -q 'drift.alerts: 2 records before the log start offset of 1 partition have been removed' "$TMP/tail2.err"
else
    bad "delete records: $(tail -3 "$TMP/del.out")"
fi
finish
