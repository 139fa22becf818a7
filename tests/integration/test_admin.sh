#!/usr/bin/env bash
# The admin server while a worker runs, then SIGTERM drains and exits 0, and
# a second signal exits at once. Then its security (docs/OPERATIONS.md, "Admin API
# security"): Host, Origin, token, request bodies, operator requests (404,
# 409), listen addresses refused by validate as by run, and TLS.
. "$(dirname "$0")/lib.sh"

# expect_http NAME CODE CURL_ARGS...: the HTTP status curl sees (body in
# $TMP/out); on a mismatch prints both and the body.
expect_http() {
    local name=$1 want=$2 got
    shift 2
    got=$(curl -sS -o "$TMP/out" -w '%{http_code}' "$@" 2>"$TMP/curl.err")
    if [ "$got" = "$want" ]; then ok; else
        bad "$name: HTTP $got, expected $want; body:"
        { cat "$TMP/out"; echo; cat "$TMP/curl.err"; } | sed 's/^/    /' >&2
    fi
}
cat >"$TMP/gen.yaml" <<'Y'
worker: { name: admin-test, log: { format: json } }
sources:
  - name: gen
    type: generator
    rate: 2000
    event_interval: 1ms
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
# Without a token nothing that changes the worker gets through, and a web
# page can neither rebind a name to it nor read it cross-origin.
U="http://127.0.0.1:$PORT"
expect_http "POST without a configured token" 403 -X POST "$U/v1/pipelines/p/steps/filter%230/reference"
expect_out "POST without a configured token says what to do" "has no token: set worker.admin.token"
expect_http "Host of another name (DNS rebinding)" 421 -H "Host: evil.example:$PORT" "$U/v1/pipelines"
expect_out "Host refusal names the rule" "does not name this admin server"
expect_http "Host localhost through a tunnel's port" 200 -H "Host: localhost:1" "$U/v1/pipelines"
expect_http "cross-origin read" 403 -H "Origin: http://evil.example" "$U/v1/pipelines"
expect_out "cross-origin refusal" "cross-origin request refused"
expect_http "same-origin read" 200 -H "Origin: $U" "$U/v1/pipelines"
expect_http "browser form post (text/plain)" 403 -X POST -H "Content-Type: text/plain" \
    --data 'x=1' "$U/v1/pipelines/p/steps/filter%230/reference"
expect_code "responses are never sniffed" 0 curl -fsS -D "$TMP/h" -o /dev/null "$U/healthz"
check "X-Content-Type-Options: nosniff ($(tr -d '\r' <"$TMP/h" | tr '\n' '|'))" grep -qi '^X-Content-Type-Options: nosniff' "$TMP/h"
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

# ---- A worker with a token: reads need it (probes do not), POST needs it,
# a wrong one is a 401; operator requests: 404 unknown, 409 wrong operator,
# 202 for a drift step, unchecked 202 for a plugin built before ABI 1.3.
export EDDY_ADMIN_TOKEN=admin-test-token-0123456789abcdef
AUTH="Authorization: Bearer $EDDY_ADMIN_TOKEN"
mkdir -p "$TMP/v1_0"
cp "$BUILD/tests/integration/plugins/abi_v1_0.so" "$TMP/v1_0/"
PORT=$(free_port)
U="http://127.0.0.1:$PORT"
cat >"$TMP/tok.yaml" <<Y
worker:
  name: tok
  plugin_dirs: [ "$TMP/v1_0" ]
  admin: { listen: "127.0.0.1:$PORT", token: "\${EDDY_ADMIN_TOKEN}" }
sources:
  - { name: gen, type: generator, rate: 500, event_interval: 1ms, fields: { amount: "uniform(0, 10)", x: "uniform(0, 10)" } }
pipelines:
  - name: p
    from: gen
    steps:
      - name: dd
        distribution_drift: { fields: [amount], reference: snapshot, window_size: 100 }
      - name: f
        filter: { where: "amount < 50" }
      - name: old
        abi_v1_0: { label: old }
    to:
      - { type: file, path: /dev/null, format: json }
