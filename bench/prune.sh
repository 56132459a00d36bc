#!/usr/bin/env bash
# The prune benchmark in one command: builds a Release configuration in
# build-bench, starts a private MariaDB on 127.0.0.1 (the devservers tool of
# the test harness) in a temporary folder, migrates, and runs
# statesink_prune_bench, which fills `messages` with rows spread over 180 days
# and times `statesink prune` removing the oldest 30 and 90 days, on an
# unpartitioned table (chunked delete) and on tables partitioned by month and
# by day (partition drop). Prints a Markdown table.
#
#   bench/prune.sh [--keep] [statesink_prune_bench options...]
#
#   --keep    keep the temporary folder (server data and logs) afterwards
#   other options go to statesink_prune_bench, e.g. --rows 1000000,
#   --layouts unpartitioned --layouts month, --prune-days 30
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib/devservers.sh
. "$repo/scripts/lib/devservers.sh"
keep=""
pass=()
while [ $# -gt 0 ]; do
  case $1 in
    --keep) keep=1; shift ;;
    -h|--help)
      sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
      exit 0 ;;
    *) pass+=("$1"); shift ;;
  esac
done

start=$(date +%s)
bench_setup "prune bench" statesink_prune_bench

(cd "$work" && "$build/statesink_prune_bench" --statesink "$build/statesink" --db "$db" \
  ${pass[@]+"${pass[@]}"})
echo "prune bench: finished in $(($(date +%s) - start)) s (build and server start included)"
