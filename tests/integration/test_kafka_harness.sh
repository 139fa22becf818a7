#!/usr/bin/env bash
# The Kafka test harness (scripts/kafka.sh) against a real broker: start,
# topics, produce/consume through kcat, consumer-group commits, SCRAM (good
# and wrong password), SSL, the librdkafka features eddy needs (idempotence,
# transactions, read_committed, offset commits), stop and the `run` form.
# The broker is stopped even when a check fails.
. "$(dirname "$0")/lib.sh"
# SASL/SCRAM with librdkafka 2.0.2 needs a 3.x broker (scripts/kafka.sh,
# "Version"): this test logs in with SCRAM, so it runs against 3.9.2; the
# others run against the 4.x default.
export EDDY_KAFKA_VERSION=${EDDY_KAFKA_SCRAM_VERSION:-3.9.2}

KAFKA=$SRC/scripts/kafka.sh
# Free ports, so a broker a developer left running does not get in the way.
export EDDY_KAFKA_PORTS=auto
unset KAFKA_DIR KAFKA_BROKERS

for tool in java mvn kcat cc pkg-config; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "FAIL: '$tool' is missing (scripts/setup.sh installs it)" >&2
        exit 1
    }
done

# Downloads once per machine; later runs find the cache.
"$KAFKA" fetch || {
    echo "FAIL: scripts/kafka.sh fetch" >&2
    exit 1
}

kafka_dir=""
stop_broker() {
    [ -n "$kafka_dir" ] && "$KAFKA" stop "$kafka_dir" >/dev/null 2>&1
    kafka_dir=""
}
trap 'stop_broker; cleanup' EXIT
# A test runner's timeout sends TERM: exit through the EXIT trap.
trap 'exit 143' TERM
trap 'exit 130' INT

t0=$(date +%s.%N)
if ! "$KAFKA" start >"$TMP/env" 2>"$TMP/start.err"; then
    cat "$TMP/start.err" >&2
    echo "FAIL: broker did not start" >&2
    exit 1
fi
t1=$(date +%s.%N)
echo "kafka harness: broker start took $(python3 -c "print(round($t1 - $t0, 1))")s" >&2
. "$TMP/env"
kafka_dir=$KAFKA_DIR
export KAFKA_DIR KAFKA_BROKERS

check "start prints KAFKA_BROKERS" test -n "$KAFKA_BROKERS"
check "start prints KAFKA_SASL_BROKERS" test -n "$KAFKA_SASL_BROKERS"
check "start prints KAFKA_SSL_BROKERS" test -n "$KAFKA_SSL_BROKERS"
check "CA file exists" test -s "$KAFKA_SSL_CA"
check "pid file exists" test -s "$KAFKA_DIR/kafka.pid"
check "broker log in data dir" test -s "$KAFKA_DIR/logs/server.log"
expect_code "status while running" 0 "$KAFKA" status "$KAFKA_DIR"
case $KAFKA_BROKERS in 127.0.0.1:*) ok ;; *) bad "broker not on loopback: $KAFKA_BROKERS" ;; esac

# A second broker on a port already taken fails at once with a clear reason.
expect_code "start on a busy port" 1 env EDDY_KAFKA_PORTS= EDDY_KAFKA_PORT="${KAFKA_BROKERS##*:}" \
    "$KAFKA" start
expect_out "busy port message" "already in use"

# Topics
expect_code "topic create" 0 "$KAFKA" topic create t3 3
expect_code "topic describe" 0 "$KAFKA" topic describe t3
expect_out "3 partitions" "PartitionCount: 3"
expect_code "topic create, bad partitions" 1 "$KAFKA" topic create bad zero
expect_out "bad partitions message" "partitions must be a positive number"
expect_code "topic create, duplicate" 1 "$KAFKA" topic create t3 3
# Auto-creation is off: tests create their topics explicitly.
printf 'x\n' | timeout 30 kcat -P -b "$KAFKA_BROKERS" -t no-such-topic -X message.timeout.ms=3000 >"$TMP/out" 2>&1
check "no auto-created topic" bash -c "! '$KAFKA' topic list 2>/dev/null | grep -qx no-such-topic"

# Produce 100 keyed messages, read them back.
for i in $(seq 1 100); do echo "key$i:value$i"; done >"$TMP/msgs"
expect_code "produce 100" 0 timeout 60 kcat -P -b "$KAFKA_BROKERS" -t t3 -K: -l "$TMP/msgs"
timeout 60 kcat -C -b "$KAFKA_BROKERS" -t t3 -e -q -f '%p %k %s\n' >"$TMP/consumed" 2>"$TMP/out"
check "consume 100" test "$(wc -l <"$TMP/consumed")" = 100
check "every message back" test "$(cut -d' ' -f3 "$TMP/consumed" | sort | md5sum)" = \
    "$(cut -d: -f2 "$TMP/msgs" | sort | md5sum)"
check "keys spread over 3 partitions" test "$(cut -d' ' -f1 "$TMP/consumed" | sort -u | wc -l)" = 3

