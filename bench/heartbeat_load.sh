#!/usr/bin/env bash
# bench/heartbeat_load.sh -- does route heartbeat traffic slow the proxy down?
# A measurement, not a test: prints figures, asserts nothing (exit != 0 only
# when the set-up itself fails).
#
# Starts on free 127.0.0.1 ports, pinned like the shared harness
# (shared/bench/proxy-compare.sh): cpu 0 = build/switchyard (workers 1; its
# NATS and control threads too) + the nginx backend; cpu 1 = wrk, nats-server
# and the heartbeat publisher. Registers bench.local -> nginx, preloads
# --routes registrations (build/bench/ingest_tool --mode burst), then
# alternates, for --rounds rounds:
#   A  wrk -t1 -c64 -d<duration>s -H 'Host: bench.local' (GET /, 29-byte body, keep-alive)
#   B  the same while ingest_tool --mode heartbeat republishes all --routes
#      registrations spread evenly over 20 s (100k routes = 5,000 msg/s)
# and reports the medians. Caveat: the publisher and nats-server share cpu 1
# with wrk, so part of a drop can be load-generator starvation, not router
# cost. --control adds a run C per round: the same publisher at the same rate
# on a subject the router does not subscribe to (bench.unrouted), i.e. the
# cpu-1 side of the cost without the router's; B - C is the router's share.
# The log shows the publisher kept its rate and heartbeats_applied that the
# router really processed every heartbeat.
#
# Usage: bench/heartbeat_load.sh [--smoke] [--rounds 3] [--duration 10] [--routes 100000]
#                                [--connections 64] [--control] [--no-pin] [--keep-tmp]
#   --smoke   1 round, 2 s runs, 10k routes (CI; a few seconds)
# Env: SWITCHYARD_BUILD (default: build/ next to bench/)
# Output: progress on stderr; on stdout
#   RESULT heartbeat_load baseline_rps=... with_heartbeats_rps=... drop_pct=... (medians) ...
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${SWITCHYARD_BUILD:-$here/../build}
ROUNDS=3 DURATION=10 ROUTES=100000 PERIOD=20 CONNS=64 PIN=1 KEEP_TMP=0 WARMUP=2 CONTROL=0
while [[ $# -gt 0 ]]; do
    case $1 in
        --smoke) ROUNDS=1 DURATION=2 ROUTES=10000 WARMUP=1 ;;
        --rounds) ROUNDS=$2; shift ;;
        --duration) DURATION=$2; shift ;;
        --routes) ROUTES=$2; shift ;;
        --connections) CONNS=$2; shift ;;
        --no-pin) PIN=0 ;;
        --control) CONTROL=1 ;;
        --keep-tmp) KEEP_TMP=1 ;;
        -h|--help) sed -n '2,/^set -e/{/^set -e/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
        *) echo "heartbeat_load.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

log() { echo "[$(date +%H:%M:%S)] heartbeat_load: $*" >&2; }
die() { echo "heartbeat_load.sh: error: $*" >&2; exit 1; }
if ((PIN)); then
    command -v taskset >/dev/null || die "missing tool: taskset (or use --no-pin)"
    if ! taskset -c 1 true 2>/dev/null; then
        log "fewer than 2 cpus: running unpinned"
        PIN=0
    fi
fi
# Command prefixes: cpu 0 = router + backend; cpu 1 = wrk + nats-server + publisher.
srv=() cli=()
((PIN)) && srv=(taskset -c 0) cli=(taskset -c 1)

