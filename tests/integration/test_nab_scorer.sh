#!/usr/bin/env bash
# NAB scorer (benchmarks/nab/score.py): fed the published per-row outputs of
# numenta, knncad and windowedGaussian it must reproduce their rows of
# results/final_results.json within 0.1 on each profile; on a tiny corpus
# built here its scores must match values worked out by hand; and bad input
# must fail with an error naming the file (and line).
set -u
here=$(cd "$(dirname "$0")" && pwd)
SRC=${EDDY_SRC:-$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || (cd "$here/../.." && pwd))}
NAB=${NAB_DIR:-$SRC/../shared/datasets/nab}
SCORE="$SRC/benchmarks/nab/score.py"
if [ ! -d "$NAB" ]; then
    echo "SKIP: NAB corpus not found at $NAB (set NAB_DIR)"
    exit 77
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }

# ---- 1. the published rows ----------------------------------------------------
if python3 "$SCORE" "$NAB/results" numenta knncad windowedGaussian \
        --nab "$NAB" --json "$TMP/scores.json" >"$TMP/out" 2>&1; then
    ok
    cat "$TMP/out"
    if python3 - "$NAB/results/final_results.json" "$TMP/scores.json" <<'PY'; then ok; else bad "published rows not reproduced within 0.1"; fi
import json, sys
published = json.load(open(sys.argv[1]))
ours = json.load(open(sys.argv[2]))
worst = 0.0
good = True
for det in ("numenta", "knncad", "windowedGaussian"):
    for prof in ("standard", "reward_low_FP_rate", "reward_low_FN_rate"):
        want = float(published[det][prof])
        got = ours[det][prof]["normalised"]
        diff = abs(got - want)
        worst = max(worst, diff)
        verdict = "ok" if diff <= 0.1 else "OFF"
        good = good and diff <= 0.1
        print(f"  {det:17s} {prof:19s} published {want:7.3f}  scored {got:7.3f}  "
              f"diff {diff:.3f}  {verdict}")
print(f"  largest difference {worst:.3f} (limit 0.1)")
sys.exit(0 if good else 1)
PY
else
    bad "scorer failed on the published results:"
    sed 's/^/    /' "$TMP/out" >&2
fi

# ---- 2. a corpus small enough to score by hand ----------------------------------
# One series of 20 rows: rows 0-2 are probation (floor(0.15 * 20)), the window
# is rows 10-13. The detector flags row 5 (before any window: FP weight -1),
# row 13 (right edge of the 4-row window: S(-1/4) / S(-1) = 0.562124) and
# row 15 (q = 2/3 past the window: S(2/3) = -0.931110).
mini="$TMP/mini"
mkdir -p "$mini/data/cat" "$mini/labels" "$mini/config" "$TMP/res/det/cat"
cp "$NAB/config/profiles.json" "$mini/config/"
cat >"$mini/labels/combined_windows.json" <<'JSON'
{"cat/s.csv": [["2020-01-01 00:10:00.000000", "2020-01-01 00:13:00.000000"]]}
JSON
{
    echo "timestamp,value"
    for i in $(seq 0 19); do printf '2020-01-01 00:%02d:00,%d\n' "$i" "$i"; done
} >"$mini/data/cat/s.csv"
{
    echo "timestamp,value,anomaly_score"
    for i in $(seq 0 19); do
        s=0.0
        case $i in 5 | 13 | 15) s=1.0 ;; esac
        printf '2020-01-01 00:%02d:00,%d,%s\n' "$i" "$i" "$s"
    done
} >"$TMP/res/det/cat/det_s.csv"
good_csv="$TMP/good.csv"
cp "$TMP/res/det/cat/det_s.csv" "$good_csv"

if python3 "$SCORE" "$TMP/res" det --nab "$mini" --json "$TMP/mini.json" >"$TMP/out" 2>&1; then
    ok
    echo "hand-checked corpus: $(cat "$TMP/out")"
    if python3 - "$TMP/mini.json" <<'PY'; then ok; else bad "hand-computed scores differ"; fi
import json, sys
got = json.load(open(sys.argv[1]))["det"]
# raw = 0.562124 - fp * (1 + 0.931110); null = -fn; perfect = 1
want = {"standard": 67.4851, "reward_low_FP_rate": 56.8640, "reward_low_FN_rate": 78.3234}
good = True
for prof, w in want.items():
    g = got[prof]
    fine = (abs(g["normalised"] - w) < 0.001 and g["threshold"] == 1.0
            and g["windows_detected"] == 1 and g["false_positive_rows"] == 2)
    good = good and fine
    print(f"  {prof:19s} want {w:.4f} got {g['normalised']:.4f} threshold {g['threshold']}"
          f" {'ok' if fine else 'OFF'}")
sys.exit(0 if good else 1)
PY
else
    bad "scorer failed on the hand-checked corpus:"
    sed 's/^/    /' "$TMP/out" >&2
fi

# ---- 3. bad input ---------------------------------------------------------------
# expect_error NAME TEXT: the scorer exits 1 and its error contains TEXT
expect_error() {
    python3 "$SCORE" "$TMP/res" det --nab "$mini" >"$TMP/out" 2>&1
    local code=$?
    if [ "$code" = 1 ] && grep -qF -- "$2" "$TMP/out"; then
        ok
        echo "$1: $(cat "$TMP/out")"
    else
        bad "$1: exit $code, expected 1 with '$2'; output:"
        sed 's/^/    /' "$TMP/out" >&2
    fi
}
f="$TMP/res/det/cat/det_s.csv"

rm "$f"
expect_error "missing file" "$f: missing"

sed '1s/.*/timestamp,value,score/' "$good_csv" >"$f"
expect_error "wrong columns" "$f:1: wrong columns"

sed '5s/,0.0$/,abc/' "$good_csv" >"$f"
expect_error "non-numeric score" "$f:5: anomaly_score 'abc' is not a number"

sed '6s/,0.0$/,1.5/' "$good_csv" >"$f"
expect_error "score above 1" "$f:6: anomaly_score 1.5 is outside [0,1]"

sed '8s/,0.0$/,-0.2/' "$good_csv" >"$f"
expect_error "negative score" "$f:8: anomaly_score -0.2 is outside [0,1]"

sed '9s/,0.0$/,nan/' "$good_csv" >"$f"
expect_error "nan score" "$f:9: anomaly_score nan is outside [0,1]"

sed '4s/,0.0$//' "$good_csv" >"$f"
expect_error "short row" "$f:4: 2 fields"

head -n 15 "$good_csv" >"$f"
expect_error "truncated series" "$f: 14 rows, the corpus series has 20"

cp "$good_csv" "$f"
python3 "$SCORE" "$TMP/res" det --nab "$TMP/nowhere" >"$TMP/out" 2>&1
if [ $? = 1 ] && grep -qF "NAB corpus directory not found" "$TMP/out"; then ok; else
    bad "absent corpus: $(cat "$TMP/out")"
fi

echo "$passed passed, $failed failed"
if [ "$failed" -ne 0 ]; then
    echo "NAB scorer test FAILED" >&2
    exit 1
fi
echo "NAB scorer test passed"
exit 0
