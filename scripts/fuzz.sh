#!/usr/bin/env bash
# Builds the libFuzzer target with clang in build-fuzz/ (core and plugins
# with ASan and UBSan), runs every corpus file once, whole, then fuzzes for
# SECONDS (default 60). Exits non-zero on any crash, leak, sanitizer report
# or invariant violation, and prints the file that reproduces it.
#
#   scripts/fuzz.sh          # 60 seconds
#   scripts/fuzz.sh 3600     # an hour
#
# The committed corpus (tests/fuzz/corpus/) is only read; what the fuzzer
# adds goes to build-fuzz/fuzz/corpus/, crash files to build-fuzz/fuzz/artifacts/.
# More in docs/TESTING.md.
set -euo pipefail
shopt -s nullglob
cd "$(dirname "$0")/.."

seconds=${1:-60}
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz.sh: SECONDS must be a whole number of seconds above 0, got '$seconds'" >&2
  exit 2
fi

scripts/install-deps.sh fuzz

build="build-fuzz"
started=$(date +%s)
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-16 \
  -DCUSTOMERIQ_BUILD_FUZZ=ON -DCUSTOMERIQ_BUILD_TESTS=OFF -DCUSTOMERIQ_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" --target customeriq_pipeline_fuzz
echo "fuzz: configure and build took $(($(date +%s) - started)) s"

fuzzer=$build/bin/customeriq_pipeline_fuzz
work=$build/fuzz
seeds=$work/seeds
corpus=$work/corpus
artifacts=$work/artifacts
mkdir -p "$seeds" "$corpus" "$artifacts"

# 70,000 nested arrays (140 KB each): generated, not committed. Three places
# that copy or print JSON recursively: data itself, a value in data, metadata.
depth=70000
open=$(printf '%*s' "$depth" '' | tr ' ' '[')
close=$(printf '%*s' "$depth" '' | tr ' ' ']')
printf '{"customer_id":"c","event_type":"x","data":%s%s}' "$open" "$close" >"$seeds/deep-nesting-as-data"
printf '{"customer_id":"c","event_type":"x","data":{"a":%s%s}}' "$open" "$close" >"$seeds/deep-nesting-in-data"
printf '{"customer_id":"c","event_type":"purchase","data":{"purchase_id":"o","total":1},"metadata":{"m":%s%s}}' \
  "$open" "$close" >"$seeds/deep-nesting-in-metadata"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
symbolizer=/usr/lib/llvm-16/bin/llvm-symbolizer
[ -x "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH=$symbolizer

# What libFuzzer prints when it stops for a finding, and what a sanitizer
# prints even when the process goes on.
report_pattern='==pipeline_fuzz== INVARIANT|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY: '

# 1. Every corpus file once, whole: the fuzzing run below cuts inputs to
# 64 KiB, which would turn the deep-nesting seeds into plain syntax errors.
failed=()
for file in tests/fuzz/corpus/* "$seeds"/*; do
  log=$work/replay.log
  if "$fuzzer" -timeout=25 "$file" >"$log" 2>&1 && ! grep -Eq "$report_pattern" "$log"; then
    continue
  fi
  failed+=("$file")
  echo "fuzz: FAILED on $file:"
  grep -E "$report_pattern" "$log" | head -5 | cut -c1-400 | sed 's/^/    /' || true
  cp "$log" "$artifacts/replay-$(basename "$file").log"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo
  echo "fuzz: ${#failed[@]} corpus files fail; the full reports are in $artifacts/replay-*.log"
  echo "fuzz: reproduce one with: $fuzzer ${failed[0]}"
  exit 1
fi
echo "fuzz: every corpus file passes"

# 2. Fuzzing. New inputs go to the first folder; the committed corpus is read only.
log=$work/fuzz.log
echo "fuzz: fuzzing for $seconds s (log: $log)"
status=0
"$fuzzer" -max_total_time="$seconds" -max_len=65536 -timeout=25 -rss_limit_mb=2048 \
  -dict=tests/fuzz/pipeline.dict -artifact_prefix="$artifacts/" -print_final_stats=1 \
  "$corpus" tests/fuzz/corpus "$seeds" >"$log" 2>&1 || status=$?
grep -E '^#[0-9]+.*(INITED|DONE)|^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$log" || true
if [ "$status" -eq 0 ] && ! grep -Eq "$report_pattern" "$log"; then
  echo "fuzz: nothing found in $seconds s"
  exit 0
fi
echo
echo "fuzz: FAILED (exit status $status):"
# The report: from the first line that names the problem to the end.
awk -v pattern="$report_pattern" 'found || $0 ~ pattern { found = 1; print }' "$log" | cut -c1-400 | head -120 || true
crash=$(grep -Eo 'Test unit written to [^ ]+' "$log" | tail -1 | sed 's/^Test unit written to //' || true)
if [ -n "$crash" ]; then
  echo "fuzz: crash file: $crash"
  echo "fuzz: reproduce with: $fuzzer $crash"
fi
[ "$status" -ne 0 ] || status=1
exit "$status"
