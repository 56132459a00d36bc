#include "history/retention_rules.h"

#include <stdexcept>
#include <string_view>

#include "db/statement.h"
#include "history/retention_pattern.h"
#include "util/error.h"
#include "util/time_arg.h"

namespace statesink::history {

std::vector<RetentionRule> list_rules(db::Connection& connection) {
  std::vector<RetentionRule> rules;
  for (const db::Row& row : connection.query(
           "SELECT pattern, max_age_seconds, updated_at FROM retention_rules ORDER BY pattern")) {
    rules.push_back(
        {row.at(0).value_or(""), std::stoll(row.at(1).value_or("0")), row.at(2).value_or("")});
  }
  return rules;
}

bool set_rule(db::Connection& connection, const std::string& pattern,
              std::int64_t max_age_seconds) {
  const std::string now = format_sql_datetime(utc_now());
  const db::Param params[] = {std::string_view(pattern), max_age_seconds, std::string_view(now),
                              std::string_view(now),     max_age_seconds, std::string_view(now)};
  // 1 affected row for an insert, 2 for an update: updated_at always changes.
  return connection.execute(
             "INSERT INTO retention_rules (pattern, max_age_seconds, created_at, updated_at) "
             "VALUES (?, ?, ?, ?) "
             "ON DUPLICATE KEY UPDATE max_age_seconds = ?, updated_at = ?",
             params) == 1;
}

bool remove_rule(db::Connection& connection, const std::string& pattern) {
  const db::Param params[] = {std::string_view(pattern)};
  return connection.execute("DELETE FROM retention_rules WHERE pattern = ?", params) > 0;
}

std::vector<RulePlan> plan_rules(db::Connection& connection) {
  std::vector<RulePlan> plans;
  std::vector<RuleCandidate> candidates;
  for (RetentionRule& rule : list_rules(connection)) {
    try {
      candidates.push_back({RetentionPattern::parse(rule.pattern), rule.max_age_seconds});
    } catch (const UsageError& e) {
      throw std::runtime_error(std::string("retention_rules holds an invalid rule: ") + e.what() +
                               "; remove it with statesink retention remove");
    }
    plans.push_back({std::move(rule), {}});
  }
  if (plans.empty()) {
    return plans;
  }
  for (const db::Row& row :
       connection.query("SELECT e.id, b.label, e.label FROM entities e "
                        "JOIN base_topics b ON b.id = e.base_topic_id ORDER BY e.id")) {
    const auto winner = winning_rule(candidates, row.at(1).value_or(""), row.at(2).value_or(""));
    if (winner) {
      plans[*winner].entity_ids.push_back(std::stoull(row.at(0).value_or("0")));
    }
  }
  return plans;
}

}  // namespace statesink::history
