#!/bin/bash
# README command 2 and CI (.ci/run): dependencies, a -Werror build, the unit tests, the SIPp
# suite and the torture test; then an ASan+UBSan build running the unit tests and the SIPp suite
# again. Prints one line per suite and ends with exactly one line "N passed, N failed" (totals);
# exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
ASAN_BUILD_DIR=${ASAN_BUILD_DIR:-build-asan}
JOBS=${JOBS:-$(nproc)}
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
LOG_DIR=$(mktemp -d /tmp/strowger-tests.XXXXXX)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

total_pass=0
total_fail=0
summary=()
started=$SECONDS

record() {  # name passed failed
  total_pass=$((total_pass + $2))
  total_fail=$((total_fail + $3))
  summary+=("$(printf '  %-16s %4d passed, %4d failed' "$1" "$2" "$3")")
  printf '>>> %s: %d passed, %d failed (%ds elapsed)\n' "$1" "$2" "$3" $((SECONDS - started))
}

step() { printf '\n=== %s\n' "$1"; }

# Runs a command with its output in $LOG_DIR/<name>.log; shows the tail when it fails.
quiet() {  # name command...
  local name=$1
  shift
  if "$@" >"$LOG_DIR/$name.log" 2>&1; then
    return 0
  fi
  echo "--- $name failed; last lines of $LOG_DIR/$name.log:"
  tail -n 60 "$LOG_DIR/$name.log"
  return 1
}

build() {  # name dir cmake-args...
  local name=$1 dir=$2
  shift 2
  if quiet "$name-configure" cmake -S . -B "$dir" "$@" && quiet "$name" make -C "$dir" -j"$JOBS"; then
    record "$name" 1 0
    return 0
  fi
  record "$name" 0 1
  return 1
}

