#!/usr/bin/env bash
# Run the whole test suite: set up .venv with the test extras, start the OpenStack test cloud
# (idempotent; about 3 minutes cold, seconds when it is already up), then pytest on
# GOVCLOUD_TEST_WORKERS pytest-xdist workers (default 2; 0 runs in this process), a file per
# worker; the modules that use the OpenStack test cloud run one at a time (tests/conftest.py).
# Extra arguments go to pytest.
# GOVCLOUD_NO_OPENSTACK=1 skips starting the cloud (its tests then FAIL, saying how to start it).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bash "$here/scripts/setup.sh" test     # with the test extras
# The PostgreSQL state tests use the machine's server (127.0.0.1:5432, or GOVCLOUD_TEST_PG_URL):
# start the system service if it is installed but not running (never a second copy).
if [ -z "${GOVCLOUD_TEST_PG_URL:-}" ] && command -v pg_isready >/dev/null \
    && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  (service postgresql start || pg_ctlcluster --skip-systemctl-redirect 15 main start) >/dev/null 2>&1 || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
# The money tests start their own Prometheus (promtool-loaded) and headless Chromium on
# 127.0.0.1: install the Debian packages when missing (no-ops when present).
bash "$here/scripts/prometheus/up.sh"
bash "$here/scripts/chromium/install.sh"
if [ -z "${GOVCLOUD_NO_OPENSTACK:-}" ]; then
  bash "$here/scripts/openstack/up.sh"
fi
cd "$here"
workers=${GOVCLOUD_TEST_WORKERS:-2}
if [ "$workers" = 0 ]; then
  exec .venv/bin/python -m pytest "$@"
fi
exec .venv/bin/python -m pytest -n "$workers" --dist loadfile "$@"
