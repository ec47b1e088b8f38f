#!/usr/bin/env bash
# Installs CustomerIQ into a temporary prefix, builds the example plugin in
# examples/custom_plugin and its Catch2 test against the installed SDK
# (outside the tree), runs that test, and runs an event through the plugin
# with the installed binary.
set -euo pipefail
build_dir=$1
source_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$source_dir/examples/custom_plugin" -B "$work/build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/build" >/dev/null
test -f "$work/build/loyalty.so"
# The plugin's own tests, on the installed test kit.
"$work/build/loyalty_test"

cat >"$work/pipeline.yaml" <<YAML
plugin_path: [$work/build]
handlers:
  - plugin: loyalty
    config: {value_per_point: 0.5}
  - plugin: generic
    event_types: ["*"]
YAML
customeriq="$work/prefix/bin/customeriq"
"$customeriq" validate "$work/pipeline.yaml"
plugins=$("$customeriq" --pipeline "$work/pipeline.yaml" plugins)
grep -q "loyalty 1.0.0" <<<"$plugins"
grep -q "config value_per_point (number >= 0, default 0)" <<<"$plugins"
# The declared bound holds in the core too.
sed 's/value_per_point: 0.5/value_per_point: -1/' "$work/pipeline.yaml" >"$work/negative.yaml"
if "$customeriq" validate "$work/negative.yaml" 2>"$work/negative.err"; then
  echo "a negative value_per_point was accepted"
  exit 1
fi
grep -q "plugin loyalty: config key 'value_per_point' must be a number >= 0, got -1" "$work/negative.err"

echo '{"event_id":"l1","customer_id":"cust_9","event_type":"loyalty_points","timestamp":1700000000,"data":{"points":120,"reason":"Birthday bonus","tier":"gold"}}' \
  | "$customeriq" --db "$work/db.sqlite" --pipeline "$work/pipeline.yaml" ingest - | grep -q "1 applied"

actual=$(sqlite3 "$work/db.sqlite" "SELECT c.lifetime_value, c.custom_fields, e.title, e.description FROM customers c JOIN customer_events e ON e.customer_id = c.id")
expected='60.0|{"loyalty_tier":"gold"}|Earned 120 points|Birthday bonus'
if [ "$actual" != "$expected" ]; then
  echo "expected: $expected"
  echo "actual:   $actual"
  exit 1
fi
echo "example plugin: built against the installed SDK, loaded by the installed binary"
