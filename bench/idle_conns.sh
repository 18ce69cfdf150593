#!/usr/bin/env bash
# bench/idle_conns.sh -- memory of idle keep-alive client connections.
# A measurement, not a test: prints figures, asserts nothing (exit != 0 only
# when the set-up itself fails).
#
# Raises the open-files limit (ulimit -n: 65536 or the hard limit), then starts
# on free 127.0.0.1 ports: an nginx backend (return 200), nats-server, and
# build/switchyard (workers 1, start_response_delay_interval 0s, logging warn,
# droplet_stale_threshold 3600; it inherits the raised limit), registers
# bench.local with `switchyard-registrar --once register`, and runs
# build/bench/idle_conns_tool: N connections, one keep-alive GET each (full
# response read), all kept open and idle; VmRSS of the router before/after.
#
# Usage: bench/idle_conns.sh [--smoke] [--n 10000] [--keep-tmp]
#   --smoke   N=500 (CI; a few seconds)
# Env: SWITCHYARD_BUILD (default: build/ next to bench/)
# Output: progress on stderr; on stdout
#   RESULT idle_conns n=N rss_per_conn_bytes=... still_open=... rss_before_kib=... rss_after_kib=...
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${SWITCHYARD_BUILD:-$here/../build}
N=10000 KEEP_TMP=0
while [[ $# -gt 0 ]]; do
    case $1 in
        --smoke) N=500 ;;
        --n) N=$2; shift ;;
        --keep-tmp) KEEP_TMP=1 ;;
        -h|--help) sed -n '2,/^set -e/{/^set -e/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
        *) echo "idle_conns.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

log() { echo "[$(date +%H:%M:%S)] idle_conns: $*" >&2; }
die() { echo "idle_conns.sh: error: $*" >&2; exit 1; }

# Open files: N client sockets here, N accepted sockets in the router.
want=65536
hard=$(ulimit -Hn)
[[ $hard != unlimited ]] && ((hard < want)) && want=$hard
ulimit -n "$want" || die "cannot raise ulimit -n to $want"
((want >= N + 200)) || die "open-files limit $want is too low for N=$N (need N+200)"
log "ulimit -n $(ulimit -n) (hard $hard)"

# ---------------------------------------------------------------- processes ---
BENCH_NAME=idle
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require "$build/switchyard" "$build/bench/idle_conns_tool" "$build/switchyard-registrar" -- nats-server nginx curl setsid ss timeout

# ------------------------------------------------------------------- set-up ---
bport=$(free_port) nport=$(free_port) pport=$(free_port) sport=$(free_port)
log "backend: nginx on 127.0.0.1:$bport"
start_backend "$bport"

log "nats-server on 127.0.0.1:$nport"
start nats nats-server -a 127.0.0.1 -p "$nport"
nats_pid=$last_pid
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$nport") 2>/dev/null && break; sleep 0.05; done

cat >"$tmp/switchyard.yml" <<EOF
port: $pport
status: {host: 127.0.0.1, port: $sport}
nats: {hosts: [{hostname: 127.0.0.1, port: $nport}]}
workers: 1
start_response_delay_interval: 0s
droplet_stale_threshold: 3600
logging: {level: warn}
max_client_connections: $((N + 100))
EOF
log "switchyard: proxy 127.0.0.1:$pport, status :$sport (workers 1, ulimit -n $(ulimit -n))"
start switchyard "$build/switchyard" -c "$tmp/switchyard.yml"
sy_pid=$last_pid
wait_http "http://127.0.0.1:$sport/health" "$sy_pid" 15 || die "switchyard did not start: $(tail -5 "$tmp/switchyard.log")"
log "register bench.local -> 127.0.0.1:$bport (switchyard-registrar --once)"
"$build/switchyard-registrar" --once register --nats "nats://127.0.0.1:$nport" \
    --host 127.0.0.1 --port "$bport" --uri bench.local --tag component=bench >>"$tmp/registrar.log" 2>&1 \
    || die "registrar failed: $(tail -3 "$tmp/registrar.log")"
wait_routed "$pport" bench.local 10 || die "bench.local never became routable"

# ---------------------------------------------------------------- measure ---
tmo=$((60 + N / 200))
log "idle_conns_tool: $N keep-alive connections, one GET each, then idle (bounded: ${tmo}s)"
out=$(timeout -k 5 $((tmo + 10)) "$build/bench/idle_conns_tool" --proxy "127.0.0.1:$pport" --host bench.local \
    --count "$N" --pid "$sy_pid" --timeout "$tmo") || die "idle_conns_tool failed"
echo "$out" >&2
line=$(grep '^IDLE ' <<<"$out")
echo "RESULT idle_conns n=$(field n "$line") rss_per_conn_bytes=$(field rss_per_conn_bytes "$line")" \
    "still_open=$(field still_open "$line") rss_before_kib=$(field rss_before_kib "$line")" \
    "rss_after_kib=$(field rss_after_kib "$line") rss_after_close_kib=$(field rss_after_close_kib "$line")"
if [[ -s $tmp/switchyard.log ]]; then
    log "router log (warn and above), last lines:"
    tail -n 5 "$tmp/switchyard.log" | sed 's/^/  /' >&2
fi
log "done"
