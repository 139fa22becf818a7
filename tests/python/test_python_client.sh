#!/usr/bin/env bash
# The Python client (clients/python) end to end: in its venv, mypy --strict
# and its unit tests; then a real Kafka broker and one eddy worker whose
# distribution_drift steps publish alerts to three topics (JSON, Avro
# plain, Avro in the Confluent wire format) and whose feature_store sink
# feeds the serving endpoint. The client (through examples/alerts_follow.py
# and its eddy-client command) must read back exactly the expected alerts
# from every topic and from /v1/alerts, a feature row with typed values,
# and say in sentences what goes wrong (401, 404, missing topic, no server).
#
# The raw values the worker wrote are dumped and the fixture tests run on
# them too, so the checked-in fixtures stay what eddy writes today; set
# EDDY_PYCLIENT_FIXTURES=DIR to keep the dump (to refresh
# clients/python/tests/fixtures).
. "$(dirname "$0")/../integration/lib.sh"

CLIENT=$SRC/clients/python
VENV=${EDDY_PYCLIENT_VENV:-$HOME/.cache/eddy/pyclient-venv}
PY=$VENV/bin/python

# The venv is shared by every checkout on the machine: one setup at a time
# (flock), reinstalled only when the pinned versions change. As with the
# Feast venv (tests/integration/feast/feast_env.sh), a registry that cannot
# be reached skips the test (77) with the reason; the client failing to
# install from this tree fails it.
setup_venv() {
    mkdir -p "$(dirname "$VENV")"
    (
        flock 9
        if [ ! -x "$VENV/bin/python" ] && ! python3 -m venv "$VENV"; then
            echo "cannot create a venv in $VENV (python3-venv missing? scripts/setup.sh installs it)"
            exit 77
        fi
        if ! cmp -s "$CLIENT/requirements-test.txt" "$VENV/eddy-requirements.txt"; then
            if ! "$VENV/bin/pip" install -q --disable-pip-version-check -r "$CLIENT/requirements-test.txt"; then
                echo "pip could not install $CLIENT/requirements-test.txt (registry unreachable?)"
                exit 77
            fi
            cp "$CLIENT/requirements-test.txt" "$VENV/eddy-requirements.txt"
        fi
        # From a copy: pip builds in the tree it installs, and the source
        # tree stays untouched (it may be read-only, or another's worktree).
        cp -r "$CLIENT" "$TMP/client-src"
        "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps --no-build-isolation \
            --force-reinstall "$TMP/client-src" || { echo "pip could not install the client from $CLIENT"; exit 1; }
    ) 9>"$VENV.lock" >"$TMP/venv.log" 2>&1
}
setup_venv
case $? in
    0) ok ;;
    77) echo "SKIP: the client's venv could not be set up: $(tail -1 "$TMP/venv.log")" >&2; exit 77 ;;
    *) bad "client venv: $(tail -5 "$TMP/venv.log")"; finish ;;
esac

# 1. Static types and unit tests (caches in $TMP, not in the source tree).
expect_code "mypy --strict on the client" 0 "$PY" -m mypy --strict --cache-dir "$TMP/mypy" \
    "$CLIENT/src/eddy_client" "$CLIENT/tests" "$SRC/examples/alerts_follow.py"
expect_out "mypy --strict on the client" "Success: no issues found"
expect_code "unit tests of the client" 0 "$PY" -m pytest -q -p no:cacheprovider "$CLIENT/tests"
grep -E "passed|failed" "$TMP/out" | tail -1 | sed 's/^/python unit tests: /' >&2

# 2. A broker, and a worker that keeps serving after its input ended.
kafka_start
for t in alerts.json alerts.avro alerts.confluent; do
    kafka_topic "$t" 1 retention.ms=-1
done
PORT=$(free_port)
export EDDY_ADMIN_TOKEN=pyclient-test-token-0123456789
AVSC=$SRC/configs/schemas/alert.avsc
# dd_pipeline NAME SINK: the drifting stream of test_kafka_alerts.sh (drift
# from 02:00 to 04:00 of event time) checked every 30 minutes.
dd_pipeline() {
    cat <<Y
  - name: $1
    from: s
    steps:
      - name: dd
        distribution_drift: { fields: [amount], categorical: [merchant], reference: first_n,
                              reference_size: 2000, window_period: 30m }
        alerts: { min_consecutive: 1, resolve_after: 1 }
        outputs:
          alerts: $2
    to:
      - { type: file, path: /dev/null }
Y
}
cat >"$TMP/worker.yaml" <<Y
worker:
  name: pyclient
  exit_on_eof: false
  admin: { listen: "127.0.0.1:$PORT", token: "\${EDDY_ADMIN_TOKEN}" }
