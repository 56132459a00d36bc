#pragma once

#include <string>

namespace statesink::simulate {

// Statestream publishes everything with QoS 1.
inline constexpr int kQos = 1;

// One MQTT publication, as Home Assistant would make it.
struct Message {
  std::string topic;
  std::string payload;
  // Always set: statestream retains every topic so a late subscriber sees the
  // current state at once.
  bool retain = true;

  friend bool operator==(const Message&, const Message&) = default;
};

}  // namespace statesink::simulate
