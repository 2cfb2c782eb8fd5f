#!/usr/bin/env bash
# The dashboard's end-to-end test drives Debian's chromium through playwright-core, which downloads
# no browser of its own: install the package when /usr/bin/chromium is missing.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi
[ "$(id -u)" = 0 ] || { echo "chromium: /usr/bin/chromium is missing and installing it needs root (apt-get install chromium)" >&2; exit 1; }
echo "chromium: installing Debian's chromium" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq chromium >/dev/null
