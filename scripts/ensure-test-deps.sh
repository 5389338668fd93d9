#!/usr/bin/env bash
# System packages the test suite needs beyond npm: Debian's Chromium for the real-browser test.
# Idempotent; installs only what is missing.
set -euo pipefail
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "ensure-test-deps: /usr/bin/chromium is missing; install Debian's chromium package (needs root)" >&2
    exit 1
  fi
  echo "ensure-test-deps: installing chromium from Debian" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
