#!/usr/bin/env bash
# Regenerates the configuration reference from the option tables:
# docs/CONFIG.md, and the block between the markers in README.md.
#   scripts/gen-docs.sh                 # rewrite both (builds eddy first)
#   scripts/gen-docs.sh --check EDDY    # exit 1 if either is stale (the test suite does this)
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
python3 - "$tmp/CONFIG.md" README.md "$tmp/README.md" <<'PY'
import sys, re
ref = open(sys.argv[1]).read().splitlines()
# In the README the reference sits under "### Configuration reference":
# drop its title and intro and push headings two levels down.
body = []
for line in ref[1:]:
    if line.startswith("#"):
        line = "##" + line
    body.append(line)
text = "\n".join(body).strip() + "\n"
readme = open(sys.argv[2]).read()
begin = readme.index("<!-- BEGIN CONFIG REFERENCE")
begin = readme.index("\n", begin) + 1
end = readme.index("<!-- END CONFIG REFERENCE -->")
open(sys.argv[3], "w").write(readme[:begin] + text + readme[end:])
PY
if [ "$mode" = check ]; then
  stale=0
  diff -u docs/CONFIG.md "$tmp/CONFIG.md" >&2 || stale=1
  diff -u README.md "$tmp/README.md" >&2 || stale=1
  [ "$stale" = 0 ] || echo "configuration reference is stale: run scripts/gen-docs.sh" >&2
  exit $stale
fi
cp "$tmp/CONFIG.md" docs/CONFIG.md
cp "$tmp/README.md" README.md
echo "wrote docs/CONFIG.md and the README reference block"
