#!/usr/bin/env bash
# A real Apache Kafka broker for eddy's integration tests and benchmarks.
#
#   scripts/kafka.sh fetch                  download the broker jars (cached)
#   scripts/kafka.sh start [DIR]            start a broker, print KAFKA_* vars
#   scripts/kafka.sh stop [DIR]             stop it, remove its temp dir
#   scripts/kafka.sh status [DIR]           exit 0 when it is running
#   scripts/kafka.sh topic create NAME PARTITIONS [KEY=VALUE...]
#   scripts/kafka.sh topic delete NAME | topic list | topic describe NAME
#   scripts/kafka.sh tool CLASS ARGS...     run any Kafka CLI class
#   scripts/kafka.sh run -- CMD ARGS...     start, run CMD, always stop
#
# The broker comes from Maven Central (org.apache.kafka:kafka_2.13) because
# no other download source is available; the jars are cached outside the
# repository in ${EDDY_CACHE:-~/.cache/eddy}/kafka-VERSION/libs.
#
# Version: Kafka 4.1.1 by default, what users run today. Debian 12's
# librdkafka 2.0.2 works with it for produce/consume, consumer groups and
# commits, the idempotent producer, transactions (exactly-once), the admin
# API (`eddy topics`) and PLAINTEXT/SSL, but its SASL/SCRAM fails against
# every 4.x broker with "invalid credentials": librdkafka before 2.6.1
# repeats the client nonce in the SCRAM client-final-message and Kafka 4.x
# checks the nonce strictly (RFC 5802), see librdkafka PR #4895. So the
# tests that log in with SCRAM (test_kafka.sh, test_kafka_harness.sh) pin
# EDDY_KAFKA_VERSION=3.9.2, the last 3.x release, which passes all of it.
# EDDY_KAFKA_VERSION=X.Y.Z selects another; both lines work with this script.
#
# One node is both broker and controller (KRaft), bound to 127.0.0.1 only:
#   PLAINTEXT       ${EDDY_KAFKA_PORT:-19092}
#   SASL_PLAINTEXT  ${EDDY_KAFKA_SASL_PORT:-19093}  SCRAM-SHA-256/512,
#                   user eddy, password eddy-secret
#   SSL             ${EDDY_KAFKA_SSL_PORT:-19094}   self-signed CA in DIR/tls/ca.pem
#   controller      ${EDDY_KAFKA_CONTROLLER_PORT:-19095}
# EDDY_KAFKA_PORTS=auto picks four free ports instead.
#
# stdout carries only KEY=VALUE lines meant for eval; progress goes to stderr.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KAFKA_VERSION=${EDDY_KAFKA_VERSION:-4.1.1}
case $KAFKA_VERSION in
[0-9].* | [1-9][0-9].*) ;;
*) echo "kafka: error: EDDY_KAFKA_VERSION '$KAFKA_VERSION' is not a version" >&2 && exit 1 ;;
esac
KAFKA_MAJOR=${KAFKA_VERSION%%.*}
# Kafka 3.x logs through reload4j (log4j 1), 4.x through log4j2; both get a
# file config here. The log4j2 binding matches the log4j-core that Kafka 4.x
# itself depends on; reload4j is the release Kafka 3.9 ships, not the older
# one slf4j-reload4j would pull in.
dep() { printf '<dependency><groupId>%s</groupId><artifactId>%s</artifactId><version>%s</version></dependency>' "$@"; }
if [ "$KAFKA_MAJOR" -ge 4 ]; then
    LOGGING_DEPENDENCIES=$(dep org.apache.logging.log4j log4j-slf4j-impl "${EDDY_KAFKA_LOG4J_VERSION:-2.24.3}")
else
    LOGGING_DEPENDENCIES=$(dep org.slf4j slf4j-reload4j 1.7.36)$(dep ch.qos.reload4j reload4j 1.2.25)
