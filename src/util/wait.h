#pragma once

#include <atomic>
#include <chrono>
#include <stop_token>

namespace statesink {

// Waits up to `delay`, returning early once `stop` is requested (checked every
// few tens of milliseconds). True when the whole delay passed.
bool wait_for(std::chrono::milliseconds delay, const std::stop_token& stop);
// The same, returning early once `abandon` is true.
bool wait_for(std::chrono::milliseconds delay, const std::atomic<bool>& abandon);

}  // namespace statesink
