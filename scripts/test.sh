#!/usr/bin/env bash
# Run the whole test suite: set up .venv, start the OpenStack test cloud (idempotent; about
# 3 minutes cold, seconds when it is already up), then pytest. Extra arguments go to pytest.
# GOVCLOUD_NO_OPENSTACK=1 skips starting the cloud (its tests then FAIL, saying how to start it).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bash "$here/scripts/setup.sh"
if [ -z "${GOVCLOUD_NO_OPENSTACK:-}" ]; then
  bash "$here/scripts/openstack/up.sh"
fi
cd "$here"
exec .venv/bin/python -m pytest "$@"
