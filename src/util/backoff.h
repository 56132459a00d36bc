#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace statesink {

// Delays between retries: doubling from `initial` up to `max`, each drawn at
// random from [delay/2, delay] so that many clients that lost the same server
// do not come back in lockstep.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max,
          std::uint64_t seed = std::random_device{}());

  std::chrono::milliseconds next();
  void reset();
  int attempts() const { return attempts_; }

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  std::chrono::milliseconds ceiling_;
  int attempts_ = 0;
  std::mt19937_64 random_;
};

}  // namespace statesink
