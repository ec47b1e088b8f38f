#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: installs what is missing,
# builds CustomerIQ when needed, starts a local nats-server on 127.0.0.1
# when no NATS server is configured, and runs `customeriq serve` in the
# foreground. Ctrl-C (or SIGTERM) stops the service cleanly, then the
# nats-server this script started (that one, by its PID, and nothing else).
#
#   scripts/serve-local.sh                      # local nats-server, core NATS
#   NATS_JETSTREAM=true scripts/serve-local.sh  # durable JetStream mode
#   NATS_SERVERS=nats://host:4222 scripts/serve-local.sh   # your own server
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
customeriq="$root/build/bin/customeriq"

scripts/install-deps.sh

# Configure once; the build is a no-op when everything is up to date.
if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}"
fi
cmake --build build --target customeriq

nats_pid=""
nats_dir=""
# shellcheck disable=SC2317  # trap handlers
cleanup() {
  if [ -n "$nats_pid" ] && kill -0 "$nats_pid" 2>/dev/null; then
    kill -TERM "$nats_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$nats_pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$nats_pid" 2>/dev/null; then kill -KILL "$nats_pid" 2>/dev/null || true; fi
    wait "$nats_pid" 2>/dev/null || true
  fi
  if [ -n "$nats_dir" ]; then rm -rf "$nats_dir"; fi
}
trap cleanup EXIT

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A .env in this folder is read by customeriq; honour its NATS_SERVERS too.
dotenv_servers=""
if [ -f .env ] && grep -Eq '^[[:space:]]*(export[[:space:]]+)?NATS_SERVERS=' .env; then
  dotenv_servers=yes
fi

if [ -z "${NATS_SERVERS:-}" ] && [ -z "$dotenv_servers" ]; then
  nats_server=$(command -v nats-server || true)
  [ -n "$nats_server" ] || [ ! -x /usr/sbin/nats-server ] || nats_server=/usr/sbin/nats-server
  if [ -z "$nats_server" ]; then
    echo "serve-local: nats-server not found (apt-get install nats-server)" >&2
    exit 1
  fi
  nats_dir=$(mktemp -d -t customeriq-nats.XXXXXX)
  # 4222 (the default, so `customeriq publish` needs no --servers) when free.
  for port in 4222 $(shuf -i 20000-60000 -n 20); do
    listening "$port" && continue
    # setsid: Ctrl-C in this terminal must reach customeriq, not the server
    # it still needs to acknowledge its last events.
    setsid "$nats_server" -a 127.0.0.1 -p "$port" -js -sd "$nats_dir/store" \
      >"$nats_dir/nats-server.log" 2>&1 &
    nats_pid=$!
    for _ in $(seq 100); do
      listening "$port" && break
      kill -0 "$nats_pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$nats_pid" 2>/dev/null && listening "$port"; then break; fi
    wait "$nats_pid" 2>/dev/null || true
    nats_pid=""
  done
  if [ -z "$nats_pid" ]; then
    echo "serve-local: could not start nats-server; see $nats_dir/nats-server.log" >&2
    cat "$nats_dir/nats-server.log" >&2 || true
    exit 1
  fi
  export NATS_SERVERS="nats://127.0.0.1:$port"
  echo "serve-local: started nats-server (PID $nats_pid) on $NATS_SERVERS with JetStream, store $nats_dir/store"
fi
export NATS_ENABLED=true

servers=${NATS_SERVERS:-"(from .env)"}
database=${CUSTOMERIQ_DB:-"$HOME/.customeriq/customeriq.db"}
cat <<EOF

CustomerIQ serves NATS at $servers into $database
In another terminal, in $root:
  build/bin/customeriq publish --all --servers ${NATS_SERVERS:-URL}
  build/bin/customeriq profile cust_001
(NATS_JETSTREAM=true for the durable mode; then publish with --jetstream.)
Stop with Ctrl-C.

EOF

# customeriq runs in a session of its own and this shell passes each
# SIGINT/SIGTERM it gets on, exactly once: the first stops the service
# cleanly, a second one makes it exit at once (were it in this terminal's
# process group, one Ctrl-C would reach it twice).
setsid "$customeriq" serve &
serve_pid=$!
# shellcheck disable=SC2317  # trap handler
forward() { kill -"$1" "$serve_pid" 2>/dev/null || true; }
trap 'forward INT' INT
trap 'forward TERM' TERM
status=0
while :; do
  if wait "$serve_pid"; then status=0; else status=$?; fi
  kill -0 "$serve_pid" 2>/dev/null || break  # exited; else a signal interrupted wait
done
# If a signal interrupted the last wait, the exit status is still to collect.
if wait "$serve_pid" 2>/dev/null; then status=0; else code=$?; [ "$code" -eq 127 ] || status=$code; fi
exit "$status"
