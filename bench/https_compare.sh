#!/usr/bin/env bash
# HTTPS side by side: Switchyard (enable_ssl, one worker) and HAProxy 2.6
# (nbthread 1) terminating TLS with the same certificate (EC P-256), the same
# TLS 1.2/1.3 cipher list and ALPN http/1.1, in front of the same nginx
# backend (a small response). The proxy under test is pinned to one core;
# wrk and the backend share the other. For each proxy and scenario: req/s,
# the proxy's CPU per request (utime+stime from /proc), and the ratios to
# HAProxy. Scenarios:
#   keepalive  small response, 32 keep-alive connections (TLS set up once)
#   newconn    small response, `Connection: close`: a TLS handshake per request
# The handshake cost per new connection is newconn CPU/req - keepalive CPU/req.
#
#   bench/https_compare.sh [--seconds 10] [--rounds 3] [--smoke]
# Needs: build/switchyard, haproxy, nginx, nats-server, wrk, openssl, taskset.
# Results go to stdout (a table) and $OUT/https.txt when OUT is set.
set -euo pipefail
PROG=https_compare
BENCH_NAME=https
KEEP_TMP=${KEEP_TMP:-0}
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
die() { echo "$PROG: error: $*" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
bin=${SWITCHYARD_BIN:-${SWITCHYARD_BUILD:-$here/../build}/switchyard}
seconds=10 rounds=3 conns=32
while (($#)); do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --smoke) seconds=1 rounds=1; shift ;;
    *) die "unknown argument $1" ;;
  esac
done
[[ -x $bin ]] || die "no switchyard binary at $bin"
for t in haproxy nginx nats-server wrk openssl taskset; do command -v "$t" >/dev/null || die "missing $t"; done
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
ncpu=$(nproc)
proxy_cpu=$((ncpu - 1))
load_cpus=0-$((proxy_cpu > 0 ? proxy_cpu - 1 : 0))
ciphers="ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384"

# The certificate both proxies serve.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=bench.test \
  -addext subjectAltName=DNS:bench.test -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
cat "$tmp/cert.pem" "$tmp/key.pem" >"$tmp/haproxy.pem"

backend_port=$(free_port)
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx.conf" <<EOF
worker_processes 1; daemon off; pid $tmp/nginx/pid; error_log $tmp/nginx/error.log warn;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  client_body_temp_path $tmp/nginx; proxy_temp_path $tmp/nginx; fastcgi_temp_path $tmp/nginx;
  uwsgi_temp_path $tmp/nginx; scgi_temp_path $tmp/nginx;
  server { listen 127.0.0.1:$backend_port; location / { return 200 "hello from the backend\n"; } } }
EOF
start nginx taskset -c "$load_cpus" nginx -c "$tmp/nginx.conf" -e "$tmp/nginx/error.log"
wait_http "http://127.0.0.1:$backend_port/" "$last_pid" 10 || die "nginx did not start"

haproxy_port=$(free_port)
cat >"$tmp/haproxy.cfg" <<EOF
global
  nbthread 1
  maxconn 8000
  ssl-default-bind-ciphers $ciphers
  ssl-default-bind-options ssl-min-ver TLSv1.2
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  http-reuse always
frontend fe
  bind 127.0.0.1:$haproxy_port ssl crt $tmp/haproxy.pem alpn http/1.1
  default_backend be
backend be
  server app 127.0.0.1:$backend_port
EOF
start haproxy taskset -c "$proxy_cpu" haproxy -f "$tmp/haproxy.cfg"
haproxy_pid=$last_pid

nats_port=$(free_port)
start nats taskset -c "$load_cpus" nats-server -a 127.0.0.1 -p "$nats_port"
sy_port=$(free_port) sy_ssl=$(free_port) sy_status=$(free_port)
indent() { sed 's/^/      /' "$1"; }
cat >"$tmp/switchyard.yml" <<EOF
port: $sy_port
status: {port: $sy_status}
nats: {hosts: [{hostname: 127.0.0.1, port: $nats_port}]}
workers: 1
start_response_delay_interval: 1s
max_idle_conns_per_host: 128
logging: {level: warn}
enable_ssl: true
ssl_port: $sy_ssl
cipher_suites: $ciphers
tls_pem:
  - cert_chain: |
$(indent "$tmp/cert.pem")
    private_key: |
$(indent "$tmp/key.pem")
EOF
start switchyard taskset -c "$proxy_cpu" "$bin" -c "$tmp/switchyard.yml"
sy_pid=$last_pid
payload='{"host":"127.0.0.1","port":'"$backend_port"',"uris":["bench.test"]}'
register() {
  exec 3<>"/dev/tcp/127.0.0.1/$nats_port" || return 0
  printf 'CONNECT {"verbose":false}\r\nPUB router.register %d\r\n%s\r\nPING\r\n' "${#payload}" "$payload" >&3
  timeout 1 grep -q -m1 PONG <&3 || true
  exec 3>&-
}
for _ in $(seq 100); do
  register
  code=$(curl -sk -o /dev/null -w '%{http_code}' --resolve "bench.test:$sy_ssl:127.0.0.1" "https://bench.test:$sy_ssl/" || true)
  [[ $code == 200 ]] && break
  sleep 0.1
done
[[ $code == 200 ]] || die "switchyard does not answer 200 over HTTPS (got $code); log: $(cat "$tmp/switchyard.log")"
code=$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$haproxy_port/")
[[ $code == 200 ]] || die "haproxy does not answer 200 over HTTPS (got $code)"

# utime+stime of the proxy (setsid and taskset exec it: the pid we started).
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
# run NAME PID PORT SCENARIO -> "req_s cpu_us_per_req"
run() {
  local pid=$2 port=$3 scenario=$4 extra=() before after out reqs rps
  [[ $scenario == newconn ]] && extra=(-H "Connection: close")
  before=$(ticks "$pid")
  out=$(taskset -c "$load_cpus" wrk -t1 -c"$conns" -d"${seconds}s" -H "Host: bench.test" "${extra[@]}" \
        "https://127.0.0.1:$port/" 2>&1)
  after=$(ticks "$pid")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  if grep -q "Non-2xx\|Socket errors" <<<"$out"; then log "$1 $scenario: $(grep 'Non-2xx\|Socket errors' <<<"$out")"; fi
  awk -v r="$rps" -v n="$reqs" -v t=$((after - before)) -v hz="$hz" \
    'BEGIN { printf "%.0f %.1f\n", r, (n > 0 ? t / hz * 1e6 / n : 0) }'
}

declare -A best_rps best_cpu
for scenario in keepalive newconn; do
  for round in $(seq "$rounds"); do
    for target in haproxy switchyard; do
      if [[ $target == haproxy ]]; then r=$(run haproxy "$haproxy_pid" "$haproxy_port" "$scenario")
      else r=$(run switchyard "$sy_pid" "$sy_ssl" "$scenario"); fi
      read -r rps cpu <<<"$r"
      log "$scenario round $round $target: $rps req/s, $cpu us CPU/req"
      k="$target/$scenario"
      if [[ -z ${best_rps[$k]:-} ]] || awk -v a="$rps" -v b="${best_rps[$k]}" 'BEGIN{exit !(a>b)}'; then
        best_rps[$k]=$rps best_cpu[$k]=$cpu
      fi
    done
  done
done

{
  echo "HTTPS (TLS terminated by the proxy; best of $rounds x ${seconds}s; $conns connections; proxy on cpu $proxy_cpu)"
  printf "%-11s %-11s %10s %12s %10s %12s\n" scenario proxy req/s cpu_us/req rps/hap cpu/hap
  for scenario in keepalive newconn; do
    for target in haproxy switchyard; do
      k="$target/$scenario" h="haproxy/$scenario"
      awk -v s="$scenario" -v t="$target" -v r="${best_rps[$k]}" -v c="${best_cpu[$k]}" \
          -v hr="${best_rps[$h]}" -v hc="${best_cpu[$h]}" \
          'BEGIN { printf "%-11s %-11s %10d %12.1f %10.2f %12.2f\n", s, t, r, c, (hr ? r / hr : 0), (hc ? c / hc : 0) }'
    done
  done
  for target in haproxy switchyard; do
    awk -v t="$target" -v n="${best_cpu[$target/newconn]}" -v k="${best_cpu[$target/keepalive]}" \
        'BEGIN { printf "handshake cost %-11s %.1f us CPU per new connection\n", t, n - k }'
  done
} | tee ${OUT:+"$OUT/https.txt"}
