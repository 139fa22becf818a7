#!/usr/bin/env bash
# The README's quick start config, run for real: generator -> embedded Kafka
# broker -> consumer group -> pipelines -> console, with /metrics served.
# Also worker.run_for.
. "$(dirname "$0")/lib.sh"
PORT=$(free_port)
"$EDDY" run -c "$SRC/configs/quickstart.yaml" --admin "127.0.0.1:$PORT" >"$TMP/qs.out" 2>"$TMP/qs.err" &
pid=$!
pids+=("$pid")
check "quick start serves the admin API" wait_http "http://127.0.0.1:$PORT/healthz" 20
sleep 5
expect_code "quick start metrics" 0 curl -fsS "http://127.0.0.1:$PORT/metrics"
expect_out "records flow through the embedded broker" 'eddy_kafka_consumed_total{source="payments"}'
expect_out "consumer lag is exported" 'eddy_kafka_consumer_lag{source="payments",topic="payments",partition="0"}'
check "records reached the pipeline" python3 -c '
import re,sys
t=open(sys.argv[1]).read()
m=re.search(r"eddy_pipeline_records_in_total\{pipeline=\"payments_clean\"\} (\d+)", t)
assert m and int(m.group(1)) > 1000, m' "$TMP/out"
# The injected drift (00:00:20-00:00:40 of event time, ~1000 events/s)
# fires drift alerts, which resolve once it is over.
for i in $(seq 1 120); do
    curl -fsS "http://127.0.0.1:$PORT/v1/alerts" >"$TMP/alerts.json" 2>/dev/null
    grep -q '"state":"resolved"' "$TMP/alerts.json" && break
    sleep 0.5
done
check "quick start: a drift alert fires" grep -q '"state":"firing","severity":"warning"' "$TMP/alerts.json"
check "quick start: the drift alert resolves" grep -q '"state":"resolved"' "$TMP/alerts.json"
check "quick start: alert logged" grep -q "distribution drift on amount_eur" "$TMP/qs.err"
# Features reach the embedded feature store and are served.
expect_code "quick start: features served" 0 curl -fsS "http://127.0.0.1:$PORT/v1/features/user_spend/user-7"
expect_out "quick start: features served" '"entity":"user-7"'
expect_out "quick start: features served" '"spend_eur":'
# Event time starts at the wall clock (start_time: now), so the read-back's
# age is seconds, not the months since the generator's fixed start date
# (issue 15.8: it showed age_ms 29387838294).
age=$(sed -n 's/.*"age_ms":\([0-9]*\).*/\1/p' "$TMP/out")
check "quick start: features read back are fresh (age_ms=$age, expected under 10 minutes)" \
    bash -c '[ -n "$1" ] && [ "$1" -lt 600000 ]' _ "$age"
check "quick start: the feature store is a SQLite file" test -s /tmp/eddy-quickstart-features.db
expect_code "eddy features get --admin" 0 "$EDDY" features get user_spend user-7 --admin "127.0.0.1:$PORT"
expect_out "eddy features get --admin" '"entity":"user-7"'
expect_code "eddy features get -c (reads the SQLite store)" 0 "$EDDY" features get user_spend user-7 -c "$SRC/configs/quickstart.yaml"
expect_out "eddy features get -c (reads the SQLite store)" '"avg_eur":'
expect_code "eddy features get: unknown entity" 1 "$EDDY" features get user_spend nobody --admin "127.0.0.1:$PORT"
expect_out "eddy features get: unknown entity" "no features for entity 'nobody'"
expect_code "eddy features get: unknown view in config" 1 "$EDDY" features get nope user-7 -c "$SRC/configs/quickstart.yaml"
expect_out "eddy features get: unknown view in config" "no feature_store sink for view 'nope'"
expect_code "eddy features get: usage" 2 "$EDDY" features get user_spend
check "quick start: anomalies printed" grep -q "tail_score=" "$TMP/qs.out"
check "quick start: an injected anomaly is caught" grep -q "injected_anomaly=true.*tail_score=" "$TMP/qs.out"
kill -TERM "$pid"
wait "$pid"
code=$?
check "quick start drains on SIGTERM (exit $code)" [ "$code" = 0 ]
check "summary printed" grep -q "records in" "$TMP/qs.out"
check "summary shows users" grep -q "user-" "$TMP/qs.out"
# Each line says which output it is; window rows name their partition and
# read as times; flagged payments are printed once, not logged again
# (issue 15.8).
check "anomaly lines name their pipeline" grep -q '^\[anomalies\] .*tail_score=' "$TMP/qs.out"
check "window rows name their pipeline and partition, bounds as times" \
    grep -qE '^\[spend_features\] .* partition=[0-9] window_start=20[0-9]{2}-[0-9]{2}-[0-9]{2}T' "$TMP/qs.out"
check "flagged payments are not logged a second time" \
    [ -z "$(grep 'pipeline=anomalies' "$TMP/qs.err" | grep 'alert=1')" ]

# worker.run_for drains and exits by itself.
cat >"$TMP/run_for.yaml" <<Y
worker: { name: rf, run_for: 1s, admin: { enabled: false } }
sources:
  - { name: gen, type: generator, rate: 100, event_interval: 1ms }
pipelines:
  - { name: p, from: gen, to: [ { type: file, path: "$TMP/rf.ndjson", format: json } ] }
Y
start=$(date +%s)
expect_code "run_for exits 0" 0 timeout -s KILL 30 "$EDDY" run -c "$TMP/run_for.yaml"
expect_out "run_for is logged" "worker.run_for elapsed: draining"
check "run_for stops soon" [ $(($(date +%s) - start)) -lt 10 ]
check "run_for output" test -s "$TMP/rf.ndjson"
finish
