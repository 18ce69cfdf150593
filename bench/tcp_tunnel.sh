#!/usr/bin/env bash
# bench/tcp_tunnel.sh -- TCP tunnels (SPEC §7) side by side in one run. A
# measurement, not a test: prints figures, asserts nothing.
#
# The same `gateway_tool echo` target, reached four ways:
#   direct      straight to the echo (the floor)
#   haproxy     HAProxy 2.6 in mode tcp (a plain TCP relay, one process)
#   switchyard  a switchyard node's TCP entry port -> yamux over WebSocket ->
#               switchyard-tunnel --tcp -> the echo (node + agent)
#   go          the Go reference tunnel, the same path with gorilla/websocket
#               and hashicorp/yamux (tests/peers/go: tunnel-node's raw
#               --listen-http entry + tunnel-agent)
# Per path:
#   bulk      one connection, BYTES up while the echo sends them back (2 x
#             BYTES cross every hop); CPU = utime+stime of the relay's
#             processes (/proc/PID/stat), per GiB relayed (both directions).
#   pingpong  COUNT round trips of a 64-byte message, one in flight: p50/p99.
# The relay's processes share PROXY_CPUS (one core), the client and echo
# CLIENT_CPUS.
#
# Usage: bench/tcp_tunnel.sh [--smoke] [--bytes N] [--count C] [--rounds R]
# Env: SWITCHYARD_BUILD (default build/ next to bench/), PROXY_CPUS (0), CLIENT_CPUS (1)
# Output: RESULT tcp_tunnel path=P bytes=N seconds=S MB_per_s=X cpu_s_per_GiB=Y ok=1
#         RESULT tcp_tunnel_pingpong path=P count=C size=64 p50_us=.. p99_us=.. max_us=.. ok=1
set -euo pipefail
export LC_ALL=C
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${SWITCHYARD_BUILD:-$here/../build}
BYTES=1073741824 COUNT=10000 ROUNDS=3 KEEP_TMP=0
PROXY_CPUS=${PROXY_CPUS:-0} CLIENT_CPUS=${CLIENT_CPUS:-1}
while [[ $# -gt 0 ]]; do
    case $1 in
        --smoke) BYTES=16777216 COUNT=1000 ROUNDS=1 ;;
        --bytes) BYTES=$2; shift ;;
        --count) COUNT=$2; shift ;;
        --rounds) ROUNDS=$2; shift ;;
        -h|--help) sed -n '2,/^set -e/{/^set -e/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
        *) echo "tcp_tunnel.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
log() { echo "[$(date +%H:%M:%S)] tcp_tunnel: $*" >&2; }
die() { echo "tcp_tunnel.sh: error: $*" >&2; exit 1; }
BENCH_NAME=tcp_tunnel
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
tool=$build/bench/gateway_tool
require "$build/switchyard" "$build/switchyard-tunnel" "$build/tunnel-node" "$build/tunnel-agent" "$tool" \
    -- nats-server haproxy setsid taskset
