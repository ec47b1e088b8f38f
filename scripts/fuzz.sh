#!/usr/bin/env bash
# Builds the libFuzzer targets in the asan preset's build (build-asan/:
# clang 16, the core and the plugins under ASan and UBSan), then, for each
# target, runs every committed corpus file once, whole, and fuzzes for
# SECONDS (default 60). Exits non-zero on any crash, leak, sanitizer report
# or invariant violation, and prints the file that reproduces it.
#
#   scripts/fuzz.sh               # every target, 60 s each
#   scripts/fuzz.sh 3600 http     # one target for an hour
#
# Targets (tests/fuzz/NAME_fuzz.cpp): pipeline yaml search cursor mcp http.
# The committed corpus (tests/fuzz/corpus/NAME/) is only read; what the
# fuzzer adds goes to build-asan/fuzz/NAME/corpus/, crash files to
# build-asan/fuzz/NAME/artifacts/. More in docs/TESTING.md.
set -euo pipefail
shopt -s nullglob
cd "$(dirname "$0")/.."

all_targets=(pipeline yaml search cursor mcp http)
seconds=${1:-60}
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz.sh: SECONDS must be a whole number of seconds above 0, got '$seconds'" >&2
  exit 2
fi
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
for target in "${targets[@]}"; do
  if [ ! -f "tests/fuzz/${target}_fuzz.cpp" ]; then
    echo "fuzz.sh: no target '$target' (there are: ${all_targets[*]})" >&2
    exit 2
  fi
done

scripts/install-deps.sh fuzz

build=build-asan
started=$(date +%s)
cmake --preset asan >/dev/null
cmake --build --preset asan --target customeriq_fuzzers
echo "fuzz: configure and build took $(($(date +%s) - started)) s"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
symbolizer=/usr/lib/llvm-16/bin/llvm-symbolizer
[ -x "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH=$symbolizer

# 70,000 nested arrays (140 KB each): generated, not committed.
write_seeds() {
  local target=$1 seeds=$2 depth=70000 open close
  open=$(printf '%*s' "$depth" '' | tr ' ' '[')
  close=$(printf '%*s' "$depth" '' | tr ' ' ']')
  case "$target" in
    pipeline)
      # Three places that copy or print JSON recursively: data itself, a value in data, metadata.
      printf '{"customer_id":"c","event_type":"x","data":%s%s}' "$open" "$close" >"$seeds/deep-nesting-as-data"
      printf '{"customer_id":"c","event_type":"x","data":{"a":%s%s}}' "$open" "$close" >"$seeds/deep-nesting-in-data"
      printf '{"customer_id":"c","event_type":"purchase","data":{"purchase_id":"o","total":1},"metadata":{"m":%s%s}}' \
        "$open" "$close" >"$seeds/deep-nesting-in-metadata"
      ;;
    yaml)
      printf 'version: 1\nhandlers:\n  - plugin: generic\n    config: {a: %s%s}\n' "$open" "$close" >"$seeds/deep-flow-nesting"
      ;;
    mcp)
      printf '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"find_customer","arguments":{"query":%s%s}}}' \
        "$open" "$close" >"$seeds/deep-nesting-in-arguments"
      ;;
  esac
}

# What a target prints when it stops for a finding, and what a sanitizer
# prints even when the process goes on.
report_pattern() { echo "==${1}_fuzz== INVARIANT|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY: "; }

fuzz_one() {
  local target=$1 fuzzer=$build/bin/customeriq_${1}_fuzz work=$build/fuzz/$1 pattern
  pattern=$(report_pattern "$target")
  local seeds=$work/seeds corpus=$work/corpus artifacts=$work/artifacts
  rm -rf "$seeds"
  mkdir -p "$seeds" "$corpus" "$artifacts"
  write_seeds "$target" "$seeds"

  # 1. Every corpus file once, whole: the fuzzing run below cuts inputs to
  # 64 KiB, which would turn the deep-nesting seeds into plain syntax errors.
  local failed=() file log=$work/replay.log
  for file in "tests/fuzz/corpus/$target"/* "$seeds"/*; do
    if "$fuzzer" -timeout=25 "$file" >"$log" 2>&1 && ! grep -Eq "$pattern" "$log"; then
      continue
    fi
    failed+=("$file")
    echo "fuzz: $target: FAILED on $file:"
    grep -E "$pattern" "$log" | head -5 | cut -c1-400 | sed 's/^/    /' || true
    cp "$log" "$artifacts/replay-$(basename "$file").log"
  done
  if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: $target: ${#failed[@]} corpus files fail; the full reports are in $artifacts/replay-*.log"
    echo "fuzz: reproduce one with: $fuzzer ${failed[0]}"
    return 1
  fi
  echo "fuzz: $target: every corpus file passes"

  # 2. Fuzzing. New inputs go to the first folder; the committed corpus is read only.
  log=$work/fuzz.log
  local status=0
  "$fuzzer" -max_total_time="$seconds" -max_len=65536 -timeout=25 -rss_limit_mb=2048 \
    -dict="tests/fuzz/$target.dict" -artifact_prefix="$artifacts/" -print_final_stats=1 \
    "$corpus" "tests/fuzz/corpus/$target" "$seeds" >"$log" 2>&1 || status=$?
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$log" |
    sed "s/^/fuzz: $target: /" || true
  if [ "$status" -eq 0 ] && ! grep -Eq "$pattern" "$log"; then
    echo "fuzz: $target: nothing found in $seconds s"
    return 0
  fi
  echo "fuzz: $target: FAILED (exit status $status):"
  # The report: from the first line that names the problem to the end.
  awk -v pattern="$pattern" 'found || $0 ~ pattern { found = 1; print }' "$log" | cut -c1-400 | head -120 || true
  local crash
  crash=$(grep -Eo 'Test unit written to [^ ]+' "$log" | tail -1 | sed 's/^Test unit written to //' || true)
  if [ -n "$crash" ]; then
    echo "fuzz: $target: crash file: $crash"
    echo "fuzz: $target: reproduce with: $fuzzer $crash"
  fi
  return 1
}

failed_targets=()
for target in "${targets[@]}"; do
  echo "fuzz: $target: fuzzing for $seconds s (log: $build/fuzz/$target/fuzz.log)"
  fuzz_one "$target" || failed_targets+=("$target")
done
if [ ${#failed_targets[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed_targets[*]}"
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, $seconds s each: nothing found"