Y
expect_code "token config validates" 0 "$EDDY" validate -c "$TMP/tok.yaml"
"$EDDY" run -c "$TMP/tok.yaml" >"$TMP/tok.out" 2>"$TMP/tok.err" &
tokpid=$!
pids+=("$tokpid")
check "token worker comes up" wait_http "$U/healthz"
expect_http "healthz needs no token" 200 "$U/healthz"
expect_http "readyz needs no token" 200 "$U/readyz"
expect_http "pipelines without the token" 401 -D "$TMP/h401" "$U/v1/pipelines"
expect_out "401 says what to send" "needs the admin token: send Authorization: Bearer"
check "401 carries WWW-Authenticate: Bearer ($(tr -d '\r' <"$TMP/h401" | tr '\n' '|'))" grep -qi '^WWW-Authenticate: Bearer' "$TMP/h401"
expect_http "metrics without the token" 401 "$U/metrics"
expect_http "pipelines with the token" 200 -H "$AUTH" "$U/v1/pipelines"
expect_http "pipelines with a wrong token" 401 -H "Authorization: Bearer ${EDDY_ADMIN_TOKEN}x" "$U/v1/pipelines"
expect_out "wrong token is named" "is not this worker's admin token"
check "the token is never echoed" bash -c '! grep -q "$1" "$2"' _ "$EDDY_ADMIN_TOKEN" "$TMP/out"
R="$U/v1/pipelines/p/steps"
expect_http "reference POST without the token" 401 -X POST "$R/dd/reference"
expect_http "reference POST with a wrong token" 401 -X POST -H "Authorization: Bearer nope-nope-nope-nope" "$R/dd/reference"
expect_http "reference POST with the token" 202 -X POST -H "$AUTH" "$R/dd/reference"
expect_out "reference POST with the token" '"accepted":true'
expect_out "reference POST is checked" '"checked":true'
expect_http "reference POST with a JSON body" 202 -X POST -H "$AUTH" -H "Content-Type: application/json" --data '{}' "$R/dd/reference"
expect_http "reference POST from another origin" 403 -X POST -H "$AUTH" -H "Origin: http://evil.example" "$R/dd/reference"
expect_http "reference POST with Sec-Fetch-Site: cross-site" 403 -X POST -H "$AUTH" -H "Sec-Fetch-Site: cross-site" "$R/dd/reference"
expect_http "reference POST as text/plain" 415 -X POST -H "$AUTH" -H "Content-Type: text/plain" --data 'x=1' "$R/dd/reference"
expect_out "text/plain refusal" "must be application/json"
expect_http "reference POST as a form" 415 -X POST -H "$AUTH" --data 'x=1' "$R/dd/reference"
expect_http "reference POST to another Host" 421 -X POST -H "$AUTH" -H "Host: evil.example" "$R/dd/reference"
expect_http "reference POST to an unknown step" 404 -X POST -H "$AUTH" "$R/nope/reference"
expect_out "unknown step is named" "no step 'nope' in pipeline 'p'"
expect_http "reference POST to an unknown pipeline" 404 -X POST -H "$AUTH" "$U/v1/pipelines/zz/steps/dd/reference"
expect_out "unknown pipeline is named" "no pipeline 'zz'"
expect_http "reference POST to a filter step" 409 -X POST -H "$AUTH" "$R/f/reference"
expect_out "409 names the operator and what it accepts" "step 'f' of pipeline 'p' is a filter step, which does not act on 'reference' requests (it accepts: none)"
expect_http "unknown request to a drift step" 409 -X POST -H "$AUTH" "$R/dd/rewind"
expect_out "409 lists the drift step's requests" "(it accepts: reference)"
expect_http "request to a plugin built for ABI 1.0" 202 -X POST -H "$AUTH" "$R/old/reference"
expect_out "pre-1.3 plugin request is marked unchecked" '"checked":false'
expect_out "pre-1.3 plugin request says why" "built for ABI 1.0 and does not list its requests"
expect_http "metrics with the token" 200 -H "$AUTH" "$U/metrics"
expect_out "refusals are counted" 'eddy_admin_refused_total{status="401"}'
check "log says a token is required" grep -q 'token=required' "$TMP/tok.err"
check "log never shows the token" bash -c '! grep -q "$1" "$2" "$3"' _ "$EDDY_ADMIN_TOKEN" "$TMP/tok.err" "$TMP/tok.out"
kill -TERM "$tokpid"
wait "$tokpid"
check "token worker drains" [ $? = 0 ]

