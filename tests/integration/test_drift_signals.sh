#!/usr/bin/env bash
# Drift detectors end to end against river: every row of
# tests/fixtures/drift/river/cases.tsv (made by tests/fixtures/drift/gen_river_checks.py with
# river 0.26.1) runs benchmarks/drift/signals.sh over the row's stream and
# must print exactly river's signals. KSWIN rows are the exception: eddy
# draws its reference sample with its own generator, so they pass when eddy
# reports as many changes as river and each within stat_size updates (the
# row's stat_size option, else 30) of river's. SIGNALS overrides the script.
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

# kswin_ok EXPECTED GOT TOLERANCE: same number of changes, pairwise close.
kswin_ok() {
    python3 - "$1" "$2" "$3" <<'PY'
import sys
def changes(path):
    with open(path) as f:
        return [int(l.split()[0]) for l in f if l.split()[1:] == ["change"]]
want, got, tol = changes(sys.argv[1]), changes(sys.argv[2]), int(sys.argv[3])
with open(sys.argv[2]) as f:
    other = [l.rstrip("\n") for l in f if l.split()[1:] != ["change"]]
if other:
    print(f"lines that are not changes: {other[:5]}")
    sys.exit(1)
if len(want) != len(got):
    print(f"river reported {len(want)} changes at {want}, eddy {len(got)} at {got}")
    sys.exit(1)
far = [(w, g) for w, g in zip(want, got) if abs(w - g) > tol]
if far:
    print(f"changes further apart than {tol} (river, eddy): {far}")
    sys.exit(1)
PY
}

rows=0
signals=0
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
    if [ "$det" = kswin ]; then
        tol=30
        for a in "${args[@]}"; do
            case "$a" in stat_size=*) tol=${a#stat_size=} ;; esac
        done
        if kswin_ok "$DIR/$expected" "$out" "$tol" >"$TMP/why"; then ok; else
            bad "$what: $(cat "$TMP/why")"
        fi
    elif cmp -s "$DIR/$expected" "$out"; then
        ok
    else
        bad "$what: signals differ from river's (- river, + eddy):"
        diff -u "$DIR/$expected" "$out" | sed '1,2d; s/^/    /' | head -40 >&2
    fi
done <"$DIR/cases.tsv"

# Guards against a manifest that silently lost its rows or signals.
check "manifest has at least 100 rows (has $rows)" test "$rows" -ge 100
check "fixtures expect at least 1000 signals (have $signals)" test "$signals" -ge 1000
finish
