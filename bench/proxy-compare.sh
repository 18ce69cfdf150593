#!/usr/bin/env bash
#
# (Vendored from the project's shared bench harness, so the project's
# benchmarks stand on their own; bench/run.sh drives it with Switchyard as a
# candidate. Changed here: --load-tool, the never-completed count, and a
# candidate's first request retried while it finishes starting.)
#
# proxy-compare.sh -- side-by-side HTTP reverse-proxy benchmark on ONE machine.
#
# Starts a tiny nginx backend, haproxy and nginx as Host-routing reverse
# proxies, plus any number of --candidate proxies, all on 127.0.0.1, and loads
# them with wrk in interleaved rounds (targets rotate A B C, B C A, ...).
# Absolute req/s drift a lot on a shared box; what this script is built for is
# the RATIO between targets measured in the same run.  See README.md.
#
# Only 127.0.0.1 is ever contacted.  Every load run is bounded (wrk -d plus a
# hard `timeout`), every process started here is stopped on exit (by its pid /
# process-group id), and nothing outside a private mktemp directory is written
# (unless --out DIR is given).  Works as root and as an ordinary user.
#
# Usage: proxy-compare.sh [options]
#   --rounds N             measured rounds per scenario               (default 3)
#   --duration S           seconds per wrk run                        (default 5)
#   --connections C        wrk connections                            (default 64)
#   --threads T            wrk threads                                (default 1)
#   --scenarios LIST       from small,large,close                     (default all three)
#   --targets LIST         built-ins from direct,haproxy,nginx-proxy  (default all three)
#   --candidate CMD        one more proxy to measure (repeatable), see "Candidates"
#   --candidate-name NAME  column name of the matching --candidate    (default candidate, candidate2, ...)
#   --candidate-timeout S  how long to wait for a candidate's port, and then
#                          for its first 200 for Host $ROUTE_HOST     (default 30)
#   --warmup S             discarded warm-up run per target/scenario  (default 1; 0 = none)
#   --pause S              idle gap before each run; the box's CPU use
#                          is sampled meanwhile ("bg%")               (default 1)
#   --quiet-below PCT      before each run, wait while the box is busier
#   --quiet-wait S         than PCT% (other tenants), at most S seconds
#                          per run (defaults 15 and 20; --quiet-wait 0 = off)
#   --redo N               redo a run (at most N times, default 1) when
#   --redo-above PCT       foreign CPU use during it was >= PCT% of one cpu
#                          (default 50); the discarded run is kept aside
#   --base-port P          use ports P, P+1, ...; refuse to run if one is busy
#                          (default: a helper picks free ports from 18080 up)
#   --client-cpus LIST     cpus for wrk                               (default 1)
#   --proxy-cpus LIST      cpus for every proxy                       (default 0)
#   --backend-cpus LIST    cpus for the backend nginx                 (default 0)
#   --no-pin               do not use taskset at all
#   --large-bytes N        body size of the "large" scenario          (default 65536)
#   --load-tool CMD        run CMD instead of wrk, with wrk's arguments; it
#                          prints the WRKSTATS line itself, plus sent=N and
#                          never_completed=N (bench/hload_tool does: requests
#                          that got no whole response by the end of a grace
#                          period after the run; wrk cannot count those)
#   --out DIR              also keep configs, raw wrk output and the summary in DIR
#   --keep-tmp             do not delete the private temp directory
#                          (--out DIR also gets procs.tsv: each measured run's target
#                          CPU per request split by process, e.g. node and agent)
#   -h, --help
#
# Scenarios (all send "Host: bench.local"):
#   small  GET /       -> ~30-byte body, keep-alive client connections
#   large  GET /large  -> --large-bytes body (static file), keep-alive
#   close  GET /       -> "Connection: close": a new TCP connection per request
#
# Candidates: CMD is run as `bash -c CMD` (pinned like the other proxies, in its
# own process group, cwd = where you started this script) with:
#   PROXY_PORT     port to listen on (127.0.0.1)      PROXY_ADDR   127.0.0.1:$PROXY_PORT
#   BACKEND_ADDR   127.0.0.1:port of the backend       BACKEND_HOST / BACKEND_PORT
#   ROUTE_HOST     Host header to route (bench.local); other Hosts should get 404
#   BENCH_TMPDIR   private scratch dir for config files   BENCH_DIR  this script's dir
#   PROXY_CPUS     the cpu list it is pinned to    BENCH_CONNECTIONS  wrk's -c
# It must stay in the foreground (no daemonizing) and serve GET / and GET /large
# for Host $ROUTE_HOST from $BACKEND_ADDR.  Example:
#   --candidate-name haproxy2 --candidate bench/examples/candidate-haproxy.sh
#
# Output: progress on stderr; on stdout a table per scenario and one line per
# target:  RESULT scenario=small target=haproxy rps=... p50_ms=... p99_ms=...
#          ratio_direct=... ratio_haproxy=... (plus spread/cpu/error fields)

set -uo pipefail
export LC_ALL=C

PROG=${0##*/}
SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)

# ---------------------------------------------------------------- defaults ---
ROUNDS=3 DURATION=5 CONNECTIONS=64 THREADS=1
SCENARIOS=small,large,close
TARGETS=direct,haproxy,nginx-proxy
WARMUP=1 PAUSE=1 BASE_PORT='' CAND_TIMEOUT=30 QUIET_BELOW=15 QUIET_WAIT=20 REDO=1 REDO_ABOVE=50
LARGE_BYTES=65536 OUT_DIR='' KEEP_TMP=0 LOAD_TOOL=''
ROUTE_HOST=bench.local
SMALL_BODY='hello from the bench backend'

# CPU pinning.  This box has 2 cores, so the default layout is:
#   cpu 1: wrk, alone.  The load generator never competes with what it
#          measures, and a saturated client shows up as "cpu 1 at 100%".
#   cpu 0: the backend nginx AND the proxy under test (all of them).
# Why put proxy and backend on the same core?  With 2 cores something must
# share.  Sharing the server core means every target is limited by the SAME
# single core: "direct" = what one core does with backend work only; a proxy
# = what that core does with proxy + backend work per request.  So
# ratio_direct ~ backend_cost / (proxy_cost + backend_cost), and the ratio
# between two proxies is a pure function of their per-request CPU cost.  The
# other layouts are worse: proxy alone on cpu 0 would put wrk and the backend
# on cpu 1 (client and origin fighting, and "direct" would then measure
# nothing useful), and no pinning lets the scheduler migrate/mix everything,
# which is the largest source of run-to-run variance on a 2-vCPU VM.
# On a bigger box use e.g. --client-cpus 4-7 --proxy-cpus 0 --backend-cpus 1.
CLIENT_CPUS=1 PROXY_CPUS=0 BACKEND_CPUS=0 PIN=1

