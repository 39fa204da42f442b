#!/usr/bin/env bash
# ensure-debian-packages.sh <package…>: install Debian packages the benchmark needs (wrk,
# pgbench's postgresql-contrib, haproxy), the tests' gettext (makemessages' xgettext, msgfmt) and the share
# image's font (fonts-dejavu-core). As
# root directly (the CI case), else through sudo when it needs no password; otherwise say what
# to install and fail.
set -euo pipefail
[ "$#" -gt 0 ] || exit 0
if [ "$(id -u)" = "0" ]; then as_root=(); elif sudo -n true 2>/dev/null; then as_root=(sudo -n); else
  echo "error: install these Debian packages first: $*" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get install -y -qq -o DPkg::Lock::Timeout=120 "$@" >/dev/null 2>&1 \
  || { "${as_root[@]}" apt-get update -qq && "${as_root[@]}" apt-get install -y -qq -o DPkg::Lock::Timeout=120 "$@" >/dev/null; }
