#include "ingest/topic_order.h"

#include <tuple>

namespace statesink::ingest {

TopicKey topic_key(std::string_view topic) {
  const auto slash = topic.rfind('/');
  const std::string_view entity =
      slash == std::string_view::npos ? std::string_view() : topic.substr(0, slash);
  const std::string_view leaf = slash == std::string_view::npos ? topic : topic.substr(slash + 1);
  const int rank = leaf == "state" ? 0 : leaf == "last_updated" ? 1 : 2;
  return {entity, rank, leaf};
}

bool TopicKey::operator<(const TopicKey& other) const {
  return std::tie(entity, rank, leaf) < std::tie(other.entity, other.rank, other.leaf);
}

bool topic_before(std::string_view a, std::string_view b) { return topic_key(a) < topic_key(b); }

}  // namespace statesink::ingest
