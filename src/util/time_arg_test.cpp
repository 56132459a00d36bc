#include "util/time_arg.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "util/error.h"

namespace statesink {
namespace {

using namespace std::chrono;

UtcTime at(const char* sql_time) {
  // Built from parts so the tests do not depend on the parser they check.
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, us = 0;
  std::sscanf(sql_time, "%d-%d-%d %d:%d:%d.%d", &y, &mo, &d, &h, &mi, &s, &us);
  return sys_days{year{y} / mo / d} + hours{h} + minutes{mi} + seconds{s} + microseconds{us};
}

const UtcTime kNow = at("2024-05-01 12:00:00.500000");

std::string parsed(const char* text) {
  return format_sql_datetime(parse_time_arg(text, "--from", kNow));
}

TEST(TimeArg, IsoWithZoneIsConvertedToUtc) {
  EXPECT_EQ(parsed("2024-05-01T12:00:00Z"), "2024-05-01 12:00:00.000000");
  EXPECT_EQ(parsed("2024-05-01T14:00:00+02:00"), "2024-05-01 12:00:00.000000");
  EXPECT_EQ(parsed("2024-05-01T14:00:00+0200"), "2024-05-01 12:00:00.000000");
  EXPECT_EQ(parsed("2024-05-01T14:00:00+02"), "2024-05-01 12:00:00.000000");
  EXPECT_EQ(parsed("2024-05-01T01:30:00-05:30"), "2024-05-01 07:00:00.000000");
  EXPECT_EQ(parsed("2024-01-01T00:30:00+01:00"), "2023-12-31 23:30:00.000000");
}

TEST(TimeArg, WithoutZoneIsUtc) {
  EXPECT_EQ(parsed("2024-05-01 12:00:00"), "2024-05-01 12:00:00.000000");
  EXPECT_EQ(parsed("2024-05-01T12:00"), "2024-05-01 12:00:00.000000");
  EXPECT_EQ(parsed("2024-05-01"), "2024-05-01 00:00:00.000000");
  EXPECT_EQ(parsed("2024-02-29 23:59:59"), "2024-02-29 23:59:59.000000");
}

TEST(TimeArg, FractionsUpToMicroseconds) {
  EXPECT_EQ(parsed("2024-05-01T12:00:03.512345+00:00"), "2024-05-01 12:00:03.512345");
  EXPECT_EQ(parsed("2024-05-01T12:00:03.5Z"), "2024-05-01 12:00:03.500000");
  EXPECT_EQ(parsed("2024-05-01 12:00:03.000001"), "2024-05-01 12:00:03.000001");
}

TEST(TimeArg, RelativeToNow) {
  EXPECT_EQ(parsed("now"), "2024-05-01 12:00:00.500000");
  EXPECT_EQ(parsed("-2h"), "2024-05-01 10:00:00.500000");
  EXPECT_EQ(parsed("now-2h"), "2024-05-01 10:00:00.500000");
  EXPECT_EQ(parsed("-30m"), "2024-05-01 11:30:00.500000");
  EXPECT_EQ(parsed("-90s"), "2024-05-01 11:58:30.500000");
  EXPECT_EQ(parsed("-7d"), "2024-04-24 12:00:00.500000");
  EXPECT_EQ(parsed("-250ms"), "2024-05-01 12:00:00.250000");
}

TEST(TimeArg, MalformedIsAUsageErrorListingTheForms) {
  for (const char* bad : {"",
                          "yesterday",
                          "2024-13-01",
                          "2024-02-30",
                          "2023-02-29 00:00",
                          "2024-05-01T25:00:00Z",
                          "2024-05-01T12:60",
                          "2024-05-01T12:00:60",
                          "2024-05-01T12",
                          "2024-5-1",
                          "2024-05-01T12:00:00.",
                          "0999-01-01",
                          "2024-05-01T12:00:00.1234567",
                          "2024-05-01T12:00:00+2",
                          "-",
                          "-2x",
                          "+2h",
                          "now+2h",
                          "now-",
                          "2024-05-01T12:00:00ZZ",
                          "1714564800",
                          "2024-05-01T12:00:00 +02:00",
                          "-100000000d"}) {
    EXPECT_THROW(parse_time_arg(bad, "--from", kNow), UsageError) << bad;
  }
  try {
    parse_time_arg("yesterday", "--to", kNow);
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()),
              "--to: 'yesterday' is not a time; use " + std::string(kTimeForms));
  }
}

TEST(TimeArg, FormatsForSql) {
  EXPECT_EQ(format_sql_datetime(at("0999-12-31 23:59:59.999999") + microseconds{1}),
            "1000-01-01 00:00:00.000000");
  EXPECT_EQ(format_sql_datetime(at("9999-12-31 23:59:59.999999")), "9999-12-31 23:59:59.999999");
}

}  // namespace
}  // namespace statesink
