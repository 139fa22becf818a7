#!/usr/bin/env bash
# Regenerates the configuration reference from the option tables:
# docs/CONFIG.md (the README links to it).
#   scripts/gen-docs.sh                 # rewrite it (builds eddy first)
#   scripts/gen-docs.sh --check EDDY    # exit 1 if it is stale (the test suite does this)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=write
eddy=build/eddy
if [ "${1:-}" = "--check" ]; then
  mode=check
  eddy=$2
else
  scripts/build.sh build
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$eddy" describe --all --markdown >"$tmp/CONFIG.md"
if [ "$mode" = check ]; then
  if ! diff -u docs/CONFIG.md "$tmp/CONFIG.md" >&2; then
    echo "configuration reference is stale: run scripts/gen-docs.sh" >&2
    exit 1
  fi
  exit 0
fi
cp "$tmp/CONFIG.md" docs/CONFIG.md
echo "wrote docs/CONFIG.md"
