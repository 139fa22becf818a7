#!/usr/bin/env bash
# A whole pipeline on recorded data: fan-out to branches and sinks, sinks
# after any step, the in-process bus between pipelines, and dead letters for
# a malformed line, a missing timestamp and an operator's type error.
. "$(dirname "$0")/lib.sh"
export T=$TMP
cat >"$TMP/in.ndjson" <<'IN'
{"user":"a","amount":5,"ts":1000}
{"user":"b","amount":500,"ts":1001}
{"user":"c","amount":-1,"ts":1002}
{"user":"a", "amount": oops}
{"user":"d","amount":50}
{"user":"e","amount":"abc","ts":1003}
{"user":"f","amount":101.5,"ts":1004}
{"user":"g","amount":100,"ts":1005,"nested":{"x":[1,2,{"y":null}]}}
IN
expect_code "run dag" 0 "$EDDY" run -c "$SRC/tests/integration/configs/dag.yaml"
python3 - "$TMP" <<'PY' >"$TMP/py.out" 2>&1
import json, sys, os
t = sys.argv[1]
def load(n):
    with open(os.path.join(t, n)) as f:
        return [json.loads(l) for l in f if l.strip()]
fails = 0
def eq(name, got, want):
    global fails
    if got != want:
        fails += 1
        print(f"FAIL {name}: got {got!r}, want {want!r}")
allr, big, small, bus, dead = (load(n) for n in ("all.ndjson", "big.ndjson", "small.ndjson", "bus.ndjson", "dead.ndjson"))
eq("all users (input, before any step)", [r["user"] for r in allr], ["a", "b", "c", "e", "f", "g"])
eq("big", [r["user"] for r in big], ["b", "f"])
eq("small", [(r["user"], r["kind"]) for r in small], [("a", "small"), ("g", "small")])
eq("tag did not leak into the other branch", any("kind" in r for r in big), False)
eq("bus", [(r["user"], r["amount"], r["doubled"]) for r in bus], [("a", 5, 10), ("b", 500, 1000), ("f", 101.5, 203.0), ("g", 100, 200)])
eq("bus keep", sorted(bus[0].keys()), ["amount", "doubled", "user"])
eq("nested survives", small[1]["nested"], {"x": [1, 2, {"y": None}]})
eq("dead count", len(dead), 3)
reasons = " | ".join(d.get("error", "") for d in dead)
for want in ("byte", "timestamp field 'ts' is missing", "valid"):
    if want not in reasons and want not in " ".join(d.get("step", "") for d in dead):
        fails += 1
        print(f"FAIL dead letter reasons lack {want!r}: {dead}")
eq("dead letter keeps the raw line", dead[0].get("raw"), '{"user":"a", "amount": oops}')
eq("dead letter source offset (the line number)", dead[0]["source"]["offset"], 4)
print("py-fails", fails)
PY
if grep -q "py-fails 0" "$TMP/py.out"; then ok; else bad "pipeline outputs"; cat "$TMP/py.out" >&2; fi
# ISO 8601 event times: "T" or a space between date and time (RFC 3339);
# anything else is a dead letter with the reason.
printf 'ts,v\n2026-01-01T00:00:01Z,1\n2026-01-01 00:00:02,2\n01/01/2026,3\n' >"$TMP/iso.csv"
cat >"$TMP/iso.yaml" <<Y
worker: { admin: { enabled: false } }
sources:
  - name: s
    type: file
    path: "$TMP/iso.csv"
    format: csv
    timestamp: { field: ts, unit: iso8601 }
    dead_letter: { type: file, path: "$TMP/iso.dlq" }
pipelines:
  - { name: p, from: s, to: [ { type: file, path: "$TMP/iso.out" } ] }
Y
expect_code "iso8601 timestamps" 0 "$EDDY" run -c "$TMP/iso.yaml"
check "iso8601 with T and with a space both parse" [ "$(wc -l <"$TMP/iso.out")" = 2 ]
check "a non-ISO timestamp is a dead letter" grep -q "is not ISO 8601" "$TMP/iso.dlq"
# Numeric event times outside the years 0000-9999 (1e300 and 1e23 would be
# an undefined cast to int64; INT64_MIN means "no time") are dead letters
# with the reason, never the current time; the good records around them
# pass.
cat >"$TMP/range.ndjson" <<'IN'
{"id":1,"ts":1767225600000}
{"id":2,"ts":1e300}
{"id":3,"ts":1e23}
{"id":4,"ts":-9223372036854775808}
{"id":5,"ts":253402300799999}
{"id":6,"ts":-62167219200001}
{"id":7,"ts":-1000}
IN
cat >"$TMP/range.yaml" <<Y
worker: { admin: { enabled: false } }
sources:
  - name: s
    type: file
    path: "$TMP/range.ndjson"
    timestamp: { field: ts, unit: ms }
    dead_letter: { type: file, path: "$TMP/range.dlq" }
pipelines:
  - { name: p, from: s, to: [ { type: file, path: "$TMP/range.out" } ] }
Y
expect_code "out-of-range event times" 0 "$EDDY" run -c "$TMP/range.yaml"
got_ok=$(python3 -c 'import json,sys; print(",".join(str(json.loads(l)["id"]) for l in open(sys.argv[1]) if l.strip()))' "$TMP/range.out" 2>&1)
got_dead=$(python3 -c 'import json,sys; print(",".join(str(json.loads(json.loads(l)["raw"])["id"]) for l in open(sys.argv[1]) if l.strip()))' "$TMP/range.dlq" 2>&1)
check "in-range event times pass (want 1,5,7, got $got_ok)" [ "$got_ok" = "1,5,7" ]
check "out-of-range event times are dead letters (want 2,3,4,6, got $got_dead)" [ "$got_dead" = "2,3,4,6" ]
check "the dead letter says why" grep -q "outside the years 0000-9999" "$TMP/range.dlq"
finish
