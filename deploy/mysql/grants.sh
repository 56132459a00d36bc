#!/bin/bash
# Creates statesink's least-privilege accounts by running sql/grants.sql with
# the passwords from the environment in place of its CHANGE_ME_ placeholders,
# then sets those passwords (grants.sql leaves existing accounts alone, so
# this is how a password changed in .env takes effect).
#
# Run after `statesink migrate up`: grants.sql grants on tables the
# migrations create. The compose file runs it as the one-shot `grants`
# service; by hand:
#
#   MYSQL_HOST=127.0.0.1 MYSQL_ROOT_PASSWORD=... DB_INGEST_PASSWORD=... \
#   DB_READER_PASSWORD=... deploy/mysql/grants.sh sql/grants.sql
#
# Environment: MYSQL_HOST (default mysql), MYSQL_PORT (3306), MYSQL_ADMIN_USER
# (root) with MYSQL_ROOT_PASSWORD, STATESINK_DATABASE (statesink),
# DB_INGEST_PASSWORD, DB_READER_PASSWORD.
set -euo pipefail

grants_file=${1:-/statesink/grants.sql}
host=${MYSQL_HOST:-mysql}
port=${MYSQL_PORT:-3306}
admin=${MYSQL_ADMIN_USER:-root}
database=${STATESINK_DATABASE:-statesink}
: "${MYSQL_ROOT_PASSWORD:?set MYSQL_ROOT_PASSWORD (the password of $admin)}"
: "${DB_INGEST_PASSWORD:?set DB_INGEST_PASSWORD in .env}"
: "${DB_READER_PASSWORD:?set DB_READER_PASSWORD in .env}"

# A password inside a single-quoted SQL string: double the quotes and the
# backslashes.
sql_string() {
  local s=${1//\\/\\\\}
  printf "'%s'" "${s//\'/\'\'}"
}
ingest=$(sql_string "$DB_INGEST_PASSWORD")
reader=$(sql_string "$DB_READER_PASSWORD")

script=$(<"$grants_file")
if [[ $script != *"'CHANGE_ME_ingest_password'"* || $script != *"'CHANGE_ME_reader_password'"* ]]; then
  echo "grants: $grants_file has no CHANGE_ME_ingest_password / CHANGE_ME_reader_password placeholders" >&2
  exit 1
fi
script=${script//"'CHANGE_ME_ingest_password'"/"$ingest"}
script=${script//"'CHANGE_ME_reader_password'"/"$reader"}
script+="
ALTER USER 'statesink_ingest'@'%' IDENTIFIED BY $ingest;
ALTER USER 'statesink_reader'@'%' IDENTIFIED BY $reader;
"

# The admin password goes through a private option file, not the command line.
options=$(mktemp)
trap 'rm -f "$options"' EXIT
# Quoted, so that a '#' in it is not a comment; backslashes are escapes there.
printf '[client]\npassword="%s"\n' "${MYSQL_ROOT_PASSWORD//\\/\\\\}" >"$options"

mysql --defaults-extra-file="$options" --protocol=TCP --host="$host" --port="$port" \
  --user="$admin" --batch "$database" <<<"$script"
echo "grants: accounts statesink_ingest and statesink_reader are ready in $database"
