#!/usr/bin/env bash
# Make headless Chromium available for the report's browser test (tests/money/test_report_browser.py):
# installs Debian's `chromium` package when it is missing. Idempotent: a no-op when `chromium`
# is on PATH. Needs root (or sudo) for apt-get.
set -euo pipefail
if command -v chromium >/dev/null; then
  exit 0
fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
chromium --version 2>/dev/null | head -1
