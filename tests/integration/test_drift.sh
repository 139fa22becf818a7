#!/usr/bin/env bash
# Drift operators in pipelines: distribution_drift's reference modes, alert
# noise controls, alert records, metrics and the admin reference request;
# a concept-drift detector per key; configuration errors.
. "$(dirname "$0")/lib.sh"

# gen_cfg FILE STEP_OPTIONS [ALERT_POLICY] [DRIFT_FOR] [COUNT]: a generator with
# a drift from 02:00 (event time) lasting DRIFT_FOR (default 2h; 0 = for
# ever), one step `dd`, its alerts to $TMP/alerts.json.
gen_cfg() {
    cat >"$1" <<Y
worker: { name: drift-test, admin: { enabled: false }, log: { level: info } }
sources:
  - name: s
    type: generator
    seed: 3
    rate: 0
    count: ${5:-20000}
    keys: 20
    event_interval: 1s
    fields:
      amount: "normal(50, 10)"
      merchant: "categorical(a:0.5, b:0.3, c:0.2)"
    drift:
      amount: "normal(80, 10)"
      merchant: "categorical(a:0.1, b:0.3, c:0.6)"
    drift_at: 2h
    drift_for: ${4:-2h}
pipelines:
  - name: p
    from: s
    steps:
      - name: dd
$2
        alerts: { ${3:-} }
        outputs:
          alerts: { type: file, path: "$TMP/alerts.json" }
    to:
      - { type: file, path: "$TMP/out.json" }
Y
}

# summary: "state feature statistic HH:MM:SS" per alert, from alerts.json
summary() {
    python3 - "$TMP/alerts.json" <<'P'
import json, sys, datetime
for line in open(sys.argv[1]):
    a = json.loads(line)
    t = datetime.datetime.utcfromtimestamp(a["time"] / 1000).strftime("%H:%M:%S")
    print(a["state"], a["feature"] or "-", a["statistic"], a["severity"], t)
P
}

run_case() { # NAME: runs $TMP/c.yaml, alerts summary in $TMP/sum
    rm -f "$TMP/alerts.json"
    expect_code "$1: run" 0 "$EDDY" run -c "$TMP/c.yaml"
    summary >"$TMP/sum" 2>&1
}

same() { # NAME EXPECTED_FILE
    if diff -u "$2" "$TMP/sum" >"$TMP/diff"; then ok; else
        bad "$1: alerts differ (-expected +got):"
        sed 's/^/    /' "$TMP/diff" >&2
    fi
}

# 1. first_n reference, 30-minute windows: the drift (02:00-04:00) fires
# for both features and the dataset in the window that ends at 02:29:59
# and resolves in the first window after it.
gen_cfg "$TMP/c.yaml" "        distribution_drift:
          fields: [amount]
          categorical: [merchant]
          reference: first_n
          reference_size: 2000
          window_period: 30m"
run_case "first_n"
cat >"$TMP/exp" <<'E'
firing amount psi warning 02:29:59
firing merchant chi2_pvalue warning 02:29:59
firing - drifted_share critical 02:29:59
resolved amount psi warning 04:29:59
resolved merchant chi2_pvalue warning 04:29:59
resolved - drifted_share critical 04:29:59
E
same "first_n" "$TMP/exp"
check "records pass through unchanged" [ "$(wc -l <"$TMP/out.json")" = 20000 ]
python3 - "$TMP/alerts.json" "$SRC/configs/schemas/alert.avsc" >"$TMP/out" 2>&1 <<'P'
import json, sys
schema = [f["name"] for f in json.load(open(sys.argv[2]))["fields"]]
for line in open(sys.argv[1]):
    a = json.loads(line)
    assert list(a) == schema, (list(a), schema)
    assert a["pipeline"] == "p" and a["step"] == "dd" and a["worker"] == "drift-test"
    assert a["reference_n"] == 2000 and a["current_n"] > 0, a
    assert a["current_start"] <= a["current_end"] and a["reference_end"] < a["current_start"]
    if a["statistic"] == "psi":
        assert a["p_value"] is not None and a["value"] >= 0
    assert a["message"], a
