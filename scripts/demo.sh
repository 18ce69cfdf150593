#!/usr/bin/env bash
# Command one: installs what is missing, builds, and runs the demo — a local
# nats-server, switchyard, and a sample backend registered over NATS — then
# prints the curl that reaches it. Ctrl-C (or `kill` of this script) stops
# everything it started.
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

cat <<TXT

Switchyard demo is running (logs in $work).

  curl -H 'Host: demo.switchyard.local' http://127.0.0.1:$proxy_port/hello
  curl -u admin:admin http://127.0.0.1:$status_port/routes
  curl http://127.0.0.1:$status_port/metrics

switchyard-registrar heartbeats the route every 5 s while GET /health on the
backend answers 200; stop the backend and the route is unregistered.
Press Ctrl-C to stop.
TXT
curl -s -H 'Host: demo.switchyard.local' "http://127.0.0.1:$proxy_port/hello" | head -3

if [ -n "${DEMO_ONCE:-}" ]; then exit 0; fi
wait "${pids[1]}" || true
echo "switchyard exited:"; tail -5 "$work/switchyard.log"
