#!/usr/bin/env bash
# Durable state against a real Kafka broker (scripts/kafka.sh): a keyed
# window's state survives SIGTERM, SIGKILL and restarts through its
# compacted changelog topic.
#   a. the issue's reproduction: 1,000 records into a 10 s window, SIGTERM
#      (exit 0, nothing emitted), 1,000 more, restart with stop_at_end:
#      exactly one result with n=2000 (and, as a control, n=1000 with
#      state.enabled: false, today's loss);
#   b. a kill loop: a live keyed stream through a windowed pipeline, SIGKILLs
#      at random moments and a SIGTERM, restarted each time, then a run to
#      the end: every (key, window) of a failure-free reference run present,
#      every emission of it with the reference's count (never short);
#   c. restore from the changelog alone (no state.cache_dir: each restart is
#      a cold one; the log shows the records it read);
#   d. state written by a differently configured window (size) is refused at
#      start-up with a sentence naming the pipeline, the step and the change;
#      a missing changelog topic is a start-up error naming `eddy topics apply`.
#   g. rebalances (a worker joins, the first is killed) with a cache
#      directory both workers share: every window complete, a partition
#      handed over cleanly restored from its file;
#   h. the local cache (state.cache_dir): a restart after SIGTERM restores
#      from the cache files and reads no changelog record; with the cache
#      deleted it restores from the changelog alone, with the same result;
#      a SIGKILLed worker's file (no trailer) is ignored; the final output
#      equals a run without interruptions; the same with exactly_once.
# Every process and the broker are stopped even when a check fails.
. "$(dirname "$0")/lib.sh"

kafka_start
export B

# All topics in one `eddy topics apply` (one client, not one JVM per topic).
# Records carry their event time (2026-01-01 from the generator): time
# retention must not delete them as too old while the test runs.
cat >"$TMP/topics.yaml" <<Y
kafka: { brokers: "$B" }
topics:
  - { name: st-a, partitions: 1, config: { retention.ms: "-1" } }
  - { name: st-a-out, partitions: 1, config: { retention.ms: "-1" } }
  - { name: st-a-off, partitions: 1, config: { retention.ms: "-1" } }
  - { name: st-a-off-out, partitions: 1, config: { retention.ms: "-1" } }
  - { name: g-st-a-in-changelog, partitions: 1, config: { cleanup.policy: compact } }
  - { name: st-b, partitions: 3, config: { retention.ms: "-1" } }
  - { name: st-b-out, partitions: 3, config: { retention.ms: "-1" } }
  - { name: st-b-ref, partitions: 3, config: { retention.ms: "-1" } }
  - { name: g-st-b-in-changelog, partitions: 3, config: { cleanup.policy: compact } }
  - { name: st-e, partitions: 1, config: { retention.ms: "-1" } }
  - { name: g-st-e-in-changelog, partitions: 1, config: { cleanup.policy: compact } }
  - { name: st-g, partitions: 4, config: { retention.ms: "-1" } }
  - { name: st-g-out, partitions: 3, config: { retention.ms: "-1" } }
  - { name: st-g-ref, partitions: 3, config: { retention.ms: "-1" } }
  - { name: g-st-g-in-changelog, partitions: 4, config: { cleanup.policy: compact } }
  - { name: st-f, partitions: 1, config: { retention.ms: "-1" } }
  - { name: st-f-out, partitions: 1, config: { retention.ms: "-1" } }
  - { name: st-f-ref, partitions: 1, config: { retention.ms: "-1" } }
  - { name: g-st-f-in-changelog, partitions: 1, config: { cleanup.policy: compact } }
  - { name: st-t, partitions: 1, config: { retention.ms: "-1" } }
  - { name: g-st-t-in-changelog, partitions: 1, config: { cleanup.policy: compact } }
  - { name: st-h, partitions: 2, config: { retention.ms: "-1" } }
  - { name: st-h-out, partitions: 1, config: { retention.ms: "-1" } }
  - { name: st-h-ref, partitions: 1, config: { retention.ms: "-1" } }
  - { name: g-st-h-in-changelog, partitions: 2, config: { cleanup.policy: compact } }
  - { name: st-hx, partitions: 2, config: { retention.ms: "-1" } }
  - { name: st-hx-out, partitions: 1, config: { retention.ms: "-1" } }
  - { name: st-hx-ref, partitions: 1, config: { retention.ms: "-1" } }
  - { name: g-st-hx-in-changelog, partitions: 2, config: { cleanup.policy: compact } }