CAND_CMDS=() CAND_NAMES=()

# ------------------------------------------------------------------ helpers ---
die()  { echo "$PROG: error: $*" >&2; exit 1; }
warn() { echo "$PROG: warning: $*" >&2; }
log()  { echo "[$(date +%H:%M:%S)] $*" >&2; }
usage() { sed -n '3,/^$/{s/^# \{0,1\}//;p}' "$0"; }
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
is_num()  { [[ $1 =~ ^[0-9]+([.][0-9]+)?$ ]]; }

while [[ $# -gt 0 ]]; do
    opt=$1 val='' has_val=0
    if [[ $opt == --*=* ]]; then val=${opt#*=}; opt=${opt%%=*}; has_val=1; fi
    case $opt in
        -h|--help|--no-pin|--keep-tmp) ;;
        --*) if ((!has_val)); then
                 [[ $# -ge 2 ]] || die "option $opt needs a value"
                 val=$2; shift
             fi ;;
    esac
    shift
    case $opt in
        -h|--help)           usage; exit 0 ;;
        --rounds)            ROUNDS=$val ;;
        --duration)          DURATION=$val ;;
        --connections)       CONNECTIONS=$val ;;
        --threads)           THREADS=$val ;;
        --scenarios)         SCENARIOS=$val ;;
        --targets)           TARGETS=$val ;;
        --candidate)         CAND_CMDS+=("$val") ;;
        --candidate-name)    CAND_NAMES+=("$val") ;;
        --candidate-timeout) CAND_TIMEOUT=$val ;;
        --warmup)            WARMUP=$val ;;
        --pause)             PAUSE=$val ;;
        --quiet-below)       QUIET_BELOW=$val ;;
        --quiet-wait)        QUIET_WAIT=$val ;;
        --redo)              REDO=$val ;;
        --redo-above)        REDO_ABOVE=$val ;;
        --base-port)         BASE_PORT=$val ;;
        --client-cpus)       CLIENT_CPUS=$val ;;
        --proxy-cpus)        PROXY_CPUS=$val ;;
        --backend-cpus)      BACKEND_CPUS=$val ;;
        --no-pin)            PIN=0 ;;
        --large-bytes)       LARGE_BYTES=$val ;;
        --load-tool)         LOAD_TOOL=$val ;;
        --out)               OUT_DIR=$val ;;
        --keep-tmp)          KEEP_TMP=1 ;;
        *) die "unknown option: $opt (see --help)" ;;
    esac
done

# -------------------------------------------------------------- validation ---
is_uint "$ROUNDS"      && ((ROUNDS >= 1))      || die "--rounds must be an integer >= 1"
is_uint "$DURATION"    && ((DURATION >= 1))    || die "--duration must be an integer >= 1 (seconds)"
is_uint "$CONNECTIONS" && ((CONNECTIONS >= 1)) || die "--connections must be an integer >= 1"
is_uint "$THREADS"     && ((THREADS >= 1))     || die "--threads must be an integer >= 1"
((CONNECTIONS >= THREADS))                     || die "--connections must be >= --threads"
is_uint "$WARMUP"                              || die "--warmup must be an integer >= 0"
is_num  "$PAUSE"                               || die "--pause must be a number >= 0"
is_num  "$QUIET_BELOW"                         || die "--quiet-below must be a number (percent)"
is_uint "$QUIET_WAIT"                          || die "--quiet-wait must be an integer >= 0 (seconds)"
is_uint "$REDO"                                || die "--redo must be an integer >= 0"
is_num  "$REDO_ABOVE"                          || die "--redo-above must be a number (percent)"
is_uint "$CAND_TIMEOUT" && ((CAND_TIMEOUT >= 1)) || die "--candidate-timeout must be >= 1"
is_uint "$LARGE_BYTES" && ((LARGE_BYTES >= 1)) || die "--large-bytes must be an integer >= 1"
if [[ -n $BASE_PORT ]]; then
    is_uint "$BASE_PORT" && ((BASE_PORT >= 1024 && BASE_PORT <= 65000)) \
        || die "--base-port must be in 1024..65000"
fi

