#!/usr/bin/env bash
# The browser test drives Debian's Chromium (a browser that Playwright downloads itself
# cannot be fetched here). Install it when we can; otherwise the browser test skips and says
# why — except under CI, where a skipped browser journey would hide a regression, so we fail.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "installing Debian's chromium for the browser test…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq -o DPkg::Lock::Timeout=120 chromium >/dev/null
  [ -x /usr/bin/chromium ] || { echo "error: chromium installed but /usr/bin/chromium is missing" >&2; exit 1; }
elif [ "${CI:-}" = "true" ]; then
  echo "error: /usr/bin/chromium is missing and cannot be installed (needs root and apt-get)" >&2
  exit 1
else
  echo "warning: /usr/bin/chromium is missing and cannot be installed without root; the browser test will be skipped" >&2
fi