kafka: { brokers: "$B" }
sources:
  - name: s
    type: generator
    seed: 3
    rate: 0
    count: 20000
    keys: 20
    event_interval: 1s
    fields: { amount: "normal(50, 10)", merchant: "categorical(a:0.5, b:0.3, c:0.2)" }
    drift: { amount: "normal(80, 10)", merchant: "categorical(a:0.1, b:0.3, c:0.6)" }
    drift_at: 2h
    drift_for: 2h
pipelines:
$(dd_pipeline pj '{ type: kafka, topic: alerts.json, format: json }')
$(dd_pipeline pa "{ type: kafka, topic: alerts.avro, format: avro, schema: \"$AVSC\" }")
$(dd_pipeline pc "{ type: kafka, topic: alerts.confluent, format: avro, schema: \"$AVSC\", confluent: true, schema_id: 42 }")
  - name: feats
    from: s
    steps:
      - window: { type: tumbling, size: 1h, key: [user_id],
                  aggregate: { n: "count()", avg: "mean(amount)" } }
    to:
      - { type: feature_store, store: embedded, path: "$TMP/features.db", view: user_amount,
          entity: user_id, ttl: 3650d }
Y
"$EDDY" run -c "$TMP/worker.yaml" >"$TMP/worker.log" 2>&1 &
pids+=($!)
check "worker admin server up" wait_http "http://127.0.0.1:$PORT/healthz" 60
ADMIN=http://127.0.0.1:$PORT
FOLLOW=("$PY" "$SRC/examples/alerts_follow.py")
CLI=("$PY" -m eddy_client)

# summary FILE: "state feature statistic HH:MM:SS" per JSON alert line
summary() {
    python3 - "$1" <<'P'
import json, sys, datetime
for line in open(sys.argv[1]):
    a = json.loads(line)
    t = datetime.datetime.fromtimestamp(a["time"] / 1000, datetime.timezone.utc).strftime("%H:%M:%S")
    print(a["pipeline"], a["state"], a["feature"] or "-", a["statistic"], t)
P
}
expected() { # PIPELINE...
    for p in "$@"; do
        printf '%s firing amount psi 02:29:59\n%s firing merchant chi2_pvalue 02:29:59\n%s firing - drifted_share 02:29:59\n' "$p" "$p" "$p"
        printf '%s resolved amount psi 04:29:59\n%s resolved merchant chi2_pvalue 04:29:59\n%s resolved - drifted_share 04:29:59\n' "$p" "$p" "$p"
    done
}
same() { # NAME EXPECTED GOT
    if diff -u "$2" "$3" >"$TMP/diff"; then ok; else
        bad "$1: alerts differ (-expected +seen):"
        sed 's/^/    /' "$TMP/diff" >&2
    fi
}

# 3. From each topic, from the beginning: the example waits (up to 90 s)
# for the six alerts the worker publishes.
for f in "json alerts.json pj" "avro alerts.avro pa" "avro alerts.confluent pc"; do
    set -- $f
    timeout 120 "${FOLLOW[@]}" --brokers "$B" --topic "$2" --format "$1" --from-beginning \
        --count 6 --timeout 90 --json >"$TMP/$2.got" 2>"$TMP/$2.err"
    code=$?
    check "alerts_follow.py reads $2 ($1; exit $code: $(head -c 300 "$TMP/$2.err"))" [ "$code" = 0 ]
    summary "$TMP/$2.got" >"$TMP/$2.sum" 2>&1
    expected "$3" >"$TMP/$2.exp"
    same "alerts of $2 ($1)" "$TMP/$2.exp" "$TMP/$2.sum"
done

# A consumer group goes on where it stopped: 4 alerts, then the other 2.
expect_code "group reader, first 4" 0 timeout 120 "${CLI[@]}" alerts alerts.avro --brokers "$B" \
    --format avro --group pyclient-g --from-beginning -f -n 4 --timeout 60 --json
grep -c '"alert_id"' "$TMP/out" >"$TMP/n1"
expect_code "group reader, the rest" 0 timeout 120 "${CLI[@]}" alerts alerts.avro --brokers "$B" \
    --format avro --group pyclient-g -f -n 2 --timeout 60 --json
