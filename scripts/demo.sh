#!/usr/bin/env bash
# Command one: installs what is missing, builds, and runs the demo — a local
# nats-server, switchyard with tunnels on, a sample backend registered over
# NATS, and a second local service exposed through a tunnel agent (as a
# service behind NAT would be) — then prints the curls that reach both.
# Ctrl-C (or `kill` of this script) stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bash scripts/install-deps.sh
bash scripts/build.sh

free_port() {  # first free TCP port at or after $1 on 127.0.0.1
  local p=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}
nats_port=$(free_port "${NATS_PORT:-4222}")
proxy_port=$(free_port "${PROXY_PORT:-8081}")
status_port=$(free_port "${STATUS_PORT:-8082}")
backend_port=$(free_port 9100)
[ "$status_port" = "$proxy_port" ] && status_port=$(free_port $((proxy_port + 1)))
tunnel_port=$(free_port "${TUNNEL_PORT:-8443}")
private_port=$(free_port $((backend_port + 1)))

work=$(mktemp -d /tmp/switchyard-demo.XXXXXX)
pids=()
cleanup() {
  trap - EXIT INT TERM
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "demo stopped; logs were in $work"
}
trap cleanup EXIT INT TERM

cat >"$work/switchyard.yml" <<YAML
port: $proxy_port
status: {host: 127.0.0.1, port: $status_port, user: admin, pass: admin}
nats: {hosts: [{hostname: 127.0.0.1, port: $nats_port}]}
start_response_delay_interval: 1s
access_log: {file: $work/access.log}
tunnel:                 # agents dial ws://127.0.0.1:$tunnel_port/v1/tunnel
  host: 127.0.0.1
  port: $tunnel_port
  domain: tunnel.switchyard.local
  secret: demo-secret
  node_id: demo-node
  advertise: 127.0.0.1:$proxy_port
YAML

nats-server -a 127.0.0.1 -p "$nats_port" >"$work/nats.log" 2>&1 & pids+=($!)
"$root/build/switchyard" -c "$work/switchyard.yml" >"$work/switchyard.log" 2>&1 & pids+=($!)
"$root/build/tests/switchyard-echo" --port "$backend_port" --name demo-backend >"$work/backend.log" 2>&1 & pids+=($!)

for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$status_port/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$status_port/health" >/dev/null || { echo "switchyard did not become healthy:"; cat "$work/switchyard.log"; exit 1; }

# Register the backend the way a platform does: switchyard-registrar
# heartbeats router.register while the backend's health check passes.
cat >"$work/registrar.yml" <<YAML
nats: {hosts: [{hostname: 127.0.0.1, port: $nats_port}]}
host: 127.0.0.1
routes:
  - name: demo-backend
    port: $backend_port
    uris: [demo.switchyard.local]
    tags: {component: demo}
    registration_interval: 5s
    health_check: {url: "http://127.0.0.1:$backend_port/health", timeout: 2s}
YAML
"$root/build/switchyard-registrar" -c "$work/registrar.yml" >"$work/registrar.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: demo.switchyard.local' "http://127.0.0.1:$proxy_port/")" = 200 ] && break
  sleep 0.1
done

# A second service that nothing can reach directly (think: behind NAT),
# exposed by a tunnel agent that dials out to the node with a token.
"$root/build/tests/switchyard-echo" --port "$private_port" --name private-service >"$work/private.log" 2>&1 & pids+=($!)
token=$("$root/build/switchyard" -c "$work/switchyard.yml" token demo-agent --label private --ttl 1d)
"$root/build/switchyard-tunnel" --server "ws://127.0.0.1:$tunnel_port" --id demo-agent --label private \
  --token "$token" --to "127.0.0.1:$private_port" >"$work/agent.log" 2>&1 & pids+=($!)
tunnel_host=""
for _ in $(seq 100); do
  tunnel_host=$(sed -n 's/^tunnel-ready host=\([^ ]*\).*/\1/p' "$work/agent.log" | head -1)
  [ -n "$tunnel_host" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $tunnel_host" "http://127.0.0.1:$proxy_port/")" = 200 ] && break
  sleep 0.1
done
[ -n "$tunnel_host" ] || { echo "the tunnel agent did not connect:"; cat "$work/agent.log"; exit 1; }

cat <<TXT

Switchyard demo is running (logs in $work).

A backend registered over NATS by switchyard-registrar:
  curl -H 'Host: demo.switchyard.local' http://127.0.0.1:$proxy_port/hello

A private service exposed through a tunnel agent (public host $tunnel_host):
  curl -H 'Host: $tunnel_host' http://127.0.0.1:$proxy_port/hello

  curl -u admin:admin http://127.0.0.1:$status_port/routes
  curl -u admin:admin http://127.0.0.1:$status_port/tunnels
  curl http://127.0.0.1:$status_port/metrics

switchyard-registrar heartbeats the route every 5 s while GET /health on the
backend answers 200; stop the backend and the route is unregistered. Stop
the agent and the tunnel host answers 404 at once.
Press Ctrl-C to stop.
TXT
curl -s -H 'Host: demo.switchyard.local' "http://127.0.0.1:$proxy_port/hello" | head -3
curl -s -H "Host: $tunnel_host" "http://127.0.0.1:$proxy_port/hello" | head -3

if [ -n "${DEMO_ONCE:-}" ]; then exit 0; fi
wait "${pids[1]}" || true
echo "switchyard exited:"; tail -5 "$work/switchyard.log"
