#include "spool/recent_messages.h"

#include <functional>

namespace statesink::spool {

MessageKey message_key(std::uint16_t mid, std::string_view topic, std::string_view payload) {
  // Topic and payload are hashed apart, so ("ab", "c") and ("a", "bc") differ.
  const std::uint64_t topic_hash = std::hash<std::string_view>{}(topic);
  const std::uint64_t payload_hash = std::hash<std::string_view>{}(payload);
  return {mid, topic_hash * 0x9E3779B97F4A7C15ull ^ payload_hash};
}

RecentMessages::RecentMessages(std::size_t capacity) : capacity_(capacity) {}

std::size_t RecentMessages::KeyHash::operator()(const MessageKey& key) const {
  return static_cast<std::size_t>(key.content ^ key.mid);
}

bool RecentMessages::contains(const MessageKey& key) const { return counts_.contains(key); }

void RecentMessages::add(const MessageKey& key) {
  if (capacity_ == 0) {
    return;
  }
  order_.push_back(key);
  ++counts_[key];
  if (order_.size() > capacity_) {
    const auto oldest = counts_.find(order_.front());
    if (--oldest->second == 0) {
      counts_.erase(oldest);
    }
    order_.pop_front();
  }
}

}  // namespace statesink::spool