# ---- Listen addresses: validate refuses what run would, with file:line:col.
# listen_cfg FILE ADMIN_MAPPING
listen_cfg() {
    cat >"$1" <<Y
worker:
  admin: $2
sources:
  - { name: gen, type: generator, rate: 10, event_interval: 1ms }
pipelines:
  - { name: p, from: gen, to: [ { type: file, path: /dev/null } ] }
Y
}
listen_cfg "$TMP/l.yaml" '{ listen: ":9464" }'
expect_code "':PORT' is refused by validate" 3 "$EDDY" validate -c "$TMP/l.yaml"
expect_out "':PORT' says what to write" 'l.yaml:2:20: worker.admin.listen: admin listen ":9464" names no host: write 127.0.0.1:9464 for this machine only, or 0.0.0.0:9464 for every interface'
listen_cfg "$TMP/l.yaml" '{ listen: "127.0.0.1:99999" }'
expect_code "port 99999 is refused by validate" 3 "$EDDY" validate -c "$TMP/l.yaml"
expect_out "port 99999 is named" 'l.yaml:2:20: worker.admin.listen: admin listen "127.0.0.1:99999": port must be a number from 0 to 65535'
listen_cfg "$TMP/l.yaml" '{ listen: "0.0.0.0:9464" }'
expect_code "0.0.0.0 without a token is refused by validate" 3 "$EDDY" validate -c "$TMP/l.yaml"
expect_out "0.0.0.0 without a token says why" 'admin listen "0.0.0.0:9464" is reachable from other machines, so it needs worker.admin.token'
listen_cfg "$TMP/l.yaml" '{ listen: "0.0.0.0:9464", token: "short" }'
expect_code "a short token is refused" 3 "$EDDY" validate -c "$TMP/l.yaml"
expect_out "a short token is refused" "worker.admin.token: admin token is 5 characters long"
listen_cfg "$TMP/l.yaml" '{ listen: "0.0.0.0:9464", token: "${EDDY_ADMIN_TOKEN}" }'
expect_code "0.0.0.0 with a token validates" 0 "$EDDY" validate -c "$TMP/l.yaml"
listen_cfg "$TMP/l.yaml" '{ enabled: false, listen: "127.0.0.1:70000" }'
expect_code "a disabled server's listen is still checked" 3 "$EDDY" validate -c "$TMP/l.yaml"
listen_cfg "$TMP/l.yaml" '{ listen: "127.0.0.1:0" }'
expect_code "run --admin 0.0.0.0 without a token fails" 1 env -u EDDY_ADMIN_TOKEN timeout 10 "$EDDY" run -c "$TMP/l.yaml" --admin "0.0.0.0:0"
expect_out "run --admin 0.0.0.0 says why" "needs worker.admin.token"
expect_code "run --admin :PORT fails" 1 timeout 10 "$EDDY" run -c "$TMP/l.yaml" --admin ":0"
expect_out "run --admin :PORT says why" "names no host"
# Every interface with a token: any Host (the token guards it).
PORT=$(free_port)
listen_cfg "$TMP/all.yaml" "{ listen: \"0.0.0.0:$PORT\", token: \"\${EDDY_ADMIN_TOKEN}\" }"
"$EDDY" run -c "$TMP/all.yaml" >/dev/null 2>"$TMP/all.err" &
allpid=$!
pids+=("$allpid")
check "0.0.0.0 worker comes up" wait_http "http://127.0.0.1:$PORT/healthz"
expect_http "0.0.0.0: any Host with the token" 200 -H "$AUTH" -H "Host: eddy-7.internal:$PORT" "http://127.0.0.1:$PORT/v1/pipelines"
expect_http "0.0.0.0: no token" 401 "http://127.0.0.1:$PORT/v1/pipelines"
kill -TERM "$allpid"
wait "$allpid"

