#!/usr/bin/env bash
# The main job on a fresh Debian/Ubuntu machine: install what is needed, build,
# start a private MariaDB and Mosquitto on 127.0.0.1 (unless STATESINK_DB and
# STATESINK_MQTT point at real ones), and migrate the schema. Ctrl-C stops
# everything this script started.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build

state_dir=${STATESINK_STATE_DIR:-.statesink}
mkdir -p "$state_dir"
servers_pid=""
stop_servers() {
  if [ -n "$servers_pid" ] && kill -0 "$servers_pid" 2>/dev/null; then
    kill -TERM "$servers_pid"
    wait "$servers_pid" || true
  fi
}
trap stop_servers EXIT
trap 'exit 0' INT TERM

if [ -z "${STATESINK_DB:-}" ]; then
  rm -f "$state_dir/servers.env"
  build/devservers --dir "$state_dir/servers" --env-file "$state_dir/servers.env" \
    >"$state_dir/devservers.log" 2>&1 &
  servers_pid=$!
  for _ in $(seq 1 600); do
    [ -s "$state_dir/servers.env" ] && break
    if ! kill -0 "$servers_pid" 2>/dev/null; then
      echo "run: the private servers did not start; see $state_dir/devservers.log" >&2
      cat "$state_dir/devservers.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  set -a
  # shellcheck disable=SC1090,SC1091
  . "$state_dir/servers.env"
  set +a
  echo "run: private MariaDB and Mosquitto started (data in $state_dir/servers)"
fi

build/statesink migrate up
build/statesink migrate status
echo
echo "run: the schema is ready. Try: build/statesink migrate status"
if [ -n "$servers_pid" ]; then
  echo "run: private servers keep running; press Ctrl-C to stop them."
  wait "$servers_pid"
fi