sources: [ { name: x, type: generator, count: 1 } ]
pipelines: [ { name: x, from: x, to: [ { type: console } ] } ]
Y
expect_code "topics apply" 0 timeout 120 "$EDDY" topics apply -c "$TMP/topics.yaml"

# load NAME TOPIC COUNT KEYS RATE [SEED]: COUNT generated records into TOPIC
load_cfg() {
    cat >"$TMP/load-$1.yaml" <<Y
worker: { name: load-$1, admin: { enabled: false } }
kafka: { brokers: "$B" }
sources:
  - name: gen
    type: generator
    count: $3
    rate: $5
    keys: $4
    key_field: user
    seed: ${6:-7}
    fields: { amount: "uniform(0, 100)", id: "seq()" }
pipelines:
  - { name: load, from: gen, to: [ { type: kafka, topic: "$2", format: json } ] }
Y
}
load() {
    load_cfg "$@"
    timeout 120 "$EDDY" run -c "$TMP/load-$1.yaml" >/dev/null 2>"$TMP/load-$1.log" || bad "load $1"
}

# win_cfg NAME GROUP IN OUT SIZE STOP_AT_END STATE PORT: a keyed tumbling window
win_cfg() {
    cat >"$TMP/$1.yaml" <<Y
worker: { name: $1, admin: { enabled: true, listen: "127.0.0.1:$8" }, flush_interval: 100ms }
kafka: { brokers: "$B", group: $2, properties: { session.timeout.ms: "6000" } }
state: { enabled: $7 }
sources:
  - { name: in, type: kafka, topics: [ $3 ], format: json, stop_at_end: $6 }
pipelines:
  - name: p
    from: in
    steps:
      - name: win
        window: { size: $5, key: [ user ], aggregate: { n: "count()", total: "sum(amount)" } }
    to:
      - { type: kafka, topic: $4, format: json }
Y
}

# records_in PORT: what the worker's source has read so far
records_in() {
    curl -fs "http://127.0.0.1:$1/metrics" 2>/dev/null |
        awk '/^eddy_source_records_total/ { s += $NF } END { print s + 0 }'
}

