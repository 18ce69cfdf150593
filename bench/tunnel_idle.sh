#!/usr/bin/env bash
# bench/tunnel_idle.sh -- memory of idle tunnel agents on the node: N agents
# connected and idle, the node's RSS growth per agent, for the Switchyard node
# and for the Go reference node (tests/peers/go/tunnel-node: gorilla/websocket
# + hashicorp/yamux, as built there: 64 KiB WebSocket read and write buffers,
# yamux defaults). A measurement, not a test: asserts nothing.
#
# build/bench/tunnel_idle_tool opens the N agents one after the other from one
# process (the upgrade with a distinct tunnel id each, then the yamux server
# side reduced to answering pings) and keeps them idle. The node's VmRSS is
# read before (one warm-up agent connected and gone), and SETTLE seconds after
# the last agent is up (Switchyard pings every ping_interval, 5 s; the Go
# node every 30 s); rss_per_agent = ΔVmRSS / N. Switchyard: workers 1, tunnel
# on without a secret, a nats-server (each held id is registered over NATS, so
# the route table's N routes are part of the cost); `alive` = sessions the node
# still held at the end (its tunnel_sessions gauge for Switchyard, the tool's
# own count for both).
#
# Usage: bench/tunnel_idle.sh [--smoke] [--n N] [--settle S] [--nodes switchyard,go] [--keep-tmp]
#   --smoke   N=50, settle 1 s (CI)
# Env: SWITCHYARD_BUILD (default build/ next to bench/)
# Output: RESULT tunnel_idle node=switchyard|go n=N rss_per_agent_bytes=...
#         rss_before_kib=... rss_after_kib=... alive=K
set -euo pipefail
export LC_ALL=C
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${SWITCHYARD_BUILD:-$here/../build}
N=2000 SETTLE=6 NODES=switchyard,go KEEP_TMP=0
while [[ $# -gt 0 ]]; do
    case $1 in
        --smoke) N=50 SETTLE=1 ;;
        --n) N=$2; shift ;;
        --settle) SETTLE=$2; shift ;;
        --nodes) NODES=$2; shift ;;
        --keep-tmp) KEEP_TMP=1 ;;
        -h|--help) sed -n '2,/^set -e/{/^set -e/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
        *) echo "tunnel_idle.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
log() { echo "[$(date +%H:%M:%S)] tunnel_idle: $*" >&2; }
die() { echo "tunnel_idle.sh: error: $*" >&2; exit 1; }

want=65536 hard=$(ulimit -Hn)
[[ $hard != unlimited ]] && ((hard < want)) && want=$hard
ulimit -n "$want" || die "cannot raise ulimit -n to $want"
((want >= N + 200)) || die "open-files limit $want is too low for N=$N"

BENCH_NAME=tidle
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
require "$build/bench/tunnel_idle_tool" -- setsid curl ss
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

measure() {  # name node_pid tunnel_addr [metrics_url]
    local name=$1 pid=$2 addr=$3 metrics=${4:-} before after alive sessions=NA hold
    # one agent in and out first: lazily allocated per-node state is not per agent
    "$build/bench/tunnel_idle_tool" --connect "$addr" --n 1 --hold 0.5 --id-prefix warm- >/dev/null ||
        die "$name: the warm-up agent failed"
    sleep 1
    before=$(rss_kib "$pid")
    hold=$(awk -v s="$SETTLE" 'BEGIN { print s + 2 }')
    "$build/bench/tunnel_idle_tool" --connect "$addr" --n "$N" --hold "$hold" >"$tmp/$name.tool" 2>&1 &
    local tool=$!
    for _ in $(seq 1200); do grep -q '^ready' "$tmp/$name.tool" && break; kill -0 "$tool" 2>/dev/null || break; sleep 0.05; done
    grep -q '^ready' "$tmp/$name.tool" || { wait "$tool" || true; die "$name: $(tail -3 "$tmp/$name.tool")"; }
    sleep "$SETTLE"
    after=$(rss_kib "$pid")
    if [[ -n $metrics ]]; then
        sessions=$(curl -s "$metrics" | awk '/^tunnel_sessions[ {]/ { print $NF; exit }')
    fi
    wait "$tool" || die "$name: the tool failed: $(tail -3 "$tmp/$name.tool")"
    alive=$(sed -n 's/^done .*alive=\([0-9]*\).*/\1/p' "$tmp/$name.tool")
    echo "RESULT tunnel_idle node=$name n=$N rss_per_agent_bytes=$(( (after - before) * 1024 / N )) rss_before_kib=$before rss_after_kib=$after alive=$alive node_sessions=$sessions"
}

IFS=, read -ra nodes <<<"$NODES"
for node in "${nodes[@]}"; do
    case $node in
        switchyard)
            require "$build/switchyard" -- nats-server
            nport=$(free_port) pport=$(free_port) sport=$(free_port) tport=$(free_port)
            start nats nats-server -a 127.0.0.1 -p "$nport"
            nats=$last_pid
            cat >"$tmp/switchyard.yml" <<YAML
port: $pport
status: {host: 127.0.0.1, port: $sport}
nats: {hosts: [{hostname: 127.0.0.1, port: $nport}]}
workers: 1
start_response_delay_interval: 0s
logging: {level: warn}
tunnel: {host: 127.0.0.1, port: $tport, domain: idle.local, node_id: idle-node, advertise: "127.0.0.1:$pport"}
YAML
            start switchyard "$build/switchyard" -c "$tmp/switchyard.yml"
            sy=$last_pid
            wait_http "http://127.0.0.1:$sport/health" "$sy" 20 || die "switchyard did not start: $(tail -5 "$tmp/switchyard.log")"
            for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$tport") 2>/dev/null && break; sleep 0.05; done
            log "switchyard node (pid $sy), tunnel listener 127.0.0.1:$tport, N=$N"
            measure switchyard "$sy" "127.0.0.1:$tport" "http://127.0.0.1:$sport/metrics"
            stop "$sy"
            stop "$nats"
            ;;
        go)
            require "$build/tunnel-node"
            start go-node "$build/tunnel-node" --listen-tunnel 127.0.0.1:0 --listen-http 127.0.0.1:0
            gn=$last_pid
            for _ in $(seq 200); do grep -q listening "$tmp/go-node.log" && break; sleep 0.05; done
            taddr=$(sed -n 's/.*tunnel=\([^ ]*\).*/\1/p' "$tmp/go-node.log")
            [[ -n $taddr ]] || die "the Go tunnel-node did not start: $(tail -3 "$tmp/go-node.log")"
            log "Go reference node (pid $gn), tunnel listener $taddr, N=$N"
            measure go "$gn" "$taddr"
            stop "$gn"
            ;;
        *) die "unknown node $node (switchyard, go)" ;;
    esac
done