# Consumer group: a member that read everything commits; the next one of the
# same group finds nothing left. (No -o: with -G kcat would seek there on
# every assignment and ignore the committed offsets.)
group=(-b "$KAFKA_BROKERS" -G grp1 -X auto.offset.reset=earliest -e -q t3)
timeout 60 kcat "${group[@]}" >"$TMP/g1" 2>"$TMP/out"
check "group consumes 100" test "$(wc -l <"$TMP/g1")" = 100
timeout 60 kcat "${group[@]}" >"$TMP/g2" 2>"$TMP/out"
check "group resumes from committed offsets" test "$(wc -l <"$TMP/g2")" = 0
expect_code "group describe" 0 "$KAFKA" tool org.apache.kafka.tools.consumer.group.ConsumerGroupCommand \
    --bootstrap-server "$KAFKA_BROKERS" --describe --group grp1
expect_out "group offsets" "grp1"

# SASL/SCRAM with the user created at format time.
scram=(-X security.protocol=SASL_PLAINTEXT -X "sasl.mechanisms=$KAFKA_SASL_MECHANISM"
    -X "sasl.username=$KAFKA_SASL_USER")
expect_code "SCRAM metadata" 0 timeout 30 kcat -L -m 10 -b "$KAFKA_SASL_BROKERS" "${scram[@]}" \
    -X "sasl.password=$KAFKA_SASL_PASSWORD"
expect_out "SCRAM sees the broker" "1 brokers"
timeout 60 kcat -C -b "$KAFKA_SASL_BROKERS" "${scram[@]}" -X "sasl.password=$KAFKA_SASL_PASSWORD" \
    -t t3 -e -q >"$TMP/sasl" 2>"$TMP/out"
check "SCRAM consume 100" test "$(wc -l <"$TMP/sasl")" = 100
expect_code "SCRAM-SHA-512 metadata" 0 timeout 30 kcat -L -m 10 -b "$KAFKA_SASL_BROKERS" \
    -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=SCRAM-SHA-512 \
    -X "sasl.username=$KAFKA_SASL_USER" -X "sasl.password=$KAFKA_SASL_PASSWORD"
# A wrong password ends in an authentication error, not a hang: kcat gives
# up after its 5 s metadata wait, well before the outer timeout (exit 124).
expect_code "SCRAM wrong password" 1 timeout 30 kcat -L -m 5 -b "$KAFKA_SASL_BROKERS" "${scram[@]}" \
    -X sasl.password=wrong-secret
expect_out "authentication error" "Authentication failed"

# SSL with the generated CA; without it the certificate is not trusted.
expect_code "SSL metadata" 0 timeout 30 kcat -L -m 10 -b "$KAFKA_SSL_BROKERS" \
    -X security.protocol=SSL -X "ssl.ca.location=$KAFKA_SSL_CA"
expect_out "SSL sees the broker" "1 brokers"
expect_code "SSL without the CA" 1 timeout 30 kcat -L -m 5 -b "$KAFKA_SSL_BROKERS" \
    -X security.protocol=SSL -X ssl.ca.location=/dev/null

# librdkafka features for exactly-once work, through a small C client.
# shellcheck disable=SC2046 # pkg-config prints several words on purpose
if cc -std=gnu11 -Wall -Wextra -Werror -o "$TMP/rdkafka-check" "$SRC/scripts/kafka/rdkafka-check.c" \
    $(pkg-config --cflags --libs rdkafka) 2>"$TMP/out"; then
    ok
    expect_code "topic for transactions" 0 "$KAFKA" topic create txn 1
    expect_code "idempotence, transactions, commits" 0 timeout 120 "$TMP/rdkafka-check" "$KAFKA_BROKERS" txn
    expect_out "transaction abort" "ok: transaction with 5 messages aborted"
    expect_out "read_committed" "ok: read_committed consumer saw 10 idempotent, 5 committed, 0 aborted"
    expect_out "committed offset" "ok: committed offset read back"
else
    bad "rdkafka-check does not compile:"
    cat "$TMP/out" >&2
fi

expect_code "topic delete" 0 "$KAFKA" topic delete t3
check "deleted topic gone" bash -c "! '$KAFKA' topic list 2>/dev/null | grep -qx t3"

# stop: the JVM is gone and the temp data dir removed.
pid=$(cat "$KAFKA_DIR/kafka.pid")
expect_code "stop" 0 "$KAFKA" stop "$KAFKA_DIR"
check "broker process gone" bash -c "! kill -0 $pid 2>/dev/null"
check "temp data dir removed" test ! -e "$KAFKA_DIR"
expect_code "status after stop" 1 "$KAFKA" status "$KAFKA_DIR"
kafka_dir=""

# run: the command sees the broker, its exit code comes back, and the broker
# is stopped afterwards.
unset KAFKA_DIR KAFKA_BROKERS
# shellcheck disable=SC2016 # expanded by the inner bash, inside `run`
expect_code "run passes the exit code" 3 "$KAFKA" run -- bash -c \
    'echo "$KAFKA_DIR" >"$0"; kcat -L -m 10 -b "$KAFKA_BROKERS" | grep -q "1 brokers" && exit 3; exit 4' \
    "$TMP/run-dir"
run_dir=$(cat "$TMP/run-dir" 2>/dev/null)
no_broker_in() { [ -n "$1" ] && ! pgrep -f -- "$1/server.properties" >/dev/null; }
check "run exported KAFKA_DIR" test -n "$run_dir"
check "run removed its data dir" test ! -e "$run_dir"
check "run stopped the broker" no_broker_in "$run_dir"

finish