# ---------------------------------------------------------------- processes ---
BENCH_NAME=hbload
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require "$build/switchyard" "$build/bench/ingest_tool" "$build/switchyard-registrar" -- nats-server nginx wrk curl setsid ss timeout
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
thread_ticks() {  # -> "tid cpu_ticks" per router thread (utime + stime), sorted for join
    local f
    for f in /proc/"$sy_pid"/task/*/stat; do awk '{ print $1, $14 + $15 }' "$f" 2>/dev/null || true; done | sort
}
other_ticks() {  # before_file after_file -> CPU ticks of every router thread but the worker
    join "$1" "$2" | awk -v w="$worker_tid" '$1 != w { s += $3 - $2 } END { print s + 0 }'
}
heartbeats_applied() {  # router's registry_message_total{action="updated",component="bench"}
    curl -s -m 5 "http://127.0.0.1:$sport/metrics" |
        awk '/^registry_message_total\{/ && /action="updated"/ && /component="bench"/ { print $2; f = 1 } END { if (!f) print 0 }'
}

# ------------------------------------------------------------------- set-up ---
bport=$(free_port) nport=$(free_port) pport=$(free_port) sport=$(free_port)
pin_note="unpinned"
((PIN)) && pin_note="cpu 0"
log "backend: nginx on 127.0.0.1:$bport ($pin_note)"
start_backend "$bport" "${srv[@]}"

log "nats-server on 127.0.0.1:$nport"
start nats "${cli[@]}" nats-server -a 127.0.0.1 -p "$nport"
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$nport") 2>/dev/null && break; sleep 0.05; done

cat >"$tmp/switchyard.yml" <<EOF
port: $pport
status: {host: 127.0.0.1, port: $sport}
nats: {hosts: [{hostname: 127.0.0.1, port: $nport}]}
workers: 1
start_response_delay_interval: 0s
droplet_stale_threshold: 3600
max_idle_conns_per_host: $((CONNS * 2))
logging: {level: warn}
EOF
log "switchyard: proxy 127.0.0.1:$pport, status :$sport (workers 1, $pin_note)"
start switchyard "${srv[@]}" "$build/switchyard" -c "$tmp/switchyard.yml"
sy_pid=$last_pid
wait_http "http://127.0.0.1:$sport/health" "$sy_pid" 15 || die "switchyard did not start: $(tail -5 "$tmp/switchyard.log")"
log "register bench.local -> 127.0.0.1:$bport (switchyard-registrar --once)"
"$build/switchyard-registrar" --once register --nats "nats://127.0.0.1:$nport" \
    --host 127.0.0.1 --port "$bport" --uri bench.local --tag component=bench-probe >>"$tmp/registrar.log" 2>&1 \
    || die "registrar failed: $(tail -3 "$tmp/registrar.log")"
wait_routed "$pport" bench.local 10 || die "bench.local never became routable"

log "preload: $ROUTES registrations (ingest_tool --mode burst)"
out=$(timeout -k 5 120 "${cli[@]}" "$build/bench/ingest_tool" --mode burst --nats "nats://127.0.0.1:$nport" \
    --status "127.0.0.1:$sport" --count "$ROUTES" --prefix hb- --timeout 90 2>>"$tmp/ingest.log") \
    || die "preload failed: $(tail -3 "$tmp/ingest.log")"
echo "$out" >&2
[[ $(field missing_endpoints "$(grep '^INGEST ' <<<"$out")") == 0 ]] || log "WARNING: preload incomplete (see missing_endpoints)"

# ------------------------------------------------------------------ measure ---
url="http://127.0.0.1:$pport/"
run_wrk() {  # label -> prints req/s; raw output kept in $tmp
    local label=$1 f=$tmp/wrk-$1.txt rps non2xx
    timeout -k 5 $((DURATION + 15)) "${cli[@]}" wrk -t1 -c"$CONNS" -d"${DURATION}s" -H 'Host: bench.local' "$url" >"$f" 2>&1 \
        || die "wrk failed ($label): $(tail -3 "$f")"
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$f")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$f")
    [[ -n $rps ]] || die "no Requests/sec in wrk output ($label)"
    [[ -z $non2xx ]] || log "WARNING: $non2xx non-2xx responses in $label"
    echo "$rps"
}

log "warm-up: wrk ${WARMUP}s (discarded)"
timeout -k 5 $((WARMUP + 15)) "${cli[@]}" wrk -t1 -c"$CONNS" -d"${WARMUP}s" -H 'Host: bench.local' "$url" >/dev/null 2>&1 || true

with_heartbeats() {  # label subject -> req/s of wrk while the publisher runs on subject
    local label=$1 subject=$2 before after hb applied rps
    before=$(heartbeats_applied)
    thread_ticks >"$tmp/ticks0"
    start heartbeat "${cli[@]}" "$build/bench/ingest_tool" --mode heartbeat --nats "nats://127.0.0.1:$nport" \
        --count "$ROUTES" --prefix hb- --period "$PERIOD" --subject "$subject" \
        --duration $((DURATION + 10)) --timeout $((DURATION + 20))
    local hb_pid=$last_pid
    sleep 1  # let the heartbeat stream reach its steady rate
    rps=$(run_wrk "$label")
    stop "$hb_pid"
    after=$(heartbeats_applied)
    thread_ticks >"$tmp/ticks1"
    hb_ticks=$(other_ticks "$tmp/ticks0" "$tmp/ticks1")
    hb=$(grep '^HEARTBEAT ' "$tmp/heartbeat.log" || true)
    [[ -n $hb ]] || die "heartbeat publisher printed nothing: $(tail -3 "$tmp/heartbeat.log")"
    applied=$(awk -v a="$after" -v b="$before" 'BEGIN { printf "%d", a - b }')
    hb_note="publisher on $subject: $(field rate_per_s "$hb") msg/s of $(field target_per_s "$hb"), router applied $applied heartbeats, router non-worker cpu $((hb_ticks * 1000 / hz)) ms"
    hb_published=$(field published "$hb") hb_applied=$applied
    echo "$rps"
}

# The router's own cost of heartbeats: CPU of its threads other than the (one)
# worker, i.e. NATS reader/delivery + control, per heartbeat applied. The
# worker is the thread that used the most CPU during the first A run.
hz=$(getconf CLK_TCK)
worker_tid='' base=() with=() ctrl=() applied_total=0 published_total=0 hb_ticks_total=0 a_ticks_total=0
for ((r = 1; r <= ROUNDS; r++)); do
    bg=$(busy_pct)
    thread_ticks >"$tmp/ticksA0"
    rps=$(run_wrk "A$r")
    thread_ticks >"$tmp/ticksA1"
    [[ -n $worker_tid ]] || worker_tid=$(join "$tmp/ticksA0" "$tmp/ticksA1" | awk '{ d = $3 - $2; if (d >= m) { m = d; t = $1 } } END { print t }')
    a_ticks=$(other_ticks "$tmp/ticksA0" "$tmp/ticksA1")
    a_ticks_total=$((a_ticks_total + a_ticks))
    base+=("$rps")
    log "round $r A (no heartbeats):   $rps req/s   (box busy before: ${bg}%; router non-worker cpu $((a_ticks * 1000 / hz)) ms)"

    bg=$(busy_pct)
    with_heartbeats "B$r" router.register >"$tmp/rps"
    rps=$(<"$tmp/rps")
    with+=("$rps")
    applied_total=$((applied_total + hb_applied)) published_total=$((published_total + hb_published))
    hb_ticks_total=$((hb_ticks_total + hb_ticks))
    log "round $r B (with heartbeats): $rps req/s   (box busy before: ${bg}%; $hb_note)"

    if ((CONTROL)); then
        bg=$(busy_pct)
        with_heartbeats "C$r" bench.unrouted >"$tmp/rps"
        rps=$(<"$tmp/rps")
        ctrl+=("$rps")
        log "round $r C (control):         $rps req/s   (box busy before: ${bg}%; $hb_note)"
    fi
done

b_med=$(printf '%s\n' "${base[@]}" | median)
w_med=$(printf '%s\n' "${with[@]}" | median)
pct() { awk -v a="$1" -v b="$2" 'BEGIN { d = 0; if (a > 0) d = 100 * (a - b) / a; printf "%.1f", d }'; }
extra=
if ((CONTROL)); then
    c_med=$(printf '%s\n' "${ctrl[@]}" | median)
    extra=" control_rps=$c_med control_drop_pct=$(pct "$b_med" "$c_med") control_runs=$(IFS=,; echo "${ctrl[*]}")"
fi
echo "RESULT heartbeat_load baseline_rps=$b_med with_heartbeats_rps=$w_med drop_pct=$(pct "$b_med" "$w_med")" \
    "rounds=$ROUNDS duration_s=$DURATION routes=$ROUTES heartbeat_per_s=$((ROUTES / PERIOD))" \
    "heartbeats_published=$published_total heartbeats_applied=$applied_total" \
    "router_cpu_us_per_heartbeat=$(awk -v t="$hb_ticks_total" -v hz="$hz" -v n="$applied_total" 'BEGIN { if (n > 0) printf "%.1f", t * 1e6 / hz / n; else print "n/a" }')" \
    "baseline_runs=$(IFS=,; echo "${base[*]}") with_runs=$(IFS=,; echo "${with[*]}") pinned=$PIN$extra"
if [[ -s $tmp/switchyard.log ]]; then
    log "router log (warn and above), last lines:"
    tail -n 5 "$tmp/switchyard.log" | sed 's/^/  /' >&2
fi
log "done"
