#!/usr/bin/env bash
# How fast the database takes direct multi-row INSERTs into `messages` without
# the normalising trigger (schema at version 0001) and with it (every
# migration), on traffic shaped like Home Assistant's statestream. The trigger
# runs once per row inside the INSERT, so this rate is the ceiling of
# ingestion whatever the ingester does.
#
# Three phases, each a file of multi-row INSERTs sent through the mariadb
# client, one transaction per statement:
#   new entities   every entity published once: state, timestamps, attributes;
#                  every topic is new, so the trigger creates its rows
#   changes        random entities change state; with each change Home
#                  Assistant re-publishes every attribute, so most messages
#                  repeat the current value and only a few become facts
#   replay         the broker's retained replay at a reconnect: every topic
#                  again with its current value, all repeats
#
# By default it starts a private MariaDB through the devservers tool of a
# build with tests (cmake --build build --target devservers statesink) and
# stops it afterwards; --db points it at a running server instead (the account
# needs to create and drop databases named trigger_rate_*).
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bench/trigger_rate.sh [--build DIR] [--db URL] [--entities N] [--changes N] [--batch N]
  --build DIR     build directory with statesink and devservers (default: build)
  --db URL        mysql://USER:PASSWORD@HOST:PORT of a running server (default: start one)
  --entities N    entities to simulate (default: 2000)
  --changes N     state changes in the second phase (default: 15000)
  --batch N       rows per INSERT statement (default: 500)
EOF
}

repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib/devservers.sh
. "$repo/scripts/lib/devservers.sh"
build=build
db_url=""
entities=2000
changes=15000
batch=500
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --db) db_url=$2; shift 2 ;;
    --entities) entities=$2; shift 2 ;;
    --changes) changes=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "trigger_rate: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
for n in "$entities" "$changes" "$batch"; do
  case $n in
    ''|*[!0-9]*|0) echo "trigger_rate: counts must be positive integers" >&2; exit 2 ;;
  esac
