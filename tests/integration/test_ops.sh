#!/usr/bin/env bash
# The operations surface (issue 15): what a platform team relies on.
. "$(dirname "$0")/lib.sh"

# 1. Unreachable brokers: /readyz is 503 with the broker error until the
#    consumer has joined its group, and after join_timeout the worker stops
#    with a sentence (before: 200 "ready" for over 10 minutes of retries).
port=$(free_port)
cat >"$TMP/unreach.yaml" <<Y
worker: { name: unreach, admin: { listen: "127.0.0.1:$port" } }
kafka: { brokers: "127.0.0.1:1" }
state: { enabled: false }
sources:
  - { name: in, type: kafka, topics: [ x ], join_timeout: 8s }
pipelines:
  - { name: p, from: in, to: [ { type: console } ] }
Y
"$EDDY" run -c "$TMP/unreach.yaml" >"$TMP/unreach.log" 2>&1 &
pid=$!
ready=""
for _ in $(seq 1 60); do
    ready=$(curl -s -w ' %{http_code}' "http://127.0.0.1:$port/readyz" 2>/dev/null) && [ -n "$ready" ] && break
    sleep 0.1
done
check "/readyz is 503 while the group is not joined (got: $ready)" [ "${ready##* }" = 503 ]
case $ready in *"not yet in consumer group unreach"*) ok ;; *) bad "/readyz names the group and the broker error (got: $ready)" ;; esac
code=""
for _ in $(seq 1 300); do
    if ! kill -0 "$pid" 2>/dev/null; then wait "$pid"; code=$?; break; fi
    sleep 0.1
done
[ -n "$code" ] || { kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
check "after join_timeout the worker exits 1 (got '${code:-still running after 30 s}')" [ "$code" = 1 ]
check "the sentence says what to check" grep -q 'not in consumer group unreach after join_timeout (8000 ms): are the brokers in kafka.brokers reachable' "$TMP/unreach.log"
finish
