#include "history/message_pruner.h"

#include <string_view>
#include <vector>

#include "db/statement.h"

namespace statesink::history {

PrunableMessages count_prunable(db::Connection& connection, UtcTime cutoff,
                                std::optional<UtcTime> from) {
  const std::string cutoff_text = format_sql_datetime(cutoff);
  const std::string from_text = from ? format_sql_datetime(*from) : "0001-01-01 00:00:00";
  const db::Param params[] = {std::string_view(from_text), std::string_view(cutoff_text)};
  const std::vector<db::Row> rows = connection.query(
      "SELECT COUNT(*), MIN(received_at) FROM messages WHERE received_at >= ? AND received_at < ?",
      params);
  return {std::stoull(rows.at(0).at(0).value_or("0")), rows.at(0).at(1)};
}

PruneProgress prune_messages(db::Connection& connection, UtcTime cutoff, std::uint32_t batch,
                             const std::function<void(const PruneProgress&)>& progress) {
  const auto start = std::chrono::steady_clock::now();
  const bool with_rejections = connection.has_table("message_rejections");
  const std::string cutoff_text = format_sql_datetime(cutoff);
  const std::string limit = " ORDER BY received_at, id LIMIT " + std::to_string(batch);
  // Every chunk continues after the last row of the one before, in the order
  // of the received_at index, rather than from its start: a fresh scan would
  // step over all the index entries just deleted until purge removes them.
  db::Statement first =
      connection.prepare("SELECT id, received_at FROM messages WHERE received_at < ?" + limit);
  db::Statement next = connection.prepare(
      "SELECT id, received_at FROM messages "
      "WHERE received_at >= ? AND received_at < ? AND (received_at > ? OR id > ?)" +
      limit);

  PruneProgress done;
  std::string last_time;
  std::uint64_t last_id = 0;
  while (true) {
    std::vector<db::Row> rows;
    if (done.chunks == 0) {
      const db::Param params[] = {std::string_view(cutoff_text)};
      rows = first.query(params);
    } else {
      const db::Param params[] = {std::string_view(last_time), std::string_view(cutoff_text),
                                  std::string_view(last_time), last_id};
      rows = next.query(params);
    }
    if (rows.empty()) {
      break;
    }
    // Ids come from the server as digits, so the list is safe to splice in;
    // deleting by primary key locks exactly these rows and no gaps.
    std::string ids;
    for (const auto& row : rows) {
      if (!ids.empty()) {
        ids += ',';
      }
      ids += row.at(0).value_or("0");
    }
    db::Transaction transaction(connection);
    if (with_rejections) {
      done.rejections +=
          connection.execute("DELETE FROM message_rejections WHERE message_id IN (" + ids + ")");
    }
    // The time range lets a partitioned table look in the partition that
    // holds the chunk only, instead of probing every partition for each id.
    std::string range = " AND received_at BETWEEN '";
    range += rows.front().at(1).value_or("");
    range += "' AND '";
    range += rows.back().at(1).value_or("");
    range += "'";
    done.messages += connection.execute("DELETE FROM messages WHERE id IN (" + ids + ")" + range);
    transaction.commit();

    ++done.chunks;
    last_id = std::stoull(rows.back().at(0).value_or("0"));
    last_time = rows.back().at(1).value_or("");
    done.took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    if (progress) {
      progress(done);
    }
    if (rows.size() < batch) {
      break;
    }
  }
  done.took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  return done;
}

std::optional<std::string> oldest_message(db::Connection& connection) {
  return connection.query_value("SELECT MIN(received_at) FROM messages");
}

}  // namespace statesink::history
