#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/connection.h"

namespace statesink::history {

struct EntityRef {
  std::uint64_t id = 0;
  std::string base_topic;
  std::string label;  // domain.object_id

  // BASE_TOPIC:ENTITY_ID, how messages name it.
  std::string qualified() const { return base_topic + ":" + label; }
};

struct StateRef {
  std::uint64_t id = 0;
  std::string label;  // state, last_changed, brightness, ...
};

// Finds the entity an argument names: ENTITY_ID when only one base topic has
// it, or BASE_TOPIC:ENTITY_ID (split at the last ':'), or ENTITY_ID with
// `base_topic` given separately.
//   unknown (base topic or entity): std::runtime_error, with similar entity
//     ids when there are any (exit status 1: the command was understood);
//   several base topics have it: UsageError listing them (exit status 2).
EntityRef find_entity(db::Connection& connection, std::string_view argument,
                      const std::optional<std::string>& base_topic);

// The entity's states, `state` first and then by name; just the one named
// `attribute` when given (std::runtime_error listing the others when absent).
std::vector<StateRef> find_states(db::Connection& connection, const EntityRef& entity,
                                  const std::optional<std::string>& attribute);

}  // namespace statesink::history
