#!/usr/bin/env bash
# --candidate for proxy-compare.sh (../shared/bench or bench/run.sh): starts a
# private nats-server, registers $ROUTE_HOST -> $BACKEND_ADDR with a real
# router.register message, then execs switchyard with one worker.
#
# Contract (set by proxy-compare.sh): listen on 127.0.0.1:$PROXY_PORT, route
# Host $ROUTE_HOST to $BACKEND_ADDR, 404 for other Hosts, stay in the
# foreground, keep files under $BENCH_TMPDIR. SWITCHYARD_BIN overrides the
# binary (default: build/switchyard next to this script).
set -eu
: "${PROXY_PORT:?}" "${BACKEND_HOST:?}" "${BACKEND_PORT:?}" "${ROUTE_HOST:?}" "${BENCH_TMPDIR:?}"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=${SWITCHYARD_BIN:-$here/../build/switchyard}

free_port() {
  local p=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}
nats_port=$(free_port 24222)
status_port=$(free_port $((PROXY_PORT + 1000)))
dir=$BENCH_TMPDIR/switchyard-$PROXY_PORT
mkdir -p "$dir"

nats-server -a 127.0.0.1 -p "$nats_port" >"$dir/nats.log" 2>&1 &
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$nats_port") 2>/dev/null && break; sleep 0.05; done

cat >"$dir/switchyard.yml" <<YAML
port: $PROXY_PORT
status: {port: $status_port}
nats: {hosts: [{hostname: 127.0.0.1, port: $nats_port}]}
workers: 1
start_response_delay_interval: 1s  # listeners open after this: the route is in by then
max_idle_conns_per_host: $(( ${BENCH_CONNECTIONS:-64} * 2 ))
logging: {level: warn}
io_engine: ${SWITCHYARD_IO_ENGINE:-auto}
YAML

# The route is published while switchyard starts, then heartbeated every
# 10 s like any registrar would (a route not heard from for
# droplet_stale_threshold is pruned). The loop dies with the harness's kill of
# this process group.
payload='{"host":"'"$BACKEND_HOST"'","port":'"$BACKEND_PORT"',"uris":["'"$ROUTE_HOST"'"]}'
publish() {
  exec 3<>"/dev/tcp/127.0.0.1/$nats_port" || return 0
  printf 'CONNECT {"verbose":false}\r\nPUB router.register %d\r\n%s\r\nPING\r\n' "${#payload}" "$payload" >&3
  timeout 1 grep -q -m1 PONG <&3 || true
  exec 3>&-
}
(
  for _ in $(seq 10); do publish; sleep 0.2; done
  while true; do publish; sleep 10; done
) >/dev/null 2>&1 &

exec "$bin" -c "$dir/switchyard.yml"
