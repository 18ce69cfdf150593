#!/usr/bin/env bash
# Installs the Debian 12 packages Switchyard builds and tests with. Idempotent:
# installs only what is missing. Works as root or through sudo.
set -euo pipefail

build_pkgs=(g++ cmake ninja-build ccache pkg-config
            libboost1.81-dev libnats-dev rapidjson-dev libyaml-cpp-dev libssl-dev liburing-dev
            libgtest-dev libgmock-dev libbenchmark-dev)
run_pkgs=(nats-server curl)
# (haproxy/nginx/wrk: front-tier tests and benchmarks; prometheus: promtool;
# iproute2: ss in the bench drivers; gnuplot, python3: bench/plot.sh;
# openssl: the CLI makes the TLS tests' certificates and TLS backend;
# Go + yamux + gorilla/websocket: the reference peers of the tunnel tests;
# clang-14 + libclang-rt-14-dev: libFuzzer and its sanitizer runtimes for
# scripts/fuzz.sh; llvm-14: llvm-symbolizer for readable sanitizer stacks;
# prometheus: also the real scraper of tests/integration/prometheus_test;
# chromium + nodejs + npm: the dashboard's browser test, which installs
# npm's playwright-core into the build directory to drive Debian's chromium;
# dnsmasq-base: the DNS server of the front-tier tests (HAProxy finds the nodes
# by DNS, the client resolves *.apps.test); iproute2 also for `ip netns` in the
# production-picture test; systemd: systemd-analyze verify of deploy/systemd;
# nodejs/npm also install kubernetes-models for deploy/k8s's schema check;
# netcat-openbsd: nc through the SOCKS5 entry, as a user would; linux-perf:
# bench/syscalls.sh counts syscalls per request with perf's tracepoints.)
test_pkgs=(haproxy nginx wrk prometheus iproute2 gnuplot-nox python3 procps openssl
           golang-go golang-github-hashicorp-yamux-dev golang-github-gorilla-websocket-dev
           clang-14 libclang-rt-14-dev llvm-14
           chromium fonts-dejavu-core
           dnsmasq-base systemd netcat-openbsd linux-perf)

want=("${build_pkgs[@]}" "${run_pkgs[@]}")
case "${1:-}" in
  --with-tests)
    want+=("${test_pkgs[@]}")
    # Node and npm from Debian only when the machine has none (a node of its
    # own already brings npm, and Debian's npm would conflict with it).
    command -v npm >/dev/null || want+=(nodejs npm) ;;
  "") ;;
  *) echo "usage: $0 [--with-tests]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
# Packages whose postinst would start a system service (nginx, haproxy,
# nats-server) must not grab ports: policy-rc.d 101 forbids service starts.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
