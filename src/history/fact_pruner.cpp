#include "history/fact_pruner.h"

#include <algorithm>
#include <string>
#include <string_view>

#include "db/statement.h"

namespace statesink::history {
namespace {

// Ids come from the server as digits (or from such rows), so a list of them
// is safe to splice into SQL.
std::string id_list(const std::vector<std::uint64_t>& ids, std::size_t from, std::size_t count) {
  std::string list;
  for (std::size_t i = from; i < from + count && i < ids.size(); ++i) {
    if (!list.empty()) {
      list += ',';
    }
    list += std::to_string(ids[i]);
  }
  return list;
}

// Bounds the length of an IN list.
constexpr std::size_t kIdsPerStatement = 1000;

// The fact current_states points at is joined by its primary key and left
// out.
constexpr std::string_view kExpired =
    "FROM facts f LEFT JOIN current_states c ON c.state_id = f.state_id AND c.fact_id = f.id "
    "WHERE c.state_id IS NULL AND f.recorded_at < ? ";

}  // namespace

std::vector<std::uint64_t> states_of(db::Connection& connection,
                                     const std::vector<std::uint64_t>& entity_ids) {
  std::vector<std::uint64_t> states;
  for (std::size_t from = 0; from < entity_ids.size(); from += kIdsPerStatement) {
    for (const db::Row& row : connection.query("SELECT id FROM states WHERE entity_id IN (" +
                                               id_list(entity_ids, from, kIdsPerStatement) + ")")) {
      states.push_back(std::stoull(row.at(0).value_or("0")));
    }
  }
  std::sort(states.begin(), states.end());
  return states;
}

std::uint64_t count_expired_facts(db::Connection& connection,
                                  const std::vector<std::uint64_t>& state_ids, UtcTime cutoff) {
  const std::string cutoff_text = format_sql_datetime(cutoff);
  std::uint64_t count = 0;
  for (std::size_t from = 0; from < state_ids.size(); from += kIdsPerStatement) {
    const db::Param params[] = {std::string_view(cutoff_text)};
    const std::vector<db::Row> rows =
        connection.query("SELECT COUNT(*) " + std::string(kExpired) + "AND f.state_id IN (" +
                             id_list(state_ids, from, kIdsPerStatement) + ")",
                         params);
    count += std::stoull(rows.at(0).at(0).value_or("0"));
  }
  return count;
}

FactPruneProgress prune_expired_facts(
    db::Connection& connection, const std::vector<std::uint64_t>& state_ids, UtcTime cutoff,
    std::uint32_t batch, const std::function<void(const FactPruneProgress&)>& progress) {
  const std::string cutoff_text = format_sql_datetime(cutoff);
  const std::string order = "ORDER BY f.recorded_at, f.id LIMIT ";
  // One state at a time, each continuing after the last row it read, in the
  // order of facts_state_time: chunks may span states, and no scan steps
  // over index entries of rows already deleted.
  db::Statement first = connection.prepare("SELECT f.id, f.recorded_at " + std::string(kExpired) +
                                           "AND f.state_id = ? " + order + "?");
  db::Statement next = connection.prepare(
      "SELECT f.id, f.recorded_at " + std::string(kExpired) +
      "AND f.state_id = ? AND f.recorded_at >= ? AND (f.recorded_at > ? OR f.id > ?) " + order +
      "?");

  FactPruneProgress done;
  std::vector<std::uint64_t> pending;
  auto flush = [&] {
    if (pending.empty()) {
      return;
    }
    db::Transaction transaction(connection);
    done.facts += connection.execute("DELETE FROM facts WHERE id IN (" +
                                     id_list(pending, 0, pending.size()) + ")");
    transaction.commit();
    ++done.chunks;
    pending.clear();
    if (progress) {
      progress(done);
    }
  };

  for (const std::uint64_t state : state_ids) {
    std::string last_time;
    std::uint64_t last_id = 0;
    bool started = false;
    while (true) {
      const std::int64_t room = static_cast<std::int64_t>(batch - pending.size());
      std::vector<db::Row> rows;
      if (!started) {
        const db::Param params[] = {std::string_view(cutoff_text), state, room};
        rows = first.query(params);
      } else {
        const db::Param params[] = {
            std::string_view(cutoff_text), state,   std::string_view(last_time),
            std::string_view(last_time),   last_id, room};
        rows = next.query(params);
      }
      started = true;
      for (const db::Row& row : rows) {
        pending.push_back(std::stoull(row.at(0).value_or("0")));
      }
      if (!rows.empty()) {
        last_id = pending.back();
        last_time = rows.back().at(1).value_or("");
      }
      if (pending.size() >= batch) {
        flush();
      }
      if (static_cast<std::int64_t>(rows.size()) < room) {
        break;
      }
    }
  }
  flush();
  return done;
}

}  // namespace statesink::history
