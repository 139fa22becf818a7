#!/usr/bin/env bash
# Regenerates docs/CONFIG.md from the option tables (a test checks it is current).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh build
build/eddy describe --all --markdown > docs/CONFIG.md
echo "wrote docs/CONFIG.md"
