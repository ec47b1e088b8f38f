#!/usr/bin/env bash
# Installs the Debian 12 packages CustomerIQ builds, tests and runs with.
# `install-deps.sh fuzz` adds the clang toolchain scripts/fuzz.sh builds with.
# Does nothing when they are all present; uses sudo when not root.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libnats-dev libsqlitecpp-dev libsqlite3-dev nlohmann-json3-dev libboost-dev
  libyaml-cpp-dev libspdlog-dev catch2
  nats-server sqlite3
)
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
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing: ${missing[*]}"
as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
