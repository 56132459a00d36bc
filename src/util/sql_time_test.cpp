#include "util/sql_time.h"

#include <gtest/gtest.h>

namespace statesink {
namespace {

TEST(SqlTime, FormatsMicrosecondsZeroPadded) {
  EXPECT_EQ(format_sql_datetime_us(0), "1970-01-01 00:00:00.000000");
  EXPECT_EQ(format_sql_datetime_us(1'714'564'803'512'345), "2024-05-01 12:00:03.512345");
  EXPECT_EQ(format_sql_datetime_us(1'704'067'199'000'007), "2023-12-31 23:59:59.000007");
}

TEST(SqlTime, YearsBeyondDatetimeAreWrittenInFull) {
  // 10000-01-01 00:00:00 UTC.
  EXPECT_EQ(format_sql_datetime_us(253'402'300'800'000'000), "10000-01-01 00:00:00.000000");
}

}  // namespace
}  // namespace statesink
