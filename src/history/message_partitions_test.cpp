#include "history/message_partitions.h"

#include <gtest/gtest.h>

#include <vector>

#include "util/error.h"

namespace statesink::history {
namespace {

using namespace std::chrono;

UtcTime day(int y, unsigned m, unsigned d) { return sys_days{year{y} / month{m} / d}; }

UtcTime at(int y, unsigned m, unsigned d, int hour) { return day(y, m, d) + hours(hour); }

// The catch-all alone, as migration 0010 leaves a fresh table.
std::vector<MessagePartition> fresh() { return {{"p_future", std::nullopt, std::nullopt, 0}}; }

TEST(MessagePartitions, AFreshTableGetsThePastThisMonthAndThoseAhead) {
  const std::vector<UtcTime> bounds =
      missing_bounds(fresh(), at(2026, 12, 2, 5), {PartitionPeriod::month, 3});
  EXPECT_EQ(bounds, (std::vector<UtcTime>{day(2026, 12, 1), day(2027, 1, 1), day(2027, 2, 1),
                                          day(2027, 3, 1), day(2027, 4, 1)}));
  EXPECT_EQ(split_statement("messages", fresh(), bounds),
            "ALTER TABLE `messages` REORGANIZE PARTITION `p_future` INTO (\n"
            "  PARTITION `p_before_20261201` VALUES LESS THAN ('2026-12-01 00:00:00.000000'),\n"
            "  PARTITION `p20261201` VALUES LESS THAN ('2027-01-01 00:00:00.000000'),\n"
            "  PARTITION `p20270101` VALUES LESS THAN ('2027-02-01 00:00:00.000000'),\n"
            "  PARTITION `p20270201` VALUES LESS THAN ('2027-03-01 00:00:00.000000'),\n"
            "  PARTITION `p20270301` VALUES LESS THAN ('2027-04-01 00:00:00.000000'),\n"
            "  PARTITION `p_future` VALUES LESS THAN (MAXVALUE)\n)");
}

TEST(MessagePartitions, OnlyBoundsAboveTheLastOneAreAdded) {
  std::vector<MessagePartition> partitions = {
      {"p_before_20261201", std::nullopt, day(2026, 12, 1), 0},
      {"p20261201", day(2026, 12, 1), day(2027, 1, 1), 0},
      {"p_future", day(2027, 1, 1), std::nullopt, 0}};
  EXPECT_EQ(missing_bounds(partitions, at(2026, 12, 31, 23), {PartitionPeriod::month, 1}),
            std::vector<UtcTime>{day(2027, 2, 1)});
  // Days after months: the day after tomorrow is the only one missing.
  EXPECT_EQ(missing_bounds(partitions, at(2026, 12, 31, 23), {PartitionPeriod::day, 1}),
            std::vector<UtcTime>{day(2027, 1, 2)});
  EXPECT_TRUE(missing_bounds(partitions, at(2026, 12, 30, 23), {PartitionPeriod::day, 1}).empty());
  // Days after a gap: the first new partition spans the missed time.
  const std::vector<UtcTime> days =
      missing_bounds(partitions, at(2027, 3, 10, 12), {PartitionPeriod::day, 2});
  EXPECT_EQ(days, (std::vector<UtcTime>{day(2027, 3, 10), day(2027, 3, 11), day(2027, 3, 12),
                                        day(2027, 3, 13)}));
  EXPECT_NE(split_statement("messages", partitions, days)
                .find("PARTITION `p20270101` VALUES LESS THAN ('2027-03-10 00:00:00.000000')"),
            std::string::npos);
}

TEST(MessagePartitions, MonthsRollOverYearsAndShortMonths) {
  const std::vector<UtcTime> bounds =
      missing_bounds(fresh(), at(2027, 1, 31, 0), {PartitionPeriod::month, 1});
  EXPECT_EQ(bounds, (std::vector<UtcTime>{day(2027, 1, 1), day(2027, 2, 1), day(2027, 3, 1)}));
}

TEST(MessagePartitions, AClauseFromTheOldestRowsMonthToThoseAhead) {
  const std::string clause =
      partition_clause(at(2026, 9, 15, 3), at(2026, 12, 2, 0), {PartitionPeriod::month, 1});
  EXPECT_EQ(clause,
            "PARTITION BY RANGE COLUMNS (received_at) (\n"
            "  PARTITION `p_before_20261001` VALUES LESS THAN ('2026-10-01 00:00:00.000000'),\n"
            "  PARTITION `p20261001` VALUES LESS THAN ('2026-11-01 00:00:00.000000'),\n"
            "  PARTITION `p20261101` VALUES LESS THAN ('2026-12-01 00:00:00.000000'),\n"
            "  PARTITION `p20261201` VALUES LESS THAN ('2027-01-01 00:00:00.000000'),\n"
            "  PARTITION `p20270101` VALUES LESS THAN ('2027-02-01 00:00:00.000000'),\n"
            "  PARTITION `p_future` VALUES LESS THAN (MAXVALUE)\n)");
  // A row from the year 1000 does not make ten thousand months of partitions.
  const std::string ancient =
      partition_clause(at(1000, 1, 1, 0), at(2026, 12, 2, 0), {PartitionPeriod::day, 3});
  std::size_t count = 0;
  for (auto at = ancient.find("PARTITION `"); at != std::string::npos;
       at = ancient.find("PARTITION `", at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 1024U + 1U);
}

TEST(MessagePartitions, PeriodsAreDayOrMonth) {
  EXPECT_EQ(parse_partition_period("day", "--period"), PartitionPeriod::day);
  EXPECT_EQ(parse_partition_period("month", "--period"), PartitionPeriod::month);
  EXPECT_THROW(parse_partition_period("week", "--period"), UsageError);
}

}  // namespace
}  // namespace statesink::history
