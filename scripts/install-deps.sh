#!/usr/bin/env bash
# Installs what statesink needs to build, test and run on Debian 12 / Ubuntu 22.04+.
# Idempotent: when every package is present it only checks and returns.
#
# STATESINK_DEPS=build installs only what a Release build without tests needs
# (the Dockerfile's build stage uses it); the default, STATESINK_DEPS=all, adds
# the test libraries, the servers the tests and the main job start, the
# tools the deployment checks use, and clang with libFuzzer for scripts/fuzz.sh.
set -euo pipefail

build_packages=(
  build-essential cmake ninja-build pkg-config
  libmariadb-dev libmariadb-dev-compat libmosquitto-dev libssl-dev
  libcli11-dev nlohmann-json3-dev libspdlog-dev libcpp-httplib-dev zlib1g-dev
)
test_packages=(
  git libgtest-dev libgmock-dev
  mariadb-server mariadb-client mosquitto mosquitto-clients
  python3-yaml
  clang-14 libclang-rt-14-dev
  # The three-node Galera cluster of the cluster tests: the provider library, and the tool
  # its state transfers copy data directories with.
  galera-4 rsync
  # Certificates for the test of ingestion over TLS.
  openssl
)
case "${STATESINK_DEPS:-all}" in
  all) packages=("${build_packages[@]}" "${test_packages[@]}") ;;
  build) packages=("${build_packages[@]}") ;;
  *)
    echo "install-deps: STATESINK_DEPS must be 'all' (the default) or 'build', not '${STATESINK_DEPS}'" >&2
    exit 2
    ;;
esac

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null; then
    echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Packaged servers must not be started by the package scripts: statesink runs
# its own private instances, and a container or CI machine has no init system.
policy_added=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  policy_added=1
fi
cleanup() { if [ -n "$policy_added" ]; then $sudo rm -f /usr/sbin/policy-rc.d; fi; }
trap cleanup EXIT
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
