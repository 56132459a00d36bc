#include "history/fact_queries.h"

#include <map>
#include <string>

namespace statesink::history {
namespace {

std::vector<Column> fact_columns() {
  return {{"recorded_at", "RECORDED AT (UTC)", ColumnKind::time},
          {"attribute", "ATTRIBUTE", ColumnKind::text},
          {"value", "VALUE", ColumnKind::text},
          {"num_value", "NUM VALUE", ColumnKind::number}};
}

std::string placeholders(std::size_t count) {
  std::string text;
  for (std::size_t i = 0; i < count; ++i) {
    text += i == 0 ? "?" : ",?";
  }
  return text;
}

std::vector<db::Param> state_ids(const std::vector<StateRef>& states) {
  std::vector<db::Param> params;
  params.reserve(states.size());
  for (const StateRef& state : states) {
    params.emplace_back(state.id);
  }
  return params;
}

// Rows of (state_id, recorded_at, fact, num_value) with the state's name in
// place of its id.
ResultTable to_facts(const std::vector<db::Row>& rows, const std::vector<StateRef>& states) {
  std::map<std::string, std::string> names;
  for (const StateRef& state : states) {
    names[std::to_string(state.id)] = state.label;
  }
  ResultTable result{fact_columns(), {}};
  for (const auto& row : rows) {
    result.rows.push_back({row.at(1), names[row.at(0).value_or("")], row.at(2), row.at(3)});
  }
  return result;
}

}  // namespace

std::string latest_facts_sql(std::size_t state_count, std::uint32_t count) {
  // Ties on recorded_at are broken by id, which the index holds after
  // recorded_at, so each part reads the index backwards without sorting.
  const std::string limit = " LIMIT " + std::to_string(count);
  std::string one_state =
      "SELECT state_id, recorded_at, fact, num_value, id FROM facts WHERE state_id = ? "
      "ORDER BY recorded_at DESC, id DESC" +
      limit;
  if (state_count == 1) {
    return one_state;
  }
  // MariaDB has no LATERAL join, so the limit per state takes a UNION. As a
  // top-level UNION, MariaDB 10.11 plans each part as a full scan and sort;
  // inside a derived table each part is a backward index scan, and only the
  // few rows they return are sorted.
  std::string sql = "SELECT state_id, recorded_at, fact, num_value, id FROM (";
  for (std::size_t i = 0; i < state_count; ++i) {
    sql += (i == 0 ? "(" : " UNION ALL (") + one_state + ")";
  }
  return sql + ") latest ORDER BY recorded_at DESC, id DESC" + limit;
}

ResultTable latest_facts(db::Connection& connection, const std::vector<StateRef>& states,
                         std::uint32_t count) {
  if (states.empty()) {
    return {fact_columns(), {}};
  }
  const std::vector<db::Param> params = state_ids(states);
  return to_facts(connection.query(latest_facts_sql(states.size(), count), params), states);
}

std::string facts_between_sql(std::size_t state_count) {
  return "SELECT state_id, recorded_at, fact, num_value FROM facts "
         "WHERE state_id IN (" +
         placeholders(state_count) +
         ") AND recorded_at BETWEEN ? AND ? "
         "ORDER BY recorded_at, id";
}

ResultTable facts_between(db::Connection& connection, const std::vector<StateRef>& states,
                          UtcTime from, UtcTime to) {
  if (states.empty()) {
    return {fact_columns(), {}};
  }
  const std::string from_text = format_sql_datetime(from);
  const std::string to_text = format_sql_datetime(to);
  std::vector<db::Param> params = state_ids(states);
  params.emplace_back(std::string_view(from_text));
  params.emplace_back(std::string_view(to_text));
  return to_facts(connection.query(facts_between_sql(states.size()), params), states);
}

ResultTable current_values(db::Connection& connection, const std::vector<StateRef>& states) {
  ResultTable result{{{"attribute", "ATTRIBUTE", ColumnKind::text},
                      {"value", "VALUE", ColumnKind::text},
                      {"num_value", "NUM VALUE", ColumnKind::number},
                      {"last_changed", "LAST CHANGED (UTC)", ColumnKind::time},
                      {"last_seen", "LAST SEEN (UTC)", ColumnKind::time},
                      {"times_seen", "TIMES SEEN", ColumnKind::integer}},
                     {}};
  if (states.empty()) {
    return result;
  }
  const std::vector<db::Param> params = state_ids(states);
  const std::vector<db::Row> rows = connection.query(
      "SELECT state_id, value, num_value, last_changed, last_seen, times_seen "
      "FROM current_states WHERE state_id IN (" +
          placeholders(states.size()) + ")",
      params);
  std::map<std::string, const db::Row*> by_state;
  for (const auto& row : rows) {
    by_state[row.at(0).value_or("")] = &row;
  }
  for (const StateRef& state : states) {
    const auto found = by_state.find(std::to_string(state.id));
    if (found == by_state.end()) {
      continue;
    }
    const db::Row& row = *found->second;
    result.rows.push_back({state.label, row.at(1), row.at(2), row.at(3), row.at(4), row.at(5)});
  }
  return result;
}

}  // namespace statesink::history
