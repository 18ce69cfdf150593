#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz/) in build-fuzz/ with clang++-14
# and runs each for FUZZ_SECONDS (default 30), one after the other, niced.
#
#   scripts/fuzz.sh              build, run every harness
#   scripts/fuzz.sh NAME...      build, run only these
#   scripts/fuzz.sh --list       print the harness names
#
# Each run starts from a temporary copy of tests/fuzz/corpus/NAME plus
# tests/fuzz/regressions/NAME (new inputs never land in the repository), with
# tests/fuzz/NAME.dict when there is one. A crash, leak, timeout (-timeout=10)
# or out-of-memory (-rss_limit_mb=2048) fails the script; the input that did
# it is kept under build-fuzz/crashes/ and its path printed. Replay it with
#   build-fuzz/tests/fuzz/NAME build-fuzz/crashes/NAME-crash-...
# and add it to tests/fuzz/regressions/NAME/ once fixed (the unit tests
# replay that folder). Logs: build-fuzz/logs/NAME.log.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${FUZZ_SECONDS:-30}
build=$root/build-fuzz

# Harness names: the sy_fuzzer() lines of tests/fuzz/CMakeLists.txt.
all_harnesses() { sed -n 's/^sy_fuzzer(\([a-z0-9_]*\).*/\1/p' tests/fuzz/CMakeLists.txt; }

# Longest input libFuzzer generates per harness (default 4096).
max_len() {
  case "$1" in
    fuzz_proxy_protocol) echo 512 ;;  # v1 is at most 107 bytes; v2 TLVs fit easily
    fuzz_route_message) echo 8192 ;;  # real registrations are ~1 KiB of JSON
    fuzz_config) echo 8192 ;;         # the gorouter seed config is ~700 bytes
    *) echo 4096 ;;
  esac
}

if [ "${1:-}" = "--list" ]; then all_harnesses; exit 0; fi
harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then mapfile -t harnesses < <(all_harnesses); fi
for h in "${harnesses[@]}"; do
  all_harnesses | grep -qx "$h" || { echo "fuzz.sh: no harness named $h (see --list)" >&2; exit 2; }
done

cxx=${FUZZ_CXX:-clang++-14}
command -v "$cxx" >/dev/null || { echo "fuzz.sh: $cxx not found (scripts/install-deps.sh --with-tests)" >&2; exit 1; }
cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DSWITCHYARD_FUZZ=ON -DSWITCHYARD_TESTS=OFF -DSWITCHYARD_BENCH=OFF >/dev/null
cmake --build "$build" --target "${harnesses[@]}" -j "$(nproc)"

symbolizer=$(command -v llvm-symbolizer-14 || command -v llvm-symbolizer || true)
export ASAN_SYMBOLIZER_PATH=$symbolizer
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
mkdir -p "$build/crashes" "$build/logs"
work=$(mktemp -d /tmp/switchyard-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT

total=0
failed=()
for h in "${harnesses[@]}"; do
  corpus=$work/$h
  mkdir -p "$corpus"
  for dir in tests/fuzz/corpus/$h tests/fuzz/regressions/$h; do
    if [ -d "$dir" ]; then find "$dir" -maxdepth 1 -type f ! -name '.*' -exec cp {} "$corpus/" \;; fi
  done
  args=(-max_total_time="$seconds" -max_len="$(max_len "$h")" -timeout=10 -rss_limit_mb=2048
        -print_final_stats=1 -artifact_prefix="$build/crashes/$h-")
  if [ -f "tests/fuzz/$h.dict" ]; then args+=(-dict="tests/fuzz/$h.dict"); fi
  log=$build/logs/$h.log
  rc=0
  nice -n 10 "$build/tests/fuzz/$h" "${args[@]}" "$corpus" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  execs=${execs:-0}
  total=$((total + execs))
  if [ "$rc" -ne 0 ]; then
    failed+=("$h")
    echo "fuzz: $h FAILED (exit $rc) after $execs executions; log $log"
    grep -E '^==[0-9]+==ERROR|^SUMMARY|runtime error|fuzz invariant failed|ALARM|out-of-memory' "$log" | head -5 || true
    sed -n 's/.*Test unit written to \(.*\)$/fuzz: input kept at \1/p' "$log"
  else
    echo "fuzz: $h ok: $execs executions in ${seconds}s ($(ls "$corpus" | wc -l) corpus inputs at the end)"
  fi
done
echo "fuzz: total $total executions in ${#harnesses[@]} harnesses"
if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: failures in ${failed[*]}" >&2
  exit 1
fi