hz=$(getconf CLK_TCK)
ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done; echo "$t"; }
wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; die "port $1 never opened"; }
wait_in() { for _ in $(seq 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done; die "no '$2' in $1"; }

eport=$(free_port)
start echo taskset -c "$CLIENT_CPUS" "$tool" echo --port "$eport"
wait_port "$eport"

# path name, the port a client dials, the relay's pids
paths=()
declare -A port_of pids_of
paths+=(direct); port_of[direct]=$eport; pids_of[direct]=""

hport=$(free_port)
cat >"$tmp/haproxy.cfg" <<CFG
global
  maxconn 256
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
listen relay
  bind 127.0.0.1:$hport
  server echo 127.0.0.1:$eport
CFG
start haproxy taskset -c "$PROXY_CPUS" haproxy -f "$tmp/haproxy.cfg" -db
paths+=(haproxy); port_of[haproxy]=$hport; pids_of[haproxy]=$last_pid
wait_port "$hport"

nport=$(free_port) pport=$(free_port) sport=$(free_port) tport=$(free_port) rbase=$(free_port)
start nats taskset -c "$CLIENT_CPUS" nats-server -a 127.0.0.1 -p "$nport"
cat >"$tmp/node.yml" <<YAML
port: $pport
bind_address: 127.0.0.1
status: {port: $sport}
nats: {hosts: [{hostname: 127.0.0.1, port: $nport}]}
workers: 1
start_response_delay_interval: 0s
logging: {level: warn}
tunnel:
  host: 127.0.0.1
  port: $tport
  domain: bench.test
  node_id: bench
  advertise: 127.0.0.1:$pport
  tcp_ports: "$rbase-$((rbase + 20))"
YAML
start node taskset -c "$PROXY_CPUS" "$build/switchyard" -c "$tmp/node.yml"
node=$last_pid
wait_port "$tport"
start agent taskset -c "$PROXY_CPUS" "$build/switchyard-tunnel" --server "ws://127.0.0.1:$tport" --id bench \
    --label bench --to "127.0.0.1:$eport" --connections 1 --tcp
agent=$last_pid
wait_in "$tmp/agent.log" "tcp-entry"
entry=$(sed -n 's/.*tcp-entry .* port=\([0-9]*\).*/\1/p' "$tmp/agent.log" | head -1)
paths+=(switchyard); port_of[switchyard]=$entry; pids_of[switchyard]="$node $agent"

start gonode taskset -c "$PROXY_CPUS" "$build/tunnel-node"
gonode=$last_pid
wait_in "$tmp/gonode.log" listening
gotunnel=$(sed -n 's/.*tunnel=\([^ ]*\).*/\1/p' "$tmp/gonode.log")
goentry=$(sed -n 's/.*http=[^:]*:\([0-9]*\).*/\1/p' "$tmp/gonode.log")
start goagent taskset -c "$PROXY_CPUS" "$build/tunnel-agent" --server "ws://$gotunnel" --id bench --to "127.0.0.1:$eport"
goagent=$last_pid
wait_in "$tmp/goagent.log" tunnel-ready
paths+=(go); port_of[go]=$goentry; pids_of[go]="$gonode $goagent"

: >"$tmp/rows"
for path in "${paths[@]}"; do
    port=${port_of[$path]} pids=${pids_of[$path]}
    for ((r = 1; r <= ROUNDS; r++)); do
        c0=$(ticks $pids)
        out=$(taskset -c "$CLIENT_CPUS" "$tool" bulk --port "$port" --bytes "$BYTES") || true
        c1=$(ticks $pids)
        echo "$path $r $(field seconds "$out") $((c1 - c0)) $(field ok "$out")" >>"$tmp/rows"
        log "$path bulk round $r: $out cpu_ticks=$((c1 - c0))"
    done
    out=$(taskset -c "$CLIENT_CPUS" "$tool" pingpong --port "$port" --count "$COUNT" --size 64) || true
    echo "RESULT tcp_tunnel_pingpong path=$path ${out#RESULT pingpong }"
done

# per path: the round with the least CPU per byte among those that got through
awk -v b="$BYTES" -v hz="$hz" '{
        if (!seen[$1]++) order[++n] = $1
        if ($5 == 1 && (!($1 in best) || $4 < cpu[$1])) { best[$1] = $0; cpu[$1] = $4 }
    }
    END {
        for (i = 1; i <= n; i++) {
            p = order[i]
            if (!(p in best)) { printf "RESULT tcp_tunnel path=%s bytes=%d ok=0\n", p, b; continue }
            split(best[p], f, " ")
            c = f[4] / hz
            printf "RESULT tcp_tunnel path=%s bytes=%d seconds=%.2f MB_per_s=%.1f cpu_s_per_GiB=%.3f ok=1\n",
                p, b, f[3], 2 * b / 1e6 / f[3], c * 1073741824 / (2 * b)
        }
    }' "$tmp/rows"
