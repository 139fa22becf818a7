#!/usr/bin/env bash
# Plugin ABI checks, and the template plugin built out of tree against the
# installed header and pkg-config file, then run in a pipeline.
. "$(dirname "$0")/lib.sh"
PLUG="$BUILD/tests/integration/plugins"

abi_case() { # NAME EXIT TEXT...
    local name=$1 code=$2
    shift 2
    mkdir -p "$TMP/$name"
    cp "$PLUG/abi_$name.so" "$TMP/$name/"
    expect_code "abi $name" "$code" "$EDDY" operators --plugin-dir "$TMP/$name"
    for text in "$@"; do expect_out "abi $name" "$text"; done
}
abi_case bad_magic 4 "abi_bad_magic.so: not an eddy operator plugin (magic 0x1122334455667788, expected 0x454444594f505631)"
abi_case bad_major 4 "abi_bad_major.so: built for operator ABI 2.3, this eddy speaks ABI 1.3"
abi_case short_struct 4 "abi_short_struct.so: eddy_plugin struct is 16 bytes, ABI 1.3 needs at least"
abi_case short_descriptor 4 "abi_short_descriptor.so: operator #0 descriptor is 24 bytes, ABI 1.3 needs at least"
abi_case newer_minor 0 "abi_newer_minor" "1.4"

# A plugin built against the literal ABI 1.0 header (tests/fixtures/abi/
# eddy-1.0) loads, says 1.0, and runs through the 1.0 part of the host table.
abi_case v1_0 0 "abi_v1_0"
# Columns stay aligned when an origin is a long plugin path (issue 15.9):
# SUMMARY starts at the same column on the header and the plugin's row.
python3 - "$TMP/out" >"$TMP/align" 2>&1 <<'P'
import sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
head = next(l for l in lines if l.startswith("OPERATOR"))
row = next(l for l in lines if l.startswith("abi_v1_0"))
col = head.index("SUMMARY")
print("aligned" if row[col - 2:col] == "  " and row[col] != " " else "header SUMMARY at %d: %r" % (col, row))
P
check "operators columns line up ($(cat "$TMP/align"))" grep -q '^aligned$' "$TMP/align"
expect_code "abi v1_0 describe" 0 "$EDDY" describe --plugin-dir "$TMP/v1_0" abi_v1_0
expect_out "abi v1_0 describe" "version 1.0.0, ABI 1.0)"
printf '{"x":1}\n{"x":20}\n{"y":"no x"}\n' >"$TMP/v1_0.ndjson"
cat >"$TMP/v1_0.yaml" <<Y
worker: { admin: { enabled: false }, plugin_dirs: [ "$TMP/v1_0" ] }
sources:
  - { name: s, type: file, path: "$TMP/v1_0.ndjson", format: json }
pipelines:
  - name: p
    from: s
    steps:
      - abi_v1_0: { label: old }
    to:
      - { type: file, path: "$TMP/v1_0.out.ndjson", format: json }
Y
expect_code "abi v1_0 pipeline" 0 "$EDDY" run -c "$TMP/v1_0.yaml"
check "abi v1_0 output" python3 -c '
import json,sys
rows=[json.loads(l) for l in open(sys.argv[1])]
recs=[r for r in rows if r.get("label")=="old"]
assert [r.get("x2") for r in recs]==[2,40,None], rows
assert all(r["host_minor"]==3 and r["host_has_1_0"]==1 and r["host_has_watermark"]==1 for r in recs), rows
assert [r["count"] for r in rows if r.get("label")=="end"]==[3], rows
' "$TMP/v1_0.out.ndjson"

# A refused plugin named in a config makes the config invalid.
cat >"$TMP/cfg.yaml" <<Y
worker: { plugin_dirs: [ "$TMP/bad_major" ] }
sources:
  - { name: s, type: generator, count: 10 }
pipelines:
  - { name: p, from: s }
