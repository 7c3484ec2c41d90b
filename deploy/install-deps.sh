#!/bin/bash
# Installs the Debian 12 packages Strowger needs to build and run it (and, with --tests, to
# test it). Idempotent: when everything is already installed it touches neither apt nor the
# network, so repeated runs are fast and work offline. Needs root only when something is missing.
set -euo pipefail

BUILD_PKGS=(build-essential cmake pkg-config g++ clang
            libsofia-sip-ua-dev libevent-dev libyaml-cpp-dev libc-ares-dev libssl-dev
            nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev)
# auth module: libpq for the optional PostgreSQL subscriber table.
BUILD_PKGS+=(libpq-dev)
RUN_PKGS=(iproute2 python3 util-linux procps)
# Only the test suites need these: SIPp drives the SIPp suite, Kamailio is the interop peer and
# benchmark anchor. rtpengine-daemon is the relay suite's and relay benchmark's reference relay
# (run in userspace, --table=-1; its service is never started); tshark brings dumpcap, which
# records the relay suite's SIPp media on lo.
TEST_PKGS=(sip-tester kamailio rtpengine-daemon tshark)
# tests/auth starts a throwaway PostgreSQL server (initdb/pg_ctl) for the subscriber table.
TEST_PKGS+=(postgresql)
# usrloc's Redis backend (hiredis) and the registrar suite's Redis server.
BUILD_PKGS+=(libhiredis-dev)
TEST_PKGS+=(redis-server)
BUILD_PKGS+=(liburing-dev)  # rtprelay's io_uring media backend (pulls liburing2)
# WebRTC signalling tests: node (the WebSocket client, JsSIP driven by playwright-core; their npm
# packages come from tests/*/package-lock.json), Chromium as the real browser, stunnel4 to put
# Debian's SIPp (built without TLS) on TLS; Kamailio's tls/websocket modules for bench/conn_bench.
TEST_PKGS+=(nodejs chromium stunnel4 kamailio-tls-modules kamailio-websocket-modules)

want=("${BUILD_PKGS[@]}" "${RUN_PKGS[@]}")
case "${1:-}" in
  --tests) want+=("${TEST_PKGS[@]}") ;;
  "") ;;
  *) echo "usage: $0 [--tests]" >&2; exit 2 ;;
esac

missing=()
for pkg in "${want[@]}"; do
  if [ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" != "installed" ]; then
    missing+=("$pkg")
  fi
done
# Debian's nodejs comes without npm (a repackaged nodejs from elsewhere may bundle it).
if [[ " ${want[*]} " == *" nodejs "* ]] && ! command -v npm >/dev/null; then
  missing+=(npm)
fi
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#want[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages and not root; run: sudo $0 $*" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Keep package scripts from starting services (kamailio would listen on 5060): policy-rc.d
# exit 101 means "not allowed". Only ours is removed again; an existing one is left alone.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi

apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"

# Kamailio and rtpengine are test peers here, not services: keep them from starting at boot.
for svc in kamailio rtpengine-daemon; do
  if printf '%s\n' "${missing[@]}" | grep -qx "$svc" && [ -d /run/systemd/system ]; then
    systemctl disable --now "$svc.service" >/dev/null 2>&1 || true
  fi
done
echo "install-deps: done"
