#!/usr/bin/env bash
# The accessibility browser test (tests/browser/test_accessibility.py) injects axe-core, pinned in
# js/package-lock.json, from js/node_modules (gitignored; `make js` fills the same folder). Install
# it with `npm ci` when it is missing or the lock has changed since (a stamp holds the lock's
# digest), and Debian's npm first when npm itself is missing. Outside CI a failure only warns: the
# test then skips and says why. Under CI it fails, as a skipped accessibility check would hide a
# regression.
set -euo pipefail
cd "$(dirname "$0")/../js"
stamp=node_modules/.undersign-lock-sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ -f node_modules/axe-core/axe.min.js ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then exit 0; fi

give_up() {
  if [ "${CI:-}" = "true" ]; then echo "error: $1" >&2; exit 1; fi
  echo "warning: $1; the accessibility test will be skipped" >&2
  exit 0
}
command -v npm >/dev/null || bash ../scripts/ensure-debian-packages.sh npm || give_up "npm is missing and cannot be installed"
command -v npm >/dev/null || give_up "npm is missing"
echo "installing js/package-lock.json's packages (axe-core) into js/node_modules…"
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null || give_up "npm ci failed in js/"
echo "$want" > "$stamp"
