#!/usr/bin/env bash
# bootstrap.sh: make a fresh Debian 12 machine ready to build, test and run xvpc.
# Idempotent; run as root. Installs system and npm dependencies, builds, checks
# the kernel's BPF/XDP features, starts dockerd. Exits non-zero only when
# something xvpc needs is missing, and says what to do about it.
set -uo pipefail
cd "$(dirname "$0")"

say() { printf '[bootstrap] %s\n' "$*"; }
missing=()
need() { missing+=("$1: $2"); say "MISSING $1 -- $2"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "bootstrap.sh must run as root (it installs packages and loads BPF programs)" >&2
  exit 1
fi

# --- system packages -------------------------------------------------------
PACKAGES=(clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool iproute2 iputils-ping iperf3 curl
  tcpdump libpcap-dev docker.io debootstrap ethtool protobuf-compiler make g++ python3 procps linux-perf
  etcd-server chromium openssl)
absent=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || absent+=("$p")
done
if [ ${#absent[@]} -gt 0 ]; then
  say "installing: ${absent[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || need apt "apt-get update failed: check the Debian mirror"
  apt-get install -y -qq --no-install-recommends "${absent[@]}" >/tmp/xvpc-apt.log 2>&1 \
    || { tail -20 /tmp/xvpc-apt.log; need packages "apt-get install ${absent[*]} failed (log: /tmp/xvpc-apt.log)"; }
else
  say "system packages: all present"
fi

# --- kernel features ---------------------------------------------------------
if ! mountpoint -q /sys/fs/bpf; then
  mount -t bpf bpf /sys/fs/bpf && say "mounted bpffs on /sys/fs/bpf" \
    || need bpffs "mount -t bpf bpf /sys/fs/bpf failed: the kernel needs CONFIG_BPF_SYSCALL"
fi
[ -r /sys/kernel/btf/vmlinux ] || need BTF "/sys/kernel/btf/vmlinux is absent: boot a kernel built with CONFIG_DEBUG_INFO_BTF=y"
if command -v bpftool >/dev/null; then
  probe=$(bpftool feature probe kernel 2>/dev/null)
  grep -q "eBPF program_type xdp is available" <<<"$probe" \
    || need bpf "bpf() cannot load XDP programs: run as root on a kernel with CONFIG_BPF_SYSCALL and CONFIG_XDP_SOCKETS"
fi

# --- dockerd (for the docker droplet backend) --------------------------------
if command -v dockerd >/dev/null && ! docker info >/dev/null 2>&1; then
  say "starting dockerd"
  (nohup dockerd >/var/log/xvpc-dockerd.log 2>&1 &)
  for _ in $(seq 1 30); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || need dockerd "dockerd did not start: see /var/log/xvpc-dockerd.log"
fi

# --- npm dependencies and the build -----------------------------------------
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # Exactly the committed lock: npm ci never rewrites package-lock.json.
  say "npm ci"
  npm ci --no-audit --no-fund >/tmp/xvpc-npm.log 2>&1 \
    || { tail -20 /tmp/xvpc-npm.log; need npm "npm ci failed (log: /tmp/xvpc-npm.log)"; }
fi
say "building (BPF objects, addon, protos, TypeScript)"
npm run build >/tmp/xvpc-build.log 2>&1 || { tail -30 /tmp/xvpc-build.log; need build "npm run build failed (log: /tmp/xvpc-build.log)"; }

# --- XDP attaches to a veth (needs the build) --------------------------------
if [ -f obj/bpf/counter.o ]; then
  ns="xvpc-boot-$$"
  ip netns add "$ns" && ip -n "$ns" link add vb0 type veth peer name vb1 \
    && ip -n "$ns" link set vb0 up && ip -n "$ns" link set vb1 up \
    && ip netns exec "$ns" ip link set dev vb0 xdpdrv obj obj/bpf/counter.o sec xdp 2>/tmp/xvpc-xdp.log \
    && say "XDP attaches to a veth in native mode" \
    || need xdp "native XDP on a veth failed ($(tail -1 /tmp/xvpc-xdp.log)): needs a kernel with CONFIG_VETH and XDP (5.x+)"
  # The TC data path (the droplets' default): a clsact ingress filter.
  ip netns exec "$ns" tc qdisc add dev vb1 clsact 2>/tmp/xvpc-tc.log \
    && ip netns exec "$ns" tc filter add dev vb1 ingress bpf da obj obj/bpf/counter.o sec tc 2>>/tmp/xvpc-tc.log \
    && say "TC (clsact) BPF attaches to a veth" \
    || need tc "a clsact BPF filter on a veth failed ($(tail -1 /tmp/xvpc-tc.log)): needs CONFIG_NET_CLS_BPF and CONFIG_NET_SCH_INGRESS"
  ip netns delete "$ns" 2>/dev/null
fi

# --- the buildbox image (docker backend) ---------------------------------------
if docker info >/dev/null 2>&1; then
  bash tools/build-buildbox.sh || need buildbox "the buildbox image did not build: see the output above"
fi

if [ ${#missing[@]} -gt 0 ]; then
  say "not ready; missing:"
  printf '  - %s\n' "${missing[@]}"
  exit 1
fi
say "ready: npm run demo, npm test"