ids = {}
for line in open(sys.argv[1]):
    a = json.loads(line)
    ids.setdefault((a["feature"], a["statistic"]), []).append((a["state"], a["alert_id"]))
for k, v in ids.items():
    assert [s for s, _ in v] == ["firing", "resolved"] and v[0][1] == v[1][1], (k, v)
print("schema ok")
P
expect_out "alert records follow configs/schemas/alert.avsc; resolve shares the firing's id" "schema ok"

# 2. Noise control: fire only after 3 drifted windows in a row, resolve
# after 2 clear ones; only KS as the statistic.
gen_cfg "$TMP/c.yaml" "        distribution_drift:
          fields: [amount]
          statistics: [ks]
          dataset_share: 0
          reference: first_n
          reference_size: 2000
          window_period: 30m" "min_consecutive: 3, resolve_after: 2"
run_case "min_consecutive"
cat >"$TMP/exp" <<'E'
firing amount ks_pvalue warning 03:29:59
resolved amount ks_pvalue warning 04:59:59
E
same "min_consecutive 3, resolve_after 2" "$TMP/exp"

# 3. Cooldown and severity override: ADWIN sees two changes (the drift
# starting at 02:00 and ending at 02:30); without a cooldown both fire,
# with `cooldown: 1d` the second is suppressed.
gen_cfg "$TMP/c.yaml" "        adwin: { field: amount, quiet_period: 300 }" "severity: warning" 30m
run_case "two changes"
cat >"$TMP/exp" <<'E'
firing amount window_mean warning 02:00:31
resolved amount window_mean warning 02:05:31
firing amount window_mean warning 02:30:23
resolved amount window_mean warning 02:35:23
E
same "two changes, no cooldown" "$TMP/exp"
gen_cfg "$TMP/c.yaml" "        adwin: { field: amount, quiet_period: 300 }" "severity: warning, cooldown: 1d" 30m
run_case "cooldown"
head -2 "$TMP/exp" >"$TMP/exp1"
same "cooldown 1d suppresses the second firing" "$TMP/exp1"

# 4. Lagged reference: a permanent shift fires once (window after the
# change) and resolves when the reference has shifted too.
gen_cfg "$TMP/c.yaml" "        distribution_drift:
          fields: [amount]
          statistics: [wasserstein]
          dataset_share: 0
          reference: lagged
          lag: 1
          window_period: 1h" "" 0
run_case "lagged"
cat >"$TMP/exp" <<'E'
firing amount wasserstein warning 02:59:59
resolved amount wasserstein warning 03:59:59
E
same "lagged reference" "$TMP/exp"

# 5. Baseline file: the first 2000 generated records written to a file,
# then compared with the whole stream.
cat >"$TMP/base.yaml" <<Y
worker: { admin: { enabled: false } }
sources:
  - { name: s, type: generator, seed: 9, rate: 0, count: 2000,
      fields: { amount: "normal(50, 10)", merchant: "categorical(a:0.5, b:0.3, c:0.2)" } }
pipelines:
  - { name: p, from: s, to: [ { type: file, path: "$TMP/baseline.json" } ] }
Y
expect_code "baseline file written" 0 "$EDDY" run -c "$TMP/base.yaml"
gen_cfg "$TMP/c.yaml" "        distribution_drift:
          fields: [amount]
          categorical: [merchant]
          reference: file
          reference_file: $TMP/baseline.json
          chi2_pvalue: 0.001
          window_period: 1h"
run_case "file reference"
cat >"$TMP/exp" <<'E'
firing amount psi warning 02:59:59
firing merchant chi2_pvalue warning 02:59:59
firing - drifted_share critical 02:59:59
resolved amount psi warning 04:59:59
resolved merchant chi2_pvalue warning 04:59:59
resolved - drifted_share critical 04:59:59
E
same "file reference" "$TMP/exp"

# 6. Per-key concept drift: ADWIN per user on the amount; the shift at
# 02:00 is found for every user, then the alerts resolve after quiet_period.
gen_cfg "$TMP/c.yaml" "        adwin:
          field: amount
          key: [user_id]
          quiet_period: 100" "" 0 16000
