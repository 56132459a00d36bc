#pragma once

#include <cstdint>
#include <random>
#include <span>

namespace statesink::simulate {

// Seeded pseudo-random numbers that come out the same on every platform: the
// engine is fully specified by the standard, and the mapping to ranges is done
// here because the standard distributions may differ between libraries.
class Random {
 public:
  explicit Random(std::uint64_t seed) : engine_(seed) {}

  // Uniform in [0, n); n must be positive.
  std::uint64_t below(std::uint64_t n);
  // Uniform in [low, high], both included.
  std::int64_t between(std::int64_t low, std::int64_t high);
  // Uniform in [0, 1).
  double unit();
  // Uniform in [low, high).
  double uniform(double low, double high) { return low + (high - low) * unit(); }
  bool chance(double probability) { return unit() < probability; }
  // +1 or -1.
  int sign() { return below(2) == 0 ? -1 : 1; }

  template <typename T>
  const T& pick(std::span<const T> items) {
    return items[below(items.size())];
  }

 private:
  std::mt19937_64 engine_;
};

}  // namespace statesink::simulate
