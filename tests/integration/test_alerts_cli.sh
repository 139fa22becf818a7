#!/usr/bin/env bash
# `eddy alerts tail`: a running worker's drift alerts through --admin (text
# and --json), gaps and non-alerts from a scripted admin server, and clear
# failures for bad addresses and bad usage.
. "$(dirname "$0")/lib.sh"

# The generator drifts for 2 h of event time after 2 h; at 1 s per event
# and 20000 events/s the alerts fire and resolve within the first second.
cat >"$TMP/drift.yaml" <<'Y'
worker: { name: alerts-cli, log: { level: warn } }
sources:
  - name: s
    type: generator
    seed: 3
    rate: 20000
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
  - name: p
    from: s
    steps:
      - name: dd
        distribution_drift:
          fields: [amount]
          categorical: [merchant]
          reference: first_n
          reference_size: 2000
          window_period: 30m
    to:
      - { type: file, path: /dev/null, format: json }
Y
PORT=$(free_port)
"$EDDY" run -c "$TMP/drift.yaml" --admin "127.0.0.1:$PORT" >"$TMP/run.out" 2>"$TMP/run.err" &
pids+=("$!")
check "admin comes up" wait_http "http://127.0.0.1:$PORT/healthz"

# Wait (not a timing assertion) until the drift has resolved.
for _ in $(seq 1 300); do
    "$EDDY" alerts tail --admin "127.0.0.1:$PORT" >"$TMP/text" 2>"$TMP/text.err"
    grep -q '^2026-01-01T04:29:59Z RESOLVED .* p/dd  amount ' "$TMP/text" && break
    sleep 0.1
done
expect_code "alerts tail --admin" 0 "$EDDY" alerts tail --admin "127.0.0.1:$PORT"
cp "$TMP/out" "$TMP/text"
expect_out "firing psi" "2026-01-01T02:29:59Z FIRING   warning   p/dd  amount  key=-  psi=6.402 > 0.2  (p=0)  warning: distribution drift on amount"
expect_out "firing chi2" "FIRING   warning   p/dd  merchant  key=-  chi2_pvalue="
expect_out "firing dataset" "FIRING   critical  p/dd  -  key=-  drifted_share=1 > 0.5  critical: distribution drift on the dataset"
expect_out "resolved psi" "2026-01-01T04:29:59Z RESOLVED warning   p/dd  amount  key=-  psi=0.0119 < 0.2"
expect_out "resolved dataset" "RESOLVED critical  p/dd  -  key=-  drifted_share=0 < 0.5"
expect_out "summary" "alerts (0 skipped, 0 overwritten unread) from http://127.0.0.1:$PORT"
check "firing before resolved" python3 -c '
import sys
lines = [l for l in open(sys.argv[1]) if " p/dd  amount " in l]
assert " FIRING " in lines[0] and " RESOLVED " in lines[1], lines
' "$TMP/text"

# --json: one alert object per line with the schema's fields, in order; the
# resolved alert carries the id of the firing it ends.
"$EDDY" alerts tail --admin "http://127.0.0.1:$PORT/" --json >"$TMP/json" 2>"$TMP/json.err"
check "--json exits 0" [ $? = 0 ]
check "--json lines are the alert schema" python3 -c '
import json, sys
fields = [f["name"] for f in json.load(open(sys.argv[2]))["fields"]]
alerts = [json.loads(l) for l in open(sys.argv[1])]
assert len(alerts) >= 6, alerts
for a in alerts:
    assert list(a) == fields, list(a)
    assert a["state"] in ("firing", "resolved") and a["pipeline"] == "p" and a["step"] == "dd"
amount = [a for a in alerts if a["feature"] == "amount" and a["statistic"] == "psi"]
assert [a["state"] for a in amount[:2]] == ["firing", "resolved"], amount
assert amount[0]["alert_id"] == amount[1]["alert_id"]
assert amount[0]["value"] > 0.2 > amount[1]["value"]
' "$TMP/json" "$SRC/configs/schemas/alert.avsc"
check "--json and text list the same alerts" [ "$(wc -l <"$TMP/json")" = "$(grep -c 'FIRING\|RESOLVED' "$TMP/text")" ]

expect_code "-n 2" 0 "$EDDY" alerts tail --admin "127.0.0.1:$PORT" -n 2
check "-n 2 prints 2 alerts" [ "$(grep -c 'FIRING\|RESOLVED' "$TMP/out")" = 2 ]
# -f prints what the worker holds, then follows; -n ends it.
expect_code "-f -n 4" 0 "$EDDY" alerts tail --admin "127.0.0.1:$PORT" -f -n 4 --interval 100ms --json
check "-f -n 4 prints 4 alerts" [ "$(grep -c '"alert_id"' "$TMP/out")" = 4 ]

