#!/usr/bin/env bash
# Windows end to end: a file source with watermarks through a window step to
# file sinks, with the late output routed to its own file; then a source that
# goes quiet (follow: true keeps it open, so only idle_timeout can move the
# watermark) and whose windows must still close.
. "$(dirname "$0")/lib.sh"

# ---- 1. bounded input: results, late output, derived fields ------------------
# batch_size 1: the watermark advances after every record, so the record at
# ts 500 arrives after the window [0, 10000) closed (watermark 11000 - 1000 >= 10000 + 0).
cat >"$TMP/in.ndjson" <<'IN'
{"user":"a","amount":5,"merchant":"m1","ts":1000}
{"user":"b","amount":7,"merchant":"m2","ts":1500}
{"user":"a","amount":10,"merchant":"m2","ts":2500}
{"user":"a","amount":1,"merchant":"m1","ts":11000}
{"user":"a","amount":3,"merchant":"m1","ts":500}
{"user":"b","amount":2,"merchant":"m3","ts":25000}
IN
cat >"$TMP/bounded.yaml" <<YAML
worker: { name: windows-test, admin: { enabled: false } }
sources:
  - name: pay
    type: file
    path: $TMP/in.ndjson
    batch_size: 1
    timestamp: { field: ts, unit: ms }
    watermark: { max_out_of_order: 1s, idle_timeout: 1s }
pipelines:
  - name: spend
    from: pay
    steps:
      - window:
          type: tumbling
          size: 10s
          key: [user]
          aggregate: { n: "count()", spend: "sum(amount)", avg: "mean(amount)", merchants: "distinct(merchant)" }
          derive: { avg_ticket: "spend / n", change: "spend - prev.spend" }
        outputs: { late: { type: file, path: "$TMP/late.ndjson", format: json } }
    to:
      - { type: file, path: "$TMP/out.ndjson", format: json }
YAML
expect_code "validate" 0 "$EDDY" validate -c "$TMP/bounded.yaml"
expect_code "run bounded" 0 "$EDDY" run -c "$TMP/bounded.yaml"
python3 - "$TMP" <<'PY' >"$TMP/py.out" 2>&1
import json, sys, os
t = sys.argv[1]
def load(n):
    with open(os.path.join(t, n)) as f:
        return [json.loads(l) for l in f if l.strip()]
fails = 0
def eq(name, got, want):
    global fails
    if got != want:
        fails += 1
        print(f"FAIL {name}: got {got!r}, want {want!r}")
out = sorted(load("out.ndjson"), key=lambda r: (r["user"], r["window_start"]))
eq("windows", [(r["user"], r["window_start"], r["window_end"], r["n"], r["spend"], r["count"]) for r in out],
   [("a", 0, 10000, 2, 15, 2), ("a", 10000, 20000, 1, 1, 1), ("b", 0, 10000, 1, 7, 1), ("b", 20000, 30000, 1, 2, 1)])
eq("derived avg_ticket", out[0]["avg_ticket"], 7.5)
eq("prev: change versus the previous window of the key", [r["change"] for r in out], [None, -14, None, -5])
eq("distinct", out[0]["merchants"], 2)
late = load("late.ndjson")
eq("late records", [(r["user"], r["ts"], r["_late_window_end"]) for r in late], [("a", 500, 10000)])
eq("late reason", "window [0, 10000) closed at watermark 10000" in late[0]["_late_reason"], True)
print("py-fails", fails)
PY
if grep -q "py-fails 0" "$TMP/py.out"; then ok; else bad "bounded outputs"; cat "$TMP/py.out" >&2; fi

# ---- 2. a quiet stream: windows close through idle_timeout --------------------
: >"$TMP/live.ndjson"
cat >"$TMP/quiet.yaml" <<YAML
worker: { name: windows-quiet, admin: { enabled: false } }
sources:
  - name: live
    type: file
    path: $TMP/live.ndjson
    follow: true
    timestamp: { field: ts, unit: ms }
    watermark: { max_out_of_order: 500ms, idle_timeout: 1s }
pipelines:
  - name: spend
    from: live
    steps:
      - window: { type: tumbling, size: 2s, key: [user], aggregate: { n: "count()", spend: "sum(amount)" } }
    to:
      - { type: file, path: "$TMP/quiet.ndjson", format: json }
YAML
"$EDDY" run -c "$TMP/quiet.yaml" >"$TMP/quiet.out" 2>&1 &
pid=$!
pids+=("$pid")
sleep 0.5
for line in '{"user":"a","amount":1,"ts":1000}' '{"user":"a","amount":2,"ts":1500}' '{"user":"a","amount":4,"ts":2100}'; do
    echo "$line" >>"$TMP/live.ndjson"
    sleep 0.2
done
# The appended events alone leave the watermark at 2100 - 500 = 1600: no
# window can close. Nothing more is appended; after idle_timeout the
# watermark moves with the wall clock and both windows close.
closed=0
for _ in $(seq 1 100); do
    if [ "$(grep -c window_start "$TMP/quiet.ndjson" 2>/dev/null)" = 2 ]; then closed=1; break; fi
    sleep 0.1
done
check "windows of a quiet stream close after idle_timeout" [ "$closed" = 1 ]
check "eddy still running (the source is still open)" kill -0 "$pid"
python3 - "$TMP/quiet.ndjson" <<'PY' >"$TMP/py2.out" 2>&1
import json, sys
rows = sorted((json.loads(l) for l in open(sys.argv[1]) if l.strip()), key=lambda r: r["window_start"])
got = [(r["window_start"], r["window_end"], r["n"], r["spend"]) for r in rows]
want = [(0, 2000, 2, 3), (2000, 4000, 1, 4)]
print("ok" if got == want else f"FAIL got {got!r} want {want!r}")
PY
if grep -qx ok "$TMP/py2.out"; then ok; else bad "quiet outputs"; cat "$TMP/py2.out" >&2; fi
kill -TERM "$pid"
wait "$pid"
check "stops cleanly" [ $? = 0 ]

# ---- 3. the example feature pipeline runs ---------------------------------------
expect_code "configs/features.yaml runs" 0 "$EDDY" run -c "$SRC/configs/features.yaml"
# 200 users x 6 minutes of event time (disorder reaches into the minute before)
n=$(grep -c 'window_start=.*p95=.*merchants=.*spend_change=' "$TMP/out")
check "features: one record per user and minute ($n)" test "$n" -ge 1000 -a "$n" -le 1400
finish
