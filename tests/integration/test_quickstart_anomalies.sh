#!/usr/bin/env bash
# The quick start's `anomalies` pipeline against the generator's labels
# (issue 16.5): the generator and the steps of configs/quickstart.yaml,
# read from that file so that the test follows it, on a bounded stream at
# rate 0 with a file sink instead of the embedded broker. Precision and
# recall of the ensemble's flag on `injected_anomaly` must both be >= 0.8,
# on the quick start's seed and on two others (so not one lucky draw).
# In the quick start each of the 3 partitions of `payments` has its own
# detectors (a third of the payments each); here one stream has them all:
# the windows span a third of the time, which the seeds' margins cover.
. "$(dirname "$0")/lib.sh"

for seed in 42 7 123; do
    python3 - "$SRC/configs/quickstart.yaml" "$TMP/qa$seed.yaml" "$TMP/qa$seed.json" "$seed" <<'P'
import sys, yaml
src, dst, out, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
q = yaml.safe_load(open(src))
gen = dict(next(s for s in q["sources"] if s["name"] == "generator"))
gen.update(seed=seed, rate=0)
gen.pop("start_time", None)
pipes = {p["name"]: p for p in q["pipelines"]}
steps = list(pipes["payments_clean"]["steps"])
for st in pipes["anomalies"]["steps"]:
    if "filter" in st:
        break  # the printing tail: keep every record, flag and label
    st = {k: v for k, v in st.items() if k not in ("alerts", "outputs")}
    steps.append(st)
cfg = {"worker": {"name": "qa", "admin": {"enabled": False}, "log": {"level": "error"}},
       "sources": [gen],
       "pipelines": [{"name": "anomalies", "from": "generator", "steps": steps,
                      "to": [{"type": "file", "path": out}]}]}
yaml.safe_dump(cfg, open(dst, "w"), sort_keys=False)
P
    expect_code "quick start anomalies, seed $seed: run" 0 "$EDDY" run -c "$TMP/qa$seed.yaml"
    python3 - "$TMP/qa$seed.json" "$seed" >"$TMP/out" 2>&1 <<'P'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
labels = sum(1 for r in recs if r["injected_anomaly"])
flags = [r for r in recs if r["anomaly"]]
tp = sum(1 for r in flags if r["injected_anomaly"])
p, r = tp / max(len(flags), 1), tp / max(labels, 1)
print(f"seed {sys.argv[2]}: {len(recs)} payments, {labels} injected, {len(flags)} flagged, "
      f"{tp} of them injected: precision {p:.3f} (expected >= 0.8), recall {r:.3f} (expected >= 0.8)")
assert labels >= 30, labels  # enough labels for the ratios to mean something
assert p >= 0.8 and r >= 0.8
print("quality ok")
P
    cat "$TMP/out"
    expect_out "quick start anomalies, seed $seed: precision and recall >= 0.8" "quality ok"
done
finish
