#!/usr/bin/env bash
# Records that do not fit (issue 14): a record too big for the rest of a
# batch closes the batch and starts the next one; only a record that cannot
# fit alone is a dead letter, with a precise reason; a fatal over-long input
# never drops the records read before it.
. "$(dirname "$0")/lib.sh"

# 1. worker.batch_memory: 64KiB, 20 small records around one of 200 KB: the
#    20 are written, the big one is a dead letter saying why (before: all 21
#    dead-lettered as "unknown error", nothing written, exit 1).
python3 - "$TMP" <<'PY'
import json, sys
t = sys.argv[1]
with open(t + "/big.ndjson", "w") as f:
    for i in range(21):
        f.write(json.dumps({"id": i, "pad": "x" * 200000} if i == 10 else {"id": i, "v": 1.5}) + "\n")
with open(t + "/two.ndjson", "w") as f:   # each fits alone, no two together
    for i in range(6):
        f.write(json.dumps({"id": i, "pad": "y" * 300000}) + "\n")
with open(t + "/long.csv", "w") as f:     # 3,000 good rows, then one over max_record_size
    f.write("id,name\n")
    for i in range(3000):
        f.write("%d,n%d\n" % (i, i))
    f.write('3000,"' + "z" * (2 * 1024 * 1024) + '"\n3001,after\n')
import struct
with open(t + "/long.msgpack", "wb") as f:  # 3,000 maps {"id": i}, then one 3 MB string
    for i in range(3000):
        f.write(b"\x81\xa2id\xcd" + struct.pack(">H", i))
    f.write(b"\x81\xa3pad\xdb" + struct.pack(">I", 3 << 20) + b"q" * (3 << 20))
PY
run_file() { # NAME INPUT FORMAT BATCH_MEMORY [MAX_RECORD]
    cat >"$TMP/$1.yaml" <<Y
worker: { admin: { enabled: false }, batch_memory: $4 }
sources:
  - name: s
    type: file
    path: "$TMP/$2"
    format: $3
    max_record_size: ${5:-16MiB}
    dead_letter: { type: file, path: "$TMP/$1.dlq" }
pipelines:
  - { name: p, from: s, to: [ { type: file, path: "$TMP/$1.out" } ] }
Y
    "$EDDY" run -c "$TMP/$1.yaml" >"$TMP/$1.log" 2>&1
    rc=$?
}
ids() { python3 -c 'import json,sys; print(",".join(str(json.loads(l)["id"]) for l in open(sys.argv[1]) if l.strip()))' "$1" 2>/dev/null; }
lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }

run_file big big.ndjson json 64KiB
check "a 64KiB batch: exit 0 (got $rc; log: $(tail -c 300 "$TMP/big.log"))" [ "$rc" = 0 ]
want=$(seq -s, 0 9),$(seq -s, 11 20)
check "the 20 records that fit are written (want $want, got $(ids "$TMP/big.out"))" [ "$(ids "$TMP/big.out")" = "$want" ]
check "only the big record is a dead letter (want 1, got $(lines "$TMP/big.dlq"))" [ "$(lines "$TMP/big.dlq")" = 1 ]
check "its reason names the line, its size and the limit" \
    grep -q 'big.ndjson:11: record of 200021 bytes does not fit in worker.batch_memory (65536 bytes) even in a batch of its own' "$TMP/big.dlq"

run_file two two.ndjson json 1MiB
check "records of 300 KB with 1MiB batches: exit 0 (got $rc)" [ "$rc" = 0 ]
check "records that fit alone but not together each start a batch (want 0..5, got $(ids "$TMP/two.out"))" \
    [ "$(ids "$TMP/two.out")" = "0,1,2,3,4,5" ]
check "no dead letters for them (got $(lines "$TMP/two.dlq"))" [ "$(lines "$TMP/two.dlq")" = 0 ]

# 2. A CSV row over max_record_size stops the worker (an open quote makes the
#    rest unreadable) but the 3,000 rows before it are all written (before:
#    the partly filled batch was dropped, 2,048 written).
run_file csv long.csv csv 64MiB 1MiB
check "the over-long CSV row: exit 1 (got $rc)" [ "$rc" = 1 ]
check "the over-long CSV row stops the worker with the reason" grep -q 'long.csv:3002: CSV row longer than max_record_size' "$TMP/csv.log"
check "every row before it is written (want 3000, got $(lines "$TMP/csv.out"))" [ "$(lines "$TMP/csv.out")" = 3000 ]
run_file mp long.msgpack msgpack 64MiB 1MiB
check "the over-long msgpack object: exit 1 (got $rc)" [ "$rc" = 1 ]
check "it says where and why ($(grep "level=error" "$TMP/mp.log" | cut -c1-240))" grep -q 'msgpack object at byte offset 21000 is larger than max_record_size' "$TMP/mp.log"
check "every record before it is written (want 3000, got $(lines "$TMP/mp.out"))" [ "$(lines "$TMP/mp.out")" = 3000 ]

