#!/usr/bin/env bash
# Build the local images that examples and tests run (no registry is reachable, so nothing is pulled):
#   cube-test/busybox:latest  a root filesystem holding Debian's static busybox, its applets as links,
#                             and /www/index.html so `httpd -f -p 8080 -h /www` answers.
# Idempotent: an image that already exists is left alone unless --force is given.
set -euo pipefail

image=cube-test/busybox:latest
log() { printf 'test-image: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v docker >/dev/null 2>&1 || die "docker client not found; run scripts/docker-engine.sh first"
docker version >/dev/null 2>&1 || die "the Docker engine does not answer; run scripts/docker-engine.sh first"

if [ "${1:-}" != "--force" ] && docker image inspect "$image" >/dev/null 2>&1; then
  log "$image already present"
  exit 0
fi

is_static() { case "$(ldd "$1" 2>&1)" in *'not a dynamic executable'*) return 0 ;; *) return 1 ;; esac; }

busybox=/bin/busybox
if [ ! -x "$busybox" ] || ! is_static "$busybox"; then
  if [ -x /usr/bin/busybox ] && is_static /usr/bin/busybox; then
    busybox=/usr/bin/busybox
  else
    [ "$(id -u)" = 0 ] || die "busybox-static is missing and installing it needs root"
    log "installing Debian's busybox-static"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq busybox-static >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq busybox-static >/dev/null; } \
      || die "apt-get install busybox-static failed"
    busybox=/bin/busybox
  fi
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/www" "$root/proc" "$root/sys" "$root/dev"
chmod 1777 "$root/tmp"
cp "$busybox" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' >"$root/etc/group"
printf 'hello from cube\n' >"$root/www/index.html"

tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/bin' \
  --change 'CMD ["sh"]' \
  - "$image" >/dev/null
log "built $image"