rm -f "$TMP/alerts.json"
expect_code "adwin per key: run" 0 "$EDDY" run -c "$TMP/c.yaml"
python3 - "$TMP/alerts.json" >"$TMP/out" 2>&1 <<'P'
import json, sys, collections
fire = collections.Counter(); res = collections.Counter(); first = {}
for line in open(sys.argv[1]):
    a = json.loads(line)
    assert a["detector"] == "adwin" and a["statistic"] == "window_mean", a
    if a["state"] == "firing":
        fire[a["key"]] += 1
        first.setdefault(a["key"], a["time"])
    else:
        res[a["key"]] += 1
print("keys", len(fire))
start = 1767225600000  # 2026-01-01T00:00:00Z
late = [k for k, t in first.items() if not (start + 7200000 <= t <= start + 7200000 + 1200000)]
print("first firing within 20 minutes of the shift for every key" if not late else "late: %s" % late)
print("every firing resolved" if all(res[k] == fire[k] for k in fire) else "unresolved: %s %s" % (fire, res))
P
expect_out "adwin per key: every key fired" "keys 20"
expect_out "adwin per key: timing" "first firing within 20 minutes of the shift for every key"
expect_out "adwin per key: resolved" "every firing resolved"
check "signal field appended" grep -q '"drift_signal":"change"' "$TMP/out.json"

# 6b. One alert per feature (issue 15.7): one drifting feature seen by three
# partitions with all four statistics is one firing and one resolve, one
# alert_id; no dataset alert for a step that watches a single feature (it
# would say the same thing again). Before: an alert per partition and per
# statistic that breached, plus the dataset alert (9 firings here).
gen_cfg "$TMP/c.yaml" "        distribution_drift:
          fields: [amount]
          statistics: [psi, ks, js, wasserstein]
          reference: first_n
          reference_size: 2000
          window_period: 30m" "" 2h 18000
sed -i 's/    keys: 20/    keys: 30\n    partitions: 3/' "$TMP/c.yaml"
run_case "three partitions"
python3 - "$TMP/alerts.json" >"$TMP/out" 2>&1 <<'P'
import json, sys
alerts = [json.loads(l) for l in open(sys.argv[1])]
seen = [(a["state"], a["feature"], a["partition"], a["statistic"]) for a in alerts]
states = [a["state"] for a in alerts]
ids = {a["alert_id"] for a in alerts}
ok = states == ["firing", "resolved"] and len(ids) == 1 and all(a["feature"] == "amount" for a in alerts)
print("merged: 1 firing, 1 resolved" if ok else "expected a firing and its resolve for amount under the same id; got %d: %s" % (len(alerts), seen))
P
expect_out "three partitions, four statistics: one alert" "merged: 1 firing, 1 resolved"

# 6c. Escalation: a DDM on an error stream that rises from 10 % to 50 %
# alerts on its warning zone (alert_on: warning), then on the change: the
# same alert again at the higher severity, same id, then its resolve. The
# warning zone's updates in between are continuing breaches that change
# nothing (they skip the merge table: eddy_alert_state_sev_rise).
cat >"$TMP/c.yaml" <<Y
worker: { name: drift-test, admin: { enabled: false }, log: { level: warn } }
sources:
  - { name: s, type: generator, seed: 3, rate: 0, count: 12000, keys: 30, event_interval: 1s,
      fields: { err: "bernoulli(0.1)" }, drift: { err: "bernoulli(0.5)" }, drift_at: 2h, drift_for: 0 }
pipelines:
  - name: p
    from: s
    steps:
      - name: dd
        ddm: { field: err, quiet_period: 500, alert_on: warning }
        outputs:
          alerts: { type: file, path: "$TMP/alerts.json" }
    to:
      - { type: file, path: /dev/null }
