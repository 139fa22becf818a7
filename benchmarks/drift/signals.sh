#!/usr/bin/env bash
# Runs one concept-drift detector through an eddy pipeline over a file of
# one number per line and prints one line per signal, "<index> <warning|change>"
# (0-based index of the value whose update raised it), and nothing else.
#
#   benchmarks/drift/signals.sh DETECTOR FILE [OPTION=VALUE ...]
#
# DETECTOR: adwin page_hinkley kswin ddm eddm hddm_a hddm_w cusum; options as
# in `eddy describe DETECTOR` (river's parameter names), e.g. delta=0.002.
# EDDY: the eddy binary (default: build/eddy beside this script's repo).
# Signals are levels, as river's flags are: a detector in its warning zone
# reports a warning on every update until it leaves it. An update on which
# river sets both flags (warning_detected and drift_detected: EDDM, two-sided
# HDDM) prints "<index> warning change".
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 DETECTOR FILE [OPTION=VALUE ...]" >&2
  exit 2
fi
det=$1 file=$2
shift 2
here=$(cd "$(dirname "$0")/../.." && pwd)
EDDY=${EDDY:-$here/build/eddy}
[ -r "$file" ] || { echo "signals.sh: cannot read $file" >&2; exit 2; }
[ -x "$EDDY" ] || { echo "signals.sh: no eddy binary at $EDDY (build first, or set EDDY)" >&2; exit 2; }
opts=""
for kv in "$@"; do
  case $kv in
    *=*) opts="$opts
          ${kv%%=*}: ${kv#*=}" ;;
    *) echo "signals.sh: expected OPTION=VALUE, got '$kv'" >&2; exit 2 ;;
  esac
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/signals.yaml" <<YAML
worker: { name: signals, admin: { enabled: false }, log: { level: error } }
sources:
  - { name: values, type: file, path: "-", format: csv, batch_size: 4096 }
pipelines:
  - name: signals
    from: values
    steps:
      - $det:
          field: x
          signal_field: s
          warning_field: w
          index_field: i$opts
      - filter: { where: 's != "none"' }
      - project: { keep: [i, s, w] }
    to:
      - { type: file, path: "-", format: csv }
YAML
# The value column gets a header; the CSV output's header names the columns.
{ echo x; cat "$file"; } | "$EDDY" run -c "$tmp/signals.yaml" |
  awk -F, 'NR == 1 { for (c = 1; c <= NF; c++) col[$c] = c; next }
           { s = $col["s"]; if (s == "change" && $col["w"] == "true") s = "warning change"
             print $col["i"], s }'