Y
expect_code "config with a bad plugin" 3 "$EDDY" validate -c "$TMP/cfg.yaml"
expect_out "config with a bad plugin" "worker.plugin_dirs"
expect_out "config with a bad plugin" "ABI 2.3"

# Out-of-tree build of the template against the installed kit.
meson install -C "$BUILD" --no-rebuild --destdir "$TMP/inst" >"$TMP/install.log" 2>&1
check "meson install" [ $? = 0 ]
pc=$(find "$TMP/inst" -name eddy-operator.pc | head -1)
check "pkg-config file installed" [ -n "$pc" ]
check "header installed" test -f "$(find "$TMP/inst" -path '*/include/eddy/operator.h' | head -1)"
cp -r "$SRC/examples/operator-template" "$TMP/template"
rm -f "$TMP/template/scale.so"
PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR="$TMP/inst" \
    make -C "$TMP/template" >"$TMP/make.log" 2>&1
check "template builds out of tree" test -f "$TMP/template/scale.so"
[ -f "$TMP/template/scale.so" ] || cat "$TMP/make.log" >&2
check "template links nothing of eddy" sh -c "! nm -D --undefined-only '$TMP/template/scale.so' | grep -q ' eddy_'"
expect_code "describe template" 0 "$EDDY" describe --plugin-dir "$TMP/template" scale
expect_out "describe template" "factor"
printf '{"id":1,"amount":10}\n{"id":2,"amount":2.5}\n{"id":3,"note":"no amount"}\n' >"$TMP/in.ndjson"
cat >"$TMP/run.yaml" <<Y
worker: { admin: { enabled: false }, plugin_dirs: [ "$TMP/template" ] }
sources:
  - { name: s, type: file, path: "$TMP/in.ndjson", format: json }
pipelines:
  - name: p
    from: s
    steps:
      - scale: { field: amount, factor: 3, output: tripled }
    to:
      - { type: file, path: "$TMP/out.ndjson", format: json }
Y
expect_code "template in a pipeline" 0 "$EDDY" run -c "$TMP/run.yaml"
check "template output" python3 -c '
import json,sys
rows=[json.loads(l) for l in open(sys.argv[1])]
assert [r.get("tripled") for r in rows]==[30.0,7.5,None], rows
' "$TMP/out.ndjson"

# A stateful operator: consumes its input, emits on timers and at the end of
# input; the emitted records reach the sink after it and a pipeline on the bus.
mkdir -p "$TMP/probe"
cp "$PLUG/probe.so" "$TMP/probe/"
python3 -c '
for i in range(3000):
    print("{\"i\":%d,\"ts\":%d}" % (i, 1000 + i))
' >"$TMP/ts.ndjson"
cat >"$TMP/probe.yaml" <<Y
worker: { admin: { enabled: false }, plugin_dirs: [ "$TMP/probe" ], batch_size: 100 }
sources:
  - { name: s, type: file, path: "$TMP/ts.ndjson", format: json, timestamp: { field: ts } }
pipelines:
  - name: p
    from: s
    steps:
      - probe: { label: one }
    to:
      - { type: file, path: "$TMP/probe.ndjson", format: json }
  - name: q
    from: p
    to:
      - { type: file, path: "$TMP/probe_bus.ndjson", format: json }
Y
expect_code "probe pipeline" 0 "$EDDY" run -c "$TMP/probe.yaml"
check "probe: timers, watermark end, emit" python3 -c '
import json,sys
rows=[json.loads(l) for l in open(sys.argv[1])]
ev={r["event"]: r for r in rows}
assert set(ev)=={"event_timer","wall_timer","end"}, rows
assert ev["event_timer"]["value"]==1000, rows
assert 1000 < ev["event_timer"]["count"] < 3000, rows
assert ev["end"]["count"]==3000 and ev["end"]["label"]=="one", rows
assert [json.loads(l) for l in open(sys.argv[2])]==rows
' "$TMP/probe.ndjson" "$TMP/probe_bus.ndjson"
finish
