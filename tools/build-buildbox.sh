#!/usr/bin/env bash
# Builds the buildbox image the docker droplet backend runs: a Debian 12 rootfs
# made by debootstrap, imported as xvpc-base, then Dockerfile.buildbox on top.
# No registry is needed. Idempotent: skips what already exists.
set -euo pipefail
cd "$(dirname "$0")/.."
if docker image inspect xvpc-buildbox:latest >/dev/null 2>&1; then
  echo "[buildbox] xvpc-buildbox:latest exists"
  exit 0
fi
if ! docker image inspect xvpc-base:bookworm >/dev/null 2>&1; then
  rootfs=$(mktemp -d /var/tmp/xvpc-rootfs.XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  echo "[buildbox] debootstrap bookworm into $rootfs (a few minutes)"
  debootstrap --variant=minbase \
    --include=iproute2,iputils-ping,iperf3,ethtool,curl,tcpdump,libbpf1,libelf1,zlib1g,libstdc++6,procps,ca-certificates \
    bookworm "$rootfs" http://deb.debian.org/debian >/tmp/xvpc-debootstrap.log 2>&1 \
    || { tail -20 /tmp/xvpc-debootstrap.log; exit 1; }
  tar -C "$rootfs" -c . | docker import - xvpc-base:bookworm
fi
# No build context: the image takes nothing from the work tree.
docker build -q -t xvpc-buildbox:latest - < Dockerfile.buildbox
