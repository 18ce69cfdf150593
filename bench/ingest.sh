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
for b in "$build/switchyard" "$build/bench/ingest_tool" "$build/switchyard-registrar"; do
    [[ -x $b ]] || die "missing $b (build first: cmake -S . -B build && ninja -C build)"
done
for t in nats-server nginx curl setsid ss timeout; do command -v "$t" >/dev/null || die "missing tool: $t"; done

# ---------------------------------------------------------------- processes ---
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sy-ingest.XXXXXX")
started=()  # pids == process-group ids (setsid)
stop_group() {  # pgid: TERM, up to 3 s, then KILL
    local g=$1 i
    kill -TERM -- "-$g" 2>/dev/null || return 0
    for ((i = 0; i < 30; i++)); do kill -0 -- "-$g" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$g" 2>/dev/null || true
    wait "$g" 2>/dev/null || true
}
cleanup() {
    local rc=$? i
    trap - EXIT INT TERM HUP
    for ((i = ${#started[@]} - 1; i >= 0; i--)); do stop_group "${started[i]}"; done
    if ((KEEP_TMP)); then log "kept $tmp"; else rm -rf -- "$tmp"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
start() {  # name cmd... -> $last_pid; own process group, output to $tmp/name.log
    local name=$1
    shift
    setsid "$@" >"$tmp/$name.log" 2>&1 </dev/null &
    last_pid=$!
    started+=("$last_pid")
    local i  # setsid needs a moment; then the pid must lead its own group (kill -- -pid works)
    for ((i = 0; i < 50; i++)); do
        [[ $(ps -o pgid= -p "$last_pid" 2>/dev/null | tr -d ' ') == "$last_pid" ]] && return 0
        kill -0 "$last_pid" 2>/dev/null || return 0  # already gone: its log tells why
        sleep 0.02
    done
    die "$name (pid $last_pid) is not its own process group (job control on?)"
}
stop() {  # pid: stop one group we started and forget it
    local p=$1 i
    stop_group "$p"
    for i in "${!started[@]}"; do [[ ${started[i]} == "$p" ]] && unset 'started[i]'; done
    started=("${started[@]}")
}
picked=" "
free_port() {  # a port nothing listens on, below the ephemeral range, not picked before
    local p
    for _ in $(seq 200); do
        p=$((20000 + RANDOM % 12000))
        [[ $picked == *" $p "* ]] && continue
        [[ -n $(ss -Htan "sport = :$p" 2>/dev/null) ]] && continue
        picked+="$p "
        echo "$p"
        return 0
    done
    die "no free port found"
}
wait_http() {  # url pid timeout_s [want_code] -> 0 once the url answers want_code (200)
    local url=$1 pid=$2 deadline=$((SECONDS + $3)) want=${4:-200} code
    while ((SECONDS < deadline)); do
        kill -0 "$pid" 2>/dev/null || return 1
        code=$(curl -s -o /dev/null -m 1 -w '%{http_code}' "$url" 2>/dev/null || true)
        [[ $code == "$want" ]] && return 0
        sleep 0.05
    done
    return 1
}
wait_routed() {  # proxy_port host timeout_s
    local deadline=$((SECONDS + $3)) code
    while ((SECONDS < deadline)); do
        code=$(curl -s -o /dev/null -m 1 -w '%{http_code}' -H "Host: $2" "http://127.0.0.1:$1/" 2>/dev/null || true)
        [[ $code == 200 ]] && return 0
        sleep 0.05
    done
    return 1
}
field() {  # key line -> value of key=value
    local k=$1 line=" $2 "
    line=${line#* "$k"=}
    echo "${line%% *}"
}
busy_pct() {  # CPU use of the whole box over 1 s (others' load while we are idle)
    local a b
    read -ra a < <(grep '^cpu ' /proc/stat)
    sleep 1
    read -ra b < <(grep '^cpu ' /proc/stat)
    local idle=$(( (b[4] + b[5]) - (a[4] + a[5]) )) total=0 i
    for ((i = 1; i < ${#b[@]}; i++)); do total=$((total + b[i] - a[i])); done
    ((total > 0)) && echo $((100 * (total - idle) / total)) || echo 0
}

# ------------------------------------------------------------------ backend ---
bport=$(free_port)
mkdir -p "$tmp/nginx"
ngx_user=
((EUID == 0)) && ngx_user="user $(id -un) $(id -gn);"
cat >"$tmp/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
$ngx_user
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $tmp/nginx/cb; proxy_temp_path $tmp/nginx/p;
    fastcgi_temp_path $tmp/nginx/f; uwsgi_temp_path $tmp/nginx/u; scgi_temp_path $tmp/nginx/s;
    server { listen 127.0.0.1:$bport; location / { default_type text/plain; return 200 "ok\n"; } }
}
EOF
log "backend: nginx on 127.0.0.1:$bport"
start nginx nginx -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log"
wait_http "http://127.0.0.1:$bport/" "$last_pid" 10 || die "nginx did not start: $(tail -5 "$tmp/nginx.log")"

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