check "the group's second read starts after the first (firing then resolved: $(grep -o '"state":"[a-z]*"' "$TMP/out" | tr '\n' ' '))" \
    [ "$(cat "$TMP/n1")/$(grep -c '"state":"resolved"' "$TMP/out")" = 4/2 ]
# Without -f the command reads to the end and stops; the readable line is
# eddy alerts tail's.
expect_code "eddy-client alerts (to the end of the topic)" 0 timeout 60 "${CLI[@]}" alerts alerts.confluent \
    --brokers "$B" --format avro
expect_out "readable alert line" "FIRING   warning   pc/dd  amount  key=-  psi="
check "six alert lines from the topic" [ "$(grep -c 'FIRING\|RESOLVED' "$TMP/out")" = 6 ]

# 4. From the admin API: the worker's 18 alerts (the three pipelines).
timeout 120 "${FOLLOW[@]}" --admin "$ADMIN" --count 18 --timeout 60 --json >"$TMP/admin.got" 2>"$TMP/admin.err"
check "alerts_follow.py reads /v1/alerts (exit $?: $(head -c 300 "$TMP/admin.err"))" [ -s "$TMP/admin.got" ]
summary "$TMP/admin.got" | sort >"$TMP/admin.sum"
expected pj pa pc | sort >"$TMP/admin.exp"
same "alerts of /v1/alerts" "$TMP/admin.exp" "$TMP/admin.sum"
EDDY_ADMIN_TOKEN= expect_code "admin without the token" 1 "${CLI[@]}" alerts --admin "$ADMIN"
expect_out "401 is a sentence with the server's reason" "answered HTTP 401: GET /v1/alerts"
check "no traceback on 401" [ -z "$(grep Traceback "$TMP/out")" ]
expect_code "unreachable admin server" 1 "${CLI[@]}" alerts --admin 127.0.0.1:1
expect_out "unreachable admin server is a sentence" "cannot reach the eddy admin server at http://127.0.0.1:1"
expect_code "missing topic" 1 timeout 60 "${CLI[@]}" alerts no.such.topic --brokers "$B"
expect_out "missing topic is a sentence" "cannot read alerts from topic 'no.such.topic'"

# 5. Features: typed values of user-7's newest window (written shortly
# after the stream, so waited for).
cat >"$TMP/features.py" <<'P'
import sys, time
from eddy_client import AdminClient, FeaturesNotFound
c = AdminClient.from_env(sys.argv[1])
deadline = time.monotonic() + 60
row = c.get_features("user_amount", "user-7")
while row is None and time.monotonic() < deadline:
    time.sleep(0.2)
    row = c.get_features("user_amount", "user-7")
assert row is not None, "no features for user-7 within 60 s"
n, avg = row.features.get("n"), row.features.get("avg")
assert row.view == "user_amount" and row.entity == "user-7", (row.view, row.entity)
assert isinstance(n, int) and not isinstance(n, bool) and 50 < n < 400, ("n", n)
assert isinstance(avg, float) and 30 < avg < 100, ("avg", avg)
assert row.event_time % 3600000 == 3599999, ("event time is not a window's end", row.event_time)
try:
    c.features("user_amount", "nobody")
    raise AssertionError("no error for an absent entity")
except FeaturesNotFound as e:
    assert e.status == 404 and "no features for entity 'nobody'" in str(e), str(e)
print("features ok: n=%d avg=%.3f" % (n, avg))
P
expect_code "features of user-7 through the client" 0 timeout 90 "$PY" "$TMP/features.py" "$ADMIN"
expect_out "features of user-7 through the client" "features ok"
expect_code "eddy-client features" 0 "${CLI[@]}" features --admin "$ADMIN" user_amount user-7
expect_out "eddy-client features prints n" "n	"
expect_code "eddy-client features, absent entity" 1 "${CLI[@]}" features --admin "$ADMIN" user_amount nobody
expect_out "absent entity is a sentence" "answered HTTP 404: no features for entity 'nobody'"

# 6. The fixture tests on what this worker wrote just now.
FIX=${EDDY_PYCLIENT_FIXTURES:-$TMP/fixtures}
expect_code "dump the alert topics" 0 timeout 120 "$PY" "$SRC/tests/python/dump_topics.py" "$B" "$FIX" \
    alerts.json alerts.avro alerts.confluent
EDDY_CLIENT_FIXTURES=$FIX expect_code "fixture tests on today's eddy output" 0 \
    "$PY" -m pytest -q -p no:cacheprovider "$CLIENT/tests/test_fixtures.py"
finish
