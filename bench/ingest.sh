#!/usr/bin/env bash
# bench/ingest.sh -- registration ingest, end to end, through a real nats-server.
# A measurement, not a test: prints figures, asserts nothing (exit != 0 only
# when the set-up itself fails).
#
# For each N in --counts: starts a fresh nats-server (with monitoring) and a
# fresh build/switchyard (workers 1, start_response_delay_interval 0s, logging
# warn, droplet_stale_threshold 3600) on free 127.0.0.1 ports, then runs
# build/bench/ingest_tool --mode burst: N distinct router.register messages
# published as fast as nats.c allows, timed until the router's /metrics
# total_endpoints shows them all. Then (on the first N's router, table loaded,
# idle) --trials times: register one fresh host and poll the proxy with that
# Host until 200 ("routable within X ms").
#
# Usage: bench/ingest.sh [--smoke] [--counts "100000 1000000"] [--trials 50] [--rate R] [--keep-tmp]
#   --smoke   N=10000 and 10 trials (CI; a few seconds)
#   --rate R  pace the publisher at R msg/s (default 0: as fast as nats.c allows)
#
# Nothing is pinned: publisher, nats-server and the router share both cpus.
# Each run first samples how busy the box is while we are idle (bg_busy_pct):
# on a shared VM other tenants' load changes the figures a lot.
#
# "dropped" = endpoints that never showed up in total_endpoints. With
# server_sent_to_router == messages and slow_consumers == 0, nats-server
# delivered everything and the router dropped them itself: nats.c's pending
# limits (131072 msgs / 128 MiB) overflowed, a client-side slow consumer.
# Env: SWITCHYARD_BUILD (default: build/ next to bench/)
# Output: progress on stderr; on stdout
#   RESULT ingest messages=N publish_per_s=... end_to_end_per_s=... dropped=... slow_consumers=...
#   RESULT ingest_routable trials=K table_routes=N p50_ms=... p99_ms=... max_ms=...
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${SWITCHYARD_BUILD:-$here/../build}
COUNTS="100000 1000000" TRIALS=50 KEEP_TMP=0 RATE=0
while [[ $# -gt 0 ]]; do
    case $1 in
        --smoke) COUNTS=10000 TRIALS=10 ;;
        --counts) COUNTS=$2; shift ;;
        --trials) TRIALS=$2; shift ;;
        --rate) RATE=$2; shift ;;
        --keep-tmp) KEEP_TMP=1 ;;
        -h|--help) sed -n '2,/^set -e/{/^set -e/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
        *) echo "ingest.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

log() { echo "[$(date +%H:%M:%S)] ingest: $*" >&2; }
die() { echo "ingest.sh: error: $*" >&2; exit 1; }

# ---------------------------------------------------------------- processes ---
BENCH_NAME=ingest
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require "$build/switchyard" "$build/bench/ingest_tool" "$build/switchyard-registrar" -- nats-server nginx curl setsid ss timeout

# ------------------------------------------------------------------ backend ---
bport=$(free_port)
log "backend: nginx on 127.0.0.1:$bport"
start_backend "$bport"

# ------------------------------------------------------------------- stacks ---
start_stack() {  # -> nats_pid sy_pid nport mport pport sport
    nport=$(free_port) mport=$(free_port) pport=$(free_port) sport=$(free_port)
    log "nats-server on 127.0.0.1:$nport (monitor :$mport)"
    start nats nats-server -a 127.0.0.1 -p "$nport" -m "$mport"
    nats_pid=$last_pid
    wait_http "http://127.0.0.1:$mport/varz" "$nats_pid" 10 || die "nats-server did not start: $(tail -5 "$tmp/nats.log")"
    cat >"$tmp/switchyard.yml" <<EOF
port: $pport
status: {host: 127.0.0.1, port: $sport}
nats: {hosts: [{hostname: 127.0.0.1, port: $nport}]}
workers: 1
start_response_delay_interval: 0s
droplet_stale_threshold: 3600
logging: {level: warn}
EOF
    log "switchyard: proxy 127.0.0.1:$pport, status :$sport (workers 1)"
    start switchyard "$build/switchyard" -c "$tmp/switchyard.yml"
    sy_pid=$last_pid
    wait_http "http://127.0.0.1:$sport/health" "$sy_pid" 15 || die "switchyard did not start: $(tail -5 "$tmp/switchyard.log")"
    # A probe route proves NATS -> router -> proxy -> backend before measuring.
    "$build/switchyard-registrar" --once register --nats "nats://127.0.0.1:$nport" \
        --host 127.0.0.1 --port "$bport" --uri probe.bench.local --tag component=probe >>"$tmp/registrar.log" 2>&1 || die "registrar failed: $(tail -3 "$tmp/registrar.log")"
    wait_routed "$pport" probe.bench.local 10 || die "probe route never became routable"
}
stop_stack() {
    stop "$sy_pid"
    stop "$nats_pid"
}

first=1
for n in $COUNTS; do
    start_stack
    bg=$(busy_pct)
    tmo=$((30 + n / 10000))
    log "burst: $n router.register messages (bounded: ${tmo}s)"
    out=$(timeout -k 5 $((tmo + 30)) "$build/bench/ingest_tool" --mode burst --nats "nats://127.0.0.1:$nport" \
        --status "127.0.0.1:$sport" --nats-monitor "127.0.0.1:$mport" --count "$n" --prefix "n$n-" \
        --rate "$RATE" --timeout "$tmo" 2> >(sed 's/^/  /' >&2)) || die "ingest_tool failed"
    echo "$out" >&2
    line=$(grep '^INGEST ' <<<"$out")
    slow_log=$(grep -ci 'slow consumer' "$tmp/nats.log" || true)
    reconnects=$(curl -s -m 2 "http://127.0.0.1:$sport/metrics" | awk '$1 == "nats_reconnects_total" { print $2 }')
    echo "RESULT ingest messages=$n publish_per_s=$(field publish_per_s "$line")" \
        "end_to_end_per_s=$(field end_to_end_per_s "$line") dropped=$(field missing_endpoints "$line")" \
        "slow_consumers=$(field slow_consumers_delta "$line") server_sent_to_router=$(field server_sent_to_router "$line")" \
        "nats_log_slow_consumer_lines=$slow_log router_nats_reconnects=${reconnects:-n/a}" \
        "publish_s=$(field publish_s "$line") end_to_end_s=$(field end_to_end_s "$line") rate_limit=$RATE bg_busy_pct=$bg"
    if ((first)); then
        first=0
        log "routable latency: $TRIALS trials, fresh host each, router idle with $n routes loaded"
        out=$(timeout -k 5 90 "$build/bench/ingest_tool" --mode latency --nats "nats://127.0.0.1:$nport" \
            --proxy "127.0.0.1:$pport" --backend "127.0.0.1:$bport" --trials "$TRIALS" --timeout 60 \
            2> >(sed 's/^/  /' >&2)) || log "some trials never became routable"
        echo "$out" >&2
        line=$(grep '^LATENCY ' <<<"$out" || true)
        echo "RESULT ingest_routable trials=$TRIALS table_routes=$n ok=$(field ok "$line")" \
            "p50_ms=$(field p50_ms "$line") p90_ms=$(field p90_ms "$line") p99_ms=$(field p99_ms "$line") max_ms=$(field max_ms "$line")"
    fi
    if [[ -s $tmp/switchyard.log ]]; then
        log "router log (warn and above), last lines:"
        tail -n 5 "$tmp/switchyard.log" | sed 's/^/  /' >&2
    fi
    stop_stack
done
log "done"
