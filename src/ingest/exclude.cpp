#include "ingest/exclude.h"

#include <fnmatch.h>

#include "util/error.h"

namespace statesink::ingest {

ExcludeFilter::ExcludeFilter(std::vector<std::string> patterns) : patterns_(std::move(patterns)) {
  for (const auto& p : patterns_) {
    if (p.empty()) {
      throw UsageError("--exclude needs a pattern, e.g. --exclude 'sensor.*_rssi'");
    }
  }
}

bool ExcludeFilter::excluded(std::string_view topic) const {
  if (patterns_.empty()) {
    return false;
  }
  const std::string topic_text(topic);
  const std::string entity = entity_id_of(topic);
  for (const auto& p : patterns_) {
    if (fnmatch(p.c_str(), topic_text.c_str(), 0) == 0 ||
        (!entity.empty() && fnmatch(p.c_str(), entity.c_str(), 0) == 0)) {
      return true;
    }
  }
  return false;
}

std::string entity_id_of(std::string_view topic) {
  // Read from the right: the base topic may itself have several levels.
  const auto attribute_slash = topic.rfind('/');
  if (attribute_slash == std::string_view::npos || attribute_slash == 0) {
    return "";
  }
  const auto object_slash = topic.rfind('/', attribute_slash - 1);
  if (object_slash == std::string_view::npos || object_slash == 0) {
    return "";
  }
  const auto domain_slash = topic.rfind('/', object_slash - 1);
  if (domain_slash == std::string_view::npos || domain_slash == 0) {
    return "";
  }
  const std::string_view domain = topic.substr(domain_slash + 1, object_slash - domain_slash - 1);
  const std::string_view object =
      topic.substr(object_slash + 1, attribute_slash - object_slash - 1);
  if (domain.empty() || object.empty()) {
    return "";
  }
  return std::string(domain) + "." + std::string(object);
}

}  // namespace statesink::ingest
