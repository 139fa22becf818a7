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

# 5. Config errors a new user hits (before: an unknown key reported twice;
#    no "did you mean" from describe; a missing plugin dir in another format
#    plus an unexplained cascade; validate passing a missing source file).
cd "$TMP"
: >in.jsonl
cat >typo.yaml <<'Y'
sources:
  - { name: s, type: file, path: in.jsonl, watermrk: { max_out_of_order: 1s } }
pipelines:
  - { name: p, from: s, to: [ { type: console } ] }
Y
"$EDDY" validate -c typo.yaml >typo.out 2>&1
check "an unknown key is one error ($(tr '\n' '|' <typo.out))" grep -q '^typo.yaml: 1 error$' typo.out
check "with a suggestion" grep -q "typo.yaml:2:44: sources\[0\].watermrk: unknown key 'watermrk'; did you mean 'watermark'?" typo.out
"$EDDY" describe windw >describe.out 2>&1
check "describe suggests ($(cat describe.out))" grep -q "nothing called 'windw'; did you mean 'window'?" describe.out
cat >pd.yaml <<'Y'
worker:
  plugin_dirs: [ /nonexistent/eddy-plugins ]
sources:
  - { name: s, type: file, path: in.jsonl }
pipelines:
  - { name: p, from: s, steps: [ { myop: {} } ], to: [ { type: console } ] }
Y
"$EDDY" validate -c pd.yaml >pd.out 2>&1
check "a missing plugin dir is file:line:col like every error ($(head -1 pd.out))" \
    grep -q '^pd.yaml:2:18: worker.plugin_dirs: plugin directory /nonexistent/eddy-plugins: No such file or directory$' pd.out
check "the unknown operator says why it may be unknown" grep -q "unknown operator 'myop' (it may be in a plugin directory that could not be loaded" pd.out
cat >missing.yaml <<'Y'
sources:
  - { name: s, type: file, path: missing.jsonl }
pipelines:
  - { name: p, from: s, to: [ { type: console } ] }
Y
"$EDDY" validate -c missing.yaml >missing.out 2>&1
vrc=$?
check "validate refuses a missing source file (exit $vrc: $(head -1 missing.out))" [ "$vrc" = 3 ]
check "naming it" grep -q "source 's': cannot read missing.jsonl: No such file or directory" missing.out
cd - >/dev/null

# 9. Metrics: every name is eddy_* (operators' too: window_state_bytes was
#    bare) or one of the standard process_* ones, and eddy_build_info says
#    which version runs.
mport=$(free_port)
cat >"$TMP/metrics.yaml" <<Y
worker: { name: m, admin: { listen: "127.0.0.1:$mport" }, run_for: 20s }
sources:
  - { name: g, type: generator, rate: 1000, fields: { amount: "uniform(0,10)" } }
pipelines:
  - name: p
    from: g
    steps:
      - window: { type: tumbling, size: 1s, aggregate: { n: "count()" } }
      - zscore: { field: n, window: 10 }
    to: [ { type: console, format: summary, interval: 60s } ]
Y
"$EDDY" run -c "$TMP/metrics.yaml" >"$TMP/metrics.log" 2>&1 &
mpid=$!
wait_http "http://127.0.0.1:$mport/readyz" 20 || true
sleep 1.5
curl -s "http://127.0.0.1:$mport/metrics" >"$TMP/metrics.txt"
kill -TERM "$mpid" 2>/dev/null; wait "$mpid" 2>/dev/null
bare=$(grep -v '^#' "$TMP/metrics.txt" | grep -vE '^(eddy_|process_)' | head -3)
check "every metric is eddy_* or process_* (not: $bare)" [ -z "$bare" -a -s "$TMP/metrics.txt" ]
check "the window's state is eddy_window_state_bytes" grep -q '^eddy_window_state_bytes{pipeline="p",step="window#0"}' "$TMP/metrics.txt"
check "eddy_build_info names the version" grep -q '^eddy_build_info{version="[0-9][^"]*",librdkafka="[^"]*"} 1$' "$TMP/metrics.txt"
for m in process_cpu_seconds_total process_resident_memory_bytes process_open_fds process_max_fds process_start_time_seconds; do
    check "$m is exported ($(grep "^$m" "$TMP/metrics.txt"))" grep -qE "^$m [0-9.e+]+$" "$TMP/metrics.txt"
