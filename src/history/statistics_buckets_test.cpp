#include "history/statistics_buckets.h"

#include <gtest/gtest.h>

#include <vector>

namespace statesink::history {
namespace {

using namespace std::chrono;

constexpr seconds k5Min = minutes(5);

UtcTime at(int minute, int second = 0) {
  return UtcTime{} + hours(24 * 19844) + minutes(minute) + seconds(second);
}

TEST(StatisticsBuckets, FloorsToUtcMultiplesOfTheWidth) {
  EXPECT_EQ(bucket_floor(at(7, 30), k5Min), at(5));
  EXPECT_EQ(bucket_floor(at(5), k5Min), at(5));
  EXPECT_EQ(bucket_floor(at(59, 59), hours(1)), at(0));
  // Before 1970 as well.
  EXPECT_EQ(bucket_floor(UtcTime{} - seconds(1), k5Min), UtcTime{} - k5Min);
}

TEST(StatisticsBuckets, WeighsValuesByHowLongTheyHeld) {
  // 10 in force at the start, 20 from minute 1, 40 from minute 4.
  const std::vector<TimedValue> facts = {{at(1), 20.0}, {at(4), 40.0}};
  const auto rows = compute_buckets(k5Min, at(0), at(5), 10.0, facts);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].samples, 2u);
  EXPECT_DOUBLE_EQ(*rows[0].mean_value, (10.0 * 1 + 20.0 * 3 + 40.0 * 1) / 5);
  EXPECT_EQ(rows[0].min_value, 10.0);
  EXPECT_EQ(rows[0].max_value, 40.0);
  EXPECT_EQ(rows[0].first_value, 10.0);
  EXPECT_EQ(rows[0].last_value, 40.0);
  EXPECT_DOUBLE_EQ(rows[0].covered_seconds, 300.0);
}

TEST(StatisticsBuckets, CarriesAValueThroughEmptyBucketsUntilItEnds) {
  const std::vector<TimedValue> facts = {{at(12), std::nullopt}};
  const auto rows = compute_buckets(k5Min, at(0), at(20), 7.0, facts);
  ASSERT_EQ(rows.size(), 3u);  // 0-5, 5-10, 10-15 (until minute 12); none after
  EXPECT_EQ(rows[1].samples, 0u);
  EXPECT_EQ(*rows[1].mean_value, 7.0);
  EXPECT_DOUBLE_EQ(rows[2].covered_seconds, 120.0);
}

TEST(StatisticsBuckets, UnavailableTimeIsLeftOutOfTheMean) {
  const std::vector<TimedValue> facts = {{at(1), std::nullopt}, {at(4), 4.0}};
  const auto rows = compute_buckets(k5Min, at(0), at(5), 1.0, facts);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_DOUBLE_EQ(*rows[0].mean_value, (1.0 * 60 + 4.0 * 60) / 120);
  EXPECT_DOUBLE_EQ(rows[0].covered_seconds, 120.0);
  EXPECT_EQ(rows[0].samples, 1u);
}

TEST(StatisticsBuckets, AValueReplacedAtTheBucketStartDoesNotCount) {
  const std::vector<TimedValue> facts = {{at(5), 3.0}};
  const auto rows = compute_buckets(k5Min, at(5), at(10), 100.0, facts);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].max_value, 3.0);
  EXPECT_EQ(rows[0].first_value, 3.0);
}

TEST(StatisticsBuckets, OnOffGivesTheFractionOfTimeOn) {
  const std::vector<TimedValue> facts = {{at(0, 30), 1.0}, {at(2), 0.0}};
  const auto rows = compute_buckets(k5Min, at(0), at(5), 0.0, facts);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_DOUBLE_EQ(*rows[0].mean_value, 90.0 / 300.0);
}

TEST(StatisticsBuckets, NoNumberNoRow) {
  const std::vector<TimedValue> facts = {{at(3), std::nullopt}};
  EXPECT_TRUE(compute_buckets(k5Min, at(0), at(10), std::nullopt, facts).empty());
}

}  // namespace
}  // namespace statesink::history