Y
rm -f "$TMP/alerts.json"
expect_code "escalation: run" 0 "$EDDY" run -c "$TMP/c.yaml"
python3 - "$TMP/alerts.json" >"$TMP/out" 2>&1 <<'P'
import json, sys
alerts = [json.loads(l) for l in open(sys.argv[1])]
seen = [(a["state"], a["severity"], a["alert_id"]) for a in alerts]
ids = []
for a in alerts:
    if a["alert_id"] not in ids:
        ids.append(a["alert_id"])
# Per alert: its firings at strictly rising severities, then one resolve.
rank = {"info": 0, "warning": 1, "critical": 2}
ok = True
escalated = 0
for i in ids:
    mine = [a for a in alerts if a["alert_id"] == i]
    sev = [rank[a["severity"]] for a in mine if a["state"] == "firing"]
    ok &= sev == sorted(set(sev)) and all(a["state"] == "firing" for a in mine[:len(sev)])
    ok &= len(mine) - len(sev) <= 1
    escalated += sev == [1, 2]
print("escalated under one id" if ok and escalated >= 1 else "expected a warning, then a critical firing with the same id, then a resolve; got %s" % seen)
P
expect_out "escalation: warning then change, one id" "escalated under one id"

# 7. Configuration errors name the step and the reason.
bad_cfg() { # NAME STEP_OPTIONS TEXT
    gen_cfg "$TMP/c.yaml" "$2"
    expect_code "$1" 3 "$EDDY" validate -c "$TMP/c.yaml"
    expect_out "$1" "$3"
}
bad_cfg "no features" "        distribution_drift: { window_size: 10 }" "give the features to compare"
bad_cfg "unknown statistic" "        distribution_drift: { fields: [amount], statistics: [psi, mmd] }" "unknown statistic 'mmd'"
bad_cfg "missing reference file" "        distribution_drift: { fields: [amount], reference: file, reference_file: $TMP/nope.json }" "nope.json"
bad_cfg "file without reference_file" "        distribution_drift: { fields: [amount], reference: file }" "reference: file needs reference_file"
bad_cfg "eddm alpha < beta" "        eddm: { field: amount, alpha: 0.5, beta: 0.9 }" "need 0 < beta <= alpha <= 1"
bad_cfg "psi threshold out of range" "        distribution_drift: { fields: [amount], psi_threshold: -1 }" "psi_threshold"
gen_cfg "$TMP/c.yaml" "        distribution_drift: { fields: [amount] }" "min_consecutive: 0"
expect_code "bad alert policy" 3 "$EDDY" validate -c "$TMP/c.yaml"
expect_out "bad alert policy" "alerts.min_consecutive"
# 8. A running worker: the reference is a snapshot requested through the
# admin API; alerts show on /v1/alerts and statistics on /metrics.
# Operator requests (POST) need the admin token; with one, so do reads. The
# worker reads it from EDDY_ADMIN_TOKEN, as do eddy's CLI and the example.
PORT=$(free_port)
export EDDY_ADMIN_TOKEN=drift-test-token-0123456789
AUTH="Authorization: Bearer $EDDY_ADMIN_TOKEN"
cat >"$TMP/live.yaml" <<Y
worker: { name: live, log: { level: info }, admin: { token: "\${EDDY_ADMIN_TOKEN}" } }
sources:
  - name: s
    type: generator
    seed: 5
    rate: 4000
    event_interval: 1s
    fields: { amount: "normal(50, 10)" }
    drift: { amount: "normal(90, 10)" }
    drift_at: 3h
pipelines:
  - name: p
    from: s
    steps:
      - name: dd
        distribution_drift: { fields: [amount], reference: snapshot, window_size: 1000 }
    to:
      - { type: file, path: /dev/null }
