#!/usr/bin/env bash
# The quick start: installs what is missing, builds eddy, and runs
# configs/quickstart.yaml (a synthetic payment stream through a pipeline,
# with a readable summary and /metrics on http://127.0.0.1:9464/metrics).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "building eddy (release) ..." >&2
scripts/build.sh build
echo "running: build/eddy run -c configs/quickstart.yaml   (Ctrl-C drains and stops)" >&2
exec build/eddy run -c configs/quickstart.yaml "$@"