# wait_records PORT N: until the worker has read N records (30 s at most)
wait_records() {
    local i
    for i in $(seq 1 300); do
        [ "$(records_in "$1")" -ge "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

# out TOPIC: every record value of TOPIC as JSON lines in $TMP/TOPIC.jsonl
out() {
    kcat -C -b "$B" -t "$1" -e -q -f '%s\n' >"$TMP/$1.jsonl" 2>/dev/null
}

# interrupted_flush CHANGELOG: what a crash in the middle of a commit leaves
# behind: a record after the last position marker, here a tombstone of the
# window's key (kind 0). A restore must not apply it (the input it came from
# is read again): applied, it would delete the key's 1,000 counted records.
interrupted_flush() {
    python3 - "$B" "$1" <<'PY' || bad "could not append a record after the last marker"
import subprocess, sys
b, topic = sys.argv[1], sys.argv[2]
raw = subprocess.run(["kcat", "-C", "-b", b, "-t", topic, "-e", "-q", "-f", "%K %S\n%k%s\n"],
                     capture_output=True, check=True).stdout
i, key = 0, None
while i < len(raw):
    nl = raw.index(b"\n", i)
    kl, vl = (int(x) for x in raw[i:nl].split())
    k = raw[nl + 1:nl + 1 + kl]
    i = nl + 1 + kl + max(vl, 0) + 1
    if k[:1] == b"\x00" and vl > 0:
        key = k
assert key, "no window key in the changelog"
subprocess.run(["kcat", "-P", "-b", b, "-t", topic, "-p", "0", "-K", "@@K@@", "-D", "@@M@@", "-Z"],
               input=key + b"@@K@@" + b"@@M@@", check=True)
PY
}

# restored LOG: "CACHE CHANGELOG APPLIED" summed over the log's restores
restored() {
    python3 - "$1" <<'PY'
import re, sys
c = l = a = 0
for m in re.finditer(r"state restored: (\d+) record\(s\) from the local cache and (\d+) "
                     r"changelog record\(s\) from offset \d+, (\d+) applied", open(sys.argv[1]).read()):
    c += int(m.group(1)); l += int(m.group(2)); a += int(m.group(3))
print(c, l, a)
PY
}

# ---- a. SIGTERM is not the end of a window ---------------------------------------
repro() { # NAME GROUP IN OUT STATE
    local port
    port=$(free_port)
    win_cfg "$1" "$2" "$3" "$4" 10s false "$5" "$port"
    load "$1-1" "$3" 1000 1 0
    "$EDDY" run -c "$TMP/$1.yaml" >/dev/null 2>"$TMP/$1-1.log" &
    local pid=$!
    pids+=("$pid")
    wait_http "http://127.0.0.1:$port/healthz" 20
    wait_records "$port" 1000 || bad "$1: the first run did not read 1000 records"
    sleep 0.5 # a commit or two
    kill -TERM "$pid"
    wait "$pid"
    local code=$?
    check "$1: SIGTERM exits 0 (got $code)" [ "$code" = 0 ]
    out "$4"
    check "$1: nothing emitted at SIGTERM" [ ! -s "$TMP/$4.jsonl" ]
    [ "$5" = true ] && interrupted_flush "$2-in-changelog"
    load "$1-2" "$3" 1000 1 0
    win_cfg "$1" "$2" "$3" "$4" 10s true "$5" "$port"
    timeout -s KILL 120 "$EDDY" run -c "$TMP/$1.yaml" >/dev/null 2>"$TMP/$1-2.log" ||
        { bad "$1: the bounded restart failed"; tail -5 "$TMP/$1-2.log" >&2; }
    out "$4"
}
repro a g-st-a st-a st-a-out true
check "a: exactly one result with n=2000 ($(cat "$TMP/st-a-out.jsonl" | tr '\n' ' '))" python3 - "$TMP/st-a-out.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
sys.exit(0 if len(rows) == 1 and rows[0]["n"] == 2000 else 1)
PY
# c. that restart read its state from the changelog (there is no local cache)
check "c: the restart restored from the changelog" \
    grep -qE 'state restored: [1-9][0-9]* changelog record' "$TMP/a-2.log"
check "c: and started after the state's last offset" grep -q 'start_offset=1000' "$TMP/a-2.log"
check "a: a record after the last marker (an interrupted commit) is dropped, not applied" \
    grep -q 'dropped 1 changelog record(s) written after the last complete commit' "$TMP/a-2.log"

# The control: the same steps without durable state lose the first 1,000.
repro a-off g-st-a-off st-a-off st-a-off-out false
check "control: without state the window comes out short (n=1000)" python3 - "$TMP/st-a-off-out.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
sys.exit(0 if len(rows) == 1 and rows[0]["n"] == 1000 else 1)
PY

# ---- d. a changed window is refused; a missing changelog too --------------------------
port=$(free_port)
win_cfg d g-st-a st-a st-a-out 20s true true "$port"
expect_code "d: changed size refused at start-up" 1 timeout -s KILL 60 "$EDDY" run -c "$TMP/d.yaml"
expect_out "d: the sentence names pipeline, step and change" \
    "pipeline p, step win: the state in g-st-a-in-changelog[0] was written with size=10s, the config says size=20s"
win_cfg d2 g-st-nochangelog st-a st-a-out 10s true true "$port"
expect_code "d: missing changelog refused" 1 timeout -s KILL 60 "$EDDY" run -c "$TMP/d2.yaml"
expect_out "d: the sentence names the topic and eddy topics apply" \
    "changelog topic g-st-nochangelog-in-changelog, which does not exist"
expect_out "d: ... and eddy topics apply" "eddy topics apply"
expect_code "d: eddy topics plan lists the missing changelog" 5 "$EDDY" topics plan -c "$TMP/d2.yaml"
expect_out "d: ... compacted, with the input's partitions" \
    "+ create g-st-nochangelog-in-changelog (partitions 1, replication 1, cleanup.policy=compact)"

# ---- b. kill loop -----------------------------------------------------------------------
# STATE_B=false runs the loop without durable state: the check then fails
# (windows short or missing), which shows it would catch a regression.
N=${STATE_RECORDS:-120000}
load_cfg b st-b "$N" 500 2000
"$EDDY" run -c "$TMP/load-b.yaml" >/dev/null 2>"$TMP/load-b.log" &
loader=$!
pids+=("$loader")
port=$(free_port)
win_cfg b g-st-b st-b st-b-out 5s false "${STATE_B:-true}" "$port"
# At least 5 SIGKILLs (at most 12) while the loader runs; a SIGTERM after the 2nd.
kill_loop "$TMP/b.yaml" "$TMP/b" "$loader" 5 12 "2"
check "b: several SIGKILLs and a SIGTERM landed" [ "$kills" -ge 5 -a "$terms" = 1 ]
win_cfg b g-st-b st-b st-b-out 5s true "${STATE_B:-true}" "$port"
timeout -s KILL 300 "$EDDY" run -c "$TMP/b.yaml" >/dev/null 2>"$TMP/b-final.log" ||
    { bad "b: the final run failed"; tail -5 "$TMP/b-final.log" >&2; }
# The reference: one failure-free run over the same input.
win_cfg bref g-st-b-ref st-b st-b-ref 5s true false "$port"
timeout -s KILL 300 "$EDDY" run -c "$TMP/bref.yaml" >/dev/null 2>"$TMP/bref.log" ||
    { bad "b: the reference run failed"; tail -5 "$TMP/bref.log" >&2; }
out st-b-out
out st-b-ref
check "b: every window present, none short (at-least-once)" \
    python3 "$SRC/tests/integration/state_check.py" "$TMP/st-b-ref.jsonl" "$TMP/st-b-out.jsonl" "$N"

# ---- g. rebalances: a second worker joins, the first is killed -------------------------
# Partitions move between workers with their state: the one giving a
# partition up writes its state before committing (revoke), the one taking
# it restores it first; a killed worker's partitions are restored by the
# survivor once the group notices (session.timeout.ms).
G=${STATE_G_RECORDS:-60000}
load_cfg g st-g "$G" 300 1500
"$EDDY" run -c "$TMP/load-g.yaml" >/dev/null 2>"$TMP/load-g.log" &
loader=$!
pids+=("$loader")
# The workers share a local cache directory (state.cache_dir), as workers
# on one host would: a partition given up cleanly is restored from its file
# by the other, a killed worker's files (no trailer) are ignored.
g_cache() { sed -i "s|^state: .*|state: { enabled: true, cache_dir: \"$TMP/cache-g\" }|" "$TMP/$1.yaml"; }
win_cfg g1 g-st-g st-g st-g-out 5s false true "$(free_port)"
win_cfg g2 g-st-g st-g st-g-out 5s false true "$(free_port)"
g_cache g1
g_cache g2
"$EDDY" run -c "$TMP/g1.yaml" >/dev/null 2>"$TMP/g1.log" &
w1=$!
pids+=("$w1")
sleep 8
"$EDDY" run -c "$TMP/g2.yaml" >/dev/null 2>"$TMP/g2.log" &
w2=$!
pids+=("$w2")
# The join is a cooperative rebalance in two rounds; on a loaded machine it
# can take tens of seconds. Wait (up to 120 s) until the first worker has
# given partitions up and the second has restored them, then kill the first.
for i in $(seq 1 1200); do
    grep -q "partition revoked: flushed and committed" "$TMP/g1.log" &&
        grep -q "state restored" "$TMP/g2.log" && break
    sleep 0.1
done
sleep 5
kill -KILL "$w1"; wait "$w1" 2>/dev/null
wait "$loader" || bad "g: the loader failed"
for i in $(seq 1 300); do [ "$(grep -c 'state restored' "$TMP/g2.log")" -ge 4 ] && break; sleep 0.1; done
sleep 2
kill -TERM "$w2"; wait "$w2" || bad "g: the surviving worker did not stop cleanly"
if grep -q "partition revoked: flushed and committed" "$TMP/g1.log"; then ok; else
    bad "g: the joining worker restored partitions given up by the first (no revoke in 120 s)"
    echo "  expected 'partition revoked: flushed and committed' in the first worker's log; its last lines:" >&2
    tail -n 8 "$TMP/g1.log" >&2
    echo "  the joining worker's last lines:" >&2
    tail -n 8 "$TMP/g2.log" >&2
fi
check "g: the survivor took over the killed worker's partitions" \
    [ "$(grep -c 'state restored' "$TMP/g2.log")" -ge 4 ]
win_cfg g3 g-st-g st-g st-g-out 5s true true "$(free_port)"
g_cache g3
timeout -s KILL 300 "$EDDY" run -c "$TMP/g3.yaml" >/dev/null 2>"$TMP/g3.log" || bad "g: the final run failed"
win_cfg gref g-st-g-ref st-g st-g-ref 5s true false "$(free_port)"
timeout -s KILL 300 "$EDDY" run -c "$TMP/gref.yaml" >/dev/null 2>"$TMP/gref.log" || bad "g: the reference failed"
out st-g-out
out st-g-ref
read -r c l a < <(restored "$TMP/g2.log")
check "g: the joining worker restored a partition the first gave up from its cache file ($c cached records)" \
    [ "$c" -gt 0 ]
read -r c l a < <(restored "$TMP/g3.log")
check "g: the final run restored from the cache files the survivor sealed ($c cached, $l changelog records)" \
    [ "$c" -gt 0 ]
check "g: every window present and complete across rebalances" \
    python3 "$SRC/tests/integration/state_check.py" "$TMP/st-g-ref.jsonl" "$TMP/st-g-out.jsonl" "$G"

# ---- e. a plugin's host-managed state (the template's state_put counter) -----------------
mkdir -p "$TMP/plugin"
cc -O2 -I"$SRC/include" -fPIC -shared -o "$TMP/plugin/scale.so" "$SRC/examples/operator-template/scale.c" ||
    bad "e: the template plugin does not build"
cat >"$TMP/e.yaml" <<Y
worker: { name: e, admin: { enabled: false }, flush_interval: 100ms, plugin_dirs: [ "$TMP/plugin" ] }
kafka: { brokers: "$B", group: g-st-e }
sources:
  - { name: in, type: kafka, topics: [ st-e ], format: json, stop_at_end: true }
pipelines:
  - name: p
    from: in
    steps:
      - { name: sc, scale: { field: amount, factor: 2 } }
    to: [ { type: file, path: "$TMP/e.out", format: json } ]
Y
load e1 st-e 500 5 0
timeout -s KILL 120 "$EDDY" run -c "$TMP/e.yaml" >/dev/null 2>"$TMP/e-1.log" || bad "e: first run"
load e2 st-e 300 5 0
timeout -s KILL 120 "$EDDY" run -c "$TMP/e.yaml" >/dev/null 2>"$TMP/e-2.log" || bad "e: second run"
# The plugin's "seen" key (kind 4) in the changelog: its last value is the
# total over both runs only if the second run got the first one's back.
check "e: the plugin's state_put total survived the restart (800)" python3 - "$B" <<'PY'
import subprocess, struct, sys
raw = subprocess.run(["kcat", "-C", "-b", sys.argv[1], "-t", "g-st-e-in-changelog", "-e", "-q",
                      "-f", "%K %S\n%k%s\n"], capture_output=True).stdout
last = None
i = 0
while i < len(raw):
    nl = raw.index(b"\n", i)
    kl, vl = (int(x) for x in raw[i:nl].split())
    rec = raw[nl + 1:nl + 1 + kl + max(vl, 0)]
    i = nl + 1 + kl + max(vl, 0) + 1
    key, val = rec[:kl], rec[kl:]
    if key[:1] == b"\x04" and key[5:] == b"seen" and vl > 0:
        last = struct.unpack("<Q", val[7:15])[0]
print(f"plugin state total: {last}", file=sys.stderr)
sys.exit(0 if last == 800 else 1)
PY

# ---- t. a snapshot-only operator (ABI 1.0/1.1 style) and its host timers --------------------
# tests/integration/plugins/snap_timer.c counts records (whole snapshot)
# and arms an event-time timer 5 s after its first record; the worker stops
# (SIGTERM) before the timer is due and restarts on input far past it: the
# count goes on from 100 and the timer fires once, after the restart.
mkdir -p "$TMP/plugin-t"
cc -O2 -I"$SRC/include" -fPIC -shared -o "$TMP/plugin-t/snap_timer.so" \
    "$SRC/tests/integration/plugins/snap_timer.c" || bad "t: the snapshot plugin does not build"
t_cfg() { # STOP_AT_END PORT
    cat >"$TMP/t.yaml" <<Y
worker: { name: t, admin: { enabled: true, listen: "127.0.0.1:$2" }, flush_interval: 100ms, plugin_dirs: [ "$TMP/plugin-t" ] }
kafka: { brokers: "$B", group: g-st-t }
sources:
  - { name: in, type: kafka, topics: [ st-t ], format: json, stop_at_end: $1 }
pipelines:
  - { name: p, from: in, steps: [ { name: st, snap_timer: {} } ], to: [ { type: file, path: "$TMP/t.out", format: json } ] }
Y
}
t_load() { # START_MS
    cat >"$TMP/load-t.yaml" <<Y
worker: { name: load-t, admin: { enabled: false } }
kafka: { brokers: "$B" }
sources: [ { name: gen, type: generator, count: 100, start_time: $1, fields: { arm: "bernoulli(1)" } } ]
pipelines: [ { name: load, from: gen, to: [ { type: kafka, topic: st-t, format: json } ] } ]
Y
    timeout 120 "$EDDY" run -c "$TMP/load-t.yaml" >/dev/null 2>&1 || bad "t: load"
}
port=$(free_port)
t_load 1767225600000
t_cfg false "$port"
"$EDDY" run -c "$TMP/t.yaml" >/dev/null 2>"$TMP/t-1.log" &
pid=$!
pids+=("$pid")
wait_http "http://127.0.0.1:$port/healthz" 20
wait_records "$port" 100 || bad "t: the first run did not read 100 records"
sleep 0.5
kill -TERM "$pid"
wait "$pid" || bad "t: SIGTERM did not exit 0"
t_load 1767225660000
t_cfg true "$port"
timeout -s KILL 120 "$EDDY" run -c "$TMP/t.yaml" >/dev/null 2>"$TMP/t-2.log" || bad "t: the restart failed"
check "t: the snapshot-only operator's count (200) and its timer (fired once) survived" python3 - "$B" <<'PY'
import struct, subprocess, sys
raw = subprocess.run(["kcat", "-C", "-b", sys.argv[1], "-t", "g-st-t-in-changelog", "-e", "-q",
                      "-f", "%K %S\n%k%s\n"], capture_output=True).stdout
last, i = None, 0
while i < len(raw):
    nl = raw.index(b"\n", i)
    kl, vl = (int(x) for x in raw[i:nl].split())
    key, val = raw[nl + 1:nl + 1 + kl], raw[nl + 1 + kl:nl + 1 + kl + max(vl, 0)]
    i = nl + 1 + kl + max(vl, 0) + 1
    if key[:1] == b"\x05" and vl == 7 + 24:
        last = struct.unpack("<QQQ", val[7:])
print(f"snapshot (count, fired, armed): {last}", file=sys.stderr)
sys.exit(0 if last == (200, 1, 1) else 1)
PY

# ---- f. zscore across a SIGTERM (per-key state since i12-det; it was the whole-snapshot fallback) ----
zs_cfg() { # NAME GROUP OUT STOP_AT_END STATE PORT
    cat >"$TMP/$1.yaml" <<Y
worker: { name: $1, admin: { enabled: true, listen: "127.0.0.1:$6" }, flush_interval: 100ms }
kafka: { brokers: "$B", group: $2 }
state: { enabled: $5 }
sources:
  - { name: in, type: kafka, topics: [ st-f ], format: json, stop_at_end: $4 }
pipelines:
  - name: p
    from: in
    steps:
      - { name: z, zscore: { field: amount, key: [ user ], window: 50 } }
    to: [ { type: kafka, topic: $3, format: json } ]
Y
}
port=$(free_port)
load f1 st-f 600 5 0 11
zs_cfg f g-st-f st-f-out false true "$port"
"$EDDY" run -c "$TMP/f.yaml" >/dev/null 2>"$TMP/f-1.log" &
pid=$!
pids+=("$pid")
wait_http "http://127.0.0.1:$port/healthz" 20
wait_records "$port" 600 || bad "f: the first run did not read 600 records"
sleep 0.5
kill -TERM "$pid"
wait "$pid" || bad "f: SIGTERM did not exit 0"
load f2 st-f 400 5 0 12
zs_cfg f g-st-f st-f-out true true "$port"
timeout -s KILL 120 "$EDDY" run -c "$TMP/f.yaml" >/dev/null 2>"$TMP/f-2.log" || bad "f: the restart failed"
zs_cfg fref g-st-f-ref st-f-ref true false "$port"
timeout -s KILL 120 "$EDDY" run -c "$TMP/fref.yaml" >/dev/null 2>"$TMP/fref.log" || bad "f: the reference failed"
out st-f-out
out st-f-ref
check "f: zscore scores across a SIGTERM equal an uninterrupted run's" python3 - "$TMP/st-f-ref.jsonl" "$TMP/st-f-out.jsonl" <<'PY'
import collections, json, sys
def rows(p):
    return collections.Counter((r["user"], r["amount"], r["z_score"]) for r in map(json.loads, filter(str.strip, open(p))))
ref, out = rows(sys.argv[1]), rows(sys.argv[2])
print(f"zscore: {sum(ref.values())} reference rows, {sum(out.values())} rows, "
      f"{sum((ref - out).values())} differ", file=sys.stderr)
sys.exit(0 if ref == out and sum(ref.values()) == 1000 else 1)
PY

# The embedded broker (librdkafka's mock cluster) cannot honour transactions:
# exactly_once there says so in one sentence and runs at-least-once.
cat >"$TMP/eos-embedded.yaml" <<Y
worker: { name: eos-embedded, admin: { enabled: false }, run_for: 3s }
kafka: { brokers: embedded }
processing: { guarantee: exactly_once }
sources:
  - { name: in, type: kafka, topics: [ emb ], format: json }
pipelines:
  - { name: p, from: in, steps: [ { name: w, window: { size: 1s, aggregate: { n: "count()" } } } ], to: [ { type: console } ] }
Y
expect_code "exactly_once on the embedded broker runs (at-least-once)" 0 timeout -s KILL 60 "$EDDY" run -c "$TMP/eos-embedded.yaml"
expect_out "exactly_once on the embedded broker: the sentence" \
    "exactly_once is not available with kafka.brokers: embedded"
check "exactly_once on the embedded broker: said once" [ "$(grep -c 'not available with kafka.brokers: embedded' "$TMP/out")" = 1 ]
# exactly_once without durable state is refused: a restart would lose what
# the committed offsets cover.
sed 's/^state: .*/state: { enabled: false }\nprocessing: { guarantee: exactly_once }/' "$TMP/a.yaml" >"$TMP/eos.yaml"
expect_code "exactly_once without state refused" 3 "$EDDY" validate -c "$TMP/eos.yaml"
expect_out "exactly_once without state: the sentence" "exactly_once needs durable state"

# ---- h. the local cache (state.cache_dir) -----------------------------------------------
# h_run P NAME STOP_AT_END [SIGNAL]: a run of suite P's cached window
# (input st-P, group g-st-P, $HEOS: exactly_once); unbounded runs are
# stopped (SIGTERM) once both partitions are restored
h_run() {
    local port
    port=$(free_port)
    win_cfg "$1" "g-st-$1" "st-$1" "st-$1-out" 1h "$3" true "$port"
    sed -i "s|^state: .*|state: { enabled: true, cache_dir: \"$TMP/cache-$1\" }|" "$TMP/$1.yaml"
    [ "$HEOS" = true ] && echo "processing: { guarantee: exactly_once }" >>"$TMP/$1.yaml"
    if [ "$3" = true ]; then
        timeout -s KILL 120 "$EDDY" run -c "$TMP/$1.yaml" >/dev/null 2>"$TMP/$2.log" ||
            { bad "$1: $2 failed"; tail -5 "$TMP/$2.log" >&2; }
        return
    fi
    "$EDDY" run -c "$TMP/$1.yaml" >/dev/null 2>"$TMP/$2.log" &
    local pid=$!
    pids+=("$pid")
    wait_http "http://127.0.0.1:$port/healthz" 20
    local i
    for i in $(seq 1 300); do
        [ "$(grep -c 'state restored' "$TMP/$2.log")" -ge 2 ] && break
        sleep 0.1
    done
    [ "$2" = "$1-1" ] && { wait_records "$port" 1000 || bad "$1: $2 did not read 1000 records"; }
    sleep 0.5
    kill -"${4:-TERM}" "$pid"
    wait "$pid" 2>/dev/null
}
# cache_suite P: warm, cold, crashed and bounded runs, then the output
# against an uninterrupted run's
cache_suite() {
    local p=$1 c l a ac
    load "$p-1" "st-$p" 1000 6 0 21
    h_run "$p" "$p-1" false
    check "$p: a cache file per partition" \
        [ -s "$TMP/cache-$p/g-st-$p-in-changelog/0-st-$p.log" -a -s "$TMP/cache-$p/g-st-$p-in-changelog/1-st-$p.log" ]
    h_run "$p" "$p-2" false # warm
    read -r c l a < <(restored "$TMP/$p-2.log")
    check "$p: the warm restart restored from the cache ($c cached, $l changelog records, $a applied)" \
        [ "$c" -gt 0 -a "$l" -le 2 -a "$a" -gt 0 ]
    ac=$a
    rm -rf "$TMP/cache-$p"
    h_run "$p" "$p-3" false # cold: the cache is gone
    read -r c l a < <(restored "$TMP/$p-3.log")
    check "$p: without the cache the restart read the changelog ($c cached, $l changelog records)" \
        [ "$c" = 0 -a "$l" -gt 0 ]
    check "$p: cold and warm restores applied the same records ($a, $ac)" [ "$a" = "$ac" ]
    h_run "$p" "$p-4" false KILL # a crash: its files keep no trailer
    h_run "$p" "$p-5" false
    check "$p: a crashed worker's cache is ignored" \
        grep -q "ignoring the local state cache.*did not stop cleanly" "$TMP/$p-5.log"
    read -r c l a < <(restored "$TMP/$p-5.log")
    check "$p: ... and the changelog read instead ($c cached, $l changelog records, $a applied)" \
        [ "$c" = 0 -a "$l" -gt 0 -a "$a" = "$ac" ]
    load "$p-6" "st-$p" 1000 6 0 22
    h_run "$p" "$p-6" true # warm, to the end: the windows close
    read -r c l a < <(restored "$TMP/$p-6.log")
    check "$p: the bounded restart restored from the cache ($c cached, $l changelog records)" \
        [ "$c" -gt 0 -a "$l" -le 2 ]
    win_cfg "$p-ref" "g-st-$p-ref" "st-$p" "st-$p-ref" 1h true false "$(free_port)"
    timeout -s KILL 120 "$EDDY" run -c "$TMP/$p-ref.yaml" >/dev/null 2>"$TMP/$p-ref.log" ||
        bad "$p: the reference failed"
    out "st-$p-out"
    out "st-$p-ref"
    check "$p: the windows equal an uninterrupted run's" python3 - "$TMP/st-$p-ref.jsonl" "$TMP/st-$p-out.jsonl" <<'PY'
import json, sys
def rows(p):
    return sorted((r["user"], r["n"], round(r["total"], 6)) for r in map(json.loads, filter(str.strip, open(p))))
ref, out = rows(sys.argv[1]), rows(sys.argv[2])
print(f"cache: {len(ref)} reference windows, {len(out)} windows, n {sum(r[1] for r in out)}", file=sys.stderr)
sys.exit(0 if ref == out and sum(r[1] for r in ref) == 2000 else 1)
PY
}
HEOS=false cache_suite h
# Exactly-once: the file takes records only once their transaction
# committed, and its offset comes from the transactional producer's reports.
HEOS=true cache_suite hx

# processing.guarantee: exactly_once is accepted (test_state_detectors.sh
# runs it, STATE_MODE=eos).
sed 's/^state: .*/processing: { guarantee: exactly_once }/' "$TMP/a.yaml" >"$TMP/eos.yaml"
expect_code "exactly_once accepted" 0 "$EDDY" validate -c "$TMP/eos.yaml"

echo "state: $passed passed, $failed failed" >&2
[ "$failed" = 0 ]
