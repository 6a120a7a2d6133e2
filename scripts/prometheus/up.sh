#!/usr/bin/env bash
# Make Prometheus available for the money tests (tests/money/prometheus.py starts its own server
# on 127.0.0.1 per test, loaded through promtool): installs Debian's `prometheus` package
# (prometheus + promtool, 2.42) when either binary is missing. Idempotent: a no-op when both are
# on PATH. The tests never use the packaged service. Needs root (or sudo) for apt-get.
set -euo pipefail
if command -v prometheus >/dev/null && command -v promtool >/dev/null; then
  exit 0
fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null
command -v promtool >/dev/null && prometheus --version 2>&1 | head -1
