#!/usr/bin/env bash
# The Prometheus rules (deploy/prometheus) against promtool and a real
# Prometheus server (Debian's, scripts/setup.sh installs it): the rules
# parse and pass their unit tests; the server loads them, scrapes a running
# worker (a generator pipeline with a drift detector, no Kafka), and its
# HTTP API gives back what the worker exported, the recording rules'
# results and the drift alert the worker's data fires.
. "$EDDY_SRC/tests/integration/lib.sh"

RULES=$SRC/deploy/prometheus/eddy.rules.yml
for tool in promtool prometheus; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool not installed (scripts/setup.sh installs the Debian package prometheus)" >&2; exit 1; }
done

# 1. The rules parse and their unit tests pass.
expect_code "promtool check rules" 0 promtool check rules "$RULES"
expect_out "promtool counts the rules" "SUCCESS"
expect_code "promtool test rules" 0 promtool test rules "$SRC"/deploy/prometheus/tests/*.yml

# 2. Prometheus on a free loopback port, its data in the test's temp dir;
#    scrapes and rule evaluations every second so that the test is short.
pport=$(free_port)
wport=$(free_port) # the worker's admin port, scraped before the worker starts
PROM=http://127.0.0.1:$pport
cat >"$TMP/prometheus.yml" <<Y
global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: [ "$RULES" ]
scrape_configs:
  - job_name: eddy
    static_configs: [ { targets: [ "127.0.0.1:$wport" ] } ]
Y
prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/tsdb" \
    --web.listen-address="127.0.0.1:$pport" >"$TMP/prom.log" 2>&1 &
pids+=($!)
wait_http "$PROM/-/ready" 60 || { bad "Prometheus is not ready after 60 s: $(tail -5 "$TMP/prom.log")"; finish; }

# 3. A worker, started once Prometheus is up so that its first scrapes see
#    the counters at 0 (increase() needs two samples): 1000 records a second,
#    the amount drifts 10 s in, and adwin signals a change (EddyDriftDetected).
cat >"$TMP/w.yaml" <<Y
worker: { name: prom-test, admin: { listen: "127.0.0.1:$wport" }, log: { level: warn } }
sources:
  - name: g
    type: generator
    seed: 3
    rate: 1000
    event_interval: 1ms
    fields: { amount: "normal(50, 5)" }
    drift: { amount: "normal(90, 5)" }
    drift_at: 10s
pipelines:
  - name: p
    from: g
    steps:
      - { name: adwin, adwin: { field: amount } }
      - filter: { where: "amount > 0" }
    to: [ { type: console, format: summary, interval: 600s } ]
Y
"$EDDY" run -c "$TMP/w.yaml" >"$TMP/w.out" 2>"$TMP/w.log" &
pids+=($!)
wait_http "http://127.0.0.1:$wport/readyz" 30 || { bad "the worker is not ready after 30 s: $(tail -3 "$TMP/w.log")"; finish; }

# api PATH [ARGS...]: GET $PROM/api/v1/PATH (curl -G --data-urlencode
# ARGS), the JSON answer on stdout.
api() {
    local path=$1
    shift
    local args=()
    for a in "$@"; do args+=(--data-urlencode "$a"); done
    curl -fsG "${args[@]}" "$PROM/api/v1/$path"
}
# wait_for NAME SECONDS PYTHON-CONDITION PATH [ARGS...]: polls the API
# until the condition on its JSON answer `j` holds; the last answer is in
# $TMP/answer.json either way.
wait_for() {
    local name=$1 secs=$2 cond=$3 deadline
    shift 3
    deadline=$((SECONDS + secs))
    while :; do
        api "$@" >"$TMP/answer.json" 2>/dev/null || : >"$TMP/answer.json"
        if python3 -c "import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if ($cond) else 1)" \
            "$TMP/answer.json" 2>/dev/null; then
            ok
            return 0
        fi
        if [ $SECONDS -ge $deadline ]; then
            bad "$name within $secs s; last answer from /api/v1/$1: $(head -c 600 "$TMP/answer.json")"
            return 1
        fi
        sleep 1
    done
}
# value EXPR: the first sample's value of an instant query, or "none".
value() {
    api query "query=$1" | python3 -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "none")'
}

wait_for "the worker is an up target" 60 \
    'any(t["health"] == "up" for t in j["data"]["activeTargets"])' targets
wait_for "records processed show up in Prometheus" 60 \
    'any(float(s["value"][1]) > 0 for s in j["data"]["result"])' \
    query 'query=eddy_pipeline_records_in_total{job="eddy",pipeline="p"}'

# The value read through Prometheus is a real count: positive, and no more
# than the worker's own counter now (a counter only grows).
seen=$(value 'eddy_pipeline_records_in_total{job="eddy",pipeline="p"}')
direct=$(curl -fs "http://127.0.0.1:$wport/metrics" | sed -n 's/^eddy_pipeline_records_in_total{pipeline="p"} //p')
echo "prometheus read back: eddy_pipeline_records_in_total{pipeline=\"p\"} = $seen (the worker's own counter afterwards: $direct)"
check "0 < records through Prometheus ($seen) <= the worker's counter afterwards ($direct)" \
    python3 -c "import sys; sys.exit(0 if 0 < float('$seen') <= float('${direct:-0}') else 1)"
ready=$(value 'eddy_ready{job="eddy"}')
echo "prometheus read back: eddy_ready = $ready"
check "eddy_ready is 1 in Prometheus (seen $ready, expected 1)" [ "$ready" = 1 ]
up=$(value 'up{job="eddy"}')
check "up is 1 (seen $up)" [ "$up" = 1 ]

# 4. The rules loaded, every one evaluates without error, and the
#    recording rules give values from the worker's series.
wait_for "both rule groups loaded and evaluated without error" 60 \
    'sorted(g["name"] for g in j["data"]["groups"]) == ["eddy.alerts", "eddy.records"] and all(r["health"] == "ok" for g in j["data"]["groups"] for r in g["rules"])' \
    rules
nrules=$(python3 -c 'import json,sys; print(sum(len(g["rules"]) for g in json.load(open(sys.argv[1]))["data"]["groups"]))' "$TMP/answer.json")
want=$(grep -cE '^ *- (record|alert):' "$RULES")
echo "prometheus read back: $nrules rules loaded ($want in $RULES)"
check "Prometheus loaded every rule of the file (seen $nrules, expected $want)" [ "$nrules" = "$want" ]
wait_for "the recording rule of pipeline throughput is positive" 60 \
    'any(float(s["value"][1]) > 0 for s in j["data"]["result"])' \
    query 'query=job_pipeline:eddy_pipeline_records_in:rate1m{job="eddy",pipeline="p"}'
echo "prometheus read back: job_pipeline:eddy_pipeline_records_in:rate1m{pipeline=\"p\"} = $(value 'job_pipeline:eddy_pipeline_records_in:rate1m{pipeline="p"}')"

# 5. Every query of the Grafana dashboard is valid PromQL for this server
#    (its variables replaced: all jobs, workers and pipelines, a 1m rate
#    interval), and the throughput panel shows the worker's pipeline.
python3 - "$SRC/deploy/grafana/eddy.json" "$PROM" >"$TMP/dash.out" 2>&1 <<'P'
import json, re, sys, urllib.error, urllib.parse, urllib.request
dash, prom = json.load(open(sys.argv[1])), sys.argv[2]
bad = answered = 0
for p in dash["panels"]:
    for t in p.get("targets", []):
        q = re.sub(r"\$__rate_interval", "1m", t["expr"])
        q = re.sub(r"\$(job|instance|pipeline)\b", ".*", q)
        url = prom + "/api/v1/query?" + urllib.parse.urlencode({"query": q})
        try:
            r = json.load(urllib.request.urlopen(url))
        except urllib.error.HTTPError as e:
            r = json.load(e)
        if r.get("status") != "success":
            bad += 1
            print(f"panel '{p['title']}' {t['refId']}: {r.get('error')}: {q}")
        elif r["data"]["result"]:
            answered += 1
        if p["title"] == "Records in per pipeline":
            print("throughput panel:", [s["metric"].get("pipeline") for s in r["data"]["result"]])
print(f"{bad} invalid queries, {answered} with data")
P
dq=$?
cat "$TMP/dash.out"
check "every dashboard query is valid PromQL (exit $dq)" grep -q '^0 invalid queries' "$TMP/dash.out"
check "the throughput panel shows pipeline p" grep -q "^throughput panel: \['p'\]" "$TMP/dash.out"

# 6. The drift the generator injects fires EddyDriftDetected for the adwin
#    step, and the step's first alert (critical: a change) fires
#    EddyCriticalAlertsFiring although its counter series is born at 1;
#    nothing else fires on this healthy worker.
wait_for "EddyDriftDetected and EddyCriticalAlertsFiring fire for p/adwin" 60 \
    '{a["labels"]["alertname"] for a in j["data"]["alerts"] if a["labels"].get("step") == "adwin" and a["state"] == "firing"} == {"EddyDriftDetected", "EddyCriticalAlertsFiring"}' \
    alerts
others=$(python3 -c '
import json, sys
print(" ".join(sorted({a["labels"]["alertname"] for a in json.load(open(sys.argv[1]))["data"]["alerts"]} - {"EddyDriftDetected", "EddyCriticalAlertsFiring"})))' "$TMP/answer.json")
echo "prometheus read back: alerts $(python3 -c 'import json,sys; print(sorted((a["labels"]["alertname"], a["state"]) for a in json.load(open(sys.argv[1]))["data"]["alerts"]))' "$TMP/answer.json")"
check "no other alert on a healthy worker (seen: '$others')" [ -z "$others" ]
finish
