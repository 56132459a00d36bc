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