done
case $build in /*) ;; *) build=$repo/$build ;; esac
statesink=$build/statesink
if [ ! -x "$statesink" ]; then
  echo "trigger_rate: $statesink not found; build it first (cmake --build $build)" >&2
  exit 1
fi
client_program=$(command -v mariadb || command -v mysql || true)
if [ -z "$client_program" ]; then
  echo "trigger_rate: the mariadb (or mysql) command-line client is needed" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/trigger-rate.XXXXXX")
servers_pid=""
cleanup() {
  if [ -n "$servers_pid" ]; then
    kill -TERM "$servers_pid" 2>/dev/null || true
    wait "$servers_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "$db_url" ]; then
  devservers=$build/devservers
  if [ ! -x "$devservers" ]; then
    echo "trigger_rate: $devservers not found; build it (cmake --build $build --target devservers)" >&2
    exit 1
  fi
  "$devservers" --dir "$work/servers" >"$work/devservers.log" 2>&1 &
  servers_pid=$!
  wait_for_devservers "$servers_pid" "$work/servers/servers.env" "$work/devservers.log" trigger_rate 120
  db_url=$(sed -n 's/^STATESINK_DB=//p' "$work/servers/servers.env")
fi

# mysql://USER:PASSWORD@HOST:PORT[/DATABASE]; the database part is ignored.
rest=${db_url#mysql://}
[ "$rest" != "$db_url" ] || { echo "trigger_rate: --db must start with mysql://" >&2; exit 2; }
rest=${rest%%/*}
credentials=${rest%@*}
hostport=${rest##*@}
db_user=${credentials%%:*}
db_password=""
[ "$credentials" = "$db_user" ] || db_password=${credentials#*:}
db_host=${hostport%%:*}
db_port=3306
[ "$hostport" = "$db_host" ] || db_port=${hostport##*:}

client() {
  MYSQL_PWD=$db_password "$client_program" --no-defaults --protocol=TCP -h "$db_host" \
    -P "$db_port" -u "$db_user" --default-character-set=utf8mb4 --batch --skip-column-names "$@"
}

# The workload, written once and replayed identically in both modes.
awk -v entities="$entities" -v changes="$changes" -v batch="$batch" -v dir="$work" '
function stamp(t,    h, m, s) {
  h = int(t / 3600) % 24; m = int(t / 60) % 60; s = t % 60
  return sprintf("2024-05-01T%02d:%02d:%02d.%06d+00:00", h, m, s, (t * 7919) % 1000000)
}
function emit(file, topic, payload, retained) {
  last[topic] = payload
  if (!(topic in seen)) { seen[topic] = 1; order[++topics] = topic }
  gsub(/\\/, "\\\\", payload); gsub(/\x27/, "\\\x27", payload)
  if (rows[file] % batch == 0) {
    if (rows[file] > 0) printf ";\n" > file
    printf "INSERT INTO messages (topic, payload, qos, retained) VALUES\n" > file
  } else {
    printf ",\n" > file
  }
  printf "(\x27%s\x27,\x27%s\x27,1,%d)", topic, payload, retained > file
  rows[file]++
}
function publish(file, i, step,    base, kind, t, on) {
  # One entity in ten belongs to a second installation with a two-level base topic.
  base = (i % 10 == 9) ? "home/ha1" : "homeassistant"
  kind = i % 5
  t = step * 3 + i
  on = (step + i) % 2
  if (kind <= 2) {
    topic = base "/sensor/temperature_" i
    emit(file, topic "/state", sprintf("%.1f", 15 + ((i * 7 + step * 13) % 150) / 10), 0)
  } else if (kind == 3) {
    topic = base "/binary_sensor/motion_" i
    emit(file, topic "/state", on ? "on" : "off", 0)
  } else {
    topic = base "/light/lamp_" i
    emit(file, topic "/state", on ? "on" : "off", 0)
  }
  emit(file, topic "/last_updated", stamp(t), 0)
  emit(file, topic "/last_changed", stamp(t), 0)
  if (kind <= 2) {
    emit(file, topic "/unit_of_measurement", "\"\\u00b0C\"", 0)
    emit(file, topic "/device_class", "\"temperature\"", 0)
    emit(file, topic "/state_class", "\"measurement\"", 0)
    emit(file, topic "/friendly_name", "\"K\\u00fcche " i "\"", 0)
  } else if (kind == 3) {
    emit(file, topic "/device_class", "\"motion\"", 0)
    emit(file, topic "/friendly_name", "\"Flur " i "\"", 0)
  } else {
    emit(file, topic "/supported_color_modes", "[\"brightness\", \"rgb\"]", 0)
    emit(file, topic "/color_mode", on ? "\"rgb\"" : "null", 0)
    emit(file, topic "/brightness", on ? (i + step) % 255 : "null", 0)
    emit(file, topic "/rgb_color", on ? "[255, " (i * 3 + step) % 256 ", 0]" : "null", 0)
    emit(file, topic "/friendly_name", "\"Lampe " i "\"", 0)
  }
}
BEGIN {
  srand(42)
  for (i = 0; i < entities; i++) publish(dir "/new.sql", i, 0)
  for (c = 1; c <= changes; c++) publish(dir "/changes.sql", int(rand() * entities), c)
  for (k = 1; k <= topics; k++) emit(dir "/replay.sql", order[k], last[order[k]], 1)
  for (f in rows) { printf ";\n" > f; close(f) }
  printf "%d %d %d\n", rows[dir "/new.sql"], rows[dir "/changes.sql"], rows[dir "/replay.sql"]
}' >"$work/counts"
read -r count_new count_changes count_replay <"$work/counts"

now_ns() { date +%s%N; }

# seconds for one phase, printed with millisecond precision
run_phase() {
  local database=$1 file=$2 start end
  start=$(now_ns)
  client "$database" <"$file"
  end=$(now_ns)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }'
}

declare -A seconds
for mode in without with; do
  database=trigger_rate_$mode
  client -e "DROP DATABASE IF EXISTS $database; CREATE DATABASE $database CHARACTER SET utf8mb4;"
  to=()
  [ "$mode" = without ] && to=(--to 1)
  STATESINK_DB= STATESINK_DB_PASSWORD= "$statesink" migrate up "${to[@]}" \
    --db "mysql://$db_user:$db_password@$db_host:$db_port/$database" \
    --dir "$repo/migrations" >/dev/null
  for phase in new changes replay; do
    seconds[$mode.$phase]=$(run_phase "$database" "$work/$phase.sql")
  done
  if [ "$mode" = with ]; then
    facts=$(client "$database" -e "SELECT COUNT(*) FROM facts")
    rejected=$(client "$database" -e "SELECT COUNT(*) FROM message_rejections")
  fi
  client -e "DROP DATABASE $database;"
done

server=$(client -e "SELECT VERSION()")
echo "server: $server, $(nproc) CPUs; $entities entities, $changes changes, $batch rows per INSERT"
echo "facts written with the trigger: $facts; rejected: $rejected"
printf '%-14s %9s %16s %16s %8s\n' phase messages "without msg/s" "with msg/s" slowdown
for phase in new changes replay; do
  case $phase in
    new) count=$count_new ;;
    changes) count=$count_changes ;;
    replay) count=$count_replay ;;
  esac
  awk -v p="$phase" -v n="$count" -v a="${seconds[without.$phase]}" -v b="${seconds[with.$phase]}" '
    BEGIN {
      ra = a > 0 ? n / a : 0; rb = b > 0 ? n / b : 0
      printf "%-14s %9d %16.0f %16.0f %7.1fx\n", p, n, ra, rb, (rb > 0 ? ra / rb : 0)
    }'
done
