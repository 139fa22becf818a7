# Shared by the integration tests: assertions, a temp dir, and cleanup that
# stops every process a test started, even when the test fails.
set -u
EDDY=${EDDY:?path to the eddy binary}
SRC=${EDDY_SRC:?source root}
BUILD=${EDDY_BUILD:?build root}
passed=0
failed=0
pids=()
TMP=$(mktemp -d "${TMPDIR:-/tmp}/eddy-test.XXXXXX")

cleanup() {
    for p in "${pids[@]}"; do
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    if [ -n "${EDDY_KEEP_TMP:-}" ]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }

# check NAME CMD...: passes when CMD succeeds
check() {
    local name=$1
    shift
    if "$@"; then ok; else bad "$name"; fi
}

# expect_code NAME CODE CMD...: runs CMD, output in $TMP/out, checks the exit code
expect_code() {
    local name=$1 code=$2
    shift 2
    "$@" >"$TMP/out" 2>&1
    local got=$?
    if [ "$got" = "$code" ]; then ok; else bad "$name: exit $got, expected $code; output:"; sed 's/^/    /' "$TMP/out" >&2; fi
}

# expect_out NAME TEXT: the last command's output contains TEXT
expect_out() {
    if grep -qF -- "$2" "$TMP/out"; then ok; else bad "$1: output lacks '$2'; output:"; sed 's/^/    /' "$TMP/out" >&2; fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_http URL [SECONDS]: waits until URL answers
wait_http() {
    local i
    for i in $(seq 1 $((${2:-10} * 10))); do
        curl -fs -o /dev/null "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# kafka_start: a real broker for this test (scripts/kafka.sh: Kafka 4.1.1,
# or EDDY_KAFKA_VERSION; KRaft on loopback, free ports), stopped when the
# test exits, even on
# failure. Sets KAFKA (the script), B (bootstrap servers) and the
# KAFKA_* variables the script exports (SASL/TLS listeners, CA).
kafka_start() {
    KAFKA=$SRC/scripts/kafka.sh
    export EDDY_KAFKA_PORTS=auto
    unset KAFKA_DIR KAFKA_BROKERS
    "$KAFKA" fetch >/dev/null || { echo "FAIL: scripts/kafka.sh fetch" >&2; exit 1; }
    kafka_dir=""
    stop_broker() { [ -n "$kafka_dir" ] && "$KAFKA" stop "$kafka_dir" >/dev/null 2>&1; kafka_dir=""; }
    trap 'stop_broker; cleanup' EXIT
    trap 'exit 143' TERM
    trap 'exit 130' INT
    if ! "$KAFKA" start >"$TMP/env" 2>"$TMP/start.err"; then
        cat "$TMP/start.err" >&2
        echo "FAIL: broker did not start" >&2
        exit 1
    fi
    # Exported, so that scripts/kafka.sh's admin commands (topic create, ...)
    # reach this test's broker: without KAFKA_DIR/KAFKA_BROKERS they fall
    # back to the most recently started broker on the machine, which is
    # another test's when two suites run at once.
    set -a
    . "$TMP/env"
    set +a
    kafka_dir=$KAFKA_DIR
    B=$KAFKA_BROKERS
}

# kafka_topic NAME PARTITIONS [KEY=VALUE...]: creates a topic on this
# test's broker. On a loaded machine the topic tool (a JVM) can time out:
# it is retried for up to 90 s, and a final failure prints what the tool
# said and whether the topic exists after all.
kafka_topic() {
    local deadline=$((SECONDS + 90)) out
    while :; do
        if out=$("$KAFKA" topic create "$@" 2>&1); then
            ok
            return 0
        fi
        case $out in *"already exists"*) ok; return 0 ;; esac
        [ $SECONDS -ge $deadline ] && break
        sleep 2
    done
    bad "create topic $1 (partitions $2): the topic tool said: $(echo "$out" | tail -5)"
    return 1
}

# kill_loop CFG LOG LOADER MIN MAX "TERM_AT...": runs `eddy run -c CFG`
# (logs LOG-1, LOG-2, ...) and stops it at random moments (0.3-2.5 s after
# it got its partitions) while the LOADER process runs, restarting it each
# time: a SIGTERM (must exit 0) when the SIGKILL count so far is one of
# TERM_AT, a SIGKILL otherwise; until MAX SIGKILLs, or the loader ended
# and MIN SIGKILLs landed. The last run is killed too. Sets kills, terms
# and runs; waits for the loader (a failed loader is a failed check).
kill_loop() {
    local cfg=$1 log=$2 loader=$3 min=$4 max=$5 term_at=" $6 " pid i code term_done=-1
    kills=0 terms=0 runs=0
    start_run() {
        runs=$((runs + 1))
        "$EDDY" run -c "$cfg" >/dev/null 2>"$log-$runs.log" &
        pid=$!
        pids+=("$pid")
        # A kill lands while the run processes: after its assignment (a
        # restarted worker waits out the killed one's session first); and
        # a SIGTERM before the first assignment would hit librdkafka
        # 2.0.2's cooperative-sticky abort (issue 4312), not what is tested.
        for i in $(seq 1 300); do
            grep -q "kafka partitions assigned" "$log-$runs.log" && break
            sleep 0.1
        done
    }
    start_run
    while kill -0 "$loader" 2>/dev/null || [ "$kills" -lt "$min" ]; do
        sleep "$(python3 -c 'import random; print(round(random.uniform(0.3, 2.5), 2))')"
        # One SIGTERM at each listed SIGKILL count (term_done: the count of
        # the last one, so the next stop at that count is a SIGKILL).
        if [[ "$term_at" == *" $kills "* ]] && [ "$term_done" != "$kills" ]; then
            term_done=$kills
            kill -TERM "$pid"
            wait "$pid"
            code=$?
            check "SIGTERM exits 0 (got $code, run $runs)" [ "$code" = 0 ]
            terms=$((terms + 1))
        else
            kill -KILL "$pid"
            wait "$pid" 2>/dev/null
            kills=$((kills + 1))
        fi
        [ "$kills" -ge "$max" ] && break
        start_run
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    wait "$loader" || bad "the loader failed"
    echo "kill loop: $kills SIGKILL(s), $terms SIGTERM(s), $runs run(s)" >&2
}

finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ]
    exit $?
}