done
now=$(date +%s)
start=$(sed -n 's/^process_start_time_seconds //p' "$TMP/metrics.txt")
check "process_start_time_seconds is the start, not 0 ($start, now $now)" python3 -c "import sys; s=float(sys.argv[1]); sys.exit(0 if $now - 120 < s <= $now + 1 else 1)" "${start:-0}"

# 6. The embedded broker cannot be read from another process: the message
#    says how to follow the quick start's alerts instead.
"$EDDY" alerts tail payments.alerts -c "$SRC/configs/quickstart.yaml" >"$TMP/emb.out" 2>&1
erc=$?
check "alerts tail on an embedded-broker config is a usage error (exit $erc)" [ "$erc" = 2 ]
check "it says where the address is ($(head -c 300 "$TMP/emb.out"))" grep -q 'embedded Kafka broker started.*--brokers 127.0.0.1:PORT' "$TMP/emb.out"
check "and offers the admin API" grep -q 'eddy alerts tail --admin 127.0.0.1:9464' "$TMP/emb.out"

# 10. An install holds what works outside the repository: the alert schema
#     (alerts tail --format avro falls back to it), example configs, the
#     plugin kit's header and pkg-config file with this ABI; the template
#     builds against a source tree without installing.
if meson install -C "$EDDY_BUILD" --no-rebuild --destdir "$TMP/root" >"$TMP/install.log" 2>&1; then
    ok
    for f in schemas/alert.avsc examples/quickstart.yaml examples/anomaly.yaml; do
        check "installed share/eddy/$f" [ -n "$(find "$TMP/root" -path "*/share/eddy/$f" | head -1)" ]
    done
    pc=$(find "$TMP/root" -name eddy-operator.pc | head -1)
    check "the kit's .pc says ABI 1.3 ($(grep abi_minor "$pc" 2>/dev/null))" grep -q '^abi_minor=3$' "$pc"
    check "and the plugin directory" grep -q '^plugindir=' "$pc"
else
    bad "meson install --destdir: $(tail -3 "$TMP/install.log")"
fi
cp -r "$SRC/examples/operator-template" "$TMP/tpl"
check "the plugin template builds against a source tree (make EDDY_SRC=...)" make -s -C "$TMP/tpl" EDDY_SRC="$SRC"
check "and loads ($("$EDDY" describe --plugin-dir "$TMP/tpl" scale 2>&1 | head -1))" "$EDDY" describe --plugin-dir "$TMP/tpl" scale

# Relative paths in a config file are taken from the file's folder, not the
# working directory (under systemd the working directory is /).
mkdir -p "$TMP/etc/eddy" "$TMP/elsewhere"
printf '{"id":1}\n{"id":2}\n' >"$TMP/etc/eddy/in.jsonl"
cat >"$TMP/etc/eddy/rel.yaml" <<'Y'
worker: { admin: { enabled: false } }
sources:
  - { name: s, type: file, path: in.jsonl }
pipelines:
  - { name: p, from: s, to: [ { type: file, path: out/result.jsonl } ] }
Y
mkdir -p "$TMP/etc/eddy/out"
(cd "$TMP/elsewhere" && "$EDDY" run -c ../etc/eddy/rel.yaml >"$TMP/rel.log" 2>&1)
rrc=$?
check "a config with relative paths runs from another directory (exit $rrc: $(grep level=error "$TMP/rel.log" | head -c 300))" [ "$rrc" = 0 ]
check "its output lands next to the config ($(ls "$TMP/etc/eddy/out" 2>&1))" [ "$(wc -l <"$TMP/etc/eddy/out/result.jsonl" 2>/dev/null)" = 2 ]
check "and not in the working directory" [ ! -e "$TMP/elsewhere/out" ]
"$EDDY" describe source:file | grep -q "relative to the config file's folder" && ok || bad "describe says which options are paths"
finish
