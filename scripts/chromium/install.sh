#!/usr/bin/env bash
# Make headless Chromium available for the report's browser test (tests/money/test_report_browser.py):
# installs Debian's `chromium` package when it is missing. Idempotent: a no-op when `chromium`
# is on PATH and a CJK font (fonts-wqy-microhei, 5 MB) is installed, so that the report's
# Chinese text renders instead of boxes. Needs root (or sudo) for apt-get.
set -euo pipefail
if command -v chromium >/dev/null && dpkg -s fonts-wqy-microhei >/dev/null 2>&1; then
  exit 0
fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-wqy-microhei >/dev/null
chromium --version 2>/dev/null | head -1
