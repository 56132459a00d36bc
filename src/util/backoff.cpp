#include "util/backoff.h"

#include <algorithm>

namespace statesink {

Backoff::Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max,
                 std::uint64_t seed)
    : initial_(initial), max_(std::max(initial, max)), ceiling_(initial), random_(seed) {}

std::chrono::milliseconds Backoff::next() {
  const auto ceiling = ceiling_.count();
  std::uniform_int_distribution<long long> pick(ceiling / 2, ceiling);
  const std::chrono::milliseconds delay(pick(random_));
  ceiling_ = std::min(max_, ceiling_ * 2);
  ++attempts_;
  return delay;
}

void Backoff::reset() {
  ceiling_ = initial_;
  attempts_ = 0;
}

}  // namespace statesink
