#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "db/connection.h"

namespace statesink::history {

// One row of retention_rules (migration 0007).
struct RetentionRule {
  std::string pattern;
  std::int64_t max_age_seconds = 0;
  std::string updated_at;  // UTC, DATETIME(6) text
};

// Every rule, by pattern.
std::vector<RetentionRule> list_rules(db::Connection& connection);

// Adds the rule, or changes the age of the rule with this pattern; true when
// it is new. The pattern must have passed RetentionPattern::parse.
bool set_rule(db::Connection& connection, const std::string& pattern, std::int64_t max_age_seconds);

// False when no rule has this pattern.
bool remove_rule(db::Connection& connection, const std::string& pattern);

// A rule with the entities it governs: those it matches and no more specific
// rule matches (see winning_rule).
struct RulePlan {
  RetentionRule rule;
  std::vector<std::uint64_t> entity_ids;
};

// Every rule, by pattern, with its entities. Reads all entities once; a
// pattern in the table that does not parse (written with SQL by hand) is a
// std::runtime_error naming it.
std::vector<RulePlan> plan_rules(db::Connection& connection);

}  // namespace statesink::history
