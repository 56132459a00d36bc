# shellcheck shell=bash
# Sourced by the scripts that start the private servers (build/devservers),
# which writes their URLs to its env file once both answer.

# wait_for_devservers PID ENV_FILE LOG WHO SECONDS
# Waits until ENV_FILE exists; fails with the servers' log when devservers
# exits first or SECONDS pass.
wait_for_devservers() {
  local pid=$1 env_file=$2 log=$3 who=$4 seconds=$5
  local deadline=$((SECONDS + seconds))
  until [ -s "$env_file" ]; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$who: the private servers did not start:" >&2
      cat "$log" >&2
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "$who: the private servers did not start within $seconds s; see $log" >&2
      return 1
    fi
    sleep 0.1
  done
}

# bench_setup WHO TARGET...
# What every benchmark script does before it measures: installs what is
# missing, builds TARGET... (with statesink and devservers) in a Release
# configuration in $repo/build-bench, starts the private servers in a fresh
# temporary folder (stopped by PID on exit, the folder removed unless $keep is
# set) and migrates. Reads $repo and $keep; sets build, work, db and mqtt.
# shellcheck disable=SC2154,SC2034  # globals shared with the calling script
bench_setup() {
  local who=$1
  shift
  "$repo/scripts/install-deps.sh"
  build=$repo/build-bench
  cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTATESINK_TESTS=ON >/dev/null
  cmake --build "$build" --target statesink devservers "$@"

  work=$(mktemp -d "${TMPDIR:-/tmp}/statesink-${who// /-}.XXXXXX")
  bench_who=$who
  bench_servers_pid=""
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM

  "$build/devservers" --dir "$work/servers" >"$work/devservers.log" 2>&1 &
  bench_servers_pid=$!
  wait_for_devservers "$bench_servers_pid" "$work/servers/servers.env" "$work/devservers.log" \
    "$who" 60
  db=$(sed -n 's/^STATESINK_DB=//p' "$work/servers/servers.env")
  mqtt=$(sed -n 's/^STATESINK_MQTT=//p' "$work/servers/servers.env")

  if ! (cd "$work" && "$build/statesink" migrate up --db "$db" >"$work/migrate.log" 2>&1); then
    echo "$who: migrating failed:" >&2
    cat "$work/migrate.log" >&2
    exit 1
  fi
}

# The EXIT trap of bench_setup.
bench_cleanup() {
  if [ -n "$bench_servers_pid" ] && kill -0 "$bench_servers_pid" 2>/dev/null; then
    kill -TERM "$bench_servers_pid" 2>/dev/null || true
    wait "$bench_servers_pid" 2>/dev/null || true
  fi
  if [ -n "$keep" ]; then
    echo "$bench_who: logs kept in $work"
  else
    rm -rf "$work"
  fi
}
