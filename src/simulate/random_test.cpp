#include "simulate/random.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace statesink::simulate {
namespace {

TEST(Random, SameSeedSameDraws) {
  Random a(7), b(7), c(8);
  std::vector<std::uint64_t> from_a, from_b, from_c;
  for (int i = 0; i < 100; ++i) {
    from_a.push_back(a.below(1000));
    from_b.push_back(b.below(1000));
    from_c.push_back(c.below(1000));
  }
  EXPECT_EQ(from_a, from_b);
  EXPECT_NE(from_a, from_c);
}

TEST(Random, RangesHoldAndAreCovered) {
  Random random(1);
  std::array<int, 7> seen{};
  for (int i = 0; i < 10'000; ++i) {
    const auto draw = random.between(-3, 3);
    ASSERT_GE(draw, -3);
    ASSERT_LE(draw, 3);
    ++seen[static_cast<std::size_t>(draw + 3)];
    const double unit = random.unit();
    ASSERT_GE(unit, 0.0);
    ASSERT_LT(unit, 1.0);
  }
  for (int count : seen) {
    EXPECT_GT(count, 1'000);  // about 1,430 each
  }
}

}  // namespace
}  // namespace statesink::simulate
