#!/usr/bin/env bash
# Create (or refresh) the project's virtualenv in .venv and install govcloud into it:
#   bash scripts/setup.sh         the base install (pip install -e .): all the demo needs
#   bash scripts/setup.sh test    with the test extras (pip install -e ".[test]")
# Idempotent: a second run only checks that the install is current. The stamp
# .venv/.govcloud-installed is newer than pyproject.toml and names the extras installed.
set -euo pipefail
cd "$(dirname "$0")/.."
extras=${1:-}
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.govcloud-installed
current() {   # a current stamp; any install has the base, extras must be named in it
  [ -f "$stamp" ] && [ ! pyproject.toml -nt "$stamp" ] \
    && { [ -z "$extras" ] || grep -qx "$extras" "$stamp"; }
}
if ! current; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras:+[$extras]}"
  echo "$extras" > "$stamp"
fi
