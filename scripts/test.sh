#!/usr/bin/env bash
# Command two: installs what is missing (Debian packages), builds with
# warnings as errors, and runs every test: unit tests, then the integration
# tests that drive the real switchyard, nats-server, curl, haproxy, promtool.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --with-tests
bash scripts/build.sh -DSWITCHYARD_WERROR=ON
cd build
ctest --output-on-failure -j "$(nproc)" --timeout 600 "$@"
