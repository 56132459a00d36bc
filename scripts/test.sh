#!/usr/bin/env bash
# Runs every test: installs what is missing, runs each fuzz target for a few
# seconds (scripts/fuzz.sh; set STATESINK_FUZZ_SECONDS=0 to skip it, or more
# for a longer search), builds with AddressSanitizer and
# UndefinedBehaviorSanitizer, then runs unit tests (no servers) and integration
# tests (each binary starts its own private MariaDB and Mosquitto on 127.0.0.1).
# CTest's summary is the last line.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

fuzz_seconds=${STATESINK_FUZZ_SECONDS:-5}
if [ "$fuzz_seconds" != 0 ]; then
  scripts/fuzz.sh "$fuzz_seconds"
fi

build=${STATESINK_TEST_BUILD:-build-test}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSTATESINK_SANITIZE=ON -DSTATESINK_WERROR=ON >/dev/null
cmake --build "$build"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" "$@"
