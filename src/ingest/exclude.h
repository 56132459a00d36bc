#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace statesink::ingest {

// --exclude GLOB: shell-style patterns ('*', '?', '[...]') matched against the
// entity id read from a topic (`sensor.noisy_*`) and against the whole topic
// (`homeassistant/sensor/*/attribution`). '*' crosses '/' in topics.
class ExcludeFilter {
 public:
  explicit ExcludeFilter(std::vector<std::string> patterns);

  bool excluded(std::string_view topic) const;
  bool empty() const { return patterns_.empty(); }

 private:
  std::vector<std::string> patterns_;
};

// "domain.object_id" from BASE/DOMAIN/OBJECT_ID/ATTRIBUTE, or empty when the
// topic has fewer than four levels.
std::string entity_id_of(std::string_view topic);

}  // namespace statesink::ingest
