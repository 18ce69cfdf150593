#!/usr/bin/env bash
# The one benchmark command: builds (Release), then measures side by side in
# one run and prints every RESULT line:
#   1. proxy-compare.sh: HAProxy 2.6, nginx 1.22 and Switchyard (one worker)
#      on the same nginx backend, small / 64 KiB / new-connection scenarios,
#      as ratios (req/s and CPU per request);
#   2. table_bench: route table lookup time and memory per endpoint (Google Benchmark);
#   3. ingest.sh: registrations through a real nats-server, end to end;
#   4. idle_conns.sh: RSS per idle keep-alive client connection;
#   5. heartbeat_load.sh: keep-alive req/s with 100k routes heartbeating;
#   6. tunnel_agent.sh: switchyard-tunnel vs the Go reference agent, bulk and small requests;
#   7. https_compare.sh: HTTPS keep-alive and new-connection-per-request, Switchyard vs
#      HAProxy terminating TLS with the same certificate and ciphers, and the handshake cost.
# Results go to $OUT (default out/bench-<date>); bench/plot.sh turns them into
# the PNGs of docs/BENCHMARKS.md.
#
#   bench/run.sh                 # full run (~15 minutes)
#   bench/run.sh --smoke         # seconds: checks that every benchmark works (CI)
#   bench/run.sh --candidate-name gorouter --candidate 'CMD'   # one more router, as proxy-compare.sh takes it
# Numbers are never asserted: a benchmark only fails when it cannot run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
smoke=0
build=1
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=1 ;;
    --no-build) build=0 ;;  # (ctest's bench_smoke: the build is already there)
    --candidate|--candidate-name) extra+=("$1" "$2"); shift ;;
    *) echo "usage: bench/run.sh [--smoke] [--no-build] [--candidate-name N --candidate CMD]..." >&2; exit 2 ;;
  esac
  shift
done
out=${OUT:-$root/out/bench-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
export SWITCHYARD_BUILD=${SWITCHYARD_BUILD:-$root/build}

if [ $build = 1 ]; then
  bash scripts/install-deps.sh --with-tests
  bash scripts/build.sh >/dev/null
fi
echo "bench: results in $out"

if [ $smoke = 1 ]; then
  compare=(--rounds 1 --duration 1 --warmup 0 --pause 0 --quiet-wait 0 --scenarios small,close)
else
  compare=(--rounds 5 --duration 5)
fi
bash bench/proxy-compare.sh "${compare[@]}" --out "$out/compare" \
  --candidate-name switchyard --candidate "SWITCHYARD_BIN=$SWITCHYARD_BUILD/switchyard bash $root/bench/candidate-switchyard.sh" \
  "${extra[@]}" | tee "$out/compare.txt"

tb="$SWITCHYARD_BUILD/bench/table_bench"
if [ -x "$tb" ]; then
  if [ $smoke = 1 ]; then
    "$tb" --benchmark_filter='/10000(/|$)' --benchmark_min_time=0.01 | tee "$out/table.txt"
  else
    # Memory is read from the process RSS: one table size per process.
    for size in plain/10000 plain/100000 plain/1000000 with_meta/1000000; do
      "$tb" --benchmark_filter="Memory/$size/" --benchmark_out="$out/table-mem-${size//\//-}.json" \
        --benchmark_out_format=json | tee -a "$out/table.txt"
    done
    "$tb" --benchmark_filter='Lookup|Apply|Heartbeat' --benchmark_repetitions=3 \
      --benchmark_report_aggregates_only=true --benchmark_out="$out/table.json" --benchmark_out_format=json |
      tee -a "$out/table.txt"
  fi
fi
for script in ingest idle_conns heartbeat_load; do
  [ -f "bench/$script.sh" ] || continue
  if [ $smoke = 1 ]; then bash "bench/$script.sh" --smoke; else bash "bench/$script.sh"; fi | tee "$out/$script.txt"
done
# 6. tunnel_agent.sh: switchyard-tunnel vs the Go reference agent (needs the Go peers).
if [ -x "$SWITCHYARD_BUILD/tunnel-node" ] && [ -x "$SWITCHYARD_BUILD/switchyard-tunnel" ]; then
  if [ $smoke = 1 ]; then
    BYTES=16777216 DURATION=1 bash bench/tunnel_agent.sh
  else
    bash bench/tunnel_agent.sh
  fi | tee "$out/tunnel_agent.txt"
fi
# 7. https_compare.sh: TLS terminated by Switchyard and by HAProxy.
if [ $smoke = 1 ]; then bash bench/https_compare.sh --smoke; else bash bench/https_compare.sh; fi |
  tee "$out/https.txt"
echo "bench: done; RESULT lines:"
grep -h '^RESULT' "$out"/*.txt || true
