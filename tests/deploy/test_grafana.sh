#!/usr/bin/env bash
# The Grafana dashboard (deploy/grafana/eddy.json) and the Prometheus rules
# use only metrics eddy exports: a worker with every built-in operator kind,
# a Kafka source with a dead-letter topic and Kafka sinks on a real broker
# (tests/deploy/all_operators.yaml) is scraped until every name the
# dashboard's queries and the rules' expressions use is among its series
# (tests/deploy/metric_names.py, which also validates the dashboard's
# structure).
#
# Most series exist from start-up at 0. eddy_alerts_total gets its series
# (per step, severity and state) with a step's first alert: the config's
# generator injects a drift and outliers so that alerts fire, rather than
# the exporter announcing alerts that never happened.
. "$EDDY_SRC/tests/integration/lib.sh"

DASH=$SRC/deploy/grafana/eddy.json
RULES=$SRC/deploy/prometheus/eddy.rules.yml
CFG=$SRC/tests/deploy/all_operators.yaml
CHECK=$SRC/tests/deploy/metric_names.py

# 1. The config holds every built-in operator kind `eddy operators` lists,
#    so that a new operator's metrics are checked too once it is added here.
"$EDDY" operators >"$TMP/ops.txt" 2>&1 || bad "eddy operators: $(head -3 "$TMP/ops.txt")"
kinds=$(awk '$4 == "built-in" { print $1 }' "$TMP/ops.txt")
check "eddy operators lists built-in operators (seen: $(echo $kinds))" [ "$(echo "$kinds" | wc -w)" -ge 20 ]
for k in $kinds; do
    grep -qE "(^|[ {])$k:( |$)" "$CFG" && ok || bad "operator $k is not in $CFG (expected every built-in kind)"
done

# 2. The dashboard is JSON and every query has a datasource and an expr
#    (metric_names.py also checks this on the final scrape below).
check "the dashboard is valid JSON" python3 -m json.tool "$DASH" /dev/null

# 3. The worker, on a real broker.
kafka_start
export EDDY_BROKERS=$B
port=$(free_port)
export EDDY_ADMIN=127.0.0.1:$port
expect_code "eddy topics apply" 0 "$EDDY" topics apply -c "$CFG"
"$EDDY" run -c "$CFG" >"$TMP/w.out" 2>"$TMP/w.log" &
pids+=($!)
wait_http "http://127.0.0.1:$port/readyz" 60 || bad "the worker is not ready after 60 s: $(tail -3 "$TMP/w.log")"

# 4. Scrape until every name is exported (alerts need the drift), 90 s at most.
deadline=$((SECONDS + 90))
while :; do
    curl -fs "http://127.0.0.1:$port/metrics" >"$TMP/metrics.txt" 2>/dev/null
    if python3 "$CHECK" "$DASH" "$RULES" "$TMP/metrics.txt" >"$TMP/check.out" 2>&1; then
        ok
        break
    fi
    if [ $SECONDS -ge $deadline ]; then
        bad "names the dashboard and rules use, not all exported after 90 s:"
        sed 's/^/    /' "$TMP/check.out" >&2
        break
    fi
    sleep 2
done
cat "$TMP/check.out"
# The checker is not vacuous: a misspelt metric and a label the metric does
# not have are both found in the same scrape.
sed -e 's/eddy_window_state_bytes/eddy_window_state_byte/' -e 's/sink=~/snk=~/' "$DASH" >"$TMP/typo.json"
python3 "$CHECK" "$TMP/typo.json" "$RULES" "$TMP/metrics.txt" >"$TMP/typo.out" 2>&1
trc=$?
check "a misspelt metric is found (exit $trc: $(grep -c FAIL "$TMP/typo.out") problems)" grep -q 'eddy_window_state_byte: used by panel' "$TMP/typo.out"
check "a label the metric lacks is found" grep -q "eddy_sink_records_total has no label 'snk'" "$TMP/typo.out"
check "and the checker fails (exit $trc, expected 1)" [ "$trc" = 1 ]
# The Kafka metrics are there because the source and sinks really ran.
check "consumer lag per partition of mon-in ($(grep -c '^eddy_kafka_consumer_lag{source="in",topic="mon-in"' "$TMP/metrics.txt") series, expected 2)" \
    [ "$(grep -c '^eddy_kafka_consumer_lag{source="in",topic="mon-in"' "$TMP/metrics.txt")" = 2 ]
produced=$(sed -n 's/^eddy_kafka_produced_total{sink="load.kafka#0",topic="mon-in"} //p' "$TMP/metrics.txt")
check "the load pipeline produced to mon-in (seen ${produced:-nothing}, expected > 0)" \
    python3 -c "import sys; sys.exit(0 if float('${produced:-0}') > 0 else 1)"
finish
