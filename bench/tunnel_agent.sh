#!/usr/bin/env bash
# The tunnel agent side by side: switchyard-tunnel (C++) and the Go reference
# agent (tests/peers/go/tunnel-agent, gorilla/websocket + hashicorp/yamux),
# each behind the same Go reference node (tests/peers/go/tunnel-node) and in
# front of the same switchyard-echo backend, one session each:
#   bulk     BYTES down (/download) and up (/upload, chunked) with curl: wall seconds, agent CPU seconds
#   small    wrk -c CONNS for DURATION s on GET /: req/s, agent CPU µs per request
#   serial   wrk -c 1 (one request at a time): round trips per second through the tunnel
# and, for scale, the same wrk runs straight to the backend (agent=none).
# Prints one RESULT line per agent and measure. Numbers drift on shared
# 2-core machines: compare the two agents within one run, and repeat.
#
#   SWITCHYARD_BUILD=build BYTES=1073741824 DURATION=10 CONNS=50 bash bench/tunnel_agent.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build=${SWITCHYARD_BUILD:-build}
bytes=${BYTES:-1073741824}
duration=${DURATION:-10}
conns=${CONNS:-50}
agents=${AGENTS:-cpp go}
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

wait_line() {  # file pattern
  for _ in $(seq 1 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  echo "timed out waiting for '$2' in $1" >&2; cat "$1" >&2; return 1
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

"$build/tests/switchyard-echo" --port 0 >"$tmp/echo.out" 2>&1 & pids+=($!)
wait_line "$tmp/echo.out" listening
echo_addr=$(awk '{print $2}' "$tmp/echo.out")

for agent in $agents; do
  "$build/tunnel-node" >"$tmp/node-$agent.out" 2>"$tmp/node-$agent.err" & node=$!; pids+=($node)
  wait_line "$tmp/node-$agent.out" listening
  tunnel=$(sed 's/.*tunnel=\([^ ]*\).*/\1/' "$tmp/node-$agent.out")
  http=$(sed 's/.*http=\([^ ]*\).*/\1/' "$tmp/node-$agent.out")
  if [ "$agent" = cpp ]; then
    "$build/switchyard-tunnel" --server "ws://$tunnel" --id bench --to "$echo_addr" --connections 1 \
      >"$tmp/agent-$agent.out" 2>"$tmp/agent-$agent.err" & apid=$!
  else
    "$build/tunnel-agent" --server "ws://$tunnel" --id bench --to "$echo_addr" \
      >"$tmp/agent-$agent.out" 2>"$tmp/agent-$agent.err" & apid=$!
  fi
  pids+=($apid)
  wait_line "$tmp/agent-$agent.out" tunnel-ready

  c0=$(cpu_ticks $apid); t0=$(date +%s.%N)
  curl -sS -o /dev/null "http://$http/download?bytes=$bytes"
  t1=$(date +%s.%N); c1=$(cpu_ticks $apid)
  head -c "$bytes" /dev/zero | curl -sS -o /dev/null -T - "http://$http/upload"
  t2=$(date +%s.%N); c2=$(cpu_ticks $apid)
  awk -v a=$agent -v b=$bytes -v t0=$t0 -v t1=$t1 -v t2=$t2 -v c0=$c0 -v c1=$c1 -v c2=$c2 -v hz=$hz 'BEGIN {
    printf "RESULT agent=%s bulk=down bytes=%d seconds=%.2f MiB_per_s=%.0f agent_cpu_s=%.2f\n", a, b, t1-t0, b/1048576/(t1-t0), (c1-c0)/hz
    printf "RESULT agent=%s bulk=up bytes=%d seconds=%.2f MiB_per_s=%.0f agent_cpu_s=%.2f\n", a, b, t2-t1, b/1048576/(t2-t1), (c2-c1)/hz }'

  wrk -t1 -c"$conns" -d1s "http://$http/" >/dev/null  # warm-up
  c0=$(cpu_ticks $apid)
  wrk -t1 -c"$conns" -d"${duration}s" "http://$http/" >"$tmp/wrk-$agent.txt"
  c1=$(cpu_ticks $apid)
  rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk-$agent.txt")
  reqs=$(awk '/requests in/ {print $1}' "$tmp/wrk-$agent.txt")
  errors=$(grep -c "Socket errors\|Non-2xx" "$tmp/wrk-$agent.txt" || true)
  awk -v a=$agent -v r=$rps -v n=$reqs -v c0=$c0 -v c1=$c1 -v hz=$hz -v c=$conns -v e=$errors 'BEGIN {
    printf "RESULT agent=%s small conns=%d req_per_s=%.0f agent_cpu_us_per_req=%.1f wrk_error_lines=%d\n", a, c, r, (c1-c0)/hz*1e6/n, e }'
  wrk -t1 -c1 -d"${duration}s" "http://$http/" >"$tmp/wrk1-$agent.txt"
  awk -v a=$agent '/Requests\/sec/ { printf "RESULT agent=%s serial conns=1 req_per_s=%.0f\n", a, $2 }' "$tmp/wrk1-$agent.txt"
  kill $apid $node 2>/dev/null || true
  wait $apid $node 2>/dev/null || true
done

for c in "$conns" 1; do
  wrk -t1 -c"$c" -d"${duration}s" "http://$echo_addr/" >"$tmp/wrk-direct-$c.txt"
  awk -v c=$c '/Requests\/sec/ { printf "RESULT agent=none direct conns=%d req_per_s=%.0f\n", c, $2 }' "$tmp/wrk-direct-$c.txt"
done