# A scripted admin server: alerts 1-2 already overwritten, #4 not an alert.
cat >"$TMP/fake.py" <<'P'
import http.server, json, sys, urllib.parse
ok = {"alert_id": "00000000000000aa", "state": "firing", "severity": "critical",
      "time": 1767225600000, "emitted_at": 1767225600000, "worker": "w", "pipeline": "pay",
      "step": "ph", "partition": 0, "detector": "page_hinkley", "feature": "amount",
      "key": "user-7", "statistic": "ph", "value": 60.5, "threshold": 50.0, "p_value": None,
      "current_start": None, "current_end": None, "current_n": 0, "reference_start": None,
      "reference_end": None, "reference_n": 0, "message": "critical: page_hinkley detected a change"}
res = dict(ok, state="resolved", value=1.5, message="resolved: no change")
bad = {k: v for k, v in ok.items() if k != "state"}
ring = {3: ok, 4: bad, 5: res, 6: dict(ok, key="a\nb", feature="")}
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        if u.path == "/healthz":
            body = b"ok\n"
        else:
            q = urllib.parse.parse_qs(u.query)
            after = int(q.get("after", ["0"])[0])
            items = [{"seq": s, "alert": a} for s, a in sorted(ring.items()) if s > after]
            body = json.dumps({"next": max([after] + list(ring)), "dropped": max(0, 2 - after),
                               "alerts": items}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
P
FAKE=$(free_port)
python3 "$TMP/fake.py" "$FAKE" &
pids+=("$!")
check "scripted server comes up" wait_http "http://127.0.0.1:$FAKE/healthz"
expect_code "gaps and non-alerts" 0 "$EDDY" alerts tail --admin "127.0.0.1:$FAKE"
expect_out "dropped reported" "2 alerts after #0 were overwritten in the worker's ring before they could be read"
expect_out "non-alert line" "ERROR alert #4: not an alert record: missing field 'state'"
expect_out "key shown" "2026-01-01T00:00:00Z FIRING   critical  pay/ph  amount  key=user-7  ph=60.5 > 50  critical: page_hinkley detected a change"
expect_out "resolved, no p-value" "RESOLVED critical  pay/ph  amount  key=user-7  ph=1.5 < 50  resolved: no change"
expect_out "control characters escaped, empty feature" "pay/ph  -  key=a\x0ab  ph=60.5"
expect_out "summary counts" "3 alerts (1 skipped, 2 overwritten unread)"
"$EDDY" alerts tail --admin "127.0.0.1:$FAKE" --json >"$TMP/fake.json" 2>"$TMP/fake.err"
check "--json: only alerts on stdout" python3 -c '
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
assert [x["state"] for x in a] == ["firing", "resolved", "firing"], a
assert a[2]["key"] == "a\nb"
assert a[0]["p_value"] is None
' "$TMP/fake.json"
check "--json: the non-alert on stderr" grep -q "ERROR alert #4: not an alert record" "$TMP/fake.err"

# Failures: nothing listening, and usage errors.
CLOSED=$(free_port)
expect_code "admin unreachable" 1 "$EDDY" alerts tail --admin "127.0.0.1:$CLOSED"
expect_out "admin unreachable message" "eddy alerts: cannot reach the admin server at http://127.0.0.1:$CLOSED"
expect_code "-f: admin unreachable at start" 1 "$EDDY" alerts tail --admin "127.0.0.1:$CLOSED" -f
expect_code "not an admin server" 1 "$EDDY" alerts tail --admin "127.0.0.1:$PORT/nope"
expect_out "not an admin server message" "answered HTTP 404"
expect_code "brokers unreachable" 1 "$EDDY" alerts tail alerts --brokers "127.0.0.1:$CLOSED" --timeout 1s
expect_out "brokers unreachable message" "eddy alerts: cannot reach the Kafka brokers within 1000 ms"
expect_code "no topic" 2 "$EDDY" alerts tail
expect_out "no topic message" "give a TOPIC or --admin HOST:PORT"
expect_code "topic and --admin" 2 "$EDDY" alerts tail t --admin "127.0.0.1:$PORT"
expect_code "--admin with --brokers" 2 "$EDDY" alerts tail --admin "127.0.0.1:$PORT" --brokers x:1
expect_code "bad --admin" 2 "$EDDY" alerts tail --admin nohostport
expect_code "bad --interval" 2 "$EDDY" alerts tail --admin "127.0.0.1:$PORT" --interval 0s
expect_code "--interval without --admin" 2 "$EDDY" alerts tail t --interval 1s
expect_code "bad --format" 2 "$EDDY" alerts tail t --format msgpack
expect_out "bad --format message" "expected json or avro"
expect_code "bad --count" 2 "$EDDY" alerts tail t -n 0
expect_code "unknown subcommand" 2 "$EDDY" alerts list
expect_code "help" 0 "$EDDY" alerts tail --help
expect_out "help text" "usage: eddy alerts tail TOPIC"
expect_code "listed in eddy help" 0 "$EDDY" --help
expect_out "listed in eddy help" "alerts tail"
finish
