#!/usr/bin/env bash
# The main job on a fresh Debian/Ubuntu machine: install what is needed, build,
# start a private MariaDB and Mosquitto on 127.0.0.1 (unless STATESINK_DB and
# STATESINK_MQTT point at real ones), migrate, ingest, and publish simulated
# Home Assistant traffic when no real broker was given. After a short while it
# shows what was stored. Ctrl-C stops everything this script started.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/devservers.sh
. scripts/lib/devservers.sh

scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# Only what the main job runs; the tests build with scripts/test.sh.
cmake --build build --target statesink devservers

state_dir=${STATESINK_STATE_DIR:-.statesink}
mkdir -p "$state_dir"
# Every process started here runs in a session of its own (setsid), so that
# Ctrl-C reaches only this script, which then stops them one by one in order:
# a signal to all at once would stop the database under the ingester.
pids=()
stop_all() {
  # Newest first: the simulator, then the ingester (it commits what it holds),
  # then the servers.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    if kill -0 "${pids[i]}" 2>/dev/null; then
      kill -TERM "${pids[i]}" 2>/dev/null || true
      wait "${pids[i]}" 2>/dev/null || true
    fi
  done
}
trap stop_all EXIT
trap 'echo; echo "run: stopping"; exit 0' INT TERM

real_db=${STATESINK_DB:-}
real_mqtt=${STATESINK_MQTT:-}
if [ -z "$real_db" ] || [ -z "$real_mqtt" ]; then
  rm -f "$state_dir/servers.env"
  setsid build/devservers --dir "$state_dir/servers" --env-file "$state_dir/servers.env" \
    >"$state_dir/devservers.log" 2>&1 &
  pids+=($!)
  wait_for_devservers "${pids[0]}" "$state_dir/servers.env" "$state_dir/devservers.log" run 60
  set -a
  # shellcheck disable=SC1090,SC1091
  . "$state_dir/servers.env"
  set +a
  # What the user set wins over the private servers.
  [ -n "$real_db" ] && export STATESINK_DB="$real_db"
  [ -n "$real_mqtt" ] && export STATESINK_MQTT="$real_mqtt"
  echo "run: private servers started on 127.0.0.1 (data in $state_dir/servers)"
fi

build/statesink migrate up
echo

topics=()
if [ -z "$real_mqtt" ]; then
  # The private broker carries only the simulator's installations, whose base
  # topics are not all under homeassistant/.
  topics=(--topic '#')
fi
setsid build/statesink ingest --spool-dir "$state_dir/spool" --client-id "statesink-run-$(hostname)" \
  "${topics[@]}" --report-interval 10s 2>"$state_dir/ingest.log" &
pids+=($!)
echo "run: ingesting (log: $state_dir/ingest.log)"

if [ -z "$real_mqtt" ]; then
  echo "run: no STATESINK_MQTT given, so publishing simulated Home Assistant traffic"
  echo "     (2 installations, 25 entities each, 200 messages/s)"
  sleep 1
  setsid build/statesink simulate --installations 2 --entities 25 --rate 200 --duration 24h \
    >"$state_dir/simulate.log" 2>&1 &
  pids+=($!)
fi

sleep 15
echo
echo "run: what is stored after 15 seconds:"
if command -v mariadb >/dev/null; then
  # The URL's parts, for the mariadb client.
  url=${STATESINK_DB#*://}
  creds=${url%%@*}
  hostpart=${url#*@}
  hostport=${hostpart%%/*}
  database=${hostpart#*/}
  database=${database%%\?*}
  user=${creds%%:*}
  password=""
  [ "$creds" != "$user" ] && password=${creds#*:}
  password=${password:-${STATESINK_DB_PASSWORD:-}}
  host=${hostport%%:*}
  port=3306
  [ "$hostport" != "$host" ] && port=${hostport##*:}
  MYSQL_PWD="$password" mariadb --no-defaults --protocol=TCP -h "$host" \
    -P "$port" -u "$user" "$database" --table -e "
      SELECT (SELECT COUNT(*) FROM messages) AS messages,
             (SELECT COUNT(*) FROM base_topics) AS base_topics,
             (SELECT COUNT(*) FROM entities) AS entities,
             (SELECT COUNT(*) FROM facts) AS facts,
             (SELECT COUNT(*) FROM rejected_messages) AS rejected;
      SELECT b.label AS base_topic, e.label AS entity, c.value, c.last_seen
        FROM current_states c
        JOIN states s ON s.id = c.state_id
        JOIN entities e ON e.id = s.entity_id
        JOIN base_topics b ON b.id = e.base_topic_id
       WHERE s.label = 'state'
       ORDER BY c.last_seen DESC LIMIT 8;" || true
fi
echo
echo "run: try, in another terminal (settings are in $state_dir/servers.env):"
echo "       set -a; . $state_dir/servers.env; set +a"
echo "       build/statesink query latest ENTITY_ID -n 5     (an entity id from the table above)"
echo "       build/statesink migrate status"
echo "     Ingestion keeps running; press Ctrl-C to stop everything."
wait "${pids[-1]}"
