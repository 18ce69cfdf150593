#!/usr/bin/env bash
# deploy/k8s, validated offline:
#  - the kustomization resolves (`kubectl kustomize` when kubectl is there,
#    and always the small resolver of validate-k8s.mjs), and every object it
#    makes passes the OpenAPI schema of its kind (npm kubernetes-models,
#    installed into the build directory);
#  - broken copies fail: a wrong kind, a field of the wrong type, a missing
#    required field (the check must be able to fail);
#  - the HAProxy ConfigMap's file is haproxy/haproxy.cfg byte for byte;
#  - the node config template, rendered as the container renders it, loads in
#    the real switchyard (`switchyard token` reads the whole config); the
#    registrar sidecar's rendered config is accepted by the real registrar
#    (a bad one exits 2 at once; a good one keeps trying to reach NATS);
#  - the NATS ConfigMap's nats.conf passes `nats-server -t`.
# Usage: k8s_test.sh SOURCE_DIR BUILD_DIR. Exit 77 (skip) without node/npm.
set -euo pipefail
src=$1
build=$2
command -v node >/dev/null && command -v npm >/dev/null || { echo "SKIP: node/npm missing"; exit 77; }
work=$build/deploy-tests
mkdir -p "$work"
cp "$src/tests/deploy/package.json" "$src/tests/deploy/validate-k8s.mjs" "$work/"
if [ ! -f "$work/node_modules/kubernetes-models/package.json" ] || [ ! -f "$work/node_modules/yaml/package.json" ]; then
  npm install --no-audit --no-fund --prefix "$work" >"$work/npm.log" 2>&1 || { cat "$work/npm.log"; exit 1; }
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
say() { echo "k8s_test: $*"; }

# validate DIR: 0 when the kustomization in DIR resolves and every object is valid.
validate() {
  local dir=$1 rc=0
  if command -v kubectl >/dev/null; then
    if kubectl kustomize "$dir" >"$tmp/out.yaml" 2>"$tmp/kustomize.err"; then
      node "$work/validate-k8s.mjs" "$tmp/out.yaml" || rc=1
    else
      cat "$tmp/kustomize.err"
      rc=1
    fi
  fi
  node "$work/validate-k8s.mjs" --kustomize "$dir" || rc=1
  return $rc
}

say "kubectl: $(command -v kubectl || echo 'absent, built-in resolver only')"
if validate "$src/deploy/k8s"; then say "deploy/k8s valid"; else say "FAIL: deploy/k8s invalid"; fail=1; fi
if command -v kubectl >/dev/null; then
  count=$(grep -c '^kind:' "$tmp/out.yaml" || true)
  say "kubectl kustomize made $count objects"
  [ "$count" -ge 15 ] || { say "FAIL: too few objects"; fail=1; }
fi

# broken NAME FILE SED-EXPR EXPECTED-TEXT: a copy of deploy/k8s with one edit must fail, naming why.
broken() {
  local name=$1 file=$2 expr=$3 expect=$4
  rm -rf "$tmp/k8s"
  cp -r "$src/deploy/k8s" "$tmp/k8s"
  sed -i "$expr" "$tmp/k8s/$file"
  if cmp -s "$src/deploy/k8s/$file" "$tmp/k8s/$file"; then say "FAIL: $name: the edit changed nothing"; fail=1; return; fi
  if validate "$tmp/k8s" >"$tmp/broken.log" 2>&1; then
    say "FAIL: $name: a broken copy passed"; cat "$tmp/broken.log"; fail=1
  elif ! grep -q -- "$expect" "$tmp/broken.log"; then
    say "FAIL: $name: failed without saying '$expect'"; cat "$tmp/broken.log"; fail=1
  else
    say "broken copy refused ($name): $(grep -m1 -- "$expect" "$tmp/broken.log")"
  fi
}
broken "wrong kind" nats.yaml 's/^kind: StatefulSet$/kind: StatefulSett/' "unknown apiVersion/kind apps/v1 StatefulSett"
broken "wrong apiVersion" switchyard.yaml 's|^apiVersion: autoscaling/v2$|apiVersion: autoscaling/v7|' "unknown apiVersion/kind autoscaling/v7"
broken "wrong type" switchyard.yaml '0,/^  replicas: 3$/s//  replicas: three/' "replicas must be integer"
broken "wrong type (port)" haproxy.yaml '0,/containerPort: 80$/s//containerPort: eighty/' "containerPort must be integer"
broken "missing required field" switchyard.yaml 's/^        - name: switchyard$/        - imagePullPolicy: Always/' "must have required property name"
broken "missing required field (port)" nats.yaml '/^      port: 4222$/d' "must have required property port"

