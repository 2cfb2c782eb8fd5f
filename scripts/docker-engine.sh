#!/usr/bin/env bash
# Make sure a Docker engine answers on /var/run/docker.sock: install Debian's docker.io when dockerd
# is missing, start dockerd when nothing answers, wait for it. Fails with a clear message otherwise.
set -euo pipefail

log() { printf 'docker-engine: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

engine_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
# Debian's dockerd 20.10 can deadlock in libnetwork under container churn: it still answers
# `docker version`, but `docker info` and every container operation hang from then on.
engine_works() { timeout 20 docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; }

stop_dockerd() {
  local pid
  pid=$(pgrep -x dockerd | head -n 1) || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || return 0; sleep 1; done
  log "dockerd $pid did not stop within 20 s: killing it"
  kill -9 "$pid" 2>/dev/null || true
  sleep 1
}

if command -v docker >/dev/null 2>&1 && engine_answers; then
  if engine_works; then
    log "engine already running ($(docker version --format '{{.Server.Version}}'))"
    exit 0
  fi
  log "the engine answers but docker info hangs (a deadlocked dockerd): restarting it"
  stop_dockerd
fi

if ! command -v dockerd >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || die "dockerd is not installed and installing it needs root (apt-get install docker.io)"
  log "installing Debian's docker.io"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || die "apt-get update failed"
  apt-get install -y -qq docker.io >/dev/null || die "apt-get install docker.io failed"
fi
command -v docker >/dev/null 2>&1 || die "the docker client is missing after installing docker.io"

# A dockerd that is starting or shutting down answers (or exits) soon: give it that time.
for _ in $(seq 1 30); do
  pgrep -x dockerd >/dev/null 2>&1 || break
  if engine_answers; then
    log "engine up ($(docker version --format '{{.Server.Version}}'))"
    exit 0
  fi
  sleep 1
done

# A dockerd that was killed leaves its pid file behind and the next start refuses to run.
pidfile=/var/run/docker.pid
if [ -f "$pidfile" ] && ! kill -0 "$(cat "$pidfile" 2>/dev/null)" 2>/dev/null; then
  log "removing stale $pidfile"
  rm -f "$pidfile"
fi

if ! pgrep -x dockerd >/dev/null 2>&1; then
  log "starting dockerd (log: /var/log/cube-dockerd.log)"
  nohup dockerd >/var/log/cube-dockerd.log 2>&1 &
fi

for _ in $(seq 1 60); do
  if engine_answers && engine_works; then
    log "engine up ($(docker version --format '{{.Server.Version}}'))"
    exit 0
  fi
  sleep 1
done
tail -n 20 /var/log/cube-dockerd.log >&2 2>/dev/null || true
die "the Docker engine did not answer within 60 s (see /var/log/cube-dockerd.log)"
