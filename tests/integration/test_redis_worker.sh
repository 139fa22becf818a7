#!/usr/bin/env bash
# A whole worker writing window features to Redis while Redis is killed
# and restarted: the worker stays up, reports not ready on /readyz while it
# holds rows, and when Redis is back every entity's newest window is in
# Redis, equal to the same window results written to a file beside it.
source "$(dirname "$0")/lib.sh"
REDIS_DIR=$TMP/redis
stop_redis() { "$SRC/scripts/redis.sh" stop "$REDIS_DIR" >/dev/null 2>&1; }
trap 'stop_redis; cleanup' EXIT
eval "$("$SRC/scripts/redis.sh" start "$REDIS_DIR")" || { echo "cannot start redis-server" >&2; exit 1; }
rcli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }

PORT=$(free_port)
cat >"$TMP/w.yaml" <<Y
worker: { name: fs-worker, flush_interval: 200ms, log: { level: info } }
sources:
  - name: s
    type: generator
    seed: 4
    rate: 3000
    count: 36000
    keys: 300
    event_interval: 10ms
    fields: { amount: "uniform(0, 100)" }
pipelines:
  - name: p
    from: s
    steps:
      - window:
          type: tumbling
          size: 10s
          key: [user_id]
          aggregate: { n: "count()", spend: "sum(amount)" }
    to:
      - { type: feature_store, store: redis, port: $REDIS_PORT, view: spend, entity: user_id,
          features: [n, spend], backoff_max: 200ms, flush_timeout: 2s }
      - { type: file, path: "$TMP/windows.json" }
Y
"$EDDY" run -c "$TMP/w.yaml" --admin "127.0.0.1:$PORT" >"$TMP/w.out" 2>"$TMP/w.err" &
wpid=$!
pids+=("$wpid")
check "worker admin up" wait_http "http://127.0.0.1:$PORT/healthz"
sleep 3
check "rows written before the outage" test "$(rcli dbsize)" -gt 0
"$SRC/scripts/redis.sh" kill "$REDIS_DIR"
notready=""
for i in $(seq 1 50); do
    notready=$(curl -s "http://127.0.0.1:$PORT/readyz")
    case $notready in *"store not ready"*) break ;; esac
    sleep 0.1
done
check "not ready while Redis is down ($notready)" grep -q "store not ready: redis 127.0.0.1:$REDIS_PORT" <<<"$notready"
sleep 3
check "worker still running while Redis is down" kill -0 "$wpid"
eval "$("$SRC/scripts/redis.sh" start "$REDIS_DIR" "$REDIS_PORT")"
wait "$wpid"
code=$?
check "worker finished cleanly after the outage (exit $code)" [ "$code" = 0 ]
python3 - "$TMP/windows.json" "$REDIS_PORT" >"$TMP/out" 2>&1 <<'P'
import json, subprocess, sys
latest = {}
for line in open(sys.argv[1]):
    w = json.loads(line)
    u = w["user_id"]
    if u not in latest or w["window_end"] > latest[u]["window_end"]:
        latest[u] = w
bad = []
for u, w in latest.items():
    out = subprocess.run(["redis-cli", "-p", sys.argv[2], "hgetall", "eddy:spend:" + u],
                         capture_output=True, text=True).stdout.split()
    h = dict(zip(out[::2], out[1::2]))
    if int(h.get("_ts", -1)) != w["window_end"] - 1 or int(h["n"]) != w["n"] or \
       abs(float(h["spend"]) - w["spend"]) > 1e-9 * max(1, abs(w["spend"])):
        bad.append((u, h, w))
print("entities", len(latest), "mismatched", len(bad), bad[:2])
P
expect_out "every entity's newest window is in Redis after the outage" "entities 300 mismatched 0"
check "the outage was logged" grep -q "not acknowledged its output yet\|retrying" "$TMP/w.err"
finish
