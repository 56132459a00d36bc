#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "db/connection.h"
#include "history/entity_lookup.h"
#include "util/result_table.h"
#include "util/time_arg.h"

namespace statesink::history {

// The reads behind `statesink query`. Each returns the columns
// recorded_at, attribute, value, num_value (facts) or
// attribute, value, num_value, last_changed, last_seen, times_seen (current).

// The newest `count` facts of these states together, newest first. One
// backward index scan per state, limited to `count` rows each, so the cost
// does not grow with the length of the history.
ResultTable latest_facts(db::Connection& connection, const std::vector<StateRef>& states,
                         std::uint32_t count);

// Facts of these states with from <= recorded_at <= to, oldest first: a range
// scan of facts (state_id, recorded_at) per state.
ResultTable facts_between(db::Connection& connection, const std::vector<StateRef>& states,
                          UtcTime from, UtcTime to);

// The current value of each of these states, in the order given.
ResultTable current_values(db::Connection& connection, const std::vector<StateRef>& states);

// The SQL that latest_facts and facts_between run (for EXPLAIN in tests):
// placeholders for `state_count` state ids, then for history the two times.
std::string latest_facts_sql(std::size_t state_count, std::uint32_t count);
std::string facts_between_sql(std::size_t state_count);

}  // namespace statesink::history
