#!/usr/bin/env bash
# Installs what is missing, builds CustomerIQ (build/, Ninja) and runs every
# test with ctest. The tests start their own nats-server processes on free
# loopback ports and stop them by PID.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}"
cmake --build build
ctest --test-dir build --output-on-failure --timeout 900 "$@"
