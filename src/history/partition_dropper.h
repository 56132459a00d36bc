#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/connection.h"
#include "util/time_arg.h"

namespace statesink::history {

// A partition of `messages` that holds only rows received before a cutoff.
struct ExpiredPartition {
  std::string name;
  std::optional<UtcTime> from;  // nullopt: the first partition, open below
  UtcTime below;
  std::uint64_t messages = 0;  // counted
};

// The partitions of a managed partitioned `messages` whose every row was
// received before `cutoff`, oldest first; empty for an unpartitioned table.
std::vector<ExpiredPartition> expired_partitions(db::Connection& connection, UtcTime cutoff);

struct PartitionDrop {
  std::uint64_t partitions = 0;
  std::uint64_t messages = 0;    // rows they held, as counted just before
  std::uint64_t rejections = 0;  // rows of message_rejections for them
  std::chrono::milliseconds took{0};
};

// Drops whole partitions in one ALTER TABLE, after deleting the rejection
// records of their messages. Inserts wait for it (a metadata lock) only as
// long as the drop itself, which does not depend on how many rows go; on a
// Galera cluster it runs in total order isolation, on every node at once.
// A dropped first partition's range passes to the next one, so a row of any
// age still lands somewhere.
PartitionDrop drop_partitions(db::Connection& connection,
                              const std::vector<ExpiredPartition>& partitions);

// The bound below which the chunked delete has nothing left once
// `partitions` are gone: the start of the oldest partition that stays.
std::optional<UtcTime> kept_from(const std::vector<ExpiredPartition>& partitions);

}  // namespace statesink::history
