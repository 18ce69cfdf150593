#!/usr/bin/env bash
# Command two (and CI, through .ci/run): installs what is missing (Debian
# packages), then in stages, each timed:
#   1. release build with warnings as errors (build/) and every test: unit
#      tests, the integration tests that drive the real switchyard,
#      nats-server, curl, haproxy, promtool, and the benchmarks' smoke run;
#   2. an ASan+UBSan build (build-asan/, gcc, -O1, leak checking on) and its
#      unit and integration tests — the integration tests spawn the sanitized
#      binaries, and a sanitizer report in any of them fails the test;
#   3. every libFuzzer harness for FUZZ_SECONDS each (default 35 here;
#      scripts/fuzz.sh, clang).
# Extra arguments go to the release ctest. SY_TEST_STAGES (default
# "release asan fuzz") picks stages, e.g. SY_TEST_STAGES=asan.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
stages=${SY_TEST_STAGES:-release asan fuzz}
jobs=$(nproc)
t0=$(date +%s)

timed() {  # timed NAME COMMAND...: runs it, then prints the stage's time
  local name=$1 start
  shift
  start=$(date +%s)
  "$@"
  echo "test.sh: stage $name took $(($(date +%s) - start))s"
}

has_stage() { [[ " $stages " == *" $1 "* ]]; }

release_build() { bash scripts/build.sh -DSWITCHYARD_WERROR=ON; }
release_tests() { (cd build && ctest --output-on-failure -j "$jobs" --timeout 600 "$@"); }

# -O1 keeps the ASan build of Beast and the coroutines small enough for two
# compilers side by side; no benchmarks (their smoke run is not sanitized).
asan_build() {
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g" \
        -DSWITCHYARD_SANITIZE=address,undefined -DSWITCHYARD_BENCH=OFF >/dev/null
  cmake --build build-asan -j "$jobs"
}

# Reports a child wrote that no test claimed (see tests/support/sanitizer_reports.hpp)
# fail the stage as well.
asan_tests() {
  local logs=$root/build-asan/sanitizer-logs
  rm -rf "$logs"
  mkdir -p "$logs"
  (cd build-asan && SY_SANITIZER_LOG_DIR=$logs ctest --output-on-failure -j "$jobs" --timeout 600 -L 'unit|integration')
  local left
  left=$(find "$logs" -type f)
  if [ -n "$left" ]; then
    echo "test.sh: sanitizer reports no test claimed:"
    for f in $left; do echo "---- $f"; cat "$f"; done
    return 1
  fi
}

fuzz() { FUZZ_SECONDS=${FUZZ_SECONDS:-35} bash scripts/fuzz.sh; }

timed deps bash scripts/install-deps.sh --with-tests
if has_stage release; then
  timed release-build release_build
  timed release-tests release_tests "$@"
fi
if has_stage asan; then
  timed asan-build asan_build
  timed asan-tests asan_tests
fi
if has_stage fuzz; then
  timed fuzz fuzz
fi
echo "test.sh: all stages ($stages) took $(($(date +%s) - t0))s"
