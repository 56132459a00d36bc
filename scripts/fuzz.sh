#!/usr/bin/env bash
# Builds the fuzz targets (fuzz/*_fuzz.cpp) with clang, libFuzzer,
# AddressSanitizer and UndefinedBehaviorSanitizer, and runs each for SECONDS
# (default 5) starting from its seed corpus in fuzz/corpus/NAME/.
#
#   scripts/fuzz.sh          # the short run the test command makes
#   scripts/fuzz.sh 600      # a longer search, ten minutes per target
#
# Inputs the fuzzer finds interesting go to build-fuzz/corpus/NAME/, not into
# the repository; a crash is saved as build-fuzz/findings/NAME-crash-... and
# reproduces with: build-fuzz/fuzz/NAME_fuzz FILE
# Environment: STATESINK_FUZZ_CXX / STATESINK_FUZZ_CC (default clang++-14 /
# clang-14), STATESINK_FUZZ_BUILD (default build-fuzz), STATESINK_FUZZ_TARGETS
# (a space-separated subset).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-5}
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz: SECONDS must be a positive whole number, not '$seconds'" >&2
  exit 2
fi
cxx=${STATESINK_FUZZ_CXX:-clang++-14}
cc=${STATESINK_FUZZ_CC:-clang-14}
build=${STATESINK_FUZZ_BUILD:-build-fuzz}
targets=(${STATESINK_FUZZ_TARGETS:-sql_splitter url dotenv units spool_recovery})

if ! command -v "$cxx" >/dev/null; then
  echo "fuzz: $cxx not found; install clang-14 and libclang-rt-14-dev (scripts/install-deps.sh does)" >&2
  exit 1
fi
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
CC=$cc CXX=$cxx cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSTATESINK_FUZZ=ON -DSTATESINK_TESTS=OFF "${launcher[@]}" >/dev/null
cmake --build "$build" --target "${targets[@]/%/_fuzz}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$build/findings" "$build/logs"
passed=0
failed=()
for t in "${targets[@]}"; do
  corpus="$build/corpus/$t"
  mkdir -p "$corpus"
  log="$build/logs/$t.log"
  seeds=("fuzz/corpus/$t")
  # The shipped migrations are the SQL splitter's most realistic seeds; read
  # from where they live rather than kept twice.
  if [ "$t" = sql_splitter ]; then
    seeds+=(migrations)
  fi
  # -rss_limit_mb and -timeout turn a blow-up or a hang into a finding.
  if "$build/fuzz/${t}_fuzz" "$corpus" "${seeds[@]}" -max_total_time="$seconds" \
    -timeout=10 -rss_limit_mb=2048 -max_len=65536 -artifact_prefix="$build/findings/$t-" \
    >"$log" 2>&1; then
    echo "fuzz: $t passed ($(grep -c '' <(ls "$corpus")) inputs in its corpus)"
    passed=$((passed + 1))
  else
    echo "fuzz: $t FAILED; the log ends with:"
    tail -n 40 "$log" | sed 's/^/    /'
    failed+=("$t")
  fi
done
echo "fuzz: ${passed} passed, ${#failed[@]} failed${failed:+ (${failed[*]})}"
[ ${#failed[@]} -eq 0 ]
