#!/usr/bin/env bash
# A real etcd for tests and for trying the etcd store by hand (no systemd needed):
#   etcd.sh install       install Debian's etcd-server and etcd-client when `etcd` is missing
#   etcd.sh start DIR     start a 3-member cluster on free loopback ports, data and logs under DIR;
#                         waits until every member is healthy, then prints one line on stdout:
#                         ETCD_ENDPOINTS=http://127.0.0.1:P1,http://127.0.0.1:P2,http://127.0.0.1:P3
#   etcd.sh stop DIR      stop the members started in DIR (by the pids in DIR/member-N.pid)
# Timing is tuned for tests: a member's heartbeat every 50 ms, an election after 250-500 ms of silence,
# so losing the leader member costs well under a second. test/support/etcd-cluster.ts does the same
# from TypeScript; keep the two flag sets alike.
set -euo pipefail

MEMBERS=3
HEARTBEAT_MS=50
ELECTION_MS=250

log() { printf 'etcd: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
usage() { die "usage: $0 install | start DIR | stop DIR"; }

install_etcd() {
  if command -v etcd >/dev/null 2>&1; then
    log "already installed ($(etcd --version | head -n 1))"
    return
  fi
  [ "$(id -u)" = 0 ] || die "etcd is not installed and installing it needs root (apt-get install etcd-server etcd-client)"
  # The package starts a default member on 2379 through its init script; policy-rc.d answering 101
  # tells invoke-rc.d not to. Ours is put in place only when the machine has none, and removed after.
  local policy=/usr/sbin/policy-rc.d own_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
  fi
  log "installing Debian's etcd-server and etcd-client"
  export DEBIAN_FRONTEND=noninteractive
  local ok=1
  apt-get install -y -qq etcd-server etcd-client >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null && apt-get install -y -qq etcd-server etcd-client >/dev/null; } || ok=""
  [ -z "$own_policy" ] || rm -f "$policy"
  [ -n "$ok" ] || die "apt-get install etcd-server etcd-client failed"
  command -v etcd >/dev/null 2>&1 || die "etcd is missing after installing etcd-server"
  # Should the default service have started anyway, stop it: nothing of ours uses it.
  if [ -x /etc/init.d/etcd ] && /etc/init.d/etcd status >/dev/null 2>&1; then
    log "stopping the default etcd service the package started"
    /etc/init.d/etcd stop >/dev/null 2>&1 || log "could not stop the default etcd service; ours use other ports"
  fi
  log "installed ($(etcd --version | head -n 1))"
}

port_in_use() { [ -n "$(ss -Htln "sport = :$1" 2>/dev/null)" ]; }

# Sets `port` to one below Linux's ephemeral range (32768+) that nothing listens on and that this run
# has not taken yet (not run in a subshell, so `taken` keeps what earlier calls picked).
taken=" "
pick_port() {
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 12000))
    case "$taken" in *" $port "*) continue ;; esac
    if ! port_in_use "$port"; then
      taken="$taken$port "
      return
    fi
  done
  die "found no free port between 20000 and 32000"
}

# Short: a member still forming the cluster can hold the answer for a second; asking again is quicker.
healthy() { curl -fsS --max-time 0.25 "$1/health" 2>/dev/null | grep -q '"health":"true"'; }

# The pid in FILE when it is still an etcd started with a data dir under DIR (a pid can be reused).
member_pid() {
  local file=$1 dir=$2 pid
  [ -f "$file" ] || return 1
  pid=$(cat "$file")
  [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "--data-dir $dir/" && echo "$pid"
}

# SIGKILL: members told to stop together each try to hand leadership to another that is leaving, which
# takes ~7 s; etcd is crash-safe, and these are test clusters.
stop_cluster() {
  local dir pids="" pid
  dir=$(realpath "$1")
  for file in "$dir"/member-*.pid; do
    [ -e "$file" ] || continue
    if pid=$(member_pid "$file" "$dir"); then
      kill -9 "$pid" 2>/dev/null || true
      pids="$pids $pid"
    fi
    rm -f "$file"
  done
  [ -n "$pids" ] || { log "nothing running in $dir"; return; }
  # An exited member stays a zombie until init reaps it: counted as gone.
  for pid in $pids; do
    while [ -r "/proc/$pid/stat" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$pid/stat" 2>/dev/null; do sleep 0.05; done
  done
  log "stopped$pids"
}

start_cluster() {
  local dir
  mkdir -p "$1"
  dir=$(realpath "$1")
  command -v etcd >/dev/null 2>&1 || die "etcd is not installed: run \`bash scripts/etcd.sh install\`"
  for file in "$dir"/member-*.pid; do
    [ -e "$file" ] && member_pid "$file" "$dir" >/dev/null && die "a cluster is already running in $dir (\`bash scripts/etcd.sh stop $dir\` first)"
  done

  local i port client_ports=() peer_ports=() initial_cluster="" token
  for i in $(seq 1 "$MEMBERS"); do
    pick_port && client_ports+=("$port")
    pick_port && peer_ports+=("$port")
    initial_cluster="${initial_cluster:+$initial_cluster,}m$i=http://127.0.0.1:${peer_ports[$((i - 1))]}"
  done
  token="cube-test-$$-$RANDOM"

  for i in $(seq 1 "$MEMBERS"); do
    local client="http://127.0.0.1:${client_ports[$((i - 1))]}" peer="http://127.0.0.1:${peer_ports[$((i - 1))]}"
    # setsid: the members outlive this script and a Ctrl-C in the shell that started it.
    setsid etcd --name "m$i" --data-dir "$dir/m$i" \
      --listen-client-urls "$client" --advertise-client-urls "$client" \
      --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
      --initial-cluster "$initial_cluster" --initial-cluster-state new --initial-cluster-token "$token" \
      --heartbeat-interval "$HEARTBEAT_MS" --election-timeout "$ELECTION_MS" --pre-vote \
      --logger zap --log-level warn \
      </dev/null >"$dir/member-$i.log" 2>&1 &
    echo $! >"$dir/member-$i.pid"
    disown
  done

  local endpoints=""
  for i in $(seq 1 "$MEMBERS"); do endpoints="${endpoints:+$endpoints,}http://127.0.0.1:${client_ports[$((i - 1))]}"; done
  for _ in $(seq 1 100); do
    local all=1
    for i in $(seq 1 "$MEMBERS"); do
      if ! member_pid "$dir/member-$i.pid" "$dir" >/dev/null; then
        tail -n 20 "$dir/member-$i.log" >&2 || true
        stop_cluster "$dir"
        die "member m$i exited at start (log above, $dir/member-$i.log)"
      fi
      healthy "http://127.0.0.1:${client_ports[$((i - 1))]}" || all=""
    done
    if [ -n "$all" ]; then
      log "$MEMBERS members healthy, data and logs in $dir"
      echo "ETCD_ENDPOINTS=$endpoints"
      return
    fi
    sleep 0.1
  done
  stop_cluster "$dir"
  die "the cluster was not healthy within 10 s (logs: $dir/member-*.log)"
}

case "${1:-}" in
  install) install_etcd ;;
  start) [ -n "${2:-}" ] || usage; start_cluster "$2" ;;
  stop) [ -n "${2:-}" ] || usage; stop_cluster "$2" ;;
  *) usage ;;
esac
