#include "history/database_stats.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "db/statement.h"
#include "util/time_arg.h"

namespace statesink::history {
namespace {

std::uint64_t to_count(const std::optional<std::string>& cell) {
  return cell ? std::stoull(*cell) : 0;
}

std::string percent(std::uint64_t part, std::uint64_t whole) {
  if (whole == 0) {
    return "0.0";
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.1f",
                100.0 * static_cast<double>(part) / static_cast<double>(whole));
  return text;
}

ResultTable table_sizes(db::Connection& connection) {
  ResultTable result;
  result.columns = {{"table", "table", ColumnKind::text},
                    {"rows_estimate", "rows (estimate)", ColumnKind::integer},
                    {"data_bytes", "data bytes", ColumnKind::integer},
                    {"index_bytes", "index bytes", ColumnKind::integer},
                    {"total_bytes", "total bytes", ColumnKind::integer}};
  result.rows = connection.query(
      "SELECT table_name, table_rows, data_length, index_length, data_length + index_length "
      "FROM information_schema.TABLES "
      "WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' "
      "ORDER BY data_length + index_length DESC, table_name");
  return result;
}

struct Entity24h {
  std::string base_topic;
  std::string entity_id;
  std::uint64_t messages = 0;
  std::uint64_t facts = 0;
};

ResultTable top(std::vector<Entity24h> entities, std::uint64_t Entity24h::*count,
                std::string_view name, std::uint64_t total, std::size_t limit) {
  std::erase_if(entities, [count](const Entity24h& e) { return e.*count == 0; });
  std::sort(entities.begin(), entities.end(), [count](const Entity24h& a, const Entity24h& b) {
    if (a.*count != b.*count) {
      return a.*count > b.*count;
    }
    return std::tie(a.base_topic, a.entity_id) < std::tie(b.base_topic, b.entity_id);
  });
  ResultTable result;
  result.columns = {{"base_topic", "base topic", ColumnKind::text},
                    {"entity_id", "entity", ColumnKind::text},
                    {std::string(name), std::string(name).substr(0, name.find('_')) + " (24 h)",
                     ColumnKind::integer},
                    {"share_percent", "share %", ColumnKind::number}};
  for (std::size_t i = 0; i < entities.size() && i < limit; ++i) {
    const Entity24h& e = entities[i];
    result.rows.push_back(
        {e.base_topic, e.entity_id, std::to_string(e.*count), percent(e.*count, total)});
  }
  return result;
}

}  // namespace

DatabaseStats collect_stats(db::Connection& connection, std::size_t limit) {
  DatabaseStats stats;
  stats.tables = table_sizes(connection);

  // One window for every count here. The view has its own (UTC_TIMESTAMP at
  // its query), a moment later: only a message right at the edge can differ.
  const std::string since = format_sql_datetime(utc_now() - std::chrono::hours(24));
  const db::Param params[] = {std::string_view(since), std::string_view(since),
                              std::string_view(since)};
  const db::Row counts =
      connection
          .query(
              "SELECT (SELECT MIN(received_at) FROM messages), "
              "(SELECT MAX(received_at) FROM messages), "
              "(SELECT COUNT(*) FROM messages WHERE received_at >= ?), "
              "(SELECT COUNT(*) FROM facts WHERE recorded_at >= ?), "
              "(SELECT COUNT(*) FROM messages m JOIN message_rejections r ON r.message_id = m.id "
              " WHERE m.received_at >= ?)",
              params)
          .at(0);
  const std::uint64_t messages = to_count(counts.at(2));
  const std::uint64_t facts = to_count(counts.at(3));
  const std::uint64_t rejected = to_count(counts.at(4));
  // Facts of messages pruned within the day could make this negative.
  const std::uint64_t repeats = messages > facts + rejected ? messages - facts - rejected : 0;

  std::uint64_t data_bytes = 0;
  std::uint64_t index_bytes = 0;
  for (const auto& row : stats.tables.rows) {
    data_bytes += to_count(row.at(2));
    index_bytes += to_count(row.at(3));
  }
  stats.summary.columns = {{"oldest_message", "oldest message", ColumnKind::time},
                           {"newest_message", "newest message", ColumnKind::time},
                           {"messages_24h", "messages (24 h)", ColumnKind::integer},
                           {"facts_24h", "facts (24 h)", ColumnKind::integer},
                           {"rejected_24h", "rejected (24 h)", ColumnKind::integer},
                           {"repeats_24h", "repeats (24 h)", ColumnKind::integer},
                           {"repeat_share_percent", "repeats %", ColumnKind::number},
                           {"data_bytes", "data bytes", ColumnKind::integer},
                           {"index_bytes", "index bytes", ColumnKind::integer}};
  stats.summary.rows.push_back({counts.at(0), counts.at(1), std::to_string(messages),
                                std::to_string(facts), std::to_string(rejected),
                                std::to_string(repeats), percent(repeats, messages),
                                std::to_string(data_bytes), std::to_string(index_bytes)});

  std::vector<Entity24h> entities;
  for (const db::Row& row :
       connection.query("SELECT base_topic, entity_id, messages_24h, facts_24h FROM entity_catalog "
                        "WHERE messages_24h > 0 OR facts_24h > 0")) {
    entities.push_back(
        {row.at(0).value_or(""), row.at(1).value_or(""), to_count(row.at(2)), to_count(row.at(3))});
  }
  stats.top_by_messages = top(entities, &Entity24h::messages, "messages_24h", messages, limit);
  stats.top_by_facts = top(entities, &Entity24h::facts, "facts_24h", facts, limit);
  return stats;
}

}  // namespace statesink::history