Y
"$EDDY" run -c "$TMP/live.yaml" --admin "127.0.0.1:$PORT" >"$TMP/live.out" 2>&1 &
pids+=($!)
check "live worker admin up" wait_http "http://127.0.0.1:$PORT/healthz"
sleep 1
expect_code "no alerts before a reference" 0 curl -fsS -H "$AUTH" "http://127.0.0.1:$PORT/v1/alerts"
expect_out "no alerts before a reference" '"alerts":[]'
expect_code "reference request accepted" 0 curl -fsS -H "$AUTH" -X POST "http://127.0.0.1:$PORT/v1/pipelines/p/steps/dd/reference"
expect_out "reference request accepted" '"accepted":true'
expect_code "unknown step" 22 curl -fsS -H "$AUTH" -X POST "http://127.0.0.1:$PORT/v1/pipelines/p/steps/nope/reference"
curl -sS -H "$AUTH" -X POST "http://127.0.0.1:$PORT/v1/pipelines/p/steps/nope/reference" >"$TMP/out" 2>&1
expect_out "unknown step is named" "no step 'nope' in pipeline 'p'"
curl -sS -H "$AUTH" "http://127.0.0.1:$PORT/v1/pipelines/p/steps/dd/reference" >"$TMP/out" 2>&1
expect_out "requests must be POSTed" "operator requests are POSTed"
# The drift starts at 3h of event time = 10,800 records, under 4 s at 4000/s.
for i in $(seq 1 100); do
    curl -fsS -H "$AUTH" "http://127.0.0.1:$PORT/v1/alerts" >"$TMP/alerts.live" 2>/dev/null
    grep -q '"state":"firing"' "$TMP/alerts.live" && break
    sleep 0.2
done
check "drift alert on /v1/alerts after the snapshot" grep -q '"feature":"amount"' "$TMP/alerts.live"
check "log says the reference was taken" grep -q "reference taken" "$TMP/live.out"
expect_code "metrics" 0 curl -fsS -H "$AUTH" "http://127.0.0.1:$PORT/metrics"
expect_out "drift statistic gauge" 'eddy_drift_statistic{pipeline="p",step="dd",feature="amount",detector="distribution",statistic="psi"}'
expect_out "alerts counted by severity" 'eddy_alerts_total{pipeline="p",step="dd",severity="warning",state="firing"}'
expect_code "example Python consumer (examples/alerts_poll.py)" 0 timeout 30 python3 "$SRC/examples/alerts_poll.py" "http://127.0.0.1:$PORT" --count 1 --timeout 20
expect_out "example Python consumer prints the firing alert" "FIRING warning  p/amount/- psi="
# --count N prints N alerts, not the whole page; a bare host:port works;
# an unreachable server is a sentence, not a traceback (issue 15.10).
timeout 30 python3 "$SRC/examples/alerts_poll.py" "127.0.0.1:$PORT" --count 1 --timeout 20 >"$TMP/poll1.out" 2>&1
check "alerts_poll --count 1 with host:port prints one alert ($(wc -l <"$TMP/poll1.out") lines)" [ "$(grep -c '^FIRING\|^RESOLVED' "$TMP/poll1.out")" = 1 ]
python3 "$SRC/examples/alerts_poll.py" "127.0.0.1:1" --count 1 >"$TMP/poll2.out" 2>&1
check "alerts_poll says when it cannot reach the server ($(head -c 200 "$TMP/poll2.out"))" \
    grep -q "alerts_poll: cannot reach the admin server at http://127.0.0.1:1" "$TMP/poll2.out"
check "without a traceback" [ -z "$(grep Traceback "$TMP/poll2.out")" ]
expect_code "alerts after the last sequence" 0 curl -fsS -H "$AUTH" "http://127.0.0.1:$PORT/v1/alerts?after=1000000"
expect_out "alerts after the last sequence" '"alerts":[]'
# A malformed query is a 400 with the reason, not silently "from the start".
for q in "after=abc" "after=-1" "after=" "after=1x" "limit=0" "limit=100001" "limit=ten"; do
    code=$(curl -s -H "$AUTH" -o "$TMP/q.out" -w "%{http_code}" "http://127.0.0.1:$PORT/v1/alerts?$q")
    check "GET /v1/alerts?$q answers 400 (got $code: $(head -c 120 "$TMP/q.out"))" [ "$code" = 400 ]
done
check "the 400 says what after must be" grep -q "after must be an alert sequence number" \
    <(curl -s -H "$AUTH" "http://127.0.0.1:$PORT/v1/alerts?after=abc")
finish
