#include "simulate/timestamp.h"

#include <gtest/gtest.h>

namespace statesink::simulate {
namespace {

using namespace std::chrono;

Timestamp at(year_month_day date, hours h, minutes m, seconds s, microseconds us = {}) {
  return sys_days{date} + h + m + s + us;
}

TEST(FormatTimestamp, MicrosecondsOnlyWhenNotZero) {
  EXPECT_EQ(format_timestamp(at(2024y / 5 / 1, 12h, 0min, 3s, 512345us)),
            "2024-05-01T12:00:03.512345+00:00");
  EXPECT_EQ(format_timestamp(at(2024y / 5 / 1, 12h, 0min, 0s)), "2024-05-01T12:00:00+00:00");
  EXPECT_EQ(format_timestamp(at(2024y / 5 / 1, 12h, 0min, 3s, 5000us)),
            "2024-05-01T12:00:03.005000+00:00");
}

TEST(FormatTimestamp, CalendarEdges) {
  EXPECT_EQ(format_timestamp(at(2024y / 2 / 29, 23h, 59min, 59s, 999999us)),
            "2024-02-29T23:59:59.999999+00:00");
  EXPECT_EQ(format_timestamp(at(1969y / 12 / 31, 23h, 59min, 59s, 1us)),
            "1969-12-31T23:59:59.000001+00:00");
}

}  // namespace
}  // namespace statesink::simulate