# ---- TLS: a self-signed certificate, curl trusting only it.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$TMP/key.pem" -out "$TMP/cert.pem" >/dev/null 2>&1
check "openssl made a certificate" test -s "$TMP/cert.pem"
PORT=$(free_port)
listen_cfg "$TMP/tls.yaml" "{ listen: \"127.0.0.1:$PORT\", token: \"\${EDDY_ADMIN_TOKEN}\", tls_cert: \"$TMP/cert.pem\", tls_key: \"$TMP/key.pem\" }"
expect_code "TLS config validates" 0 "$EDDY" validate -c "$TMP/tls.yaml"
"$EDDY" run -c "$TMP/tls.yaml" >/dev/null 2>"$TMP/tls.err" &
tlspid=$!
pids+=("$tlspid")
T="https://127.0.0.1:$PORT"
for i in $(seq 1 100); do
    curl -fs --cacert "$TMP/cert.pem" -o /dev/null "$T/healthz" 2>/dev/null && break
    sleep 0.1
done
expect_http "TLS healthz" 200 --cacert "$TMP/cert.pem" "$T/healthz"
expect_out "TLS healthz" "ok"
expect_http "TLS pipelines with the token" 200 --cacert "$TMP/cert.pem" -H "$AUTH" "$T/v1/pipelines"
expect_http "TLS same origin (https)" 200 --cacert "$TMP/cert.pem" -H "$AUTH" -H "Origin: $T" "$T/v1/pipelines"
expect_http "TLS: an http:// origin is another origin" 403 --cacert "$TMP/cert.pem" -H "$AUTH" -H "Origin: http://127.0.0.1:$PORT" "$T/v1/pipelines"
expect_code "TLS: plain HTTP gets no answer" 0 bash -c '! curl -fsS --max-time 5 "$1/healthz"' _ "http://127.0.0.1:$PORT"
expect_code "TLS: an untrusted certificate is refused by curl" 60 curl -sS --max-time 5 "$T/healthz"
# The CLI's client (not in a build without libcurl): token and CA from the
# environment.
if [[ ",${EDDY_LEFT_OUT:-}," != *,webhook,* ]]; then
    expect_code "eddy alerts tail --admin https:// with EDDY_ADMIN_CACERT" 0 \
        env EDDY_ADMIN_CACERT="$TMP/cert.pem" timeout 20 "$EDDY" alerts tail --admin "$T"
    expect_code "eddy alerts tail --admin without EDDY_ADMIN_TOKEN" 1 \
        env -u EDDY_ADMIN_TOKEN EDDY_ADMIN_CACERT="$TMP/cert.pem" timeout 20 "$EDDY" alerts tail --admin "$T"
    expect_out "eddy alerts tail --admin without EDDY_ADMIN_TOKEN" "HTTP 401"
    expect_out "eddy alerts tail --admin without EDDY_ADMIN_TOKEN says what to set" "(set EDDY_ADMIN_TOKEN to the worker's admin token)"
fi
kill -TERM "$tlspid"
wait "$tlspid"
check "TLS worker drains" [ $? = 0 ]
listen_cfg "$TMP/l.yaml" "{ listen: \"127.0.0.1:0\", tls_cert: \"$TMP/cert.pem\" }"
expect_code "tls_cert without tls_key" 3 "$EDDY" validate -c "$TMP/l.yaml"
expect_out "tls_cert without tls_key" "admin TLS needs both tls_cert and tls_key"
listen_cfg "$TMP/l.yaml" "{ listen: \"127.0.0.1:0\", tls_cert: \"$TMP/cert.pem\", tls_key: \"$TMP/none.pem\" }"
expect_code "missing TLS key" 3 "$EDDY" validate -c "$TMP/l.yaml"
expect_out "missing TLS key" "worker.admin.tls_key: admin TLS: cannot read the private key $TMP/none.pem: No such file or directory"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=other" \
    -keyout "$TMP/key2.pem" -out "$TMP/cert2.pem" >/dev/null 2>&1
listen_cfg "$TMP/l.yaml" "{ listen: \"127.0.0.1:0\", tls_cert: \"$TMP/cert.pem\", tls_key: \"$TMP/key2.pem\" }"
expect_code "mismatched TLS key" 3 "$EDDY" validate -c "$TMP/l.yaml"
expect_out "mismatched TLS key" "does not match the certificate"
finish
