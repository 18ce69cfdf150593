#!/usr/bin/env bash
# The one benchmark command: builds (Release), then measures side by side in
# one run and prints every RESULT line:
#   1. proxy-compare.sh: HAProxy 2.6, nginx 1.22 and Switchyard (one worker,
#      io_uring and epoll engines) on the same nginx backend, small / 64 KiB / new-connection scenarios,
#      as ratios (req/s and CPU per request);
#   1b. syscalls.sh: syscalls per request (perf) and the user/kernel CPU split, HAProxy and
#      both engines, small and new-connection;
#   2. table_bench: route table lookup time and memory per endpoint (Google Benchmark);
#   3. ingest.sh: registrations through a real nats-server, end to end;
#   4. idle_conns.sh: RSS per idle keep-alive client connection;
#   5. heartbeat_load.sh: keep-alive req/s with 100k routes heartbeating;
#   6. tunnel_agent.sh: switchyard-tunnel vs the Go reference agent, bulk and small requests;
#   7. https_compare.sh: HTTPS keep-alive and new-connection-per-request, Switchyard vs
#      HAProxy terminating TLS with the same certificate and ciphers, and the handshake cost.
#   8. the tunnel benchmarks (alone with --tunnels): proxy-compare.sh with the
#      tunnel candidates (plain proxy, local tunnel, node A -> node B, Go
#      reference) and bench/hload_tool as the load generator, which counts the
#      requests that never complete; tunnel_report.sh (ratios), tunnel_bulk.sh
#      (1 GiB each way through each path) and tunnel_idle.sh (RSS per idle agent).
# Results go to $OUT (default out/bench-<date>); bench/plot.sh turns them into
# the PNGs of docs/BENCHMARKS.md.
#
#   bench/run.sh                 # full run (~30 minutes, the tunnel benchmarks included)
#   bench/run.sh --smoke         # seconds: checks that every benchmark works (CI)
#   bench/run.sh --tunnels       # only the tunnel benchmarks (7.), ~12 minutes; with --smoke: seconds
#   bench/run.sh --gateway       # only bench/gateway.sh (sealed gateway, splice vs copy); not in the default run
#   bench/run.sh --tcp-tunnel    # only bench/tcp_tunnel.sh (TCP tunnel vs HAProxy tcp vs the Go tunnel); not in the default run
#   bench/run.sh --candidate-name gorouter --candidate 'CMD'   # one more router, as proxy-compare.sh takes it
# Numbers are never asserted: a benchmark only fails when it cannot run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
smoke=0
build=1
tunnels_only=0
gateway_only=0
tcp_tunnel_only=0
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=1 ;;
    --tunnels) tunnels_only=1 ;;
    --gateway) gateway_only=1 ;;
    --tcp-tunnel) tcp_tunnel_only=1 ;;
    --no-build) build=0 ;;  # (ctest's bench_smoke: the build is already there)
    --candidate|--candidate-name) extra+=("$1" "$2"); shift ;;
    *) echo "usage: bench/run.sh [--smoke] [--tunnels] [--gateway] [--tcp-tunnel] [--no-build] [--candidate-name N --candidate CMD]..." >&2; exit 2 ;;
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

