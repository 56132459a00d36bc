#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/connection.h"
#include "util/time_arg.h"

namespace statesink::history {

// The span of received_at one partition of `messages` holds.
enum class PartitionPeriod { day, month };
const char* to_string(PartitionPeriod period);
// Throws UsageError for anything but "day" or "month".
PartitionPeriod parse_partition_period(std::string_view text, std::string_view option);

// How statesink lays out new partitions, kept in `settings` (migration 0010)
// so that every host and command agrees.
struct PartitionLayout {
  PartitionPeriod period = PartitionPeriod::month;
  int ahead = 3;  // periods after the current one that get a partition in advance
};
inline constexpr int kMaxPartitionsAhead = 366;
PartitionLayout read_partition_layout(db::Connection& connection);
void save_partition_layout(db::Connection& connection, const PartitionLayout& layout);

// One partition of a table partitioned by RANGE COLUMNS (received_at), in order.
struct MessagePartition {
  std::string name;
  std::optional<UtcTime> from;       // the bound of the one before; nullopt for the first
  std::optional<UtcTime> below;      // its own bound; nullopt for the catch-all (MAXVALUE)
  std::uint64_t estimated_rows = 0;  // the server's statistics, not a count
};

enum class Partitioning {
  none,     // one plain table: prune deletes in chunks
  managed,  // RANGE COLUMNS (received_at) ending in a MAXVALUE partition
  foreign,  // partitioned some other way (by hand): statesink leaves it alone
};

struct TablePartitions {
  Partitioning kind = Partitioning::none;
  std::vector<MessagePartition> partitions;  // empty unless partitioned
};

TablePartitions read_partitions(db::Connection& connection, std::string_view table = "messages");

// Bounds (start of a period) that `partitions` lacks to reach `layout.ahead`
// periods past the one holding `now`, in order: the start of the current
// period, when above the last bound, and the ends of the current and the
// following periods. A gap of missed periods is not filled in: the first new
// partition then spans it.
std::vector<UtcTime> missing_bounds(const std::vector<MessagePartition>& partitions, UtcTime now,
                                    const PartitionLayout& layout);

// "p20261201" for the partition starting at that day; "p_before_20261201"
// for a first partition, open below.
std::string partition_name(std::optional<UtcTime> from, UtcTime below);

// The ALTER TABLE that splits the catch-all partition at `bounds`; "" when
// there is nothing to add. The catch-all keeps its name.
std::string split_statement(std::string_view table, const std::vector<MessagePartition>& partitions,
                            const std::vector<UtcTime>& bounds);

// The partitions a layout starts with when a table is partitioned from
// scratch holding rows from `oldest` on: one per period from the one holding
// `oldest` to `layout.ahead` periods past `now`, the first open below, and
// the catch-all. For CREATE/ALTER TABLE ... PARTITION BY.
std::string partition_clause(std::optional<UtcTime> oldest, UtcTime now,
                             const PartitionLayout& layout);

struct SplitResult {
  std::vector<std::string> added;  // names of the new partitions
  std::string statement;           // what ran, or would run; "" when nothing
};

// Makes sure `messages` has its partitions ahead of `now`: splits the
// catch-all partition, which is cheap while it holds few rows (a row dated
// past the last bound is copied into its new partition). Idempotent; when
// another statesink split at the same moment, reads the layout again and
// does what is still missing. Does nothing on an unpartitioned table.
SplitResult split_ahead(db::Connection& connection, UtcTime now, const PartitionLayout& layout,
                        bool dry_run = false);

}  // namespace statesink::history
