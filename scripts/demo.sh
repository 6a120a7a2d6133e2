#!/usr/bin/env bash
# The main job on the embedded local cloud, from nothing:
# set up, create a workspace, validate -> compile -> plan -> apply -> plan (no changes).
# Usage: bash scripts/demo.sh [WORKSPACE_DIR]   (default: a new temporary directory)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bash "$here/scripts/setup.sh"          # the base install: the demo needs no test extra
gc="$here/.venv/bin/govcloud"
ws="${1:-$(mktemp -d /tmp/govcloud-demo.XXXXXX)/workspace}"
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
step "$gc" init "$ws" --profile bazhong
step "$gc" validate -C "$ws"
step "$gc" compile -C "$ws"
step "$gc" plan -C "$ws" -o "$ws/demo.plan.json"
step "$gc" apply -C "$ws" "$ws/demo.plan.json"
step "$gc" plan -C "$ws" --detailed-exitcode
step "$gc" audit verify -C "$ws"
printf '\nDone: workspace %s (state and local cloud under %s/.govcloud)\n' "$ws" "$ws"
