#include "history/message_partitions.h"

#include <chrono>
#include <cstdio>
#include <stdexcept>

#include "db/error.h"
#include "util/error.h"

namespace statesink::history {
namespace {

using std::chrono::days;
using std::chrono::floor;
using std::chrono::sys_days;
using std::chrono::year_month_day;

constexpr const char* kCatchAll = "p_future";

UtcTime period_start(UtcTime time, PartitionPeriod period) {
  const sys_days day = floor<days>(time);
  if (period == PartitionPeriod::day) {
    return day;
  }
  const year_month_day date{day};
  return sys_days{date.year() / date.month() / 1};
}

UtcTime add_periods(UtcTime start, int count, PartitionPeriod period) {
  if (period == PartitionPeriod::day) {
    return start + days(count);
  }
  const year_month_day date{floor<days>(start)};
  return sys_days{date + std::chrono::months(count)};
}

std::string compact_date(UtcTime time) {
  const year_month_day date{floor<days>(time)};
  char text[16];
  std::snprintf(text, sizeof text, "%04d%02u%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return text;
}

// A bound as information_schema shows it: '2026-12-01 00:00:00.000000' or MAXVALUE.
std::optional<UtcTime> parse_bound(const std::string& text, bool& ok) {
  ok = true;
  if (text == "MAXVALUE") {
    return std::nullopt;
  }
  std::string inner = text;
  if (inner.size() >= 2 && inner.front() == '\'' && inner.back() == '\'') {
    inner = inner.substr(1, inner.size() - 2);
  }
  try {
    return parse_time_arg(inner, "partition bound", utc_now());
  } catch (const UsageError&) {
    ok = false;
    return std::nullopt;
  }
}

std::string bound_literal(UtcTime bound) {
  std::string literal = "'";
  literal += format_sql_datetime(bound);
  literal += "'";
  return literal;
}

std::string partition_definition(const std::string& name, std::optional<UtcTime> below) {
  return std::string("PARTITION ") + db::quote_identifier(name) + " VALUES LESS THAN (" +
         (below ? bound_literal(*below) : std::string("MAXVALUE")) + ")";
}

// The new partitions that replace the catch-all, the catch-all last.
std::string definitions(std::optional<UtcTime> from, const std::vector<UtcTime>& bounds) {
  std::string list;
  for (const UtcTime bound : bounds) {
    list += partition_definition(partition_name(from, bound), bound) + ",\n  ";
    from = bound;
  }
  return list + partition_definition(kCatchAll, std::nullopt);
}

}  // namespace

const char* to_string(PartitionPeriod period) {
  return period == PartitionPeriod::day ? "day" : "month";
}

PartitionPeriod parse_partition_period(std::string_view text, std::string_view option) {
  if (text == "day") {
    return PartitionPeriod::day;
  }
  if (text == "month") {
    return PartitionPeriod::month;
  }
  throw UsageError(std::string(option) + ": '" + std::string(text) + "' is not day or month");
}

PartitionLayout read_partition_layout(db::Connection& connection) {
  PartitionLayout layout;
  for (const db::Row& row : connection.query(
           "SELECT name, value FROM settings "
           "WHERE name IN ('messages_partition_period', 'messages_partitions_ahead')")) {
    const std::string name = row.at(0).value_or("");
    const std::string value = row.at(1).value_or("");
    try {
      if (name == "messages_partition_period") {
        layout.period = parse_partition_period(value, "setting messages_partition_period");
      } else {
        const int ahead = std::stoi(value);
        if (ahead < 1 || ahead > kMaxPartitionsAhead) {
          throw std::out_of_range(value);
        }
        layout.ahead = ahead;
      }
    } catch (const std::exception&) {
      throw std::runtime_error(std::string("the setting ") + name + " holds '" + value +
                               "'; set it again with statesink partitions split --period day|month "
                               "--ahead N");
    }
  }
  return layout;
}

void save_partition_layout(db::Connection& connection, const PartitionLayout& layout) {
  const std::string ahead = std::to_string(layout.ahead);
  const db::Param params[] = {std::string_view(to_string(layout.period)), std::string_view(ahead)};
  connection.execute(
      "UPDATE settings SET value = CASE name WHEN 'messages_partition_period' THEN ? ELSE ? END "
      "WHERE name IN ('messages_partition_period', 'messages_partitions_ahead')",
      params);
}

TablePartitions read_partitions(db::Connection& connection, std::string_view table) {
  const db::Param params[] = {table};
  const std::vector<db::Row> rows = connection.query(
      "SELECT partition_name, partition_method, partition_expression, partition_description, "
      "table_rows FROM information_schema.partitions "
      "WHERE table_schema = DATABASE() AND table_name = ? AND partition_name IS NOT NULL "
      "ORDER BY partition_ordinal_position",
      params);
  TablePartitions result;
  if (rows.empty()) {
    return result;
  }
  result.kind = Partitioning::managed;
  std::optional<UtcTime> from;
  for (const db::Row& row : rows) {
    bool ok = false;
    MessagePartition partition;
    partition.name = row.at(0).value_or("");
    partition.from = from;
    partition.below = parse_bound(row.at(3).value_or(""), ok);
    partition.estimated_rows = std::stoull(row.at(4).value_or("0"));
    std::string expression = row.at(2).value_or("");
    if (!ok || row.at(1).value_or("") != "RANGE COLUMNS" ||
        (expression != "`received_at`" && expression != "received_at")) {
      result.kind = Partitioning::foreign;
    }
    from = partition.below;
    result.partitions.push_back(std::move(partition));
  }
  if (result.partitions.back().below) {
    result.kind = Partitioning::foreign;  // no catch-all: an insert could fail
  }
  return result;
}

std::vector<UtcTime> missing_bounds(const std::vector<MessagePartition>& partitions, UtcTime now,
                                    const PartitionLayout& layout) {
  std::optional<UtcTime> last;
  if (partitions.size() >= 2) {
    last = partitions[partitions.size() - 2].below;
  }
  const UtcTime current = period_start(now, layout.period);
  std::vector<UtcTime> bounds;
  for (int k = 0; k <= layout.ahead + 1; ++k) {
    const UtcTime bound = add_periods(current, k, layout.period);
    if (!last || bound > *last) {
      bounds.push_back(bound);
    }
  }
  return bounds;
}

std::string partition_name(std::optional<UtcTime> from, UtcTime below) {
  return from ? std::string("p") + compact_date(*from)
              : std::string("p_before_") + compact_date(below);
}

std::string split_statement(std::string_view table, const std::vector<MessagePartition>& partitions,
                            const std::vector<UtcTime>& bounds) {
  if (bounds.empty() || partitions.empty()) {
    return "";
  }
  return std::string("ALTER TABLE ") + db::quote_identifier(table) + " REORGANIZE PARTITION " +
         db::quote_identifier(partitions.back().name) + " INTO (\n  " +
         definitions(partitions.back().from, bounds) + "\n)";
}

std::string partition_clause(std::optional<UtcTime> oldest, UtcTime now,
                             const PartitionLayout& layout) {
  const UtcTime current = period_start(now, layout.period);
  std::vector<UtcTime> bounds;
  // From the end of the period holding the oldest row: the first partition,
  // open below, holds that period and anything older.
  UtcTime bound =
      add_periods(period_start(oldest ? *oldest : now, layout.period), 1, layout.period);
  const UtcTime last = add_periods(current, layout.ahead + 1, layout.period);
  if (oldest && *oldest > now) {
    bound = add_periods(current, 1, layout.period);
  }
  for (; bound <= last; bound = add_periods(bound, 1, layout.period)) {
    bounds.push_back(bound);
  }
  // Far below the server's limit of 8192 partitions; a longer history keeps
  // its oldest part in the first partition.
  constexpr std::size_t kMostPartitions = 1024;
  if (bounds.size() > kMostPartitions) {
    bounds.erase(bounds.begin(),
                 bounds.begin() + static_cast<std::ptrdiff_t>(bounds.size() - kMostPartitions));
  }
  return std::string("PARTITION BY RANGE COLUMNS (received_at) (\n  ") +
         definitions(std::nullopt, bounds) + "\n)";
}

SplitResult split_ahead(db::Connection& connection, UtcTime now, const PartitionLayout& layout,
                        bool dry_run) {
  for (int attempt = 0;; ++attempt) {
    const TablePartitions table = read_partitions(connection);
    if (table.kind != Partitioning::managed) {
      return {};
    }
    const std::vector<UtcTime> bounds = missing_bounds(table.partitions, now, layout);
    SplitResult result;
    result.statement = split_statement("messages", table.partitions, bounds);
    std::optional<UtcTime> from = table.partitions.back().from;
    for (const UtcTime bound : bounds) {
      result.added.push_back(partition_name(from, bound));
      from = bound;
    }
    if (dry_run || result.statement.empty()) {
      return result;
    }
    try {
      connection.execute(result.statement);
      return result;
    } catch (const db::DbError& e) {
      // Another statesink split first: its partitions exist now (1517 same
      // name, 1493 bounds not increasing, 1735/1507 no such partition).
      if (attempt > 0 || e.retryable() || e.connection_lost()) {
        throw;
      }
    }
  }
}

}  // namespace statesink::history
