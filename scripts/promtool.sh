#!/usr/bin/env bash
# promtool for tests (`promtool check metrics` lints what /metrics serves): installs Debian's
# `prometheus` package when promtool is missing, without letting the package start its server.
set -euo pipefail

log() { printf 'promtool: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

if command -v promtool >/dev/null 2>&1; then
  log "already installed ($(promtool --version 2>&1 | head -n 1))"
  exit 0
fi
[ "$(id -u)" = 0 ] || die "promtool is not installed and installing it needs root (apt-get install prometheus)"
# The package starts a Prometheus server through its init script; policy-rc.d answering 101 tells
# invoke-rc.d not to. Ours is put in place only when the machine has none, and removed after.
policy=/usr/sbin/policy-rc.d
own_policy=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
fi
log "installing Debian's prometheus (for promtool)"
export DEBIAN_FRONTEND=noninteractive
ok=1
apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1 \
  || { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends prometheus >/dev/null; } || ok=""
[ -z "$own_policy" ] || rm -f "$policy"
[ -n "$ok" ] || die "apt-get install prometheus failed"
command -v promtool >/dev/null 2>&1 || die "promtool is missing after installing prometheus"
log "installed ($(promtool --version 2>&1 | head -n 1))"
