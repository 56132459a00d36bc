#!/bin/bash
# Container health check for `statesink ingest`: asks its /healthz endpoint,
# which answers 200 "ok" while the broker and the database are connected and
# the backlog drains, and 503 with the reason otherwise. Needs nothing but
# bash (no curl in the image). Without STATESINK_METRICS_ADDR there is no
# endpoint to ask, and the check passes while the process runs.
set -u

addr=${STATESINK_METRICS_ADDR:-}
if [ -z "$addr" ]; then
  exit 0
fi
port=${addr##*:}
host=${addr%:*}
host=${host#[}
host=${host%]}
# A wildcard listen address is reached through loopback.
case "$host" in
  "" | 0.0.0.0 | "*") host=127.0.0.1 ;;
  ::) host=::1 ;;
esac

reply=$(timeout 5 bash -c '
  exec 3<>"/dev/tcp/$1/$2" || exit 1
  printf "GET /healthz HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n" "$1" >&3
  cat <&3
' healthcheck "$host" "$port" 2>/dev/null) || {
  echo "statesink health: no answer from http://$addr/healthz"
  exit 1
}
status=$(printf '%s\n' "$reply" | head -n 1 | tr -d '\r')
body=$(printf '%s\n' "$reply" | sed '1,/^\r\{0,1\}$/d')
echo "statesink health: ${body:-$status}"
case "$status" in
  "HTTP/1."[01]" 200"*) exit 0 ;;
  *) exit 1 ;;
esac