IFS=, read -ra SCEN <<<"$SCENARIOS"
((${#SCEN[@]})) || die "--scenarios is empty"
for s in "${SCEN[@]}"; do
    [[ $s == small || $s == large || $s == close ]] || die "unknown scenario: $s"
done
IFS=, read -ra BUILTIN <<<"$TARGETS"
for t in "${BUILTIN[@]}"; do
    [[ $t == direct || $t == haproxy || $t == nginx-proxy ]] || die "unknown target: $t"
done
((${#CAND_NAMES[@]} <= ${#CAND_CMDS[@]})) || die "more --candidate-name than --candidate"
for ((i = 0; i < ${#CAND_CMDS[@]}; i++)); do
    if ((i >= ${#CAND_NAMES[@]})); then
        if ((i == 0)); then CAND_NAMES+=(candidate); else CAND_NAMES+=("candidate$((i + 1))"); fi
    fi
    n=${CAND_NAMES[i]}
    [[ $n =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || die "bad candidate name: '$n'"
    for t in direct haproxy nginx-proxy backend "${CAND_NAMES[@]:0:i}"; do
        [[ $n != "$t" ]] || die "candidate name '$n' is already used"
    done
done
ALL_TARGETS=("${BUILTIN[@]}" "${CAND_NAMES[@]}")
((${#ALL_TARGETS[@]})) || die "nothing to measure"

need=(nginx curl setsid timeout awk ps sort)
[[ " ${BUILTIN[*]} " == *" haproxy "* ]] && need+=(haproxy)
((PIN)) && need+=(taskset)
[[ -n $LOAD_TOOL ]] || need+=(wrk)
for b in "${need[@]}"; do command -v "$b" >/dev/null 2>&1 || die "missing tool: $b"; done
LOADGEN=(wrk)
[[ -n $LOAD_TOOL ]] && read -ra LOADGEN <<<"$LOAD_TOOL"
command -v "${LOADGEN[0]}" >/dev/null 2>&1 || die "--load-tool: cannot run '${LOADGEN[0]}'"

expand_cpus() {  # "0-2,5" -> "0,1,2,5"
    local parts p a b i out=()
    IFS=, read -ra parts <<<"$1"
    for p in "${parts[@]}"; do
        if [[ $p =~ ^([0-9]+)-([0-9]+)$ ]]; then
            a=${BASH_REMATCH[1]} b=${BASH_REMATCH[2]}
            for ((i = a; i <= b; i++)); do out+=("$i"); done
        elif [[ $p =~ ^[0-9]+$ ]]; then
            out+=("$p")
        else
            die "bad cpu list: '$1'"
        fi
    done
    local IFS=,
    echo "${out[*]}"
}
NCPU=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
if ((PIN)); then
    for l in "$CLIENT_CPUS" "$PROXY_CPUS" "$BACKEND_CPUS"; do
        expand_cpus "$l" >/dev/null
        taskset -c "$l" true 2>/dev/null || die "cannot pin to cpus '$l' (taskset failed; see nproc=$NCPU)"
    done
    CLI_SET=$(expand_cpus "$CLIENT_CPUS")
    SRV_SET=$(expand_cpus "$PROXY_CPUS,$BACKEND_CPUS")
    for c in ${CLI_SET//,/ }; do
        [[ ,$SRV_SET, == *,$c,* ]] && warn "cpu $c is shared by wrk and the servers: client/server cpu figures will be mixed"
    done
else
    CLI_SET=$(seq -s, 0 $((NCPU - 1))) SRV_SET=$CLI_SET
fi
# CPU utilisation is always measured on these sets (with --no-pin: all cpus).

# -------------------------------------------------------- process handling ---
TMP='' WRK_PID=''
declare -a STARTED=()   # pids we started == their process-group ids (setsid)
declare -A PGID=()      # name -> pgid (direct -> the backend's)
declare -A PORT=()      # name -> port

proc_alive() {  # pid: exists and is not a zombie
    local st
    st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    [[ -n $st && $st != Z* ]]
}
group_alive() {  # pgid: any non-zombie member left?
    ps -e -o pgid=,stat= 2>/dev/null | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { f = 1 } END { exit !f }'
}
start_proc() {  # name cpus logfile cmd... ; runs cmd in its own process group (setsid)
    local name=$1 cpus=$2 logf=$3
    shift 3
    local pin=()
    ((PIN)) && pin=(taskset -c "$cpus")
    setsid "${pin[@]}" "$@" >"$logf" 2>&1 </dev/null &
    local pid=$!
    STARTED+=("$pid")
    PGID[$name]=$pid
}
stop_group() {  # pgid: TERM the group, wait up to 5 s, then KILL it
    local g=$1 i
    kill -TERM -- "-$g" 2>/dev/null || kill -TERM "$g" 2>/dev/null
    for ((i = 0; i < 50; i++)); do
        group_alive "$g" || proc_alive "$g" || break
        sleep 0.1
    done
    if group_alive "$g" || proc_alive "$g"; then
        kill -KILL -- "-$g" 2>/dev/null || kill -KILL "$g" 2>/dev/null
        sleep 0.2
    fi
    wait "$g" 2>/dev/null
}
cleanup() {
    local rc=$? i
    trap - EXIT INT TERM HUP
    if [[ -n $WRK_PID ]]; then
        kill -TERM "$WRK_PID" 2>/dev/null
        wait "$WRK_PID" 2>/dev/null
    fi
    for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do stop_group "${STARTED[i]}"; done
    if [[ -n $TMP && -d $TMP ]]; then
        if ((KEEP_TMP)); then log "kept temp dir $TMP"; else rm -rf -- "$TMP"; fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ------------------------------------------------------------------- ports ---
port_busy() {  # true if something listens on (or answers at) 127.0.0.1:port
    local p=$1
    if command -v ss >/dev/null 2>&1 && [[ -n $(ss -Htln "sport = :$p" 2>/dev/null) ]]; then
        return 0
    fi
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && return 0
    return 1
}
pick_ports() {  # n -> PORTS=(...)
    local n=$1 p
    PORTS=()
    if [[ -n $BASE_PORT ]]; then
        for ((p = BASE_PORT; p < BASE_PORT + n; p++)); do
            port_busy "$p" && die "port $p on 127.0.0.1 is busy; refusing to run (try another --base-port)"
            PORTS+=("$p")
        done
    else
        for ((p = 18080; p < 32000 && ${#PORTS[@]} < n; p++)); do
            port_busy "$p" || PORTS+=("$p")
        done
        ((${#PORTS[@]} == n)) || die "could not find $n free ports in 18080..32000"
    fi
    read -r lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || lo=32768
    for p in "${PORTS[@]}"; do
        ((p < lo)) || warn "port $p is inside the ephemeral range (>= $lo); wrk/proxy client sockets could collide"
    done
}
wait_port() {  # port pgid timeout_s -> 0 when something accepts on the port
    local port=$1 g=$2 deadline=$((SECONDS + $3))
    while ((SECONDS < deadline)); do
        proc_alive "$g" || group_alive "$g" || return 1
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# ------------------------------------------------------------------ set-up ---
TMP=$(mktemp -d "${TMPDIR:-/tmp}/proxy-compare.XXXXXX") || die "mktemp failed"
mkdir -p "$TMP/wrk" "$TMP/backend/www" "$TMP/nginx-proxy" "$TMP/haproxy"
: >"$TMP/runs.tsv"
: >"$TMP/procs.tsv"
: >"$TMP/discarded.tsv"

NEED_PORTS=1  # backend
[[ " ${BUILTIN[*]} " == *" haproxy "* ]] && ((NEED_PORTS++))
[[ " ${BUILTIN[*]} " == *" nginx-proxy "* ]] && ((NEED_PORTS++))
((NEED_PORTS += ${#CAND_CMDS[@]}))
pick_ports "$NEED_PORTS"
pi=0
PORT[backend]=${PORTS[pi++]}
PORT[direct]=${PORT[backend]}
for t in haproxy nginx-proxy; do
    [[ " ${BUILTIN[*]} " == *" $t "* ]] && PORT[$t]=${PORTS[pi++]}
done
for n in "${CAND_NAMES[@]}"; do PORT[$n]=${PORTS[pi++]}; done
BPORT=${PORT[backend]}

# nginx: when started as root the workers would switch to an unprivileged
# user that cannot read our 0700 temp dir; keep them as the invoking user.
NGX_USER=
((EUID == 0)) && NGX_USER="user $(id -un) $(id -gn);"

ngx_common() {  # dir -> main-context lines shared by both nginx instances
    cat <<EOF
worker_processes 1;
daemon off;
master_process on;
pid $1/nginx.pid;
error_log $1/error.log warn;
$NGX_USER
events { worker_connections 4096; }
EOF
}
ngx_http_common() {  # dir -> http-context lines: no logs, temp paths inside dir
    cat <<EOF
    access_log off;
    client_body_temp_path $1/client_body;
    proxy_temp_path       $1/proxy;
    fastcgi_temp_path     $1/fastcgi;
    uwsgi_temp_path       $1/uwsgi;
    scgi_temp_path        $1/scgi;
    # keep client connections for the whole run (default would close every 1000 requests)
    keepalive_requests 1000000;
    keepalive_timeout  75s;
EOF
}

# -- backend: answers from memory (small) or from a static file (large).
head -c "$LARGE_BYTES" /dev/zero | tr '\0' 'x' >"$TMP/backend/www/large"
{
    ngx_common "$TMP/backend"
    cat <<EOF
http {
$(ngx_http_common "$TMP/backend")
    sendfile on;
    server {
        listen 127.0.0.1:$BPORT default_server;
        server_name _;
        location = /      { default_type text/plain; return 200 "$SMALL_BODY\n"; }
        location = /large { root $TMP/backend/www; default_type application/octet-stream; }
        location /        { return 404; }
    }
}
EOF
} >"$TMP/backend/nginx.conf"

# -- haproxy: one thread, HTTP mode, Host routing by ACL, pooled keep-alive to the backend.
HA_MAXCONN=$((CONNECTIONS * 2 + 100 > 2000 ? CONNECTIONS * 2 + 100 : 2000))
cat >"$TMP/haproxy/haproxy.cfg" <<EOF
global
    nbthread 1

defaults
    mode http
    maxconn $HA_MAXCONN
    option http-keep-alive
    option forwardfor
    timeout connect 5s
    timeout client  30s
    timeout server  30s
    timeout http-request    10s
    timeout http-keep-alive 75s

frontend router
    bind 127.0.0.1:${PORT[haproxy]:-0}
    acl host_bench hdr(host) -i $ROUTE_HOST
    use_backend be_bench if host_bench
    default_backend be_no_route

backend be_bench
    http-reuse always
    server app1 127.0.0.1:$BPORT

backend be_no_route
    http-request return status 404 content-type text/plain string "no route"
EOF

# -- nginx as a router: unknown Host -> 404 (default_server), bench.local -> upstream pool.
# The idle-connection cache must hold at least one connection per concurrent
# client request, or every request above it opens+closes a backend connection
# (measured: -c 256 with "keepalive 64" = 1/3 of the throughput).  haproxy's
# pool is unbounded, so: keepalive = max(64, --connections).
NGX_KEEPALIVE=$((CONNECTIONS > 64 ? CONNECTIONS : 64))
{
    ngx_common "$TMP/nginx-proxy"
    cat <<EOF
http {
$(ngx_http_common "$TMP/nginx-proxy")
    upstream bench_backend {
        server 127.0.0.1:$BPORT;
        keepalive $NGX_KEEPALIVE;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:${PORT[nginx-proxy]:-0} default_server;
        server_name _;
        return 404 "no route\n";
    }
    server {
        listen 127.0.0.1:${PORT[nginx-proxy]:-0};
        server_name $ROUTE_HOST;
        location / {
            proxy_pass http://bench_backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            # hold a whole large response in memory: the default 8x4k buffers
            # would spill a 64 KiB body to a temp file on disk.
            proxy_buffer_size 16k;
            proxy_buffers 8 16k;
            proxy_busy_buffers_size 32k;
            proxy_max_temp_file_size 0;
        }
    }
}
EOF
} >"$TMP/nginx-proxy/nginx.conf"

cat >"$TMP/stats.lua" <<'EOF'
-- one machine-readable line at the end of a wrk run (latencies in microseconds)
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKSTATS requests=%d duration_us=%d bytes=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
    "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
EOF

# --------------------------------------------------------- start + verify ---
start_checked() {  # name port timeout_s cpus cmd...
    local name=$1 port=$2 tmo=$3 cpus=$4
    shift 4
    port_busy "$port" && die "port $port became busy before $name could start; refusing to run"
    start_proc "$name" "$cpus" "$TMP/$name.out" "$@"
    if ! wait_port "$port" "${PGID[$name]}" "$tmo"; then
        echo "---- $name output:" >&2
        tail -n 20 "$TMP/$name.out" >&2
        [[ -f $TMP/$name/error.log ]] && tail -n 20 "$TMP/$name/error.log" >&2
        die "$name did not come up on 127.0.0.1:$port within ${tmo}s"
    fi
    local pg
    pg=$(ps -o pgid= -p "${PGID[$name]}" 2>/dev/null | tr -d ' ')
    [[ $pg == "${PGID[$name]}" ]] || warn "$name: pid ${PGID[$name]} is not its own process group ($pg)"
    log "$name up on 127.0.0.1:$port (pid ${PGID[$name]})"
}
http_probe() {  # port host path [extra curl args] -> "code bytes"
    local port=$1 host=$2 path=$3
    shift 3
    curl -sS --max-time 5 -o "$TMP/probe.body" -w '%{http_code} %{size_download}' \
        -H "Host: $host" "$@" "http://127.0.0.1:$port$path" 2>/dev/null || true
}
verify_target() {  # name port is_proxy strict_routing
    local name=$1 port=$2 is_proxy=$3 strict=$4 r code size deadline=$((SECONDS + ${5:-0}))
    r=$(http_probe "$port" "$ROUTE_HOST" /)
    code=${r% *}
    while [[ $code != 200 ]] && ((SECONDS < deadline)); do  # a candidate still connecting its pieces
        sleep 0.1
        r=$(http_probe "$port" "$ROUTE_HOST" /)
        code=${r% *}
    done
    [[ $code == 200 ]] || die "$name: GET / with Host $ROUTE_HOST returned HTTP $code"
    [[ $(cat "$TMP/probe.body") == "$SMALL_BODY" ]] || die "$name: GET / returned an unexpected body (not the backend's)"
    r=$(http_probe "$port" "$ROUTE_HOST" /large)
    code=${r% *} size=${r#* }
    [[ $code == 200 && $size == "$LARGE_BYTES" ]] || die "$name: GET /large returned HTTP $code, $size bytes (want 200, $LARGE_BYTES)"
    r=$(http_probe "$port" "$ROUTE_HOST" / -H 'Connection: close')
    [[ ${r% *} == 200 ]] || die "$name: GET / with Connection: close returned HTTP ${r% *}"
    if ((is_proxy)); then
        r=$(http_probe "$port" no-such-route.invalid /)
        code=${r% *}
        if [[ $code == 200 ]]; then
            ((strict)) && die "$name: answered 200 for an unknown Host: it is not routing by Host"
            warn "$name: answered 200 for an unknown Host (no Host routing?); compare with care"
        else
            log "$name: routes by Host (unknown Host -> HTTP $code)"
        fi
    fi
}

log "temp dir $TMP; ports: backend=$BPORT$(for t in "${ALL_TARGETS[@]}"; do [[ $t == direct ]] || printf ' %s=%s' "$t" "${PORT[$t]}"; done)"
start_checked backend "$BPORT" 10 "$BACKEND_CPUS" \
    nginx -p "$TMP/backend" -e "$TMP/backend/error.log" -c "$TMP/backend/nginx.conf"
PGID[direct]=${PGID[backend]}
verify_target direct "$BPORT" 0 1

if [[ -n ${PORT[haproxy]:-} ]]; then
    haproxy -c -q -f "$TMP/haproxy/haproxy.cfg" >"$TMP/haproxy.check" 2>&1 \
        || { cat "$TMP/haproxy.check" >&2; die "haproxy config check failed"; }
    start_checked haproxy "${PORT[haproxy]}" 10 "$PROXY_CPUS" haproxy -db -f "$TMP/haproxy/haproxy.cfg"
    verify_target haproxy "${PORT[haproxy]}" 1 1
fi
if [[ -n ${PORT[nginx-proxy]:-} ]]; then
    start_checked nginx-proxy "${PORT[nginx-proxy]}" 10 "$PROXY_CPUS" \
        nginx -p "$TMP/nginx-proxy" -e "$TMP/nginx-proxy/error.log" -c "$TMP/nginx-proxy/nginx.conf"
    verify_target nginx-proxy "${PORT[nginx-proxy]}" 1 1
fi
for ((i = 0; i < ${#CAND_CMDS[@]}; i++)); do
    n=${CAND_NAMES[i]} p=${PORT[${CAND_NAMES[i]}]}
    mkdir -p "$TMP/$n"
    log "starting $n: ${CAND_CMDS[i]}"
    start_checked "$n" "$p" "$CAND_TIMEOUT" "$PROXY_CPUS" \
        env PROXY_PORT="$p" PROXY_ADDR="127.0.0.1:$p" \
        BACKEND_ADDR="127.0.0.1:$BPORT" BACKEND_HOST=127.0.0.1 BACKEND_PORT="$BPORT" \
        ROUTE_HOST="$ROUTE_HOST" BENCH_TMPDIR="$TMP/$n" BENCH_DIR="$SCRIPT_DIR" \
        PROXY_CPUS="$PROXY_CPUS" BENCH_CONNECTIONS="$CONNECTIONS" \
        bash -c "${CAND_CMDS[i]}"
    verify_target "$n" "$p" 1 0 "$CAND_TIMEOUT"
done

# ----------------------------------------------------------- measurement ---
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

group_ticks() {  # pgid -> utime+stime (clock ticks) summed over the group's live processes
    local pid line rest sum=0
    local -a f
    for pid in $(ps -e -o pid=,pgid= | awk -v g="$1" '$2 == g { print $1 }'); do
        read -r line <"/proc/$pid/stat" 2>/dev/null || continue
        rest=${line##*) }
        read -ra f <<<"$rest"
        sum=$((sum + f[11] + f[12]))
    done
    echo "$sum"
}
proc_ticks() {  # pgid -> "name pid ticks" per live process of the group; name = the
    # basename of a "-c FILE" argument without its extension when there is one
    # (two switchyard nodes in one candidate), else the command name
    local pid line rest name prev a
    local -a f args
    for pid in $(ps -e -o pid=,pgid= | awk -v g="$1" '$2 == g { print $1 }'); do
        read -r line <"/proc/$pid/stat" 2>/dev/null || continue
        name=${line#*(} name=${name%%)*} rest=${line##*) }
        read -ra f <<<"$rest"
        mapfile -d '' -t args <"/proc/$pid/cmdline" 2>/dev/null || args=()
        prev=
        for a in "${args[@]}"; do
            [[ $prev == -c ]] && { name=${a##*/} name=${name%.*}; break; }
            prev=$a
        done
        echo "$name $pid $((f[11] + f[12]))"
    done
}
child_ticks() {  # CT = cutime+cstime of this shell: CPU of every child reaped so far.
    # No forks in here, so the delta around one `wait` is exactly the wrk run's
    # CPU time (wrk is reaped by timeout, timeout by us).
    local line rest
    local -a f
    read -r line <"/proc/$$/stat"
    rest=${line##*) }
    read -ra f <<<"$rest"
    CT=$((f[13] + f[14]))
}
cpu_usage() {  # before after cpu-set -> "busy% steal%" averaged over the set
    awk -v set=",$3," '
        NR == FNR { if ($1 ~ /^cpu[0-9]+$/) for (i = 2; i <= 9; i++) b[$1, i] = $i; next }
        $1 ~ /^cpu[0-9]+$/ {
            if (index(set, "," substr($1, 4) ",") == 0) next
            tot = 0
            for (i = 2; i <= 9; i++) { d[i] = $i - b[$1, i]; tot += d[i] }
            T += tot; I += d[5] + d[6]; S += d[9]
        }
        END { if (T <= 0) print "0 0"; else printf "%.1f %.1f\n", 100 * (T - I - S) / T, 100 * S / T }
    ' "$1" "$2"
}

# The box is shared: other tenants' load is invisible to ps but shows in
# /proc/stat.  Right before each measured run, while none of our processes
# has work, sample how busy the whole box is ("bg%").
# If it is busier than --quiet-below, keep sampling (1 s windows) for up to
# --quiet-wait seconds, so runs land in quiet moments when there are some.
ALL_SET=$(seq -s, 0 $((NCPU - 1)))
BG_LAST=-1 WAITED=0
sample_bg() {  # seconds -> BG_LAST = busy% of all cpus over that window
    grep '^cpu' /proc/stat >"$TMP/gap.before"
    sleep "$1"
    grep '^cpu' /proc/stat >"$TMP/gap.after"
    BG_LAST=$(cpu_usage "$TMP/gap.before" "$TMP/gap.after" "$ALL_SET")
    BG_LAST=${BG_LAST%% *}
    is_num "$BG_LAST" || BG_LAST=-1
}
too_busy() { awk -v b="$BG_LAST" -v q="$QUIET_BELOW" 'BEGIN { exit !(b >= q) }'; }
idle_gap() {
    local start=$SECONDS
    sample_bg "$PAUSE"
    if ((QUIET_WAIT > 0)) && too_busy; then
        log "  box busy (${BG_LAST}% cpu used by others), waiting up to ${QUIET_WAIT}s for a quiet moment"
        while too_busy && ((SECONDS - start < QUIET_WAIT)); do sample_bg 1; done
        too_busy && log "  still busy (${BG_LAST}%), measuring anyway"
    fi
    WAITED=$((SECONDS - start))
}

run_one() {  # scenario target round seconds   (round 0 = warm-up, discarded)
    local sc=$1 t=$2 r=$3 d=$4
    local port=${PORT[$t]} path=/ extra=() pin=()
    case $sc in
        large) path=/large ;;
        close) extra=(-H 'Connection: close') ;;
    esac
    ((PIN)) && pin=(taskset -c "$CLIENT_CPUS")
    local outf="$TMP/wrk/$sc.$t.r$r.txt" g=${PGID[$t]} gb=${PGID[backend]}
    local t0 t0b t1 t1b rc ct0 ct1 o
    declare -gA OT0=() OT1=()
    for o in "${!PGID[@]}"; do OT0[$o]=$(group_ticks "${PGID[$o]}"); done
    proc_ticks "$g" >"$TMP/procs.before"
    t0=$(group_ticks "$g") t0b=$(group_ticks "$gb")
    grep '^cpu' /proc/stat >"$TMP/cpu.before"
    child_ticks
    ct0=$CT
    timeout -k 5 $((d + 30)) "${pin[@]}" "${LOADGEN[@]}" -t"$THREADS" -c"$CONNECTIONS" -d"${d}s" --latency \
        -H "Host: $ROUTE_HOST" "${extra[@]}" -s "$TMP/stats.lua" \
        "http://127.0.0.1:$port$path" >"$outf" 2>&1 &
    WRK_PID=$!
    wait "$WRK_PID"
    rc=$?
    WRK_PID=
    child_ticks
    ct1=$CT
    grep '^cpu' /proc/stat >"$TMP/cpu.after"
    t1=$(group_ticks "$g") t1b=$(group_ticks "$gb")
    proc_ticks "$g" >"$TMP/procs.after"
    for o in "${!PGID[@]}"; do OT1[$o]=$(group_ticks "${PGID[$o]}"); done
    ((rc == 0)) || die "wrk failed (rc=$rc) for $sc/$t: $(tail -n 5 "$outf")"
    proc_alive "$g" || group_alive "$g" || die "$t died during the $sc run (see $TMP/$t.out)"
    proc_alive "$gb" || die "the backend died during the $sc run"
    ((r == 0)) && return 0

    local line kv requests=0 dur_us=1 p50=0 p99=0 errs=0 never=-1
    line=$(grep '^WRKSTATS ' "$outf") || die "no WRKSTATS line from wrk for $sc/$t"
    for kv in ${line#WRKSTATS }; do
        case ${kv%%=*} in
            requests)    requests=${kv#*=} ;;
            duration_us) dur_us=${kv#*=} ;;
            p50_us)      p50=${kv#*=} ;;
            p99_us)      p99=${kv#*=} ;;
            err_*)       errs=$((errs + ${kv#*=})) ;;
            never_completed) never=${kv#*=} ;;
        esac
    done
    local cli srv all
    cli=$(cpu_usage "$TMP/cpu.before" "$TMP/cpu.after" "$CLI_SET")
    srv=$(cpu_usage "$TMP/cpu.before" "$TMP/cpu.after" "$SRV_SET")
    all=$(cpu_usage "$TMP/cpu.before" "$TMP/cpu.after" "$ALL_SET")
    # CPU of the idle targets is counted too (it should be ~0)
    local idle_tk=0 o
    for o in "${!PGID[@]}"; do
        [[ $o == "$t" || $o == backend || $o == direct || ${PGID[$o]} == "$g" ]] && continue
        idle_tk=$((idle_tk + ${OT1[$o]:-0} - ${OT0[$o]:-0}))
    done
    awk -v sc="$sc" -v t="$t" -v r="$r" -v req="$requests" -v dus="$dur_us" \
        -v p50="$p50" -v p99="$p99" -v errs="$errs" -v cli="$cli" -v srv="$srv" \
        -v tk="$((t1 - t0))" -v tkb="$((t1b - t0b))" -v tkw="$((ct1 - ct0))" -v hz="$CLK_TCK" -v bg="$BG_LAST" \
        -v all="$all" -v ncpu="$NCPU" -v tki="$idle_tk" -v never="$never" -v same="$([[ $g == "$gb" ]] && echo 1 || echo 0)" 'BEGIN {
            split(cli, c, " "); split(srv, s, " "); split(all, a, " ")
            us = (req > 0) ? tk * 1e6 / hz / req : 0
            usb = (req > 0) ? tkb * 1e6 / hz / req : 0
            secs = dus / 1e6
            # columns: 1 scenario 2 target 3 round 4 rps 5 p50_us 6 p99_us 7 errors
            # 8 client-cpus busy% 9 client steal% 10 server-cpus busy% 11 server steal%
            # 12 target us/req 13 backend us/req 14 requests 15 wrk cpu% 16 target cpu% 17 backend cpu%
            # 18 background busy% of the whole box just before the run (-1 = not measured)
            # 19 other%: busy time of all cpus not accounted to wrk/target/backend
            #    (% of one cpu): other tenants, kernel threads ... ~0-10 when quiet
            # 20 never completed (-1 = not counted: wrk)
            ours = tkw + tk + (same ? 0 : tkb) + tki
            other = a[1] * ncpu - 100 * ours / hz / secs
            if (other < 0) other = 0
            printf "%s\t%s\t%d\t%.1f\t%d\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.2f\t%.2f\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%d\n",
                sc, t, r, req / secs, p50, p99, errs, c[1], c[2], s[1], s[2], us, usb, req,
                100 * tkw / hz / secs, 100 * tk / hz / secs, 100 * tkb / hz / secs, bg, other, never
        }' >"$TMP/last.row"
    LAST_OTHER=$(cut -f19 "$TMP/last.row")
    # the target's CPU per request by process (node, agent, ...): scenario target round name=us ...
    awk -v sc="$sc" -v t="$t" -v r="$r" -v req="$requests" -v hz="$CLK_TCK" '
        NR == FNR { b[$2] = $3; next }
        { d = $3 - (($2 in b) ? b[$2] : 0); if (d > 0) { if (!($1 in u)) o[++n] = $1; u[$1] += d } }
        END {
            printf "%s\t%s\t%d\t", sc, t, r
            for (i = 1; i <= n; i++) printf "%s%s=%.2f", (i > 1 ? " " : ""), o[i], (req > 0 ? u[o[i]] * 1e6 / hz / req : 0)
            printf "\n"
        }' "$TMP/procs.before" "$TMP/procs.after" >"$TMP/last.procs"
    awk -F'\t' '{
        printf "RUN scenario=%s target=%s round=%s rps=%.0f p50_ms=%.3f p99_ms=%.3f errors=%s never_completed=%s wrk_cpu=%s%% target_cpu=%s%% client_cpus_busy=%s%% server_cpus_busy=%s%% bg_before=%s%% other_during=%s%% waited=%ss\n",
            $1, $2, $3, $4, $5 / 1000, $6 / 1000, $7, ($20 < 0) ? "NA" : $20, $15, $16, $8, $10, $18, $19, w }' w="$WAITED" "$TMP/last.row" >&2
    [[ $errs == 0 ]] || warn "$sc/$t round $r: wrk counted $errs errors (see $outf)"
    ((never <= 0)) || warn "$sc/$t round $r: $never request(s) never completed (see $outf)"
}

TOTAL_RUNS=$((${#SCEN[@]} * ${#ALL_TARGETS[@]} * ROUNDS))
EST=$((${#SCEN[@]} * ${#ALL_TARGETS[@]} * (ROUNDS * DURATION + WARMUP + 2 * ${PAUSE%.*} + 1)))
log "measuring: ${#SCEN[@]} scenario(s) x ${#ALL_TARGETS[@]} target(s) x $ROUNDS round(s) x ${DURATION}s = $TOTAL_RUNS runs (~${EST}s, plus up to ${QUIET_WAIT}s per run waiting for a quiet box)"
NT=${#ALL_TARGETS[@]}
for sc in "${SCEN[@]}"; do
    if ((WARMUP > 0)); then
        for t in "${ALL_TARGETS[@]}"; do run_one "$sc" "$t" 0 "$WARMUP"; sleep "$PAUSE"; done
    fi
    for ((r = 1; r <= ROUNDS; r++)); do
        # interleave and rotate: round 1 = A B C, round 2 = B C A, ... so no
        # target always runs first/last, and slow drift hits all targets alike
        for ((k = 0; k < NT; k++)); do
            t=${ALL_TARGETS[(k + r - 1) % NT]}
            for ((a = 0; a <= REDO; a++)); do
                idle_gap
                run_one "$sc" "$t" "$r" "$DURATION"
                if ((a < REDO)) && awk -v o="$LAST_OTHER" -v m="$REDO_ABOVE" 'BEGIN { exit !(o >= m) }'; then
                    cat "$TMP/last.row" >>"$TMP/discarded.tsv"
                    log "  ^ disturbed: others used ${LAST_OTHER}% cpu during the run (>= $REDO_ABOVE), redoing it"
                    continue
                fi
                cat "$TMP/last.row" >>"$TMP/runs.tsv"
                cat "$TMP/last.procs" >>"$TMP/procs.tsv"
                break
            done
        done
    done
done

# --------------------------------------------------------------- summary ---
ver() { "$@" 2>&1 | head -n 1; }
NCLI=$(tr ',' '\n' <<<"$CLI_SET" | wc -l)
WRK_CAP=$((THREADS < NCLI ? THREADS : NCLI))  # cpus wrk can use: its ceiling is WRK_CAP*100%
{
    echo "# proxy-compare $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -n), kernel $(uname -r), $NCPU cpus ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo))"
    echo "# $(ver haproxy -v) | $(ver nginx -v) | $(ver wrk -v)"
    echo "# rounds=$ROUNDS duration=${DURATION}s connections=$CONNECTIONS wrk_threads=$THREADS warmup=${WARMUP}s host=$ROUTE_HOST large=${LARGE_BYTES}B"
    [[ -n $LOAD_TOOL ]] && echo "# load generator: $LOAD_TOOL (in wrk's place: the wrk columns are its figures)"
    if ((PIN)); then
        echo "# pinning: wrk cpus=$CLIENT_CPUS, proxies cpus=$PROXY_CPUS, backend cpus=$BACKEND_CPUS"
    else
        echo "# pinning: none"
    fi
    for i in "${!CAND_CMDS[@]}"; do echo "# candidate ${CAND_NAMES[i]}: ${CAND_CMDS[i]}"; done
    cat <<'EOT'
#
# All columns are medians over the rounds.  spread = (max-min)/median of req/s.
# x direct, x haproxy = median of the per-round ratios (a round pairs runs taken
#   seconds apart), [min-max] over the rounds.
# wrk%  = CPU used by the wrk process itself (100 = one core; near 100 = the
#         load generator is the limit, the figure is a floor, not the target's).
# tgt%  = CPU of the target's own processes (proxy only; direct: the backend).
# srv%  = busy% of the proxy+backend cpus during the run (incl. kernel and
#         anything else running there).
# bg%   = busy% of the whole box in the idle gap just before the run, i.e. load
#         from other tenants (invisible to ps here).
# oth%  = CPU burnt DURING the run by anything but wrk/target/backend (% of one
#         cpu; ~0-10 when the box is quiet).  High bg%/oth% = disturbed figure.
# us/req = tgt CPU time per request (lower = cheaper proxy); cpu xha = that
#   per-request CPU relative to haproxy (median of per-round ratios).  When a
#   row says LOAD-GENERATOR-BOUND its req/s is wrk's limit, not the target's:
#   compare "cpu xha" there instead of req/s.
# never = requests that never completed, summed over the rounds (NA with wrk,
#   which cannot count them; see --load-tool).
# p50/p99: wrk 4.1 adds coordinated-omission samples for stalls, so p99 mostly
#   shows stalls; in a closed loop p50 ~ connections / req/s.
EOT
    awk -F'\t' -v scen="$(IFS=,; echo "${SCEN[*]}")" -v targ="$(IFS=,; echo "${ALL_TARGETS[*]}")" \
        -v nr="$ROUNDS" -v large="$LARGE_BYTES" -v wcap="$WRK_CAP" '
    function med(a, n,    i, j, x, b) {
        if (n == 0) return ""
        for (i = 1; i <= n; i++) b[i] = a[i]
        for (i = 2; i <= n; i++) { x = b[i]; j = i - 1; while (j >= 1 && b[j] > x) { b[j + 1] = b[j]; j-- } b[j + 1] = x }
        return (n % 2) ? b[(n + 1) / 2] : (b[n / 2] + b[n / 2 + 1]) / 2
    }
    function stat(sc, t, col, what,    r, n, a, v, mn, mx) {
        n = 0; mn = ""; mx = ""
        for (r = 1; r <= nr; r++) if ((sc, t, r) in V) {
            v = V[sc, t, r, col] + 0; a[++n] = v
            if (mn == "" || v < mn) mn = v
            if (mx == "" || v > mx) mx = v
        }
        if (what == "min") return mn
        if (what == "max") return mx
        if (what == "n") return n
        return med(a, n)
    }
    function ratio(sc, t, ref, what,    r, n, a, v, mn, mx) {
        n = 0; mn = ""; mx = ""
        for (r = 1; r <= nr; r++) if (((sc, t, r) in V) && ((sc, ref, r) in V) && V[sc, ref, r, 4] > 0) {
            v = V[sc, t, r, 4] / V[sc, ref, r, 4]; a[++n] = v
            if (mn == "" || v < mn) mn = v
            if (mx == "" || v > mx) mx = v
        }
        if (n == 0) return "NA"
        if (what == "min") return sprintf("%.3f", mn)
        if (what == "max") return sprintf("%.3f", mx)
        return sprintf("%.3f", med(a, n))
    }
    function cratio(sc, t, ref,    r, n, a) {  # median per-round ratio of target CPU us/req
        n = 0
        for (r = 1; r <= nr; r++) if (((sc, t, r) in V) && ((sc, ref, r) in V) && V[sc, ref, r, 12] > 0)
            a[++n] = V[sc, t, r, 12] / V[sc, ref, r, 12]
        return (n == 0) ? "NA" : sprintf("%.3f", med(a, n))
    }
    function rng(sc, t, ref,    m) {
        m = ratio(sc, t, ref, "med")
        return (m == "NA") ? "NA" : sprintf("%s [%s-%s]", m, ratio(sc, t, ref, "min"), ratio(sc, t, ref, "max"))
    }
    {
        V[$1, $2, $3] = 1
        for (i = 4; i <= NF; i++) V[$1, $2, $3, i] = $i
        E[$1, $2] += $7
        if ($20 < 0) NC[$1, $2] = "NA"; else if (NC[$1, $2] != "NA") NC[$1, $2] += $20
    }
    END {
        ns = split(scen, S, ","); nt = split(targ, T, ",")
        desc["small"] = "GET /, small body, keep-alive"
        desc["large"] = "GET /large, " large "-byte body, keep-alive"
        desc["close"] = "GET /, Connection: close (new TCP connection per request)"
        for (i = 1; i <= ns; i++) {
            sc = S[i]
            printf "\n== %s: %s\n", sc, desc[sc]
            printf "%-13s %8s %6s %7s %7s %21s %21s %4s %4s %6s %7s %4s %4s %4s %4s %5s  %s\n", "target", "req/s", "spread", "p50ms", "p99ms",
                "x direct [min-max]", "x haproxy [min-max]", "wrk%", "tgt%", "us/req", "cpu xha", "srv%", "bg%", "oth%", "err", "never", "notes"
            for (j = 1; j <= nt; j++) {
                t = T[j]; n = stat(sc, t, 4, "n"); if (n == 0) continue
                rps = stat(sc, t, 4, "med"); spread = (rps > 0) ? 100 * (stat(sc, t, 4, "max") - stat(sc, t, 4, "min")) / rps : 0
                p50 = stat(sc, t, 5, "med") / 1000; p99 = stat(sc, t, 6, "med") / 1000
                cli = stat(sc, t, 8, "med"); srv = stat(sc, t, 10, "med"); stl = stat(sc, t, 11, "med")
                us = stat(sc, t, 12, "med"); wrk = stat(sc, t, 15, "med"); tgt = stat(sc, t, 16, "med")
                bg = stat(sc, t, 18, "med"); bgmax = stat(sc, t, 18, "max")
                oth = stat(sc, t, 19, "med"); othmax = stat(sc, t, 19, "max")
                note = ""
                if (wrk >= 90 * wcap) note = note "LOAD-GENERATOR-BOUND "
                if (bgmax >= 25 || othmax >= 25) note = note "disturbed(max bg " sprintf("%.0f", bgmax) "% oth " sprintf("%.0f", othmax) "%) "
                if (stl >= 2) note = note "steal=" sprintf("%.0f%%", stl) " "
                if (spread >= 10) note = note "noisy "
                if (E[sc, t] > 0) note = note "ERRORS "
                nc = ((sc, t) in NC) ? NC[sc, t] : "NA"
                if (nc != "NA" && nc > 0) note = note "NEVER-COMPLETED "
                printf "%-13s %8.0f %5.1f%% %7.3f %7.3f %21s %21s %4.0f %4.0f %6.2f %7s %4.0f %4s %4.0f %4d %5s  %s\n",
                    t, rps, spread, p50, p99, rng(sc, t, "direct"), rng(sc, t, "haproxy"), wrk, tgt, us, cratio(sc, t, "haproxy"), srv,
                    (bg < 0) ? "NA" : sprintf("%.0f", bg), oth, E[sc, t], nc, note
                R[++nres] = sprintf("RESULT scenario=%s target=%s rps=%.0f p50_ms=%.3f p99_ms=%.3f ratio_direct=%s ratio_haproxy=%s" \
                    " rps_spread_pct=%.1f ratio_direct_min=%s ratio_direct_max=%s ratio_haproxy_min=%s ratio_haproxy_max=%s" \
                    " wrk_cpu_pct=%.0f target_cpu_pct=%.0f client_cpus_busy_pct=%.0f server_cpus_busy_pct=%.0f steal_pct=%.1f" \
                    " target_cpu_us_per_req=%.2f cpu_per_req_ratio_haproxy=%s bg_busy_pct=%.0f other_cpu_pct=%.0f errors=%d never_completed=%s rounds=%d",
                    sc, t, rps, p50, p99, ratio(sc, t, "direct", "med"), ratio(sc, t, "haproxy", "med"),
                    spread, ratio(sc, t, "direct", "min"), ratio(sc, t, "direct", "max"),
                    ratio(sc, t, "haproxy", "min"), ratio(sc, t, "haproxy", "max"),
                    wrk, tgt, cli, srv, stl, us, cratio(sc, t, "haproxy"), bg, oth, E[sc, t], nc, n)
            }
        }
        print ""
        for (i = 1; i <= nres; i++) print R[i]
    }' "$TMP/runs.tsv"
} >"$TMP/summary.txt"

cat "$TMP/summary.txt"

if [[ -n $OUT_DIR ]]; then
    mkdir -p "$OUT_DIR" || die "cannot create $OUT_DIR"
    cp "$TMP/summary.txt" "$TMP/runs.tsv" "$TMP/procs.tsv" "$TMP/discarded.tsv" "$OUT_DIR/"
    cp -r "$TMP/wrk" "$OUT_DIR/wrk"
    mkdir -p "$OUT_DIR/conf"
    cp "$TMP/backend/nginx.conf" "$OUT_DIR/conf/backend-nginx.conf"
    [[ -f $TMP/haproxy/haproxy.cfg ]] && cp "$TMP/haproxy/haproxy.cfg" "$OUT_DIR/conf/"
    [[ -f $TMP/nginx-proxy/nginx.conf ]] && cp "$TMP/nginx-proxy/nginx.conf" "$OUT_DIR/conf/nginx-proxy.conf"
    log "raw data in $OUT_DIR"
fi
exit 0
