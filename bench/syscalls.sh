#!/usr/bin/env bash
# bench/syscalls.sh -- kernel crossings and the user/kernel CPU split per
# request: HAProxy 2.6 (nbthread 1) and Switchyard (workers 1) on each io
# engine, under the same load. A measurement, not a test: prints figures,
# asserts nothing (exit != 0 only when the set-up fails).
#
# Pinned like bench/proxy-compare.sh: cpu 0 = the proxy + the nginx backend,
# cpu 1 = wrk (-t1 -c64) and nats-server. For each scenario (small keep-alive
# GET /; close: the same with Connection: close, a new connection per
# request) and each target, one discarded warm-up, one wrk run for req/s and
# the proxy's user and system CPU (/proc/<pid>/stat), then one while `perf
# stat` counts its syscalls by name (tracepoints syscalls:sys_enter_*; kept
# apart because tracing every syscall slows a syscall-heavy proxy down).
#
# Usage: bench/syscalls.sh [--seconds 5] [--scenarios small,close] [--smoke] [--keep-tmp]
# Env: SWITCHYARD_BUILD (default: build/ next to bench/)
# Output: a table per scenario on stdout and per target a line
#   RESULT syscalls scenario=... target=... rps=... syscalls_per_req=... user_us_per_req=...
#          sys_us_per_req=... top=name:count,... (counts per request)
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${SWITCHYARD_BUILD:-$here/../build}
SECONDS_PER_RUN=5 SCENARIOS=small,close KEEP_TMP=0 CONNS=64
while [[ $# -gt 0 ]]; do
    case $1 in
        --seconds) SECONDS_PER_RUN=$2; shift ;;
        --scenarios) SCENARIOS=$2; shift ;;
        --smoke) SECONDS_PER_RUN=1 ;;
        --keep-tmp) KEEP_TMP=1 ;;
        -h|--help) sed -n '2,/^set -e/{/^set -e/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
        *) echo "syscalls.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
log() { echo "[$(date +%H:%M:%S)] syscalls: $*" >&2; }
die() { echo "syscalls.sh: error: $*" >&2; exit 1; }
srv=() cli=()
taskset -c 1 true 2>/dev/null && srv=(taskset -c 0) cli=(taskset -c 1)

BENCH_NAME=syscalls
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
require "$build/switchyard" -- haproxy nginx nats-server wrk perf curl setsid ss timeout
# perf's syscall tracepoints need tracefs (mounted by most distributions; not
# in every container) and the right to use them: without, say so and skip.
skip() { echo "RESULT syscalls skipped=\"$*\""; exit 0; }
[[ -d /sys/kernel/tracing/events/syscalls ]] || mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null \
    || skip "no tracefs at /sys/kernel/tracing"
[[ -d /sys/kernel/tracing/events/syscalls/sys_enter_recvfrom ]] || skip "no syscalls:sys_enter_* tracepoints"
perf stat -e 'syscalls:sys_enter_getppid' -- true >/dev/null 2>&1 || skip "perf may not use tracepoints here"

bport=$(free_port) nport=$(free_port)
start_backend "$bport" "${srv[@]}"
start nats "${cli[@]}" nats-server -a 127.0.0.1 -p "$nport"
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$nport") 2>/dev/null && break; sleep 0.05; done

declare -A pid port
hport=$(free_port)
cat >"$tmp/haproxy.cfg" <<EOF
global
    nbthread 1
defaults
    mode http
    maxconn 2000
    option http-keep-alive
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend router
    bind 127.0.0.1:$hport
    default_backend be
backend be
    http-reuse always
    server app1 127.0.0.1:$bport
EOF
start haproxy "${srv[@]}" haproxy -db -f "$tmp/haproxy.cfg"
pid[haproxy]=$last_pid port[haproxy]=$hport
for engine in io_uring epoll; do
    p=$(free_port) s=$(free_port)
    cat >"$tmp/sy-$engine.yml" <<EOF
port: $p
status: {host: 127.0.0.1, port: $s}
nats: {hosts: [{hostname: 127.0.0.1, port: $nport}]}
workers: 1
start_response_delay_interval: 0s
droplet_stale_threshold: 3600
max_idle_conns_per_host: $((CONNS * 2))
logging: {level: warn}
io_engine: $engine
EOF
    start "switchyard-$engine" "${srv[@]}" "$build/switchyard" -c "$tmp/sy-$engine.yml"
    pid[switchyard-$engine]=$last_pid port[switchyard-$engine]=$p
    wait_http "http://127.0.0.1:$s/health" "$last_pid" 15 || die "switchyard ($engine) did not start"
