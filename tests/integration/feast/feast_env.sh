#!/usr/bin/env bash
# Prints the path of a Python interpreter that has the pinned Feast (with
# its Redis extra), installing it into a venv under ~/.cache/eddy on first
# use. Exits 77 (the test runners' "skip") with the reason on stderr when
# the package registry cannot be reached.
set -u
FEAST_VERSION=0.67.0 # keep in step with EDDY_FEAST_VERSION in lib/store/feast.h
VENV=${EDDY_FEAST_VENV:-$HOME/.cache/eddy/feast-$FEAST_VERSION}
PY=$VENV/bin/python
if [ -x "$PY" ] && "$PY" -c "import feast, redis; assert feast.__version__ == '$FEAST_VERSION'" 2>/dev/null; then
    echo "$PY"
    exit 0
fi
mkdir -p "$(dirname "$VENV")"
if ! python3 -m venv "$VENV" >&2; then
    echo "feast_env: cannot create a venv at $VENV (python3-venv missing?)" >&2
    exit 77
fi
if ! "$VENV/bin/pip" install -q --disable-pip-version-check "feast[redis]==$FEAST_VERSION" >&2; then
    echo "feast_env: pip could not install feast[redis]==$FEAST_VERSION (registry unreachable?)" >&2
    exit 77
fi
echo "$PY"
