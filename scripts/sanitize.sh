#!/usr/bin/env bash
# Builds CustomerIQ under a sanitizer (a CMake preset of CMakePresets.json)
# and runs the tests there, failing on any sanitizer report: in the test
# binary or in any customeriq process a test starts, whatever its exit status.
#
#   scripts/sanitize.sh asan            # ASan + UBSan, build-asan/ (clang 16), every test
#   scripts/sanitize.sh tsan -L nats    # ThreadSanitizer, build-tsan/, ctest arguments after the preset
#
# Reports are written to build-<preset>/sanitizer-reports/ and printed.
# More in docs/TESTING.md.
set -euo pipefail
cd "$(dirname "$0")/.."

preset=${1:-}
case "$preset" in
  asan) scripts/install-deps.sh fuzz ;;  # clang 16 and its sanitizer runtimes
  tsan) scripts/install-deps.sh ;;
  *)
    echo "sanitize.sh: the first argument is the preset: asan or tsan, not '$preset'" >&2
    exit 2
    ;;
esac
shift

build=build-$preset
started=$(date +%s)
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
echo "sanitize: configure and build took $(($(date +%s) - started)) s"

reports=$PWD/$build/sanitizer-reports
rm -rf "$reports"
mkdir -p "$reports"
# log_path: every process writes its report to a file of its own (.PID), so a
# report in a child that was expected to fail is not lost in its stderr.
# Suppressions name third-party code only (tests/sanitizers/).
common="log_path=$reports/report:print_stacktrace=1"
export ASAN_OPTIONS="$common:detect_leaks=1:detect_stack_use_after_return=0:strict_string_checks=1"
export LSAN_OPTIONS="suppressions=$PWD/tests/sanitizers/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="$common:halt_on_error=1"
# report_thread_leaks=0: a second signal ends serve at once, by design, with
# threads still running (nats.c's among them).
export TSAN_OPTIONS="$common:halt_on_error=1:second_deadlock_stack=1:report_thread_leaks=0:suppressions=$PWD/tests/sanitizers/tsan.supp"
for symbolizer in /usr/lib/llvm-16/bin/llvm-symbolizer /usr/bin/llvm-symbolizer; do
  if [ -x "$symbolizer" ]; then
    export ASAN_SYMBOLIZER_PATH=$symbolizer TSAN_SYMBOLIZER_PATH=$symbolizer
    break
  fi
done

status=0
ctest --preset "$preset" "$@" || status=$?

shopt -s nullglob
found=("$reports"/report.*)
if [ ${#found[@]} -gt 0 ]; then
  echo
  echo "sanitize: ${#found[@]} sanitizer reports (in $reports):"
  for report in "${found[@]}"; do
    echo "---- $report"
    head -60 "$report" | cut -c1-300
  done
  exit 1
fi
[ "$status" -eq 0 ] || { echo "sanitize: ctest failed (exit status $status)"; exit "$status"; }
echo "sanitize: $preset: every test passed, no sanitizer report"
