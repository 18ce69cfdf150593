#!/usr/bin/env bash
# deploy/systemd, checked by systemd itself: `systemd-analyze verify` loads
# each unit in a scratch root (the host's system units, stub binaries at the
# units' paths) and must say nothing; broken copies must make it complain (the
# check can fail). Then the drain contract: switchyard.service stops with
# SIGUSR1 and waits longer than deploy/'s drain_wait + drain_timeout.
# Usage: systemd_test.sh SOURCE_DIR. Exit 77 (skip) without systemd-analyze.
set -euo pipefail
src=$1
command -v systemd-analyze >/dev/null || { echo "SKIP: systemd-analyze missing (Debian package systemd)"; exit 77; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/local/bin" "$root/etc/systemd/system" "$root/usr/lib/systemd"
cp -r /lib/systemd/system "$root/usr/lib/systemd/"
for b in switchyard switchyard-registrar switchyard-tunnel; do
  printf '#!/bin/sh\n' >"$root/usr/local/bin/$b"
  chmod +x "$root/usr/local/bin/$b"
done
fail=0
say() { echo "systemd_test: $*"; }

# verify UNIT...: 0 when systemd-analyze exits 0 and prints nothing.
verify() {
  local out rc=0
  out=$(systemd-analyze verify --man=no --root="$root" "$@" 2>&1) || rc=$?
  [ -n "$out" ] && echo "$out"
  [ $rc -eq 0 ] && [ -z "$out" ]
}

units=()
for f in "$src"/deploy/systemd/*.service; do
  cp "$f" "$root/etc/systemd/system/"
  units+=("$(basename "$f")")
done
[ ${#units[@]} -eq 3 ] || { say "FAIL: expected 3 units, found ${units[*]}"; fail=1; }
if verify "${units[@]}"; then say "verified: ${units[*]}"; else say "FAIL: systemd-analyze verify complained"; fail=1; fi

# broken NAME SED-EXPR: a copy of switchyard.service with one edit must not verify.
broken() {
  sed "$2" "$src/deploy/systemd/switchyard.service" >"$root/etc/systemd/system/broken.service"
  if verify broken.service >"$root/broken.log" 2>&1; then
    say "FAIL: broken copy ($1) verified"; fail=1
  else
    say "broken copy refused ($1): $(head -1 "$root/broken.log" | sed "s|$root||")"
  fi
}
broken "bad signal" 's/^KillSignal=SIGUSR1/KillSignal=SIGDRAIN/'
broken "bad restart" 's/^Restart=on-failure/Restart=sometimes/'
broken "missing binary" 's|^ExecStart=/usr/local/bin/switchyard |ExecStart=/usr/local/bin/switchyardd |'

# Drain on stop: SIGUSR1 to the main process, and the stop timeout longer
# than drain_wait + drain_timeout of the shipped node config.
unit=$src/deploy/systemd/switchyard.service
grep -qx 'KillSignal=SIGUSR1' "$unit" || { say "FAIL: switchyard.service does not stop with SIGUSR1"; fail=1; }
grep -qx 'Restart=on-failure' "$unit" || { say "FAIL: switchyard.service: no Restart=on-failure"; fail=1; }
stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s$/\1/p' "$unit")
wait=$(sed -n 's/^ *drain_wait: \([0-9]*\)s$/\1/p' "$src/deploy/k8s/switchyard.yaml")
timeout=$(sed -n 's/^ *drain_timeout: \([0-9]*\)s$/\1/p' "$src/deploy/k8s/switchyard.yaml")
if [ -n "$stop" ] && [ -n "$wait" ] && [ -n "$timeout" ] && [ "$stop" -gt $((wait + timeout)) ]; then
  say "TimeoutStopSec ${stop}s > drain_wait ${wait}s + drain_timeout ${timeout}s"
else
  say "FAIL: TimeoutStopSec '$stop' not above drain_wait '$wait' + drain_timeout '$timeout'"; fail=1
fi
for u in switchyard-registrar switchyard-tunnel; do
  grep -qx 'Restart=on-failure' "$src/deploy/systemd/$u.service" || { say "FAIL: $u: no Restart=on-failure"; fail=1; }
done
exit $fail
