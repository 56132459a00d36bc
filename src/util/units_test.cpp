#include "util/units.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace statesink {
namespace {

using std::chrono::milliseconds;

TEST(ParseDuration, UnitsAndBareSeconds) {
  EXPECT_EQ(parse_duration("250ms", "x"), milliseconds(250));
  EXPECT_EQ(parse_duration("10", "x"), milliseconds(10'000));
  EXPECT_EQ(parse_duration("10s", "x"), milliseconds(10'000));
  EXPECT_EQ(parse_duration("5m", "x"), milliseconds(300'000));
  EXPECT_EQ(parse_duration("2h", "x"), milliseconds(7'200'000));
  EXPECT_EQ(parse_duration("30d", "x"), milliseconds(2'592'000'000LL));
}

TEST(ParseDuration, RejectsOtherText) {
  for (const char* bad : {"", "s", "-5s", "5 s", "5w", "1.5s", "99999999999999999999d"}) {
    EXPECT_THROW(parse_duration(bad, "--older-than"), UsageError) << bad;
  }
  try {
    parse_duration("soon", "--older-than");
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(),
                 "--older-than: 'soon' is not a duration (examples: 250ms, 10s, 5m, 2h, 30d)");
  }
}

TEST(ParseSize, BinaryAndDecimalUnits) {
  EXPECT_EQ(parse_size("65536", "x"), 65536U);
  EXPECT_EQ(parse_size("64MiB", "x"), 64ULL << 20);
  EXPECT_EQ(parse_size("1G", "x"), 1ULL << 30);
  EXPECT_EQ(parse_size("2GB", "x"), 2'000'000'000ULL);
  EXPECT_THROW(parse_size("1TB", "x"), UsageError);
  EXPECT_THROW(parse_size("lots", "x"), UsageError);
}

}  // namespace
}  // namespace statesink
