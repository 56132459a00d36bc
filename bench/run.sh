#!/usr/bin/env bash
# The benchmark in one command: builds a Release configuration in build-bench,
# starts a private MariaDB and Mosquitto on 127.0.0.1 (the devservers tool of
# the test harness) in a temporary folder, migrates, and runs statesink_bench,
# which prints the tables and writes the results as JSON.
#
#   bench/run.sh [--json FILE] [--keep] [statesink_bench options...]
#
#   --json FILE   where the results go (default: bench/results.json)
#   --keep        keep the temporary folder (logs of every phase) afterwards
#   other options go to statesink_bench; see build-bench/statesink_bench --help,
#   e.g. --messages 200000, --no-sweep, --ingest-arg=--sync=never
#
# The servers are the benchmark's own and are stopped by PID when it ends,
# also on Ctrl-C or failure; STATESINK_DB / STATESINK_MQTT are ignored, because
# the benchmark empties the tables of the database it measures.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib/devservers.sh
. "$repo/scripts/lib/devservers.sh"
json=$repo/bench/results.json
keep=""
pass=()
while [ $# -gt 0 ]; do
  case $1 in
    --json) json=$2; shift 2 ;;
    --json=*) json=${1#--json=}; shift ;;
    --keep) keep=1; shift ;;
    -h|--help)
      sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
      exit 0 ;;
    *) pass+=("$1"); shift ;;
  esac
done
case $json in /*) ;; *) json=$PWD/$json ;; esac

start=$(date +%s)
bench_setup bench statesink_bench

# `mosquitto -h` prints its version and exits non-zero.
broker_version=$({ mosquitto -h 2>/dev/null || true; } | sed -n 's/^mosquitto version \(.*\)$/Mosquitto \1/p' | head -1)
"$build/statesink_bench" --statesink "$build/statesink" --db "$db" --mqtt "$mqtt" \
  --mariadb-pid-file "$work/servers/mariadb/mariadb.pid" --broker-version "$broker_version" \
  --work "$work/phases" --json "$json" ${pass[@]+"${pass[@]}"}
echo "bench: finished in $(($(date +%s) - start)) s (build and server start included)"
