#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string_view>

#include "db/connection.h"
#include "history/message_partitions.h"
#include "util/time_arg.h"

namespace statesink::history {

// Throws std::runtime_error, saying what to do, while `statesink partitions
// convert` has not finished: `what` (e.g. "prune messages") would change
// rows the copy may already have taken.
void refuse_during_conversion(db::Connection& connection, std::string_view what);

struct ConversionOptions {
  std::uint32_t chunk = 10000;              // rows copied per transaction
  std::optional<std::uint64_t> max_chunks;  // stop after this many; run again to go on
  bool dry_run = false;
};

// Converts an unpartitioned `messages` into a partitioned one without
// stopping its writers for longer than the final swap:
//  1. creates messages_partitioned (CREATE TABLE ... LIKE messages, then
//     partitioned from the month or day of the oldest row on) and a trigger
//     on messages that copies every new row into it;
//  2. copies the rows that existed before that trigger, in chunks by id, each
//     chunk in one transaction with its progress (messages_conversion);
//  3. checks that both tables hold the same number of rows, in one snapshot;
//  4. swaps: renames messages to messages_unpartitioned, moves its triggers
//     (saved first in messages_conversion_triggers) to the new table and
//     renames that to messages. For the moment of the swap, `messages` does
//     not exist: inserts fail with error 1146, which `statesink ingest`
//     retries like an outage.
// Every step can be interrupted (a kill, a lost connection, --max-chunks) and
// is completed by running it again. messages_unpartitioned is kept for the
// operator to drop. Returns true when `messages` is partitioned at the end.
class MessageConversion {
 public:
  MessageConversion(db::Connection& connection, std::ostream& out, std::ostream& err,
                    PartitionLayout layout, UtcTime now);
  bool run(const ConversionOptions& options);

 private:
  struct Tables;
  Tables inspect();
  void describe_plan(const Tables& tables, const ConversionOptions& options);
  void prepare_copy();
  bool copy(const ConversionOptions& options);
  void verify();
  void save_triggers();
  void swap(const Tables& tables);
  void finish();

  db::Connection& db_;
  std::ostream& out_;
  std::ostream& err_;
  PartitionLayout layout_;
  UtcTime now_;
};

}  // namespace statesink::history
