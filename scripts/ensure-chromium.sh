#!/usr/bin/env bash
# The browser test drives Debian's Chromium (a browser that Playwright downloads itself
# cannot be fetched here). Install it when we can; otherwise the browser test skips and says why.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "installing Debian's chromium for the browser test…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "warning: /usr/bin/chromium is missing and cannot be installed without root; the browser test will be skipped" >&2
fi
