#pragma once

// Clocks as the phases read them: steady time for durations, wall-clock
// microseconds where the database's timestamps are compared, and this
// process's own CPU time.

#include <chrono>
#include <cstdint>

namespace statesink::bench {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start);

// Microseconds since the epoch, the clock the ingester stamps received_at with.
std::int64_t now_micros();

// User + system CPU seconds of the benchmark process itself.
double self_cpu_seconds();

}  // namespace statesink::bench
