#!/usr/bin/env bash
# Shared by the bench/*.sh drivers (sourced, not run): a private temp dir,
# processes started in their own process groups and stopped on exit, free
# ports, HTTP waits. The sourcing script defines log() and die() first and
# sets BENCH_NAME (temp dir prefix) and KEEP_TMP.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sy-${BENCH_NAME:-bench}.XXXXXX")
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
require() {  # build-binary... -- tool...: die naming the first one missing
    local b
    while (($#)) && [[ $1 != -- ]]; do
        [[ -x $1 ]] || die "missing $1 (build first: cmake -S . -B build && ninja -C build)"
        shift
    done
    (($#)) && shift
    for b in "$@"; do command -v "$b" >/dev/null || die "missing tool: $b"; done
}
start_backend() {  # port [command prefix, e.g. taskset -c 0] -> nginx answering 200 on 127.0.0.1:port
    local port=$1 user=
    shift
    mkdir -p "$tmp/nginx"
    ((EUID == 0)) && user="user $(id -un) $(id -gn);"
    cat >"$tmp/nginx/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
$user
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    client_body_temp_path $tmp/nginx/cb; proxy_temp_path $tmp/nginx/p;
    fastcgi_temp_path $tmp/nginx/f; uwsgi_temp_path $tmp/nginx/u; scgi_temp_path $tmp/nginx/s;
    server { listen 127.0.0.1:$port; location / { default_type text/plain; return 200 "hello from the bench backend\n"; } }
}
NGINX
    start nginx "$@" nginx -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log"
    wait_http "http://127.0.0.1:$port/" "$last_pid" 10 || die "nginx did not start: $(tail -5 "$tmp/nginx.log")"
}
