#!/bin/sh
# Entry point of the mosquitto service: writes the password file from the
# passwords in .env, then starts the broker with mosquitto.conf. The file is
# written again at every start, so changing a password in .env and running
# `docker compose up -d` applies it.
set -eu

: "${MQTT_STATESINK_PASSWORD:?set MQTT_STATESINK_PASSWORD in .env}"
: "${MQTT_HOMEASSISTANT_PASSWORD:?set MQTT_HOMEASSISTANT_PASSWORD in .env}"

passwords=/mosquitto/passwd
umask 077
rm -f "$passwords.new"
mosquitto_passwd -c -b "$passwords.new" statesink "$MQTT_STATESINK_PASSWORD"
mosquitto_passwd -b "$passwords.new" homeassistant "$MQTT_HOMEASSISTANT_PASSWORD"
# The broker reads the file as the mosquitto user, and wants it private.
chown mosquitto:mosquitto "$passwords.new"
chmod 0600 "$passwords.new"
mv "$passwords.new" "$passwords"
chown -R mosquitto:mosquitto /mosquitto/data

exec /usr/sbin/mosquitto -c /mosquitto/config/mosquitto.conf
