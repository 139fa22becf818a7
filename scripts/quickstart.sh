#!/usr/bin/env bash
# The quick start: installs what is missing, builds eddy, and runs
# configs/quickstart.yaml (a synthetic payment stream through an embedded
# Kafka broker and pipelines: summaries, windowed features, a drift alert
# that fires and resolves, features written to the embedded feature store),
# and shows one user's features read back through the serving endpoint
# http://127.0.0.1:9464/v1/features/user_spend/user-7.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "building eddy (release) ..." >&2
scripts/build.sh build
rm -f /tmp/eddy-quickstart-features.db /tmp/eddy-quickstart-features.db-wal \
      /tmp/eddy-quickstart-features.db-shm
echo "running: build/eddy run -c configs/quickstart.yaml   (Ctrl-C drains and stops)" >&2
build/eddy run -c configs/quickstart.yaml "$@" &
pid=$!
trap 'kill -INT "$pid" 2>/dev/null || true' INT TERM
url=http://127.0.0.1:9464/v1/features/user_spend/user-7
for _ in $(seq 1 60); do
  sleep 1
  kill -0 "$pid" 2>/dev/null || break
  if body=$(curl -fsS "$url" 2>/dev/null); then
    printf '\n== features of user-7 from the feature store: GET %s\n%s\n\n' "$url" "$body"
    break
  fi
done
wait "$pid"
