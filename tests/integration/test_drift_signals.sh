#!/usr/bin/env bash
# Drift detectors end to end against river: every row of
# tests/fixtures/drift/river/cases.tsv (made by tests/fixtures/drift/gen_river_checks.py with
# river 0.26.1) runs benchmarks/drift/signals.sh over the row's stream and
# must print exactly river's signals, both flags: "<i> warning change" where
# river sets warning_detected and drift_detected on one update (KSWIN too:
# its rows give a seed, and eddy draws as CPython's random.Random does).
# SIGNALS overrides the script.
. "$(dirname "$0")/lib.sh"

DIR="$SRC/tests/fixtures/drift/river"
SIGNALS=${SIGNALS:-$SRC/benchmarks/drift/signals.sh}
export EDDY

if [ ! -f "$SIGNALS" ]; then
    bad "$SIGNALS is missing"
    finish
fi
if [ ! -f "$DIR/cases.tsv" ]; then
    bad "$DIR/cases.tsv is missing (run tests/fixtures/drift/gen_river_checks.py)"
    finish
fi

rows=0
signals=0
both=0
while IFS=$'\t' read -r case det opts expected; do
    case "$case" in '#'* | '') continue ;; esac
    rows=$((rows + 1))
    args=()
    [ "$opts" != "-" ] && read -r -a args <<<"$opts"
    what="$case $det ${opts}"
    out="$TMP/$expected"
    if ! bash "$SIGNALS" "$det" "$DIR/$case.txt" "${args[@]}" >"$out" 2>"$TMP/err"; then
        bad "$what: signals.sh failed:"
        sed 's/^/    /' "$TMP/err" >&2
        continue
    fi
    signals=$((signals + $(wc -l <"$DIR/$expected")))
    both=$((both + $(grep -c ' warning change$' "$DIR/$expected" || true)))
    if cmp -s "$DIR/$expected" "$out"; then
        ok
    else
        bad "$what: signals differ from river's (- river, + eddy):"
        diff -u "$DIR/$expected" "$out" | sed '1,2d; s/^/    /' | head -40 >&2
    fi
done <"$DIR/cases.tsv"

# Guards against a manifest that silently lost its rows or signals.
check "manifest has at least 100 rows (has $rows)" test "$rows" -ge 100
check "fixtures expect at least 1000 signals (have $signals)" test "$signals" -ge 1000
check "fixtures expect updates with both flags (have $both)" test "$both" -ge 1

# warning_field is opt-in: without it a step appends drift_signal only, as
# before the field existed; with it, a boolean.
cat >"$TMP/compat.yaml" <<YAML
worker: { name: compat, admin: { enabled: false }, log: { level: error } }
sources:
  - { name: values, type: file, path: "-", format: csv }
pipelines:
  - name: compat
    from: values
    steps:
      - eddm: { field: x }
    to:
      - { type: file, path: "-", format: csv }
YAML
{ echo x; head -3000 "$DIR/err_up_s107.txt"; } | "$EDDY" run -c "$TMP/compat.yaml" >"$TMP/compat.csv"
check "default eddm step: columns x,drift_signal (seen $(head -1 "$TMP/compat.csv"))" \
    test "$(head -1 "$TMP/compat.csv")" = "x,drift_signal"
sed -i 's/      - eddm: { field: x }/      - eddm: { field: x, warning_field: w }/' "$TMP/compat.yaml"
{ echo x; head -3000 "$DIR/err_up_s107.txt"; } | "$EDDY" run -c "$TMP/compat.yaml" >"$TMP/compat.csv"
# Update 660 of err_up_s107 is river's first warning+change (eddm.1.expected).
check "warning_field: update 660 is change with w=true (seen $(sed -n 662p "$TMP/compat.csv"))" \
    test "$(sed -n 662p "$TMP/compat.csv" | cut -d, -f2-)" = "change,true"
finish
