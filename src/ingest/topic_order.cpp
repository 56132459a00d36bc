#include "ingest/topic_order.h"

#include <tuple>

namespace statesink::ingest {
namespace {

struct Key {
  std::string_view entity;
  int rank;
  std::string_view leaf;
};

Key key(std::string_view topic) {
  const auto slash = topic.rfind('/');
  const std::string_view entity =
      slash == std::string_view::npos ? std::string_view() : topic.substr(0, slash);
  const std::string_view leaf = slash == std::string_view::npos ? topic : topic.substr(slash + 1);
  const int rank = leaf == "state" ? 0 : leaf == "last_updated" ? 1 : 2;
  return {entity, rank, leaf};
}

}  // namespace

bool topic_before(std::string_view a, std::string_view b) {
  const Key x = key(a);
  const Key y = key(b);
  return std::tie(x.entity, x.rank, x.leaf) < std::tie(y.entity, y.rank, y.leaf);
}

}  // namespace statesink::ingest
