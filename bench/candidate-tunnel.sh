#!/usr/bin/env bash
# --candidate for proxy-compare.sh: $ROUTE_HOST served through a reverse
# tunnel whose agent dials out to a node and reaches $BACKEND_ADDR (SPEC §5).
#
#   candidate-tunnel.sh local     client -> switchyard node -> switchyard-tunnel agent -> backend
#   candidate-tunnel.sh forward   client -> node A -> node B -> agent -> backend
#                                 (the agent is on B; A proxies to B's advertise address)
#   candidate-tunnel.sh go        client -> Go reference node -> Go reference agent -> backend
#                                 (tests/peers/go/tunnel-{node,agent}: gorilla/websocket +
#                                 hashicorp/yamux, the stack of frp's tcp_mux; an L4 pipe,
#                                 one yamux stream per client connection, no Host routing)
#
# Every process (nats-server, node(s), agent) is started here, in the
# harness's process group and under its pinning, so the harness's CPU per
# request counts node and agent together. Switchyard nodes: workers 1, a
# tunnel secret (tokens, and A->B requests carry the signed
# Switchyard-Forwarded-Node header), the route host is <label>.<domain> =
# $ROUTE_HOST. The agent keeps TUNNEL_CONNECTIONS sessions (default 1, as the
# Go reference agent; TUNNEL_AGENT=go puts the Go reference agent behind
# our node instead, a cross-check). Prints `candidate-tunnel MODE addr=127.0.0.1:$PROXY_PORT
# host=$ROUTE_HOST` once started; the harness retries its first request while
# the agent connects. SWITCHYARD_BUILD overrides the build dir,
# SWITCHYARD_IO_ENGINE the nodes' io_engine (default auto).
set -eu
mode=${1:?usage: candidate-tunnel.sh local|forward|go}
: "${PROXY_PORT:?}" "${BACKEND_ADDR:?}" "${ROUTE_HOST:?}" "${BENCH_TMPDIR:?}"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${SWITCHYARD_BUILD:-$here/../build}
conns=${TUNNEL_CONNECTIONS:-1}
label=${ROUTE_HOST%%.*} domain=${ROUTE_HOST#*.}
dir=$BENCH_TMPDIR/tunnel-$mode-$PROXY_PORT
mkdir -p "$dir"

free_port() {
  local p=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || [[ -n $(ss -Htan "sport = :$p" 2>/dev/null) ]]; do
    p=$((p + 1))
  done
  echo "$p"
}
wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait' TERM INT

if [[ $mode == go ]]; then
  "$build/tunnel-node" --listen-tunnel 127.0.0.1:0 --listen-http "127.0.0.1:$PROXY_PORT" \
    >"$dir/node.out" 2>"$dir/node.err" & pids+=($!)
  for _ in $(seq 200); do grep -q listening "$dir/node.out" 2>/dev/null && break; sleep 0.05; done
  tunnel=$(sed -n 's/.*tunnel=\([^ ]*\).*/\1/p' "$dir/node.out")
  [[ -n $tunnel ]] || { echo "the Go tunnel-node did not start" >&2; cat "$dir/node.err" >&2; exit 1; }
  "$build/tunnel-agent" --server "ws://$tunnel" --id bench-agent --label "$label" --to "$BACKEND_ADDR" \
    >"$dir/agent.out" 2>"$dir/agent.err" & pids+=($!)
  echo "candidate-tunnel go addr=127.0.0.1:$PROXY_PORT host=$ROUTE_HOST (any Host) tunnel=$tunnel"
  wait
  exit 0
fi

nats_port=$(free_port 24322)
nats-server -a 127.0.0.1 -p "$nats_port" >"$dir/nats.log" 2>&1 & pids+=($!)
wait_port "$nats_port" || { echo "nats-server did not start" >&2; exit 1; }

node_config() {  # name proxy_port status_port tunnel_port
  cat >"$dir/$1.yml" <<YAML
port: $2
status: {host: 127.0.0.1, port: $3}
nats: {hosts: [{hostname: 127.0.0.1, port: $nats_port}]}
workers: 1
io_engine: ${SWITCHYARD_IO_ENGINE:-auto}
start_response_delay_interval: 0s
max_idle_conns_per_host: $(( ${BENCH_CONNECTIONS:-64} * 2 ))
logging: {level: warn}
tunnel:
  host: 127.0.0.1
  port: $4
  domain: $domain
  secret: bench-secret
  node_id: $1
  advertise: 127.0.0.1:$2
YAML
}

# The agent's node: the candidate itself (local), or node B behind node A (forward).
if [[ $mode == local ]]; then
  holder_port=$PROXY_PORT
elif [[ $mode == forward ]]; then
  holder_port=$(free_port $((PROXY_PORT + 2000)))
else
  echo "candidate-tunnel.sh: unknown mode $mode (local|forward|go)" >&2
  exit 2
fi
holder_tunnel=$(free_port $((holder_port + 3000)))
holder=node  # its config's name is how proxy-compare.sh's procs.tsv names the process
[[ $mode == forward ]] && holder=node-b
node_config "$holder" "$holder_port" "$(free_port $((holder_port + 1000)))" "$holder_tunnel"
"$build/switchyard" -c "$dir/$holder.yml" >"$dir/$holder.log" 2>&1 & pids+=($!)
if [[ $mode == forward ]]; then
  a_tunnel=$(free_port $((holder_tunnel + 1)))
  node_config node-a "$PROXY_PORT" "$(free_port $((PROXY_PORT + 1000)))" "$a_tunnel"
  "$build/switchyard" -c "$dir/node-a.yml" >"$dir/node-a.log" 2>&1 & pids+=($!)
fi
wait_port "$holder_tunnel" || { echo "$holder's tunnel listener did not open" >&2; cat "$dir/$holder.log" >&2; exit 1; }
token=$("$build/switchyard" -c "$dir/$holder.yml" token bench-agent --label "$label" --ttl 1d)
if [[ ${TUNNEL_AGENT:-switchyard} == go ]]; then  # the Go reference agent against our node (a cross-check)
  "$build/tunnel-agent" --server "ws://127.0.0.1:$holder_tunnel" --id bench-agent --label "$label" \
    --token "$token" --to "$BACKEND_ADDR" >"$dir/agent.out" 2>"$dir/agent.err" & pids+=($!)
else
  "$build/switchyard-tunnel" --server "ws://127.0.0.1:$holder_tunnel" --id bench-agent --label "$label" \
    --token "$token" --to "$BACKEND_ADDR" --connections "$conns" >"$dir/agent.out" 2>"$dir/agent.err" & pids+=($!)
fi
echo "candidate-tunnel $mode addr=127.0.0.1:$PROXY_PORT host=$ROUTE_HOST agent->127.0.0.1:$holder_tunnel"
wait
