#!/usr/bin/env bash
# Scores eddy's anomaly operators on the Numenta Anomaly Benchmark: streams
# each series of the corpus through the pipeline of benchmarks/nab/nab.yaml
# (every detector in one pass), writes NAB's results layout and scores it
# with benchmarks/nab/score.py.
#
#   benchmarks/nab/run.sh [--protocol nab|causal] OUT_DIR [DETECTOR ...]
#
# --protocol (shared/datasets/nab/SCORING.md): causal (the default) tells
# the detectors nothing in advance; nab, as NAB's own harness does for every
# published detector, gives each series' minimum and maximum (read from the
# series file) before the first row: nab_detector's expected_range and
# half_space_trees' limits (the lines of nab.yaml marked "# range").
#
# DETECTOR: zscore robust_zscore ewma spot dspot nab hst ensemble (default:
# all but ensemble, the detectors themselves; the names are nab.yaml's
# score columns and, except ensemble, the detector names of
# benchmarks/nab/lib_run.c). Writes
# OUT_DIR/<detector>/<category>/<detector>_<name>.csv with the columns
# timestamp,value,anomaly_score, timestamps and values exactly as in the
# series. Environment: EDDY (the binary, default build/eddy), NAB_DIR (the
# corpus, default ../shared/datasets/nab beside the repository), JOBS
# (series run at once, default 2), NAB_ONLY (a grep -E pattern of
# category/name.csv: only those series, and no scoring, since NAB scores
# the whole corpus).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
detectors="zscore robust_zscore ewma spot dspot nab hst"
all="$detectors ensemble"

usage() {
    echo "usage: $0 [--protocol nab|causal] OUT_DIR [DETECTOR ...]   (detectors: $all)" >&2
    exit 2
}
protocol=causal
while [ $# -gt 0 ]; do
    case $1 in
    --protocol) [ $# -ge 2 ] || usage; protocol=$2; shift 2 ;;
    --protocol=*) protocol=${1#*=}; shift ;;
    -h | --help) usage ;;
    *) break ;;
    esac
done
case $protocol in nab | causal) ;; *) echo "run.sh: unknown protocol '$protocol' (nab, causal)" >&2; exit 2 ;; esac
[ $# -ge 1 ] || usage
out=$1
shift
dets=${*:-$detectors}
for d in $dets; do
    case " $all " in
    *" $d "*) ;;
    *) echo "run.sh: unknown detector '$d' (known: $all)" >&2; exit 2 ;;
    esac
done

eddy=${EDDY:-build/eddy}
[ -x "$eddy" ] || eddy="$repo/${EDDY:-build/eddy}"
if [ ! -x "$eddy" ]; then
    echo "run.sh: no eddy binary at ${EDDY:-build/eddy} (build it, or set EDDY)" >&2
    exit 1
fi
eddy=$(cd "$(dirname "$eddy")" && pwd)/$(basename "$eddy")
nab=${NAB_DIR:-$repo/../shared/datasets/nab}
if [ ! -d "$nab/data" ]; then
    echo "run.sh: no NAB corpus at $nab/data (set NAB_DIR)" >&2
    exit 1
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One series: category/name.csv.
one() {
    local rel=$1 cat name tag
    cat=${rel%%/*}
    name=${rel#*/}
    tag=${cat}_${name%.csv}
    # The engine reads ISO 8601 event times with a 'T' between date and
    # time; NAB writes a space. The extra column carries the 'T' form.
    awk -F, '{ sub(/\r$/, "") }
             NR == 1 { print $0 ",time"; next }
             { t = $1; sub(/ /, "T", t); print $0 "," t }' "$NAB/data/$rel" >"$WORK/$tag.in"
    # The series' range, for the NAB protocol's configuration (%.17g: the
    # file's own numbers, exactly).
    local range lo hi
    range=$(awk -F, 'NR > 1 { v = $2 + 0; if (n++ == 0 || v < lo) lo = v; if (n == 1 || v > hi) hi = v }
                     END { if (lo == hi) hi = lo + 1; printf "%.17g %.17g", lo, hi }' "$NAB/data/$rel")
    lo=${range% *}
    hi=${range#* }
    if ! NAB_IN="$WORK/$tag.in" NAB_OUT="$WORK/$tag.out" NAB_LO=$lo NAB_HI=$hi \
        "$EDDY_BIN" run -c "$CONF" >"$WORK/$tag.log" 2>&1; then
        echo "run.sh: eddy failed on $rel:" >&2
        cat "$WORK/$tag.log" >&2
        return 1
    fi
    # Split the score columns, taking timestamp and value from the series
    # itself so that they are exactly the corpus's.
    awk -F, -v dets="$DETS" -v dir="$OUT" -v cat="$cat" -v name="$name" -v orig="$NAB/data/$rel" '
        BEGIN { n = split(dets, D, " ") }
        FNR == 1 {
            for (i = 1; i <= NF; i++) col[$i] = i
            for (j = 1; j <= n; j++) {
                if (!(D[j] in col)) { print "run.sh: no column " D[j] > "/dev/stderr"; exit 1 }
                file[j] = dir "/" D[j] "/" cat "/" D[j] "_" name
                print "timestamp,value,anomaly_score" > file[j]
            }
            getline line < orig
            next
        }
        {
            if ((getline line < orig) <= 0) { print "run.sh: " orig ": more scores than rows" > "/dev/stderr"; exit 1 }
            sub(/\r$/, "", line)
            split(line, o, ",")
            if (o[1] != $1) { print "run.sh: " orig ": row " FNR " is " o[1] ", scored " $1 > "/dev/stderr"; exit 1 }
            for (j = 1; j <= n; j++) print o[1] "," o[2] "," $(col[D[j]]) > file[j]
        }
        END { if ((getline line < orig) > 0) { print "run.sh: " orig ": fewer scores than rows" > "/dev/stderr"; exit 1 } }
    ' "$WORK/$tag.out"
    rm -f "$WORK/$tag.in" "$WORK/$tag.out"
}
export -f one
# The configuration: nab.yaml as it is (causal), or with the range options
# switched on (the lines marked "# range" carry them commented out).
conf=$work/nab.yaml
if [ "$protocol" = nab ]; then
    sed -E 's/^( *)# range: (.*)$/\1\2/' "$here/nab.yaml" >"$conf"
else
    cp "$here/nab.yaml" "$conf"
fi
export NAB=$nab WORK=$work OUT=$out DETS=$dets EDDY_BIN=$eddy HERE=$here CONF=$conf

start=$(date +%s.%N)
(cd "$nab/data" && find . -mindepth 2 -maxdepth 2 -name '*.csv' | sed 's|^\./||' | sort) |
    grep -E -- "${NAB_ONLY:-.}" >"$work/series" || true
if [ ! -s "$work/series" ]; then
    echo "run.sh: no series in $nab/data${NAB_ONLY:+ match '$NAB_ONLY'}" >&2
    exit 1
fi
for d in $dets; do
    for c in $(cut -d/ -f1 "$work/series" | sort -u); do mkdir -p "$out/$d/$c"; done
done
xargs -P "${JOBS:-2}" -I{} bash -c 'one "$1"' _ {} <"$work/series"
end=$(date +%s.%N)
echo "run.sh: $(wc -l <"$work/series") series through eddy ($protocol protocol) in $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s"
if [ -n "${NAB_ONLY:-}" ]; then
    echo "run.sh: NAB_ONLY set: results in $out, not scored"
    exit 0
fi
# shellcheck disable=SC2086
python3 "$here/score.py" "$out" $dets --nab "$nab"
