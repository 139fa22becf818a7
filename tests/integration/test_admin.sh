#!/usr/bin/env bash
# The admin server while a worker runs, then SIGTERM drains and exits 0, and
# a second signal exits at once.
. "$(dirname "$0")/lib.sh"
cat >"$TMP/gen.yaml" <<'Y'
worker: { name: admin-test, log: { format: json } }
sources:
  - name: gen
    type: generator
    rate: 2000
    keys: 10
    fields: { amount: "uniform(0, 10)" }
pipelines:
  - name: p
    from: gen
    steps:
      - filter: { where: "amount < 5" }
    to:
      - { type: file, path: /dev/null, format: json }
Y
PORT=$(free_port)
"$EDDY" run -c "$TMP/gen.yaml" --admin "127.0.0.1:$PORT" >"$TMP/run.out" 2>"$TMP/run.err" &
pid=$!
pids+=("$pid")
check "admin comes up" wait_http "http://127.0.0.1:$PORT/healthz"
sleep 1
expect_code "healthz" 0 curl -fsS "http://127.0.0.1:$PORT/healthz"
expect_out "healthz" "ok"
expect_code "readyz" 0 curl -fsS "http://127.0.0.1:$PORT/readyz"
expect_code "metrics" 0 curl -fsS "http://127.0.0.1:$PORT/metrics"
expect_out "metrics source" 'eddy_source_records_total{source="gen"}'
expect_out "metrics step" 'eddy_step_records_in_total{pipeline="p",step="filter#0"}'
expect_out "metrics sink" 'eddy_sink_records_total{sink="p.file#0"}'
expect_out "metrics latency" 'eddy_batch_seconds_bucket{pipeline="p",le="+Inf"}'
expect_code "pipelines" 0 curl -fsS "http://127.0.0.1:$PORT/v1/pipelines"
check "pipelines json" python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
p=d["pipelines"][0]
assert d["state"]=="running" and p["name"]=="p" and p["steps"][0]["operator"]=="filter", d
assert p["records_in"]>0 and p["steps"][0]["records_out"]<=p["steps"][0]["records_in"], d
' "$TMP/out"
expect_code "404" 22 curl -fsS "http://127.0.0.1:$PORT/nope"
# Bytes that are not UTF-8 in the path (%ff%fe) are not echoed raw: the
# error body stays valid JSON (its text carries U+FFFD instead).
curl -s "http://127.0.0.1:$PORT/v1/features/v/%ff%fe" >"$TMP/badutf8.json"
check "an error naming non-UTF-8 bytes is valid JSON ($(head -c 160 "$TMP/badutf8.json" | od -c | head -3 | tr -s ' ' | tr '\n' ' '))" \
    python3 -c 'import json,sys; d=json.loads(open(sys.argv[1],"rb").read().decode("utf-8")); assert "error" in d and "\ufffd" in d["error"], d' "$TMP/badutf8.json"
kill -TERM "$pid"
wait "$pid"
code=$?
check "SIGTERM drains and exits 0 (got $code)" [ "$code" = 0 ]
check "drain is logged" grep -q 'draining' "$TMP/run.err"
check "logs are JSON lines" python3 -c '
import json,sys
for l in open(sys.argv[1]):
    json.loads(l)
' "$TMP/run.err"

# Second signal: exit at once, non-zero. The sink writes into a FIFO nobody
# reads, so the drain after the first signal cannot finish.
mkfifo "$TMP/fifo"
exec 3<>"$TMP/fifo"
cat >"$TMP/slow.yaml" <<Y
worker: { name: slow, admin: { enabled: false }, shutdown_timeout: 60s }
sources:
  - { name: gen, type: generator, rate: 0 }
pipelines:
  - name: p
    from: gen
    to:
      - { type: file, path: "$TMP/fifo", format: json }
Y
"$EDDY" run -c "$TMP/slow.yaml" >/dev/null 2>"$TMP/slow.err" &
pid=$!
pids+=("$pid")
sleep 1
kill -TERM "$pid"
sleep 1
check "first signal drains (still running while the sink is stuck)" kill -0 "$pid"
kill -TERM "$pid"
wait "$pid"
code=$?
check "second signal exits at once with 128+15 (got $code)" [ "$code" = 143 ]
check "second signal is logged" grep -q 'exiting at once' "$TMP/slow.err"
exec 3>&-
finish