ctest_suite() {  # name dir
  local name=$1 dir=$2 out
  out=$(ctest --test-dir "$dir" --output-on-failure --timeout 300 -j"$JOBS" 2>&1)
  echo "$out" >"$LOG_DIR/$name.log"
  local line
  line=$(echo "$out" | grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' | tail -n 1)
  if [ -n "$line" ] && echo "$line" | grep -q ' 0 tests failed'; then
    echo "$line"
  else
    echo "$out" | grep -v -E '^ +Start +[0-9]+:|Passed +[0-9.]+ sec$' | tail -n 300  # the failures
  fi
  if [ -z "$line" ]; then
    echo "--- $name: ctest ran no test"
    record "$name" 0 1
    return
  fi
  local failed all
  failed=$(echo "$line" | sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/')
  all=$(echo "$line" | sed -E 's/.* failed out of ([0-9]+).*/\1/')
  record "$name" $((all - failed)) "$failed"
}

py_suite() {  # name summary-prefix command...
  local name=$1 prefix=$2 out line
  shift 2
  out=$("$@" 2>&1)
  echo "$out"
  line=$(echo "$out" | grep -E "^$prefix.*: [0-9]+ passed, [0-9]+ failed$" | tail -n 1)
  if [ -z "$line" ]; then
    echo "--- $name: no summary line (runner crashed?)"
    record "$name" 0 1
    return
  fi
  local p f
  p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\1/')
  f=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\2/')
  record "$name" "$p" "$f"
}

step "dependencies"
if quiet install-deps bash deploy/install-deps.sh --tests; then
  record deps 1 0
else
  record deps 0 1
fi

step "build ($BUILD_DIR, -Werror)"
if build build "$BUILD_DIR" -DSTROWGER_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo; then
  step "unit tests"
  ctest_suite unit "$BUILD_DIR"
  step "SIPp suite"
  py_suite sipp "sipp suite" "$PYTHON" tests/sipp/run.py --bin "$BUILD_DIR/bin/sipproxy"
  step "torture corpus"
  py_suite torture "torture suite" "$PYTHON" tests/torture/run.py --bin "$BUILD_DIR/bin/sipproxy"
  step "deploy suite (deploy/sipproxy.yaml + deploy/rtprelay.yaml as run.sh starts them)"
  py_suite deploy "deploy suite" "$PYTHON" tests/deploy/run.py --bin "$BUILD_DIR/bin/sipproxy"
  step "registrar suite (usrloc + registrar modules, Redis)"
  py_suite registrar "registrar suite" "$PYTHON" tests/registrar/run.py --bin "$BUILD_DIR/bin/sipproxy"
  step "auth suite (digest auth module, PostgreSQL)"
  py_suite auth "auth suite" "$PYTHON" tests/auth/run.py --bin "$BUILD_DIR/bin/sipproxy"
  step "tls suite (tls module: SIPp over TLS, handshake failures, tls.reload/tls.list)"
  py_suite tls "tls suite" "$PYTHON" tests/tls/run.py --bin "$BUILD_DIR/bin/sipproxy"
  step "nat suite (nathelper: NATed contacts, aliases, keepalive pings)"
  py_suite nat "nat suite" "$PYTHON" tests/nat/run.py --build "$BUILD_DIR"
  step "websocket suite (WS/WSS: node ws client, malformed frames, 430/480)"
  py_suite websocket "websocket suite" "$PYTHON" tests/websocket/run.py --build "$BUILD_DIR"
  step "webrtc suite (JsSIP in headless Chromium over WSS with digest auth)"
  py_suite webrtc "webrtc suite" "$PYTHON" tests/webrtc/run.py --build "$BUILD_DIR"
  step "relay suite (sipproxy's relay module driving rtprelay)"
  py_suite relay-sipproxy "relay suite" "$PYTHON" tests/relay/run.py --relay rtprelay \
    --bin "$BUILD_DIR/bin/rtprelay" --proxy sipproxy --proxy-bin "$BUILD_DIR/bin/sipproxy"
  step "relay suite (sipproxy's relay module driving rtpengine)"
  py_suite relay-sipproxy-rtpengine "relay suite" "$PYTHON" tests/relay/run.py --relay rtpengine \
    --proxy sipproxy --proxy-bin "$BUILD_DIR/bin/sipproxy"
  step "relay suite (rtprelay, driven by Kamailio's rtpengine module)"
  py_suite relay "relay suite" "$PYTHON" tests/relay/run.py --relay rtprelay --bin "$BUILD_DIR/bin/rtprelay"
  step "relay suite against rtpengine (the reference: keeps the harness honest)"
  py_suite relay-rtpengine "relay suite" "$PYTHON" tests/relay/run.py --relay rtpengine
fi

step "build ($ASAN_BUILD_DIR, ASan+UBSan)"
# Debug compiles fastest; -Werror stays with the main build (GCC warns spuriously under ASan).
# The bench load generators are not tested there; leaving them out saves compile time.
if build build-asan "$ASAN_BUILD_DIR" -DSTROWGER_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
  -DSTROWGER_BENCH=OFF; then
  step "unit tests (ASan+UBSan)"
  ctest_suite unit-asan "$ASAN_BUILD_DIR"
  step "SIPp suite (ASan+UBSan)"
  py_suite sipp-asan "sipp suite" "$PYTHON" tests/sipp/run.py --bin "$ASAN_BUILD_DIR/bin/sipproxy"
  step "registrar and auth suites (ASan+UBSan: the modules under sanitizers)"
  py_suite registrar-asan "registrar suite" "$PYTHON" tests/registrar/run.py --bin "$ASAN_BUILD_DIR/bin/sipproxy"
  py_suite auth-asan "auth suite" "$PYTHON" tests/auth/run.py --bin "$ASAN_BUILD_DIR/bin/sipproxy"
  step "tls, websocket and nat suites (ASan+UBSan: handshakes, frames and aliases under sanitizers)"
  py_suite tls-asan "tls suite" "$PYTHON" tests/tls/run.py --bin "$ASAN_BUILD_DIR/bin/sipproxy"
  py_suite websocket-asan "websocket suite" "$PYTHON" tests/websocket/run.py --build "$ASAN_BUILD_DIR"
  py_suite nat-asan "nat suite" "$PYTHON" tests/nat/run.py --build "$ASAN_BUILD_DIR"
fi

printf '\n=== summary (%ds, logs in %s)\n' $((SECONDS - started)) "$LOG_DIR"
printf '%s\n' "${summary[@]}"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