fi
CACHE_ROOT=${EDDY_CACHE:-$HOME/.cache/eddy}
CACHE=$CACHE_ROOT/kafka-$KAFKA_VERSION
LIBS=$CACHE/libs
START_TIMEOUT=${EDDY_KAFKA_START_TIMEOUT:-90}
STOP_TIMEOUT=${EDDY_KAFKA_STOP_TIMEOUT:-30}
FETCH_TIMEOUT=${EDDY_KAFKA_FETCH_TIMEOUT:-900}
TOOL_TIMEOUT=${EDDY_KAFKA_TOOL_TIMEOUT:-60}
HEAP=${EDDY_KAFKA_HEAP:-"-Xms512m -Xmx1g"}
SASL_USER=eddy
SASL_PASSWORD=eddy-secret
# Keystore password for the throwaway self-signed certificate; the key
# material is regenerated for every data dir and never leaves it.
TLS_PASSWORD=eddy-tls-secret

say() { echo "kafka: $*" >&2; }
die() {
    echo "kafka: error: $*" >&2
    exit 1
}

usage() {
    sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

need() {
    command -v "$1" >/dev/null 2>&1 || die "'$1' is not installed ($2)"
}

# --- fetch -------------------------------------------------------------------

cache_complete() {
    [ -f "$CACHE/complete" ] && [ -n "$(ls -A "$LIBS" 2>/dev/null)" ]
}

cmd_fetch() {
    cache_complete && return 0
    need java "Java 17 runs the broker; scripts/setup.sh test installs it"
    need mvn "Maven downloads the broker; scripts/setup.sh test installs it"
    mkdir -p "$CACHE"
    # Parallel test runs may all fetch at once: one downloads, the others
    # wait for it and then find the cache complete.
    exec 9>"$CACHE/lock"
    if ! flock -w "$FETCH_TIMEOUT" 9; then
        die "timed out after ${FETCH_TIMEOUT}s waiting for another fetch (lock $CACHE/lock)"
    fi
    if cache_complete; then
        exec 9>&-
        return 0
    fi
    say "fetching org.apache.kafka:kafka_2.13:$KAFKA_VERSION from Maven into $LIBS"
    local work
    work=$(mktemp -d "$CACHE/fetch.XXXXXX")
    sed -e "s|@KAFKA_VERSION@|$KAFKA_VERSION|g" -e "s|@LOGGING_DEPENDENCIES@|$LOGGING_DEPENDENCIES|g" \
        "$HERE/kafka/pom.xml.in" >"$work/pom.xml"
    if ! timeout "$FETCH_TIMEOUT" mvn -B -q -f "$work/pom.xml" \
        dependency:copy-dependencies -DincludeScope=runtime \
        -DoutputDirectory="$work/libs" >"$work/mvn.log" 2>&1; then
        tail -n 30 "$work/mvn.log" >&2
        rm -rf "$work"
        die "Maven could not fetch Kafka $KAFKA_VERSION (log above)"
    fi
    [ -f "$work/libs/kafka_2.13-$KAFKA_VERSION.jar" ] ||
        die "Maven finished but kafka_2.13-$KAFKA_VERSION.jar is missing in $work/libs"
    rm -rf "$LIBS"
    mv "$work/libs" "$LIBS"
    rm -rf "$work"
    touch "$CACHE/complete"
    exec 9>&-
    say "cached $(find "$LIBS" -name '*.jar' | wc -l) jars in $LIBS"
}

# --- helpers -----------------------------------------------------------------

# java_tool CLASS ARGS...: runs a Kafka command-line class with quiet logging.
java_tool() {
    cmd_fetch
    local cls=$1
    shift
    # The admin client retries a dead broker for minutes; the bound keeps a
    # test from hanging on it.
    local rc=0
    timeout -k 5 "$TOOL_TIMEOUT" java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
        -Dlog4j.configuration="file:$HERE/kafka/log4j-tools.properties" \
        -Dlog4j2.configurationFile="$HERE/kafka/log4j2-tools.xml" \
        -cp "$LIBS/*" "$cls" "$@" || rc=$?
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        say "$cls gave no answer within ${TOOL_TIMEOUT}s (is the broker at $(bootstrap) running?)"
    fi
    return "$rc"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

port_busy() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The pid in DIR/kafka.pid, only when it is still this broker's JVM: a stale
# pid file must never make us signal an unrelated process.
broker_pid() {
    local dir=$1 pid
    [ -f "$dir/kafka.pid" ] || return 1
    pid=$(cat "$dir/kafka.pid")
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$dir/server.properties" || return 1
    echo "$pid"
}

# Where `stop` and `topic` look when no DIR is given: $KAFKA_DIR (set by
# `run` and by eval'ing `start`), else the last broker started.
default_dir() {
    if [ -n "${KAFKA_DIR:-}" ]; then
        echo "$KAFKA_DIR"
    elif [ -f "$CACHE_ROOT/kafka-last-dir" ]; then
        cat "$CACHE_ROOT/kafka-last-dir"
    else
        return 1
    fi
}

# Bootstrap address for the admin tools.
bootstrap() {
    if [ -n "${KAFKA_BROKERS:-}" ]; then
        echo "$KAFKA_BROKERS"
        return
    fi
    local dir
    if dir=$(default_dir) && [ -f "$dir/env" ]; then
        sed -n 's/^KAFKA_BROKERS=//p' "$dir/env"
        return
    fi
    echo "127.0.0.1:${EDDY_KAFKA_PORT:-19092}"
}

# --- TLS ---------------------------------------------------------------------

# A CA and a broker certificate for 127.0.0.1/localhost, so clients can verify
# the broker with DIR/tls/ca.pem and no hostname-check exceptions.
make_tls() {
    local tls=$1
    mkdir -p "$tls"
    (
        cd "$tls"
        openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=eddy test CA" \
            -keyout ca.key -out ca.pem
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
            -keyout broker.key -out broker.csr
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' >broker.ext
        openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
            -days 30 -extfile broker.ext -out broker.pem
        openssl pkcs12 -export -in broker.pem -inkey broker.key -certfile ca.pem \
            -name broker -passout "pass:$TLS_PASSWORD" -out broker.p12
    ) >"$tls/openssl.log" 2>&1 || {
        cat "$tls/openssl.log" >&2
        die "openssl could not create the test certificates in $tls"
    }
}

# --- start -------------------------------------------------------------------

write_config() {
    local dir=$1 p=$2 sp=$3 tp=$4 cp=$5
    cat >"$dir/server.properties" <<EOF
# Generated by scripts/kafka.sh: single-node KRaft broker+controller for tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cp
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:$p,SASL_PLAINTEXT://127.0.0.1:$sp,SSL://127.0.0.1:$tp,CONTROLLER://127.0.0.1:$cp
advertised.listeners=PLAINTEXT://127.0.0.1:$p,SASL_PLAINTEXT://127.0.0.1:$sp,SSL://127.0.0.1:$tp
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT

sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;

ssl.keystore.type=PKCS12
ssl.keystore.location=$dir/tls/broker.p12
ssl.keystore.password=$TLS_PASSWORD
ssl.key.password=$TLS_PASSWORD
ssl.client.auth=none

log.dirs=$dir/data
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.check.interval.ms=60000
EOF
    if [ "$KAFKA_MAJOR" -ge 4 ]; then
        # Share groups (KIP-932) exist only in 4.x; 3.x would warn about
        # unknown settings.
        printf '%s\n' share.coordinator.state.topic.replication.factor=1 \
            share.coordinator.state.topic.min.isr=1 >>"$dir/server.properties"
    fi
}

cmd_start() {
    local dir=${1:-} temp=0
    need java "Java 17 runs the broker; scripts/setup.sh test installs it"
    need openssl "it makes the SSL listener's certificates"
    cmd_fetch

    if [ -n "$dir" ]; then
        mkdir -p "$dir"
        dir=$(cd "$dir" && pwd)
        if broker_pid "$dir" >/dev/null; then
            die "a broker is already running in $dir (pid $(cat "$dir/kafka.pid"))"
        fi
    fi

    local p=${EDDY_KAFKA_PORT:-19092} sp=${EDDY_KAFKA_SASL_PORT:-19093}
    local tp=${EDDY_KAFKA_SSL_PORT:-19094} cp=${EDDY_KAFKA_CONTROLLER_PORT:-19095}
    if [ "${EDDY_KAFKA_PORTS:-}" = auto ]; then
        local old=()
        # A restarted dir keeps its ports, so clients of a restart test
        # reconnect to the same addresses.
        if [ -n "$dir" ] && [ -f "$dir/server.properties" ]; then
            read -r -a old < <(sed -n 's/^listeners=//p' "$dir/server.properties" |
                grep -oE ':[0-9]+' | tr -d : | tr '\n' ' ') || true
        fi
        if [ ${#old[@]} = 4 ]; then
            p=${old[0]} sp=${old[1]} tp=${old[2]} cp=${old[3]}
        else
            p=$(free_port) sp=$(free_port) tp=$(free_port) cp=$(free_port)
        fi
    fi
    local port
    for port in "$p" "$sp" "$tp" "$cp"; do
        [[ $port =~ ^[0-9]+$ ]] || die "port '$port' is not a number"
        if port_busy "$port"; then
            die "127.0.0.1:$port is already in use (another broker? 'scripts/kafka.sh stop', or set EDDY_KAFKA_PORTS=auto)"
        fi
    done

    if [ -z "$dir" ]; then
        dir=$(mktemp -d "${TMPDIR:-/tmp}/eddy-kafka.XXXXXX")
        temp=1
    fi
    [ "$temp" = 1 ] && touch "$dir/.eddy-temp"
    say "data dir $dir"
    mkdir -p "$dir/logs"
    [ -f "$dir/tls/broker.p12" ] || make_tls "$dir/tls"
    write_config "$dir" "$p" "$sp" "$tp" "$cp"

    local t0=$SECONDS
    # A dir that was formatted before is restarted with its data (tests of
    # restarts and recovery); a fresh one is formatted with the SCRAM user
    # already in the metadata log, so no extra admin step is needed.
    if [ ! -f "$dir/data/meta.properties" ]; then
        local cluster_id
        # A leading '-' would be read as an option by kafka-storage (Kafka's
        # own random-uuid avoids it the same way).
        cluster_id=-
        while [ "${cluster_id#-}" != "$cluster_id" ]; do
            cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
        done
        if ! java_tool kafka.tools.StorageTool format -t "$cluster_id" \
            -c "$dir/server.properties" \
            --add-scram "SCRAM-SHA-256=[name=$SASL_USER,password=$SASL_PASSWORD]" \
            --add-scram "SCRAM-SHA-512=[name=$SASL_USER,password=$SASL_PASSWORD]" \
            >"$dir/logs/format.log" 2>&1; then
            cat "$dir/logs/format.log" >&2
            die "formatting KRaft storage in $dir/data failed"
        fi
    fi

    # setsid: the broker outlives this script (start/stop are separate
    # commands) and a Ctrl-C meant for a test does not reach it directly;
    # `run` stops it explicitly. setsid forks when it leads a process
    # group, so the JVM's own shell writes the pid before exec'ing it.
    rm -f "$dir/kafka.pid"
    local heap
    read -r -a heap <<<"$HEAP"
    # shellcheck disable=SC2016 # expanded by the inner bash
    setsid bash -c 'echo $$ >"$1/kafka.pid"; shift; exec "$@"' bash "$dir" \
        java "${heap[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
        -Dkafka.logs.dir="$dir/logs" \
        -Dlog4j.configuration="file:$HERE/kafka/log4j-server.properties" \
        -Dlog4j2.configurationFile="$HERE/kafka/log4j2-server.xml" \
        -cp "$LIBS/*" kafka.Kafka "$dir/server.properties" \
        </dev/null >"$dir/logs/stdout.log" 2>&1 &
    local pid="" _
    for _ in $(seq 1 50); do
        pid=$(cat "$dir/kafka.pid" 2>/dev/null || true)
        [ -n "$pid" ] && break
        sleep 0.1
    done
    [ -n "$pid" ] || die "the broker did not start (no pid in $dir/kafka.pid; see $dir/logs/stdout.log)"
    mkdir -p "$CACHE_ROOT"
    echo "$dir" >"$CACHE_ROOT/kafka-last-dir"

    if ! wait_ready "$dir" "$pid" "$p"; then
        say "last lines of $dir/logs/server.log:"
        tail -n 40 "$dir/logs/server.log" >&2 2>/dev/null || true
        tail -n 20 "$dir/logs/stdout.log" >&2 2>/dev/null || true
        if [ "$temp" = 1 ] && [ -z "${EDDY_KAFKA_KEEP:-}" ]; then
            stop_dir "$dir"
            die "broker did not become ready (EDDY_KAFKA_KEEP=1 keeps the data dir for a look)"
        fi
        stop_dir "$dir" keep
        die "broker did not become ready (data dir kept: $dir)"
    fi
    say "broker ready in $((SECONDS - t0))s (pid $pid)"

    {
        echo "KAFKA_DIR=$dir"
        echo "KAFKA_BROKERS=127.0.0.1:$p"
        echo "KAFKA_SASL_BROKERS=127.0.0.1:$sp"
        echo "KAFKA_SSL_BROKERS=127.0.0.1:$tp"
        echo "KAFKA_SSL_CA=$dir/tls/ca.pem"
        echo "KAFKA_SASL_MECHANISM=SCRAM-SHA-256"
        echo "KAFKA_SASL_USER=$SASL_USER"
        echo "KAFKA_SASL_PASSWORD=$SASL_PASSWORD"
    } >"$dir/env"
    cat "$dir/env"
}

# Ready means: the JVM is alive, the server logged that startup finished
# (in KRaft that is after the broker is unfenced), the PLAINTEXT port accepts
# connections and, when kcat is there, a metadata request lists the broker.
wait_ready() {
    local dir=$1 pid=$2 port=$3 deadline=$((SECONDS + START_TIMEOUT))
    while [ $SECONDS -lt $deadline ]; do
        if ! kill -0 "$pid" 2>/dev/null; then
            say "the broker process exited during startup"
            return 1
        fi
        if grep -q "Kafka Server started" "$dir/logs/server.log" 2>/dev/null &&
            port_busy "$port"; then
            if ! command -v kcat >/dev/null 2>&1; then
                return 0
            fi
            if timeout 10 kcat -L -b "127.0.0.1:$port" -m 5 2>/dev/null | grep -q "1 brokers"; then
                return 0
            fi
        fi
        sleep 0.2
    done
    say "timed out after ${START_TIMEOUT}s"
    return 1
}

# --- stop --------------------------------------------------------------------

# stop_dir DIR [keep]: SIGTERM (controlled shutdown), then SIGKILL after
# STOP_TIMEOUT; removes DIR when `start` created it as a temp dir.
stop_dir() {
    local dir=$1 keep=${2:-} pid
    if pid=$(broker_pid "$dir"); then
        kill -TERM "$pid" 2>/dev/null || true
        local deadline=$((SECONDS + STOP_TIMEOUT))
        while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            say "broker $pid ignored SIGTERM for ${STOP_TIMEOUT}s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
            local _
            for _ in $(seq 1 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
        fi
    fi
    rm -f "$dir/kafka.pid"
    if [ -f "$CACHE_ROOT/kafka-last-dir" ] && [ "$(cat "$CACHE_ROOT/kafka-last-dir")" = "$dir" ]; then
        rm -f "$CACHE_ROOT/kafka-last-dir"
    fi
    if [ "$keep" != keep ] && [ -f "$dir/.eddy-temp" ]; then
        rm -rf "$dir"
    fi
}

cmd_stop() {
    local dir=${1:-}
    if [ -z "$dir" ]; then
        dir=$(default_dir) || die "no broker to stop: give its DIR or set KAFKA_DIR"
    fi
    # Stopping twice is fine: cleanup traps may run after an explicit stop.
    if [ ! -d "$dir" ]; then
        say "nothing to stop: $dir does not exist"
        return 0
    fi
    dir=$(cd "$dir" && pwd)
    stop_dir "$dir"
    say "stopped ($dir)"
}

cmd_status() {
    local dir=${1:-} pid
    if [ -z "$dir" ]; then
        dir=$(default_dir) || die "no broker known: give its DIR or set KAFKA_DIR"
    fi
    if pid=$(broker_pid "$dir"); then
        say "running, pid $pid, dir $dir"
        return 0
    fi
    say "not running ($dir)"
    return 1
}

# --- topics ------------------------------------------------------------------

topic_cmd() {
    java_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$(bootstrap)" "$@"
}

cmd_topic() {
    local sub=${1:-}
    shift || true
    case $sub in
    create)
        [ $# -ge 2 ] || die "usage: topic create NAME PARTITIONS [KEY=VALUE...]"
        local name=$1 parts=$2
        shift 2
        [[ $parts =~ ^[1-9][0-9]*$ ]] || die "partitions must be a positive number, got '$parts'"
        local cfg=() kv
        for kv in "$@"; do
            [[ $kv == *=* ]] || die "topic config '$kv' is not KEY=VALUE"
            cfg+=(--config "$kv")
        done
        topic_cmd --create --topic "$name" --partitions "$parts" \
            --replication-factor 1 "${cfg[@]}" >&2
        ;;
    delete)
        [ $# -eq 1 ] || die "usage: topic delete NAME"
        topic_cmd --delete --topic "$1" >&2
        ;;
    list)
        topic_cmd --list
        ;;
    describe)
        [ $# -eq 1 ] || die "usage: topic describe NAME"
        topic_cmd --describe --topic "$1"
        ;;
    *) die "unknown topic command '$sub' (create, delete, list, describe)" ;;
    esac
}

# --- run ---------------------------------------------------------------------

RUN_CHILD=""

# run's INT/TERM handler: end CMD, then exit so the EXIT trap stops the
# broker.
run_on_signal() {
    trap - INT TERM
    if [ -n "$RUN_CHILD" ]; then
        kill -TERM "$RUN_CHILD" 2>/dev/null || true
        wait "$RUN_CHILD" 2>/dev/null || true
    fi
    exit $((128 + $1))
}

cmd_run() {
    [ "${1:-}" = -- ] && shift
    [ $# -ge 1 ] || die "usage: run -- CMD ARGS..."
    local envs line
    envs=$(cmd_start) || exit 1
    while IFS= read -r line; do
        export "${line?}"
    done <<<"$envs"
    # Always stop the broker, however CMD or this script ends.
    trap 'stop_dir "$KAFKA_DIR" >/dev/null 2>&1 || true' EXIT
    trap 'run_on_signal 2' INT
    trap 'run_on_signal 15' TERM
    # In the background so a signal to this script is handled at once
    # instead of after CMD finishes; stdin passed on explicitly because
    # background jobs otherwise read /dev/null.
    "$@" <&0 &
    RUN_CHILD=$!
    local rc=0
    wait "$RUN_CHILD" || rc=$?
    RUN_CHILD=""
    exit "$rc"
}

case ${1:-} in
fetch) cmd_fetch ;;
start) shift; cmd_start "$@" ;;
stop) shift; cmd_stop "$@" ;;
status) shift; cmd_status "$@" ;;
topic) shift; cmd_topic "$@" ;;
tool)
    shift
    [ $# -ge 1 ] || die "usage: tool CLASS ARGS..."
    java_tool "$@"
    ;;
run) shift; cmd_run "$@" ;;
*) usage ;;
esac
