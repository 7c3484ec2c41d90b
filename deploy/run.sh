#!/bin/bash
# README command 1: installs the dependencies, builds Strowger (RelWithDebInfo) and runs sipproxy
# in the foreground on deploy/sipproxy.yaml (override: STROWGER_CONFIG=file). Stop it with Ctrl-C
# or SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
CONFIG=${STROWGER_CONFIG:-deploy/sipproxy.yaml}

bash deploy/install-deps.sh
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo
# Only the daemons and the CLI: the tests are tests/run-all.sh's business.
targets=(sipproxy sipctl)
if make -C "$BUILD_DIR" help | grep -qx '\.\.\. rtprelay'; then
  targets+=(rtprelay)
fi
make -C "$BUILD_DIR" -j"$(nproc)" "${targets[@]}"

# Development certificates for the TLS/WSS listeners when the config names ours and they are
# missing (certs/make-dev-certs.sh keeps an existing CA).
if grep -q 'certs/dev/server.pem' "$CONFIG" && [ ! -f certs/dev/server.pem ]; then
  bash certs/make-dev-certs.sh -o certs/dev
fi

# The control socket's directory (e.g. /run/strowger) must exist before sipproxy binds it.
socket=$(awk '/^control:/ {c = 1; next} /^[^ #]/ {c = 0}
              c && $1 == "socket:" {gsub(/["\047]/, "", $2); print $2; exit}' "$CONFIG")
if [ -n "$socket" ]; then
  mkdir -p "$(dirname "$socket")"
fi

# ---- rtprelay (media relay) ------------------------------------------------------------------
# Placeholder until the relay lands: when build/bin/rtprelay exists it runs beside sipproxy on
# deploy/rtprelay.yaml, and both stop together. (Its command line is to be confirmed by the
# rtprelay issue; adjust RELAY_CMD there.)
if [ -x "$BUILD_DIR/bin/rtprelay" ]; then
  RELAY_CMD=("$BUILD_DIR/bin/rtprelay" -c "${STROWGER_RELAY_CONFIG:-deploy/rtprelay.yaml}")
  "${RELAY_CMD[@]}" &
  relay_pid=$!
  "$BUILD_DIR/bin/sipproxy" -c "$CONFIG" &
  proxy_pid=$!
  trap 'kill -TERM "$proxy_pid" "$relay_pid" 2>/dev/null || true' INT TERM
  rc=0
  wait "$proxy_pid" || rc=$?
  # A trapped signal interrupts the first wait: wait again for sipproxy's own exit status.
  if kill -0 "$proxy_pid" 2>/dev/null; then wait "$proxy_pid" || rc=$?; fi
  kill -TERM "$relay_pid" 2>/dev/null || true
  wait "$relay_pid" 2>/dev/null || true
  exit "$rc"
fi
# ----------------------------------------------------------------------------------------------

exec "$BUILD_DIR/bin/sipproxy" -c "$CONFIG"
