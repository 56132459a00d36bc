#pragma once

#include <string_view>

namespace statesink::ingest {

// The order in which a batch's rows are inserted (see MysqlStore): by entity
// (the topic up to its last level), and within an entity `state` first, then
// `last_updated`, then every other attribute by name. One fixed order for
// every ingester, so their transactions lock the trigger's rows in the same
// order; and the order in which Home Assistant publishes a change, so that a
// state is in the table before the last_updated that gives it its event
// time. Sorting stably keeps the messages of one topic in reception order.
bool topic_before(std::string_view a, std::string_view b);

// A topic's place in that order, worked out once for sorting many:
// topic_before(a, b) == (topic_key(a) < topic_key(b)). Views into the topic.
struct TopicKey {
  std::string_view entity;
  int rank = 0;
  std::string_view leaf;
  bool operator<(const TopicKey& other) const;
};
TopicKey topic_key(std::string_view topic);

}  // namespace statesink::ingest
