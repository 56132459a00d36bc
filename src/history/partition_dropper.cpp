#include "history/partition_dropper.h"

#include "history/message_partitions.h"

namespace statesink::history {

std::vector<ExpiredPartition> expired_partitions(db::Connection& connection, UtcTime cutoff) {
  const TablePartitions table = read_partitions(connection);
  std::vector<ExpiredPartition> expired;
  if (table.kind != Partitioning::managed) {
    return expired;
  }
  for (const MessagePartition& p : table.partitions) {
    if (!p.below || *p.below > cutoff) {
      break;
    }
    ExpiredPartition partition{p.name, p.from, *p.below, 0};
    partition.messages =
        std::stoull(connection
                        .query_value(std::string("SELECT COUNT(*) FROM messages PARTITION (") +
                                     db::quote_identifier(p.name) + ")")
                        .value_or("0"));
    expired.push_back(std::move(partition));
  }
  return expired;
}

PartitionDrop drop_partitions(db::Connection& connection,
                              const std::vector<ExpiredPartition>& partitions) {
  const auto start = std::chrono::steady_clock::now();
  PartitionDrop done;
  if (partitions.empty()) {
    return done;
  }
  std::string names;
  for (const ExpiredPartition& p : partitions) {
    if (!names.empty()) {
      names += ", ";
    }
    names += db::quote_identifier(p.name);
  }
  // Rejections first: a rejection left behind by a stop between the two
  // statements would only be invisible (rejected_messages joins messages).
  done.rejections = connection.execute(
      std::string("DELETE r FROM message_rejections r JOIN messages PARTITION (") + names +
      ") m ON m.id = r.message_id");
  connection.execute(std::string("ALTER TABLE messages DROP PARTITION ") + names);
  done.partitions = partitions.size();
  for (const ExpiredPartition& p : partitions) {
    done.messages += p.messages;
  }
  done.took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  return done;
}

std::optional<UtcTime> kept_from(const std::vector<ExpiredPartition>& partitions) {
  if (partitions.empty()) {
    return std::nullopt;
  }
  return partitions.back().below;
}

}  // namespace statesink::history
