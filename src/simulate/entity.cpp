#include "simulate/entity.h"

namespace statesink::simulate {

std::string Entity::entity_id() const { return std::string(domain_name(domain)) + "." + object_id; }

std::string Entity::topic(std::string_view leaf) const {
  std::string topic = base_topic;
  topic += '/';
  topic += domain_name(domain);
  topic += '/';
  topic += object_id;
  topic += '/';
  topic += leaf;
  return topic;
}

std::vector<Message> publish(const Entity& entity) {
  std::vector<Message> messages;
  messages.reserve(3 + entity.attributes.size());
  // The state and both times are plain text; only attributes are JSON.
  messages.push_back({entity.topic("state"), entity.state});
  messages.push_back({entity.topic("last_updated"), format_timestamp(entity.last_updated)});
  messages.push_back({entity.topic("last_changed"), format_timestamp(entity.last_changed)});
  for (const auto& [key, value] : entity.attributes.items()) {
    messages.push_back({entity.topic(key), python_json_dumps(value)});
  }
  return messages;
}

}  // namespace statesink::simulate
