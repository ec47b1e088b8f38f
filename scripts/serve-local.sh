#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: installs what is missing,
# builds CustomerIQ when needed, starts a local nats-server on 127.0.0.1
# (with its HTTP monitoring port) when no NATS server is configured, and
# runs `customeriq serve` in the foreground. Ctrl-C (or SIGTERM) stops the
# service cleanly, then the nats-server this script started (that one, by
# its PID, and nothing else).
#
#   scripts/serve-local.sh                      # local nats-server, core NATS
#   NATS_JETSTREAM=true scripts/serve-local.sh  # durable JetStream mode
#   NATS_MONITOR_PORT=9222 scripts/serve-local.sh          # monitoring elsewhere (default 8222)
#   NATS_SERVERS=nats://host:4222 scripts/serve-local.sh   # your own server
#   CUSTOMERIQ_BUILD_DIR=build-release scripts/serve-local.sh   # another build folder
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build_dir=${CUSTOMERIQ_BUILD_DIR:-build}
customeriq="$build_dir/bin/customeriq"

monitor_port=${NATS_MONITOR_PORT:-8222}
if ! [[ $monitor_port =~ ^[0-9]{1,5}$ ]] || [ "$monitor_port" -lt 1 ] || [ "$monitor_port" -gt 65535 ]; then
  echo "serve-local: NATS_MONITOR_PORT=$monitor_port is not a port (1 to 65535)" >&2
  exit 2
fi

scripts/install-deps.sh

# Configure once; the build is a no-op when everything is up to date.
if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}"
fi
cmake --build "$build_dir" --target customeriq

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

monitor_taken() {
  echo "serve-local: the monitoring port $monitor_port on 127.0.0.1 is taken (another nats-server?):" \
    "stop what listens there, or set NATS_MONITOR_PORT to a free port" >&2
  exit 1
}

# Server URLs with the password (or token) of user:password@ replaced by
# ***, as customeriq logs them; what stands where a port goes is shown only
# when it is a number (it may be a password that lost its @host).
redact_servers() {
  local out="" item scheme rest userinfo host port
  local -a items
  IFS=',' read -ra items <<<"$1"
  for item in "${items[@]}"; do
    scheme="" rest=$item
    if [[ $rest == *://* ]]; then scheme="${rest%%://*}://" rest=${rest#*://}; fi
    if [[ $rest == *@* ]]; then
      userinfo=${rest%@*} rest=${rest##*@}
      if [[ $userinfo == *:* ]]; then scheme+="${userinfo%%:*}:***@"; else scheme+="***@"; fi
    fi
    host=$rest port=""
    if [[ $rest == \[*\]* ]]; then
      host="${rest%%]*}]" port=${rest#*]}
    elif [[ $rest == *:* ]]; then
      host=${rest%%:*} port=":${rest#*:}"
    fi
    [[ -z $port || $port =~ ^:[0-9]*$ ]] || port=":***"
    out+="${out:+,}$scheme$host$port"
  done
  printf '%s' "$out"
}

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
  # The monitoring port is fixed (curl http://127.0.0.1:8222/varz works
  # as documented), so a taken one is an error, not a reason to move.
  listening "$monitor_port" && monitor_taken
  nats_dir=$(mktemp -d -t customeriq-nats.XXXXXX)
  # 4222 (the default, so `customeriq publish` needs no --servers) when free.
  for port in 4222 $(shuf -i 20000-60000 -n 20); do
    [ "$port" != "$monitor_port" ] || continue
    listening "$port" && continue
    # setsid: Ctrl-C in this terminal must reach customeriq, not the server
    # it still needs to acknowledge its last events.
    setsid "$nats_server" -a 127.0.0.1 -p "$port" -m "$monitor_port" -js -sd "$nats_dir/store" \
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
    # Taken since the check above: no other client port would help.
    grep -q "monitor port" "$nats_dir/nats-server.log" && monitor_taken
  done
  if [ -z "$nats_pid" ]; then
    echo "serve-local: could not start nats-server; see $nats_dir/nats-server.log" >&2
    cat "$nats_dir/nats-server.log" >&2 || true
    exit 1
  fi
  export NATS_SERVERS="nats://127.0.0.1:$port"
  echo "serve-local: started nats-server (PID $nats_pid) on $NATS_SERVERS with JetStream, store $nats_dir/store," \
    "monitoring on http://127.0.0.1:$monitor_port/varz"
  publish="$customeriq publish --all --servers $NATS_SERVERS"
else
  # The user's own server: its URL may hold a password, not to be printed.
  publish="$customeriq publish --all    # with the same NATS_SERVERS (and credentials) in the environment or .env"
fi
export NATS_ENABLED=true

if [ -n "${NATS_SERVERS:-}" ]; then servers=$(redact_servers "$NATS_SERVERS"); else servers="(from .env)"; fi
database=${CUSTOMERIQ_DB:-"$HOME/.customeriq/customeriq.db"}
cat <<EOF

CustomerIQ serves NATS at $servers into $database
In another terminal, in $root:
  $publish
  $customeriq profile cust_001
  curl -s http://${CUSTOMERIQ_HTTP_ADDR:-127.0.0.1:8080}/v1/customers/cust_001
  curl -sN http://${CUSTOMERIQ_HTTP_ADDR:-127.0.0.1:8080}/v1/stream
(the HTTP API, see docs/HTTP.md; the line "[HTTP] Listening on" below names its address)
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
