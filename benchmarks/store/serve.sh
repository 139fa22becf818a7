#!/usr/bin/env bash
# Serving latency of GET /v1/features/{view}/{entity} on eddy's admin server,
# against the Redis store and the embedded (SQLite) store.
#
#   benchmarks/store/serve.sh [ENTITIES] [SECONDS] [CONNECTIONS] [redis|embedded|both]
#   (defaults: 10000 entities, 10 s, 16 connections, both)
#
# For each store: starts a worker (BUILD/eddy run, BUILD defaults to build)
# whose generator writes rows for ENTITIES users (user-0 ...) through a
# project step into a feature_store sink (view `bench`, 5 double features),
# waits until the generator is done (a second, trickling generator keeps the
# worker up), then loads the endpoint from wrk for SECONDS with CONNECTIONS
# open connections (wrk, 2 threads; 1 for 1 connection), each request a random entity. Reports
# requests/s and p50/p99/p99.9 latency (wrk's own histogram) and non-2xx
# answers; SERVE_BASELINE=1 also loads /healthz of the same worker. Redis: a loopback redis-server from scripts/redis.sh (no append
# only file unless EDDY_REDIS_AOF=yes). Installs wrk (apt) when missing.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$SRC/build}
N=${1:-10000}
SECS=${2:-10}
CONNS=${3:-16}
WHICH=${4:-both}
EDDY=$BUILD/eddy
[ -x "$EDDY" ] || { echo "serve.sh: no $EDDY (build first, or set BUILD)" >&2; exit 1; }

if ! command -v wrk >/dev/null; then
    echo "serve.sh: installing wrk (apt)" >&2
    sudo_=""
    [ "$(id -u)" = 0 ] || sudo_=sudo
    $sudo_ apt-get install -y -qq wrk >&2 ||
        { $sudo_ apt-get update -qq >&2 && $sudo_ apt-get install -y -qq wrk >&2; }
fi

TMP=$(mktemp -d -p "${TMPDIR:-/tmp}")
WPID=""
cleanup() {
    [ -n "$WPID" ] && kill "$WPID" 2>/dev/null && wait "$WPID" 2>/dev/null
    "$SRC/scripts/redis.sh" stop "$TMP/redis" >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

cat >"$TMP/pick.lua" <<LUA
-- A random entity per request; done() prints the figures serve.sh reports.
local n = $N
math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
local path = os.getenv("WRK_PATH") or "/v1/features/bench/user-"
local pick = path:sub(-1) == "-"
request = function()
    return wrk.format("GET", pick and path .. math.random(0, n - 1) or path)
end
done = function(summary, latency, requests)
    local s = summary.duration / 1e6
    local bad = summary.errors.status + summary.errors.connect + summary.errors.read +
        summary.errors.write + summary.errors.timeout
    io.write(string.format("RESULT rps=%.0f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f " ..
        "requests=%d errors=%d\n", summary.requests / s, latency:percentile(50) / 1000,
        latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, latency.max / 1000,
        summary.requests, bad))
end
LUA

written() {
    local store=$1 port=$2 i
    grep -q "input ended" "$TMP/$store.err" 2>/dev/null || return 1
    if [ "$store" = redis ]; then
        [ "$(redis-cli -p "$REDIS_PORT" dbsize)" -ge "$N" ] || return 1
    fi
    for i in 0 $((N / 3)) $((N / 2)) $((N - 1)); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' \
            "http://127.0.0.1:$port/v1/features/bench/user-$i")" = 200 ] || return 1
    done
}

# load LABEL PORT PATH: wrk on PATH (a path ending in '-' gets a random
# entity number appended); prints one result line.
load() {
    local res
    res=$(WRK_PATH=$3 wrk -t"$((CONNS < 2 ? 1 : 2))" -c"$CONNS" -d"${SECS}s" --timeout 5s \
        -s "$TMP/pick.lua" "http://127.0.0.1:$2" | grep '^RESULT' || true)
    [ -n "$res" ] || { echo "serve.sh: wrk gave no result" >&2; return 1; }
    printf '%-16s entities %d conns %d %s\n' "$1" "$N" "$CONNS" "${res#RESULT }"
}

# run STORE SINK_OPTIONS: one worker, loaded by wrk; prints one result line.
run() {
    local store=$1 sink=$2 port count
    port=$(free_port)
    count=$((N * 20)) # every entity written (a key is missed with p = e^-20)
    cat >"$TMP/$store.yaml" <<Y
worker: { name: serve-bench, admin: { listen: "127.0.0.1:$port" }, log: { level: info } }
sources:
  - name: rows
    type: generator
    seed: 7
    rate: 0
    count: $count
    keys: $N
    fields: { amount: "uniform(0, 100)" }
  - { name: trickle, type: generator, rate: 1, keys: 1, fields: { x: "uniform(0, 1)" } }
pipelines:
  - name: features
    from: rows
    steps:
      - project:
          derive: { spend: "amount * 3.5", avg: "amount / 7", sd: "amount / 11", p95: "amount * 1.25" }
    to:
      - { type: feature_store, $sink, view: bench, entity: user_id,
          features: [amount, spend, avg, sd, p95], ttl: 1h }
  - name: keepalive
    from: trickle
    to:
      - { type: file, path: /dev/null }
Y
    "$EDDY" run -c "$TMP/$store.yaml" >"$TMP/$store.out" 2>"$TMP/$store.err" &
    WPID=$!
    local i up=""
    for i in $(seq 1 200); do
        if curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then up=1; break; fi
        kill -0 "$WPID" 2>/dev/null || break
        sleep 0.05
    done
    if [ -z "$up" ]; then
        echo "serve.sh: the $store worker did not come up; its log:" >&2
        tail -20 "$TMP/$store.err" >&2
        return 1
    fi
    # Written: the generator ended and (redis) every entity has its hash,
    # (embedded, written synchronously by the sink) sampled entities read.
    local t0=$SECONDS
    until written "$store" "$port"; do
        if [ $((SECONDS - t0)) -gt 300 ] || ! kill -0 "$WPID" 2>/dev/null; then
            echo "serve.sh: $store: rows not written after $((SECONDS - t0)) s; log:" >&2
            tail -20 "$TMP/$store.err" >&2
            return 1
        fi
        sleep 0.2
    done
    load "$store" "$port" "/v1/features/bench/user-"
    # The same server answering /healthz (no store read): what the HTTP
    # server and the machine's scheduling cost alone.
    [ -n "${SERVE_BASELINE:-}" ] && load "$store-healthz" "$port" /healthz
    kill "$WPID" 2>/dev/null && wait "$WPID" 2>/dev/null || true
    WPID=""
}

echo "serve.sh: $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg); $N entities, ${SECS}s, $CONNS connections" >&2
if [ "$WHICH" != embedded ]; then
    eval "$(EDDY_REDIS_AOF=${EDDY_REDIS_AOF:-no} "$SRC/scripts/redis.sh" start "$TMP/redis")"
    run redis "store: redis, port: $REDIS_PORT"
fi
if [ "$WHICH" != redis ]; then
    run embedded "store: embedded, path: \"$TMP/features.db\""
fi