done
payload='{"host":"127.0.0.1","port":'"$bport"',"uris":["bench.local"]}'
exec 3<>"/dev/tcp/127.0.0.1/$nport"
printf 'CONNECT {"verbose":false}\r\nPUB router.register %d\r\n%s\r\nPING\r\n' "${#payload}" "$payload" >&3
timeout 2 grep -q -m1 PONG <&3 || die "nats-server did not answer"
exec 3>&-
targets=(haproxy switchyard-io_uring switchyard-epoll)
for t in "${targets[@]:1}"; do wait_routed "${port[$t]}" bench.local 10 || die "$t: bench.local not routable"; done

cpu_ticks() { awk '{ print $14, $15 }' "/proc/$1/stat"; }  # utime stime (clock ticks)
hz=$(getconf CLK_TCK)
run_wrk() {  # url out_file extra_args...
    local url=$1 f=$2
    shift 2
    timeout $((SECONDS_PER_RUN + 15)) "${cli[@]}" wrk -t1 -c"$CONNS" -d"${SECONDS_PER_RUN}s" -H 'Host: bench.local' \
        "$@" "$url" >"$f" 2>&1 || die "wrk failed: $(tail -3 "$f")"
}
# Two runs per target: one plain for req/s and the CPU split (tracing every
# syscall slows a syscall-heavy proxy down), one under perf for the counts.
measure() {  # scenario target -> RESULT line
    local sc=$1 t=$2 hdr=() f=$tmp/$1-$2
    [[ $sc == close ]] && hdr=(-H 'Connection: close')
    local url="http://127.0.0.1:${port[$t]}/"
    timeout 20 "${cli[@]}" wrk -t1 -c"$CONNS" -d1s -H 'Host: bench.local' "${hdr[@]}" "$url" >/dev/null 2>&1 || true
    sleep 1
    read -r u0 s0 < <(cpu_ticks "${pid[$t]}")
    run_wrk "$url" "$f.wrk" "${hdr[@]}"
    read -r u1 s1 < <(cpu_ticks "${pid[$t]}")
    sleep 1
    perf stat -x, -e 'syscalls:sys_enter_*' -p "${pid[$t]}" -o "$f.perf" -- sleep "$((SECONDS_PER_RUN + 1))" &
    local perf_pid=$!
    sleep 0.5
    run_wrk "$url" "$f.perf-wrk" "${hdr[@]}"
    wait "$perf_pid" || die "perf stat failed: $(tail -3 "$f.perf")"
    local reqs rps traced
    reqs=$(awk '/requests in/ { print $1 }' "$f.wrk")
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$f.wrk")
    traced=$(awk '/requests in/ { print $1 }' "$f.perf-wrk")
    [[ -n $reqs && $reqs -gt 0 && -n $traced && $traced -gt 0 ]] || die "no requests counted in $f.wrk"
    # perf -x, lines: count,,event,...; keep the ones that ran, per request, largest first.
    awk -F, -v n="$traced" -v reqs="$reqs" -v sc="$sc" -v t="$t" -v rps="$rps" -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v hz="$hz" '
        $3 ~ /^syscalls:sys_enter_/ && $1 + 0 > 0 { name = substr($3, 20); c[name] = $1 / n; total += $1 / n }
        END {
            top = ""; k = 0
            PROCINFO["sorted_in"] = "@val_num_desc"
            for (x in c) if (c[x] >= 0.01) { top = top (k++ ? "," : "") sprintf("%s:%.2f", x, c[x]) }
            printf "RESULT syscalls scenario=%s target=%s rps=%s syscalls_per_req=%.2f user_us_per_req=%.2f sys_us_per_req=%.2f top=%s\n",
                sc, t, rps, total, u / hz * 1e6 / reqs, s / hz * 1e6 / reqs, top
        }' "$f.perf"
}

IFS=, read -ra scenarios <<<"$SCENARIOS"
for sc in "${scenarios[@]}"; do
    for t in "${targets[@]}"; do
        log "$sc: $t"
        measure "$sc" "$t" | tee -a "$tmp/results.txt"
    done
done
echo
printf '%-8s %-22s %9s %9s %9s %9s  %s\n' scenario target req/s sys/req user_us sys_us "per request"
awk '/^RESULT syscalls/ {
        for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        printf "%-8s %-22s %9s %9s %9s %9s  %s\n", v["scenario"], v["target"], v["rps"], v["syscalls_per_req"],
            v["user_us_per_req"], v["sys_us_per_req"], v["top"]
     }' "$tmp/results.txt"