if cmp "$src/haproxy/haproxy.cfg" "$src/deploy/k8s/files/haproxy.cfg"; then
  say "haproxy ConfigMap file = haproxy/haproxy.cfg"
else
  say "FAIL: deploy/k8s/files/haproxy.cfg differs from haproxy/haproxy.cfg (cp one over the other)"; fail=1
fi

# The node config as the container renders it (sed over the template, the
# ConfigMap's text) must load.
awk '/switchyard.yml.template: \|/ {on=1; next} on && /^---/ {exit} on {sub(/^    /, ""); print}' \
    "$src/deploy/k8s/switchyard.yaml" >"$tmp/template.yml"
sed -e 's|@POD_NAME@|switchyard-5d9c7-abcde|g' -e 's|@POD_IP@|10.42.1.7|g' \
    -e 's|@TUNNEL_SECRET@|0123456789abcdef|g' -e 's|@STATUS_PASS@|pw|g' "$tmp/template.yml" >"$tmp/switchyard.yml"
if [ -x "$build/switchyard" ]; then
  if "$build/switchyard" token probe -c "$tmp/switchyard.yml" >"$tmp/token.log" 2>&1; then
    say "rendered node config loads (switchyard token: $(head -c 24 "$tmp/token.log")...)"
  else
    say "FAIL: rendered node config refused:"; cat "$tmp/token.log"; cat "$tmp/switchyard.yml"; fail=1
  fi
else
  say "FAIL: no $build/switchyard to load the rendered config with"; fail=1
fi

# extract FILE KEY: the literal block under `KEY: |` in FILE, de-indented.
extract() {
  awk -v key="$2: |" 'index($0, key) {on=1; next} on && /^---/ {exit} on {sub(/^    /, ""); print}' "$1"
}

extract "$src/deploy/k8s/registrar-example.yaml" registrar.yml.template \
  | sed -e 's|@POD_IP@|10.42.1.8|g' -e 's|@POD_NAME@|hello-5d9c7-abcde|g' >"$tmp/registrar.yml"
if [ -x "$build/switchyard-registrar" ]; then
  "$build/switchyard-registrar" -c "$tmp/registrar.yml" >"$tmp/registrar.log" 2>&1 &
  reg=$!
  sleep 2
  if kill -0 $reg 2>/dev/null; then
    kill $reg; wait $reg 2>/dev/null || true
    say "rendered registrar config accepted (the registrar runs, waiting for NATS)"
  else
    wait $reg 2>/dev/null && rc=0 || rc=$?
    say "FAIL: rendered registrar config: the registrar exited $rc:"; cat "$tmp/registrar.log"; fail=1
  fi
else
  say "FAIL: no $build/switchyard-registrar"; fail=1
fi

if command -v nats-server >/dev/null; then
  extract "$src/deploy/k8s/nats.yaml" nats.conf >"$tmp/nats.conf"
  if POD_NAME=nats-0 nats-server -c "$tmp/nats.conf" -t >"$tmp/nats-t.log" 2>&1; then
    say "nats.conf valid (nats-server -t)"
  else
    say "FAIL: nats.conf refused by nats-server -t:"; cat "$tmp/nats-t.log"; fail=1
  fi
else
  say "nats-server absent: nats.conf not checked"
fi
exit $fail
