#!/usr/bin/env bash
# Installs the Debian 12 packages CustomerIQ builds, tests and runs with.
# `install-deps.sh fuzz` adds the clang toolchain scripts/fuzz.sh builds with.
# Then installs the browser and MCP tests' npm packages (tests/node, pinned by
# its package-lock.json) with `npm ci`. Does nothing when all are present;
# uses sudo when not root.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libnats-dev libsqlitecpp-dev libsqlite3-dev nlohmann-json3-dev libboost-dev
  libyaml-cpp-dev libspdlog-dev catch2 libssl-dev
  nats-server sqlite3
  chromium
)
# Node.js 20 or newer runs the browser and MCP tests; Debian's own is 18, so
# only a machine without node gets Debian's (the tests then say what is wrong).
command -v node >/dev/null || packages+=(nodejs npm)
case "${1:-}" in
  "") ;;
  fuzz)
    # clang 16, not Debian's default clang 14: the core captures structured
    # bindings in lambdas (C++20), which clang 14 rejects. libclang-rt holds
    # libFuzzer and the sanitizer runtimes, llvm-16 the symbolizer.
    packages+=(clang-16 libclang-rt-16-dev libfuzzer-16-dev llvm-16)
    ;;
  *)
    echo "install-deps.sh: unknown argument '$1' (none, or: fuzz)" >&2
    exit 2
    ;;
esac

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing: ${missing[*]}"
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

node_tests="$(dirname "$0")/../tests/node"
if [ ! -f "$node_tests/node_modules/.package-lock.json" ] ||
   [ "$node_tests/package-lock.json" -nt "$node_tests/node_modules/.package-lock.json" ]; then
  echo "Installing the npm packages of tests/node (npm ci)"
  (cd "$node_tests" && npm ci --no-audit --no-fund --loglevel=error)
fi
