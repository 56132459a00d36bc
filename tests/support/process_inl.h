#pragma once

// Template definitions for process.h, which includes this file at its end.

#include <algorithm>
#include <chrono>
#include <thread>

namespace statesink::testing {

template <typename Condition>
bool wait_until(Condition condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    // Never sleep past the deadline, so a long interval cannot stretch the timeout,
    // and still check once more after the last sleep.
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(interval, deadline - now));
  }
}

}  // namespace statesink::testing
