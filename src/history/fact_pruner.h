#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "db/connection.h"
#include "util/time_arg.h"

namespace statesink::history {

// Deleting facts for retention rules. A fact expires when it was recorded
// before the cutoff and is not the one current_states points at: every state
// keeps its current value as a fact, so a time series still has a value to
// start from, and current_states is never changed.

// The states of these entities, by id.
std::vector<std::uint64_t> states_of(db::Connection& connection,
                                     const std::vector<std::uint64_t>& entity_ids);

// Expired facts of these states: a range scan of facts (state_id,
// recorded_at), the same rows prune_expired_facts deletes.
std::uint64_t count_expired_facts(db::Connection& connection,
                                  const std::vector<std::uint64_t>& state_ids, UtcTime cutoff);

struct FactPruneProgress {
  std::uint64_t facts = 0;   // rows deleted
  std::uint64_t chunks = 0;  // transactions committed
};

// Deletes the expired facts of these states by primary key, at most `batch`
// per transaction, so the trigger's inserts go on meanwhile; an interrupted
// run keeps the chunks it finished. `progress` is called after every chunk.
FactPruneProgress prune_expired_facts(
    db::Connection& connection, const std::vector<std::uint64_t>& state_ids, UtcTime cutoff,
    std::uint32_t batch, const std::function<void(const FactPruneProgress&)>& progress = {});

}  // namespace statesink::history