# 7. The tunnel benchmarks: same backend, pinning and harness as the proxy
# comparison; every target (direct and HAProxy too) loaded by hload_tool.
tunnel_benchmarks() {
  local b=$SWITCHYARD_BUILD
  if [ ! -x "$b/switchyard-tunnel" ] || [ ! -x "$b/bench/hload_tool" ] || [ ! -x "$b/bench/tunnel_idle_tool" ]; then
    echo "bench: tunnel benchmarks skipped (build switchyard-tunnel, hload_tool, tunnel_idle_tool)"; return 0
  fi
  local cands=(--candidate-name switchyard --candidate "SWITCHYARD_BIN=$b/switchyard bash $root/bench/candidate-switchyard.sh"
               --candidate-name tunnel-local --candidate "SWITCHYARD_BUILD=$b bash $root/bench/candidate-tunnel.sh local"
               --candidate-name tunnel-forward --candidate "SWITCHYARD_BUILD=$b bash $root/bench/candidate-tunnel.sh forward")
  local idle_nodes=switchyard bulk_paths=direct,switchyard,tunnel-local,tunnel-forward
  if [ -x "$b/tunnel-node" ] && [ -x "$b/tunnel-agent" ]; then
    cands+=(--candidate-name tunnel-go --candidate "SWITCHYARD_BUILD=$b bash $root/bench/candidate-tunnel.sh go")
    idle_nodes=switchyard,go bulk_paths+=,tunnel-go
  else
    echo "bench: the Go reference tunnel is missing (go_peers not built): compared without it"
  fi
  local tc
  if [ $smoke = 1 ]; then
    tc=(--rounds 1 --duration 1 --warmup 0 --pause 0 --quiet-wait 0 --redo 0 --scenarios small,large)
  else
    tc=(--rounds "${TUNNEL_ROUNDS:-3}" --duration 5 --quiet-wait 5 --redo "${TUNNEL_REDO:-0}" --scenarios small,large)
  fi
  bash bench/proxy-compare.sh "${tc[@]}" --targets direct,haproxy --load-tool "$b/bench/hload_tool" \
    --out "$out/tunnels" "${cands[@]}" | tee "$out/tunnels.txt"
  bash bench/tunnel_report.sh "$out/tunnels" | tee "$out/tunnel_report.txt"
  if [ $smoke = 1 ]; then
    bash bench/tunnel_bulk.sh --smoke --paths "$bulk_paths"
    bash bench/tunnel_idle.sh --smoke --nodes "$idle_nodes"
  else
    bash bench/tunnel_bulk.sh --paths "$bulk_paths"
    bash bench/tunnel_idle.sh --nodes "$idle_nodes"
  fi | tee "$out/tunnel_bulk_idle.txt"
  # An error or a never-completed request is a broken path, not a slow one; said loudly,
  # but (like every figure here) not asserted: the smoke run checks the
  # benchmarks run, the tunnel tests check the tunnels.
  if grep -h '^RESULT tunnel_compare' "$out/tunnel_report.txt" | grep -v 'errors=0 never_completed=0 \|errors=0 never_completed=NA ' >&2; then
    echo "bench: WARNING: errors or requests that never completed (above)" >&2
  fi
  if grep -h '^RESULT tunnel_bulk' "$out/tunnel_bulk_idle.txt" | grep -v 'failed_rounds=0$' >&2; then
    echo "bench: WARNING: bulk transfers that failed or came short (above)" >&2
  fi
}
if [ $tcp_tunnel_only = 1 ]; then
  if [ $smoke = 1 ]; then bash bench/tcp_tunnel.sh --smoke; else bash bench/tcp_tunnel.sh; fi | tee "$out/tcp_tunnel.txt"
  exit 0
fi
if [ $gateway_only = 1 ]; then
  if [ $smoke = 1 ]; then bash bench/gateway.sh --smoke; else bash bench/gateway.sh; fi | tee "$out/gateway.txt"
  exit 0
fi
if [ $tunnels_only = 1 ]; then
  tunnel_benchmarks
  echo "bench: done; RESULT lines:"
  grep -h '^RESULT' "$out"/*.txt || true
  exit 0
fi

if [ $smoke = 1 ]; then
  compare=(--rounds 1 --duration 1 --warmup 0 --pause 0 --quiet-wait 0 --scenarios small,close)
else
  compare=(--rounds 5 --duration 5)
fi
# Both io engines side by side: "switchyard" takes io_engine: io_uring,
# "switchyard-epoll" the epoll engine (auto would fall back to it where the
# kernel refuses io_uring).
sy_candidate() { echo "SWITCHYARD_IO_ENGINE=$1 SWITCHYARD_BIN=$SWITCHYARD_BUILD/switchyard bash $root/bench/candidate-switchyard.sh"; }
bash bench/proxy-compare.sh "${compare[@]}" --out "$out/compare" \
  --candidate-name switchyard --candidate "$(sy_candidate io_uring)" \
  --candidate-name switchyard-epoll --candidate "$(sy_candidate epoll)" \
  "${extra[@]}" | tee "$out/compare.txt"

# 1b. Syscalls per request and the user/kernel CPU split, HAProxy and both engines.
if [ $smoke = 1 ]; then
  bash bench/syscalls.sh --smoke | tee "$out/syscalls.txt"
else
  bash bench/syscalls.sh | tee "$out/syscalls.txt"
fi

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
# 8. The tunnel benchmarks (also alone: --tunnels).
tunnel_benchmarks
echo "bench: done; RESULT lines:"
grep -h '^RESULT' "$out"/*.txt || true
