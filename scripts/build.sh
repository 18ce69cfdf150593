#!/usr/bin/env bash
# Configures and builds into build/ (Release with debug info, Ninja, ccache).
# Extra arguments go to cmake's configure step, e.g. -DSWITCHYARD_WERROR=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja "$@" >/dev/null
cmake --build build -j "$(nproc)"
