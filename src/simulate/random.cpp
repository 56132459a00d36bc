#include "simulate/random.h"

namespace statesink::simulate {

std::uint64_t Random::below(std::uint64_t n) {
  // Draws below the threshold would make the low residues more likely than
  // the others; 2^64 mod n of them are dropped.
  const std::uint64_t threshold = (0 - n) % n;
  for (;;) {
    const std::uint64_t draw = engine_();
    if (draw >= threshold) {
      return draw % n;
    }
  }
}

std::int64_t Random::between(std::int64_t low, std::int64_t high) {
  const auto span = static_cast<std::uint64_t>(high - low) + 1;
  return low + static_cast<std::int64_t>(below(span));
}

double Random::unit() {
  // 53 random bits fill a double's mantissa exactly.
  return static_cast<double>(engine_() >> 11) * 0x1.0p-53;
}

}  // namespace statesink::simulate
