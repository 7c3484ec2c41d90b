#!/bin/sh
# Builds SIPp 3.6.1 with TLS (and SCTP, pcap play) from Debian's source package, because
# Debian's sipp is built without OpenSSL; installs it as /usr/local/lib/strowger/sipp-tls
# (never over /usr/bin/sipp). Skips everything when that binary exists and speaks TLS.
# Usage: tests/tls/build-sipp-tls.sh [--force]   (root: it runs apt-get)
# Exit 3: no source package reachable (stunnel4 is installed as the fallback).
set -eu

DEST=${SIPP_TLS_DEST:-/usr/local/lib/strowger/sipp-tls}
CACHE=${SIPP_TLS_CACHE:-/var/cache/strowger/sipp-src}
SRC_LIST=/etc/apt/sources.list.d/strowger-deb-src.sources
FORCE=0
[ "${1:-}" = "--force" ] && FORCE=1

# sipp -t l1 without a scenario target: a TLS-less build says so and exits at once.
supports_tls() {
  [ -x "$1" ] || return 1
  ! (cd /tmp && timeout 10 "$1" -t l1 -m 1 -timeout 1 127.0.0.1:9 2>&1) | grep -q "compile SIPp with OpenSSL"
}

if [ "$FORCE" = 0 ] && supports_tls "$DEST"; then
  echo "build-sipp-tls: $DEST already supports TLS; nothing to do"
  exit 0
fi

start=$(date +%s)

# Debian 12's deb822 sources have no deb-src entry by default: add one in a file of our own.
if ! grep -rqs "^Types:.*deb-src" /etc/apt/sources.list.d/ &&
   ! grep -qs "^deb-src" /etc/apt/sources.list; then
  cat > "$SRC_LIST" <<'SRC'
# Added by strowger tests/tls/build-sipp-tls.sh: Debian sources to build SIPp with TLS.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  echo "build-sipp-tls: added $SRC_LIST"
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends dpkg-dev cmake g++ make pkg-config \
  libssl-dev libpcap-dev libsctp-dev libncurses-dev libgsl-dev

mkdir -p "$CACHE"
cd "$CACHE"
srcdir=$(find . -maxdepth 1 -type d -name 'sip-tester-*' | head -n 1)
if [ -z "$srcdir" ]; then
  if ! apt-get source -q sip-tester; then
    # Seen on mirrors/proxies that serve binary packages only (the .dsc comes, the tarballs
    # 404). tests/tls/run.py then drives plain SIPp through stunnel4 instead.
    echo "build-sipp-tls: apt-get source sip-tester failed; installing stunnel4 so" \
      "tests/tls/run.py can tunnel SIPp's TCP into TLS" >&2
    apt-get install -y -q --no-install-recommends stunnel4 >&2 || true
    exit 3
  fi
  srcdir=$(find . -maxdepth 1 -type d -name 'sip-tester-*' | head -n 1)
fi
[ -n "$srcdir" ] || { echo "build-sipp-tls: apt-get source sip-tester gave no source tree" >&2; exit 1; }
echo "build-sipp-tls: source in $CACHE/${srcdir#./}"

build="$CACHE/build"
rm -rf "$build"
cmake -S "$srcdir" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DUSE_SSL=1 -DUSE_SCTP=1 -DUSE_PCAP=1 -DUSE_GSL=1 >"$CACHE/cmake.log" 2>&1 ||
  { tail -n 30 "$CACHE/cmake.log" >&2; exit 1; }
make -C "$build" -j2 sipp >"$CACHE/make.log" 2>&1 || { tail -n 40 "$CACHE/make.log" >&2; exit 1; }

install -D -m 0755 "$build/sipp" "$DEST"
supports_tls "$DEST" || { echo "build-sipp-tls: $DEST was built but does not speak TLS" >&2; exit 1; }
end=$(date +%s)
echo "build-sipp-tls: installed $DEST ($("$DEST" -v 2>&1 | grep -o 'v3[^ ]*' | head -n 1)) in $((end - start)) s"
