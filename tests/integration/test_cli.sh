#!/usr/bin/env bash
# The CLI: commands, help, exit codes, validate on every example config and on
# broken ones, describe, and the generated configuration reference.
. "$(dirname "$0")/lib.sh"

expect_code "version" 0 "$EDDY" version
expect_out "version" "operator ABI 1.3"
expect_code "no command" 2 "$EDDY"
expect_code "unknown command" 2 "$EDDY" frobnicate
expect_out "unknown command" "unknown command 'frobnicate'"
for cmd in run validate operators describe version; do
    expect_code "$cmd --help" 0 "$EDDY" "$cmd" --help
    expect_out "$cmd --help" "usage: eddy $cmd"
done
expect_code "run without config" 2 "$EDDY" run

# Every example config validates (they must never rot).
for f in "$SRC"/configs/*.yaml; do
    if [ -n "${EDDY_LEFT_OUT:-}" ] && ! "$EDDY" validate -c "$f" >/dev/null 2>&1; then
        # A minimal build refuses what it left out, and says so.
        expect_code "validate $(basename "$f") (minimal build)" 3 "$EDDY" validate -c "$f"
        expect_out "validate $(basename "$f") (minimal build)" "is not built into this eddy"
        continue
    fi
    # configs/production.yaml reads its secrets from the environment.
    expect_code "validate $(basename "$f")" 0 env EDDY_ADMIN_TOKEN=test-token-0123456789abcdef \
        KAFKA_PASSWORD=test REDIS_PASSWORD=test "$EDDY" validate -c "$f"
    expect_out "validate $(basename "$f")" ": ok ("
done
# Without them, the production example names each missing secret and where.
expect_code "production.yaml without its secrets" 3 env -u EDDY_ADMIN_TOKEN -u KAFKA_PASSWORD \
    -u REDIS_PASSWORD "$EDDY" validate -c "$SRC/configs/production.yaml"
expect_out "production.yaml names the missing secret" "kafka.properties.sasl.password: environment variable KAFKA_PASSWORD is not set"

# Broken configs: exit 3 and file:line:col for each class of error.
bad_cfg() { # NAME EXPECTED-TEXT YAML
    printf '%s\n' "$3" >"$TMP/bad.yaml"
    expect_code "invalid: $1" 3 "$EDDY" validate -c "$TMP/bad.yaml"
    expect_out "invalid: $1" "$2"
}
GOOD_SRC='sources:
  - { name: s, type: generator, count: 10 }'
bad_cfg "yaml syntax" "bad.yaml:2:" 'sources: [
  - a: b: c'
bad_cfg "unknown top key" "bad.yaml:1:1: pipelinez: unknown key 'pipelinez'; did you mean 'pipelines'?" 'pipelinez: []'
bad_cfg "unknown operator" "bad.yaml:7:9: pipelines[0].steps[0]: unknown operator 'filtr'; did you mean 'filter'?" "$GOOD_SRC
pipelines:
  - name: p
    from: s
    steps:
      - filtr: { where: \"x > 1\" }"
bad_cfg "bad expression" "pipelines[0].steps[0].filter: " "$GOOD_SRC
pipelines:
  - name: p
    from: s
    steps:
      - filter: { where: \"x >\" }"
bad_cfg "unknown from" "pipelines[0]: from: 'nope' is neither a source nor a pipeline" "$GOOD_SRC
pipelines:
  - { name: p, from: nope }"
bad_cfg "unknown option key" "bad.yaml:6:38: pipelines[0].steps[0].filter.wher: unknown key 'wher'; did you mean 'where'?" "$GOOD_SRC
pipelines:
  - name: p
    from: s
    steps: [ { filter: { where: \"1\", wher: 2 } } ]"
bad_cfg "bad duration" "bad.yaml:1:36: worker.flush_interval: expected a duration" 'worker: { name: w, flush_interval: 5parsecs }
sources:
  - { name: s, type: generator, count: 10 }
pipelines:
  - { name: p, from: s }'
bad_cfg "unknown source type" "unknown source type 'kafkaa'" 'sources:
  - { name: s, type: kafkaa }
pipelines:
  - { name: p, from: s }'
bad_cfg "unset env" "environment variable EDDY_TEST_SURELY_UNSET is not set" 'worker: { name: "${EDDY_TEST_SURELY_UNSET}" }
sources:
  - { name: s, type: generator, count: 10 }
pipelines:
  - { name: p, from: s }'
bad_cfg "pipeline cycle" "cycle" "$GOOD_SRC
pipelines:
  - { name: a, from: b }
  - { name: b, from: a }"
bad_cfg "after unknown step" "after: 'nope' is not an earlier step" "$GOOD_SRC
pipelines:
  - name: p
    from: s
    steps:
      - filter: { where: \"1\" }
      - { name: x, after: nope, project: { drop: [a] } }"

# Secrets never appear in messages.
printf 'hunter2-secret\n' >"$TMP/secret"
printf '%s\n' "worker: { threads: file:$TMP/secret }
$GOOD_SRC
pipelines:
  - { name: p, from: s }" >"$TMP/secret.yaml"
expect_code "secret in error" 3 "$EDDY" validate -c "$TMP/secret.yaml"
if grep -q hunter2 "$TMP/out"; then bad "secret leaked into an error"; else ok; fi

# describe and operators come from the option tables.
expect_code "describe filter" 0 "$EDDY" describe filter
expect_out "describe filter" "where"
expect_code "describe source:generator" 0 "$EDDY" describe source:generator
expect_out "describe source:generator" "rate"
expect_code "describe unknown" 2 "$EDDY" describe nothing-like-this
expect_code "operators" 0 "$EDDY" operators
expect_out "operators" "filter"
expect_out "operators" "project"

# docs/CONFIG.md is generated from the option tables,
# by a full build: a minimal one (EDDY_LEFT_OUT set by meson) describes less.
if [ -z "${EDDY_LEFT_OUT:-}" ]; then
  check "configuration reference is current (scripts/gen-docs.sh)" "$SRC/scripts/gen-docs.sh" --check "$EDDY"
fi
finish
