#include "util/backoff.h"

#include <gtest/gtest.h>

namespace statesink {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, DoublesWithinJitterUpToTheMaximum) {
  Backoff backoff(milliseconds(100), milliseconds(1000), 42);
  long long ceiling = 100;
  for (int i = 0; i < 10; ++i) {
    const auto delay = backoff.next().count();
    EXPECT_GE(delay, ceiling / 2) << i;
    EXPECT_LE(delay, ceiling) << i;
    ceiling = std::min(1000LL, ceiling * 2);
  }
  EXPECT_EQ(backoff.attempts(), 10);
}

TEST(Backoff, JitterSpreadsClientsApart) {
  Backoff a(milliseconds(1000), milliseconds(1000), 1);
  Backoff b(milliseconds(1000), milliseconds(1000), 2);
  int different = 0;
  for (int i = 0; i < 20; ++i) {
    different += a.next() != b.next() ? 1 : 0;
  }
  EXPECT_GT(different, 10);
}

TEST(Backoff, ResetStartsOver) {
  Backoff backoff(milliseconds(10), milliseconds(10000), 7);
  for (int i = 0; i < 8; ++i) {
    backoff.next();
  }
  backoff.reset();
  EXPECT_EQ(backoff.attempts(), 0);
  EXPECT_LE(backoff.next().count(), 10);
}

}  // namespace
}  // namespace statesink
