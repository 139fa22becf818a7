#!/usr/bin/env bash
# build.sh DIR [meson options...]: configures (once) and builds eddy in DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
if [ ! -f "$dir/build.ninja" ]; then
  meson setup "$dir" "$@" >/dev/null
fi
# Quiet when it works; the compiler's messages (on ninja's stdout) when not.
if ! out=$(ninja -C "$dir" 2>&1); then
  printf '%s\n' "$out" >&2
  exit 1
fi