# 3. validate refuses what run cannot do: a distribution_drift whose samples
#    need 10 GiB (run ran out of memory at start) and a zscore window of
#    268435456 values (every batch rejected, exit 0).
cat >"$TMP/v1.yaml" <<'Y'
worker: { admin: { enabled: false } }
sources:
  - { name: s, type: generator, count: 10, fields: { x: "uniform(0,1)" } }
pipelines:
  - name: p
    from: s
    steps:
      - distribution_drift: { fields: [x], sample_size: 10000000, reference: lagged, lag: 64 }
    to: [ { type: console } ]
Y
sed 's/distribution_drift: .*/zscore: { field: x, window: 268435456 }/' "$TMP/v1.yaml" >"$TMP/v2.yaml"
for v in v1 v2; do
    "$EDDY" validate -c "$TMP/$v.yaml" >"$TMP/$v.out" 2>&1
    vrc=$?
    check "validate refuses $v.yaml (exit $vrc: $(head -c 300 "$TMP/$v.out"))" [ "$vrc" != 0 ]
done
check "the sample memory is named" grep -q 'sample_size 10000000 with lag 64 for 1 numeric feature(s) needs 10.0 GiB' "$TMP/v1.out"
check "the window range is named" grep -q 'zscore.window: expected an integer between 2 and 10000000, found 268435456' "$TMP/v2.out"

# A chain of pipelines on the in-process bus is at most 64 deep (20,000
# overflowed the stack, 3,000 ran for minutes): said once, at validate.
chain() { # N: pipelines p0..pN, each reading the one before
    echo 'worker: { admin: { enabled: false } }'
    echo 'sources: [ { name: s, type: generator, count: 10, fields: { x: "uniform(0,1)" } } ]'
    echo 'pipelines:'
    echo '  - { name: p0, from: s }'
    for i in $(seq 1 "$1"); do echo "  - { name: p$i, from: p$((i - 1)) }"; done
}
chain 3000 >"$TMP/chain.yaml"
"$EDDY" validate -c "$TMP/chain.yaml" >"$TMP/chain.out" 2>&1
check "a 3,000-pipeline chain is refused, once ($(head -c 300 "$TMP/chain.out"))" \
    grep -q 'chain.yaml: 1 error' "$TMP/chain.out"
check "the refusal names the first pipeline too far" \
    grep -q 'p65: reads through more than 64 pipelines' "$TMP/chain.out"
chain 64 >"$TMP/chain64.yaml"
check "a 64-pipeline chain is fine" "$EDDY" validate -c "$TMP/chain64.yaml"

# CSV cells that are not UTF-8 are dead letters naming the cell (before:
# written raw into JSON output, which was then invalid JSON).
printf 'id,name\n1,ok\n2,bad\377\376\n3,caf\303\251\n' >"$TMP/u.csv"
run_file u u.csv csv 64MiB
check "valid CSV rows pass (want 1,3, got $(ids "$TMP/u.out"))" [ "$(ids "$TMP/u.out")" = "1,3" ]
check "the row that is not UTF-8 is a dead letter naming the cell" \
    grep -q 'u.csv:3: cell 2 (column name) is not valid UTF-8' "$TMP/u.dlq"
check "the output is valid JSON" python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$TMP/u.out"

# NaN and infinities from msgpack become null in JSON output, no longer
# silently: a warning and eddy_json_nonfinite_total.
python3 -c '
import struct, sys
rec = lambda i, x: b"\x82\xa2id" + bytes([i]) + b"\xa1x\xcb" + struct.pack(">d", x)
open(sys.argv[1], "wb").write(rec(1, float("nan")) + rec(2, 1.5) + rec(3, float("inf")))' "$TMP/nan.msgpack"
run_file nan nan.msgpack msgpack 64MiB
check "NaN/Inf records are written (want 3, got $(lines "$TMP/nan.out"))" [ "$(lines "$TMP/nan.out")" = 3 ]
check "writing NaN as null is said in the log" grep -q 'a NaN or infinite number was written as null to JSON output' "$TMP/nan.log"

# 4. Avro object container files are checked before avro-c reads them, as
#    Kafka messages are: a record nested 100,000 deep under a recursive schema
#    (before: SIGSEGV, a stack overflow in avro-c's reader) and a string
#    length of 100 MB (before: avro-c allocated it) are dead letters with the
#    reason; the records before them are written.
case ",$EDDY_LEFT_OUT," in
*,avro,*) ;;
*)
    python3 "$SRC/tests/fixtures/avro/hostile_ocf.py" "$TMP"
    for f in deep badlen; do
        run_file "$f" "$f.avro" avro 64MiB
        check "$f.avro: exit 0 (got $rc; $(grep level=error "$TMP/$f.log" | cut -c1-200))" [ "$rc" = 0 ]
        check "$f.avro: the 3 records before the bad one are written (got $(lines "$TMP/$f.out"))" [ "$(lines "$TMP/$f.out")" = 3 ]
    done
    check "deep.avro: the dead letter says how deep is too deep" grep -q 'record 3: nesting deeper than 64 levels' "$TMP/deep.dlq"
    check "badlen.avro: the dead letter names the bad length" grep -q 'record 3: truncated input: string of 104857600 bytes' "$TMP/badlen.dlq"
    ;;
esac
finish
